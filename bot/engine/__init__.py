"""The stock Rasa engine, from our side: its HTTP client (``client``), training and finding models
(``models``), the files written for it from settings (``runtime_files``), and helpers run with the engine's own
Python (``tools``; they import nothing of ours)."""

"""What every HTTP router of the gateway shares: error answers (``errors``), the ``Annotated`` dependencies
(``deps``) and the health route. The app itself is assembled in ``bot.runtime.gateway`` from the channels in
``adapters`` and these parts."""

"""Running the product: the ``clinicbot`` commands (``commands``), the supervisor of the processes, the gateway
app built from the channels and services (``gateway``), logging, and the demo clinic's data."""

"""The gateway: the ASGI app that owns channels, conversations and the staff console."""

"""``python -m bot.gateway``: the gateway process as the supervisor starts it, with structured logs."""

from __future__ import annotations

import argparse

import uvicorn

from bot.gateway.app import create_app
from bot.logging_setup import configure_logging


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.gateway")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    configure_logging("gateway", "INFO")
    uvicorn.run(create_app(), host=args.host, port=args.port, access_log=False, log_config=None,
                log_level="warning")


if __name__ == "__main__":
    main()

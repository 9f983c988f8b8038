"""``python -m bot.runtime.action_server``: rasa-sdk's action server for ``actions/``, as the supervisor starts it.

The same server ``python -m rasa_sdk --actions actions`` runs, with two differences a clinic needs:
- ``--warm-up`` loads the knowledge store and the local model in each worker once it is serving (in a thread,
  so health checks answer at once), instead of on the first patient's question;
- a failing action is answered with ``{"error": "<ExceptionType>"}`` and logged by type only: rasa-sdk's own
  handler would log the request and echo its body, which is the whole conversation tracker.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import partial
from typing import Any

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.worker.loader import AppLoader

from actions.clinic import warm_up_scope
from bot.settings import get_settings
from knowledge.answer import get_answerer

log = logging.getLogger("clinicbot.actions")


def _warm_up() -> None:
    try:
        get_answerer(get_settings()).warm_up()
    except Exception:
        log.exception("knowledge.warm_up_failed")
    warm_up_scope()  # the scope check's examples, on the same embedding model


async def _start_warm_up(app: Sanic, loop: Any) -> None:
    threading.Thread(target=_warm_up, name="knowledge-warm-up", daemon=True).start()


async def _action_failed(request: Any, exception: Exception) -> Any:
    log.error("action.failed type=%s", type(exception).__name__)
    return response.json({"error": type(exception).__name__}, status=500)


def create_action_app(action_executor: ActionExecutor, warm_up: bool, **options: Any) -> Sanic:
    """rasa-sdk's app, without its request-echoing error handler; module-level so Sanic can pickle it."""
    app = create_app_for_serve(action_executor, **options)
    # replace rasa-sdk's handler for every exception (Sanic refuses a second one through ``add``)
    app.error_handler.cached_handlers[(Exception, None)] = _action_failed
    if warm_up:
        app.register_listener(_start_warm_up, "after_server_start")
    return app


def main(argv: list[str] | None = None) -> None:
    parser = create_argument_parser()
    parser.add_argument("--warm-up", action="store_true", help="load the knowledge store and model at start")
    args = parser.parse_args(argv)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel,
                                 args.logging_config_file)
    utils.update_sanic_log_level()
    executor = ActionExecutor()
    executor.register_package(args.actions_module or args.actions)
    loader = AppLoader(factory=partial(create_action_app, executor, args.warm_up, cors_origins=args.cors,
                                       auto_reload=args.auto_reload, endpoints=args.endpoints))
    app = loader.load()
    app.prepare(host=os.environ.get("SANIC_HOST", "127.0.0.1"), port=args.port,
                workers=utils.number_of_sanic_workers())
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()

"""``clinicbot up``: start the Rasa engine, the action server and the gateway, supervised.

First run: migrates and seeds the demo clinic, trains the assistant when its data changed, then starts
everything and prints the chat URL. Ctrl-C or SIGTERM stops every child. ``--gateways N`` runs N gateways on
consecutive ports (``gateway``, ``gateway-2`` ...) sharing the clinic database, for a load balancer in front.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from types import FrameType
from typing import NoReturn

import httpx

from bot.engine.models import engine_env, ensure_model
from bot.engine.runtime_files import ENGINE_TOOLS, write_engine_files, write_logging_configs
from bot.runtime import demo
from bot.runtime.demo_history import seed_history
from bot.runtime.log_scrub import make_record_scrubber
from bot.runtime.logging_setup import configure_logging
from bot.runtime.supervisor import ChildSpec, Supervisor
from bot.settings import PROJECT_ROOT, Settings, get_settings
from bot.store import migrate, session_scope
from bot.store.db import is_empty

HELP = "start the Rasa engine, the action server and the gateway, supervised"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, help="the gateway's port (default from config: servers.gateway_port)")
    parser.add_argument("--no-demo", action="store_true", help="do not seed the demo clinic into an empty store")
    parser.add_argument("--gateways", type=int, default=1, metavar="N",
                        help="run N gateways on consecutive ports from the gateway's port (default 1)")


def say(text: str) -> None:
    print(f"[clinicbot] {text}", file=sys.stderr, flush=True)


def gateway_names(count: int) -> list[str]:
    return ["gateway"] + [f"gateway-{i}" for i in range(2, count + 1)]


def child_specs(settings: Settings, env: dict[str, str], gateways: int = 1) -> list[ChildSpec]:
    model = ensure_model(settings, progress=say)
    endpoints, credentials = write_engine_files(settings)
    engine_logging, actions_logging = write_logging_configs(settings)  # no tracker or message in their logs
    (settings.data_dir / "rasa-work").mkdir(parents=True, exist_ok=True)
    app_python = sys.executable
    rasa = settings.rasa_python.parent / "rasa"
    servers = settings.servers
    tools = {"PYTHONPATH": os.pathsep.join(p for p in (str(ENGINE_TOOLS), env.get("PYTHONPATH", "")) if p)}
    return [
        ChildSpec("actions", [app_python, "-m", "bot.runtime.action_server", "--actions", "actions",
                              "-p", str(servers.action_port), "--warm-up", "--logging-config_file", str(actions_logging)],
                  {**env, **tools, "SANIC_HOST": servers.host}, cwd=PROJECT_ROOT),
        ChildSpec("engine", [str(rasa), "run", "--enable-api", "-i", servers.host, "-p", str(servers.rasa_port),
                             "-m", str(model), "--endpoints", str(endpoints), "--credentials", str(credentials),
                             "--logging-config-file", str(engine_logging)],
                  {**engine_env(settings), **env, **tools}, cwd=settings.data_dir / "rasa-work"),
        *(ChildSpec(name, [app_python, "-m", "bot.runtime.gateway", "--host", servers.host,
                           "--port", str(servers.gateway_port + i)], env, cwd=PROJECT_ROOT)
          for i, name in enumerate(gateway_names(gateways))),
    ]


def prepare_knowledge(settings: Settings) -> None:
    """Bring the knowledge store in line with the documents (incremental: unchanged ones are skipped)."""
    from knowledge.ingest import ingest
    from knowledge.store import KnowledgeStore

    report = ingest(settings.knowledge.documents_dir, KnowledgeStore.from_settings(settings), progress=True)
    say(f"knowledge store: {report.summary()}")


TUNE_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TUNE_NICENESS = 10


def _lower_priority() -> None:
    os.nice(TUNE_NICENESS)


def prepare_base(settings: Settings) -> None:
    """The local base model, prepared once before the children start (the gateway's triage model and the action
    server both load it; preparing it here keeps them from writing it at the same time)."""
    if settings.triage.model == "none" and settings.llm.backend != "local":
        return
    from bot.llm.prepare import ModelNotAvailableError, prepare_base_model

    try:
        prepare_base_model(settings.models_dir, say)
    except ModelNotAvailableError as exc:
        say(f"local model not available ({exc}); triage uses the rules alone")


def train_adapter_in_background(settings: Settings, env: dict[str, str], sup: Supervisor) -> threading.Thread | None:
    """First run: tune the local model's adapter while the assistant already answers (with extractive
    answers from the documents meanwhile); then restart the action server so it loads the adapter."""
    from bot.llm.local import adapter_exists, resolve_adapter

    if (settings.llm.backend != "local" or not settings.llm.tune_on_first_run
            or adapter_exists(resolve_adapter(settings))):
        return None
    log_path = settings.logs_dir / "tune.log"
    say(f"no model adapter yet: tuning one in the background (up to 10 minutes); progress in {log_path}")

    def work() -> None:
        with open(log_path, "a", encoding="utf-8") as log:
            # low priority on one thread: the chat keeps its reply budget while the adapter is tuned
            code = subprocess.call([sys.executable, "-m", "bot.cli", "tune", "--task", "answers"],
                                   env={**env, **TUNE_ENV}, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
                                   preexec_fn=_lower_priority)
        if code != 0:
            say(f"adapter tuning failed (exit {code}); answers stay extractive. See {log_path}")
            return
        say("adapter ready: restarting the action server to load it")
        sup.restart("actions")

    thread = threading.Thread(target=work, name="adapter-tuning", daemon=True)
    thread.start()
    return thread


def wait_healthy(url: str, timeout_s: float, sup: Supervisor, should_stop: object) -> bool:
    started = time.monotonic()
    last_note = started
    while time.monotonic() - started < timeout_s:
        if callable(should_stop) and should_stop():
            return False
        sup.poll_once()
        if sup.given_up():
            say(f"{', '.join(sup.given_up())} keeps crashing; see its log in {sup.logs_dir}")
            return False
        try:
            response = httpx.get(url, timeout=2.0)
            if response.status_code == 200:
                return True
            missing = ", ".join(response.json().get("missing", []))
        except (httpx.HTTPError, ValueError):
            missing = "gateway"
        if time.monotonic() - last_note > 10:
            last_note = time.monotonic()
            say(f"  waiting for {missing or 'the services'}... {last_note - started:.0f} s")
        time.sleep(1.0)
    return False


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM, then leave at once (:func:`leave`)."""
    leave(serve(args))


def leave(code: int) -> NoReturn:
    """Exit with ``code`` once the children are stopped and every log is flushed, without the interpreter's
    teardown: this process loaded Chroma's Rust bindings, torch and spaCy (to ingest the documents and scrub the
    children's logs), and tearing those down crashed it with SIGSEGV after "stopped" was printed (once in a local CI
    run, 2026-12-04), so a clean stop reported -11 to systemd or the tests."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def serve(args: argparse.Namespace) -> int:
    if not 1 <= args.gateways <= 16:
        say("--gateways: give a number from 1 to 16")
        return 2
    overrides: dict[str, str] = {}
    if args.port:
        overrides["CLINICBOT_SERVERS__GATEWAY_PORT"] = str(args.port)
    os.environ.update(overrides)
    get_settings.cache_clear()
    settings = get_settings()
    configure_logging("supervisor", "INFO")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CLINICBOT_DATA_DIR": str(settings.data_dir), "PYTHONUNBUFFERED": "1",
           "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1"}

    say(f"data directory: {settings.data_dir}")
    migrate(settings.database_url)
    if is_empty(settings.database_url) and not args.no_demo:
        with session_scope(settings.database_url) as session:
            counts = demo.seed(session, settings)
            history = seed_history(session, settings)  # 90 days for the dashboard
        say(f"seeded the demo clinic '{settings.clinic.name}' ({counts['patients']} synthetic patients, "
            f"{history['conversations']} past conversations)")

    specs = child_specs(settings, env, args.gateways)  # trains the assistant first when its data changed
    prepare_knowledge(settings)
    prepare_base(settings)
    stop = {"now": False}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    sup = Supervisor(specs, settings.logs_dir, settings.data_dir / "run",
                     backoff_s=settings.supervisor.restart_backoff_s,
                     max_restarts_per_minute=settings.supervisor.max_restarts_per_minute,
                     line_filter=make_record_scrubber(tuple(settings.phi.allow_list)))
    gateways = "the gateway" if args.gateways == 1 else f"{args.gateways} gateways"
    say(f"starting the action server, the Rasa engine and {gateways} (a warm start takes under a minute)")
    try:
        sup.start()
        host, first = settings.servers.host, settings.servers.gateway_port
        urls = [f"http://{host}:{first + i}" for i in range(args.gateways)]
        for url in urls:
            if not wait_healthy(f"{url}/healthz", settings.supervisor.healthy_timeout_s, sup, lambda: stop["now"]):
                if stop["now"]:
                    return 0
                say(f"the services did not become healthy; see the logs in {settings.logs_dir}")
                return 1
        public = urls[0]
        if len(urls) > 1:
            say(f"gateways: {', '.join(urls)} (one clinic database; put a load balancer in front)")
        say(f"ready: chat with {settings.clinic.name} at {public}/   (Ctrl-C to stop)")
        train_adapter_in_background(settings, env, sup)
        sup.run(lambda: stop["now"])
        return 0
    finally:
        say("stopping...")
        sup.stop()
        say("stopped")

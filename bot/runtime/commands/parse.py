"""``clinicbot parse``: classify messages with the trained assistant, one JSON object per line.

Reads one message per line on stdin; writes ``{"text", "intent", "confidence", "entities", "fallback"}``.
The model is loaded once, by a helper that runs in the engine's own Python environment.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from bot.engine.models import engine_env, ensure_model
from bot.settings import get_settings

HELP = "classify messages (one per line on stdin) with the trained Rasa model"
HELPER = Path(__file__).resolve().parents[2] / "engine" / "tools" / "parse_batch.py"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, help="a trained model (default: the current one, trained if needed)")


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    model = args.model or ensure_model(settings)
    cmd = [str(settings.rasa_python), str(HELPER), str(model), str(settings.rasa.fallback_threshold)]
    env = engine_env(settings)
    env["LOG_LEVEL"] = "ERROR"
    proc = subprocess.run(cmd, stdin=sys.stdin, stdout=sys.stdout, stderr=subprocess.PIPE, env=env, check=False)
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-5:]
        print("clinicbot parse: the engine helper failed:\n" + "\n".join(tail), file=sys.stderr)
    return proc.returncode

"""The trained Rasa model: named by a fingerprint of the assistant's files, trained only when they change."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bot.settings import Settings

Progress = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


DOMAIN_KEYS = ("intents", "entities", "slots", "responses", "actions", "forms", "session_config")


def assistant_files(project_dir: Path) -> list[Path]:
    """Everything a trained model depends on: config, every domain file, the training data."""
    return sorted(p for p in project_dir.rglob("*.yml") if p.is_file() and "tests" not in p.parts[-2:-1])


def domain_files(project_dir: Path) -> list[Path]:
    """The assistant's domain may be split over several files (one per workflow); Rasa merges them
    when given the folder, as ``rasa train --domain bot/assistant`` does."""
    files = []
    for path in assistant_files(project_dir):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(content, dict) and any(key in content for key in DOMAIN_KEYS):
            files.append(path)
    return files


def merged_domain(project_dir: Path) -> dict[str, Any]:
    """Intents, actions, forms, slots and responses of all domain files together (for tests and tools)."""
    merged: dict[str, Any] = {"intents": [], "actions": [], "entities": [], "forms": {}, "slots": {},
                              "responses": {}}
    for path in domain_files(project_dir):
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key in ("intents", "actions", "entities"):
            merged[key] += content.get(key) or []
        for key in ("forms", "slots", "responses"):
            merged[key].update(content.get(key) or {})
    return merged


def fingerprint(project_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in assistant_files(project_dir):
        digest.update(str(path.relative_to(project_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def models_dir(settings: Settings) -> Path:
    return settings.rasa.models_dir or settings.models_dir / "rasa"


def model_path(settings: Settings) -> Path:
    return models_dir(settings) / f"assistant-{fingerprint(settings.rasa.project_dir)}.tar.gz"


def engine_env(settings: Settings) -> dict[str, str]:
    """Environment for any process run with the engine's Python: quiet, offline, no telemetry."""
    env = dict(os.environ)
    env.update({
        "LOG_LEVEL": settings.rasa.log_level,
        "LOG_LEVEL_LIBRARIES": "ERROR",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONWARNINGS": "ignore",
    })
    return env


def ensure_model(settings: Settings, progress: Progress = _stderr) -> Path:
    """Return the model for the current training data, training it first when there is none."""
    target = model_path(settings)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be training the same model
        if target.exists():
            return target
        _train(settings, target, progress)
    return target


def _train(settings: Settings, target: Path, progress: Progress) -> None:
    rasa = settings.rasa_python.parent / "rasa"
    if not rasa.exists():
        raise RuntimeError(f"the Rasa engine is not installed at {rasa}; run 'make setup'")
    project = settings.rasa.project_dir
    work = settings.data_dir / "rasa-work"
    work.mkdir(parents=True, exist_ok=True)
    log_path = settings.logs_dir / "rasa-train.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(rasa), "train", "--config", str(project / "config.yml"), "--domain", str(project),
           "--data", str(project / "data"), "--out", str(target.parent),
           "--fixed-model-name", target.name.removesuffix(".tar.gz")]
    progress(f"training the assistant's language model (about 1-2 minutes on 2 cores); log: {log_path}")
    started = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=work, stdout=log, stderr=subprocess.STDOUT, env=engine_env(settings))
        last = started
        while proc.poll() is None:
            time.sleep(0.5)
            if time.monotonic() - last >= 15:
                last = time.monotonic()
                progress(f"  still training... {last - started:.0f} s")
    if proc.returncode != 0 or not target.exists():
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        raise RuntimeError("rasa train failed:\n" + "\n".join(tail))
    progress(f"trained the assistant in {time.monotonic() - started:.0f} s: {target.name}")
    for old in target.parent.glob("assistant-*.tar.gz"):  # keep the newest three
        if old != target and old in sorted(target.parent.glob("assistant-*.tar.gz"), key=os.path.getmtime)[:-3]:
            old.unlink(missing_ok=True)

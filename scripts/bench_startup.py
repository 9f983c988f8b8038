"""How long the assistant takes to train and to start: a cold train into an empty models folder, then
a warm start of every process (`clinicbot up`) until /healthz answers 200.

    .venv/bin/python scripts/bench_startup.py
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
CLINICBOT = ROOT / ".venv" / "bin" / "clinicbot"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        ports = {"GATEWAY": _port(), "RASA": _port(), "ACTION": _port()}
        env = {**os.environ, "CLINICBOT_DATA_DIR": f"{tmp}/data", "CLINICBOT_RASA__MODELS_DIR": f"{tmp}/models",
               **{f"CLINICBOT_SERVERS__{k}_PORT": str(v) for k, v in ports.items()}}
        started = time.monotonic()
        subprocess.run([str(CLINICBOT), "train"], env=env, check=True, capture_output=True)
        train_s = time.monotonic() - started

        started = time.monotonic()
        proc = subprocess.Popen([str(CLINICBOT), "up"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        healthy_s = float("nan")
        try:
            while time.monotonic() - started < 600:
                try:
                    if httpx.get(f"http://127.0.0.1:{ports['GATEWAY']}/healthz", timeout=2).status_code == 200:
                        healthy_s = time.monotonic() - started
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
            sender = "bench-startup-1"
            latencies = []
            for text in ("hi", "when are you open", "thanks", "bye") * 5:
                t0 = time.monotonic()
                httpx.post(f"http://127.0.0.1:{ports['GATEWAY']}/api/chat",
                           json={"sender": sender, "message": text}, timeout=60).raise_for_status()
                latencies.append((time.monotonic() - t0) * 1000)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    latencies.sort()
    return {"assistant_train_s": round(train_s, 1), "warm_start_to_healthy_s": round(healthy_s, 1),
            "chat_turn_median_ms": round(latencies[len(latencies) // 2], 1),
            "chat_turn_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1)}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
    sys.exit(0)

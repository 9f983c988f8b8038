"""Load: 50 simulated patients at once, half over web chat and half over signed SMS (the local fake of Twilio
takes the replies), each a 6-turn conversation, through the whole stack (`clinicbot up`); and in the same run
the same turns sent straight to the stack's own stock `rasa run` REST channel, the baseline.

Two configurations side by side: the embedded defaults (SQLite, one gateway) and PostgreSQL + Redis with two
gateways (turns alternate between them, as a load balancer spreads them). Answers come from `llm.backend: none`
(quoted from the documents): this measures the gateway, the engine and the stores, not the language model.

Figures: turns per second, turn latency median and p95 (web: the request; SMS: webhook to the first reply at
Twilio), messages lost (no answer), messages answered twice (the engine saw a turn twice, or a reply was sent
twice), and p95 over the stock engine's p95 (target: at most 1.3).

    .venv/bin/python scripts/bench_load.py [--patients 50] [--turns 6] [--rounds 2] [--configs sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator  # noqa: E402

from tests.e2e.stack import Stack  # noqa: E402
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio  # noqa: E402

TURNS = ["hi", "what are your hours", "where are you located", "i have a question about my bill",
         "what does a high ldl cholesterol mean", "thanks bye"]
PUBLIC_URL = "https://clinic.example.test"
TIMEOUT_S = 180.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * (len(ordered) - 1) + 0.5))] if ordered else float("nan")


async def engine_patient(client: httpx.AsyncClient, rasa_url: str, sender: str, turns: list[str],
                         latencies: list[float]) -> None:
    for text in turns:
        started = time.monotonic()
        response = await client.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
        response.raise_for_status()
        latencies.append(time.monotonic() - started)


async def web_patient(client: httpx.AsyncClient, urls: list[str], sender: str, turns: list[str],
                      latencies: list[float], lost: list[str]) -> None:
    for i, text in enumerate(turns):
        started = time.monotonic()
        try:
            response = await client.post(f"{urls[i % len(urls)]}/api/chat",
                                         json={"sender": sender, "message": text, "message_id": f"{sender}-{i}"})
            answered = response.status_code == 200 and bool(response.json()["messages"])
        except httpx.HTTPError:
            answered = False
        if answered:
            latencies.append(time.monotonic() - started)
        else:
            lost.append(f"{sender}:{i}")


async def sms_patient(client: httpx.AsyncClient, urls: list[str], phone: str, turns: list[str], fake: FakeTwilio,
                      latencies: list[float], lost: list[str]) -> None:
    validator = RequestValidator(AUTH_TOKEN)
    for i, text in enumerate(turns):
        form = {"MessageSid": f"SMbench{phone[-7:]}{i:02d}".ljust(34, "0"), "From": phone, "To": FROM_NUMBER,
                "Body": text}
        scanned = len(fake.sent)  # replies to this number arrive after this point of Twilio's list
        started = time.monotonic()
        signature = validator.compute_signature(f"{PUBLIC_URL}/sms/twilio", form)
        response = await client.post(f"{urls[i % len(urls)]}/sms/twilio", data=form,
                                     headers={"X-Twilio-Signature": signature})
        if response.status_code != 200:
            lost.append(f"{phone}:{i}")
            continue
        while not any(m["To"] == phone for m in fake.sent[scanned:]):
            if time.monotonic() - started > TIMEOUT_S:
                lost.append(f"{phone}:{i}")
                break
            await asyncio.sleep(0.02)
        else:
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.3)  # the rest of a multi-part answer, before the next turn


def answered_twice(stack: Stack, fake: FakeTwilio, turns: int) -> int:
    """Turns the engine saw more than once (its tracker of each patient's conversation), and SMS parts Twilio got
    more often than the gateway recorded sending them."""
    from sqlalchemy import text

    with stack.clinic_db().connect() as conn:
        rows = conn.execute(text("SELECT id, channel_user FROM conversations WHERE channel_user LIKE 'bench-web-%' "
                                 "OR channel_user LIKE '+1666%'")).all()
        recorded: Counter[str] = Counter()
        for user, meta in conn.execute(text(
                "SELECT c.channel_user, m.meta FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                "WHERE c.channel_user LIKE '+1666%' AND m.direction = 'out'")):
            meta = json.loads(meta) if isinstance(meta, str) else meta
            recorded[user] += len(meta.get("sids", []))
    twice = 0
    with httpx.Client(timeout=30) as client:
        for conversation, _ in rows:
            events = client.get(f"{stack.rasa_url}/conversations/{conversation}/tracker").json()["events"]
            twice += max(0, sum(1 for e in events if e["event"] == "user") - turns)
    received = Counter(m["To"] for m in fake.sent if m["To"].startswith("+1666"))
    return twice + sum(max(0, n - recorded[phone]) for phone, n in received.items())


async def load(stack: Stack, fake: FakeTwilio, patients: int, turns: list[str], rounds: int) -> dict[str, Any]:
    """``rounds`` times: the patients straight to the engine, then the same through the gateways (alternating
    the two kinds of round evens out the load other jobs put on a shared machine)."""
    limits = httpx.Limits(max_connections=patients * 2, max_keepalive_connections=patients * 2)
    engine: list[float] = []
    web: list[float] = []
    sms: list[float] = []
    lost: list[str] = []
    engine_s = gateway_s = 0.0
    async with httpx.AsyncClient(timeout=TIMEOUT_S, limits=limits) as client:
        for r in range(rounds):
            started = time.monotonic()
            await asyncio.gather(*(engine_patient(client, stack.rasa_url, f"baseline-{r}-{i:04d}", turns, engine)
                                   for i in range(patients)))
            engine_s += time.monotonic() - started
            started = time.monotonic()
            await asyncio.gather(
                *(web_patient(client, stack.urls, f"bench-web-{r}-{i:06d}", turns, web, lost)
                  for i in range(patients // 2)),
                *(sms_patient(client, stack.urls, f"+1666{r}{i:06d}", turns, fake, sms, lost)
                  for i in range(patients - patients // 2)))
            gateway_s += time.monotonic() - started
    both = web + sms
    p95, engine_p95 = percentile(both, 0.95) * 1000, percentile(engine, 0.95) * 1000
    return {
        "turns_per_s": round(len(both) / gateway_s, 2),
        "turn_median_ms": round(percentile(both, 0.5) * 1000, 1), "turn_p95_ms": round(p95, 1),
        "web_p95_ms": round(percentile(web, 0.95) * 1000, 1), "sms_p95_ms": round(percentile(sms, 0.95) * 1000, 1),
        "engine_turns_per_s": round(len(engine) / engine_s, 2),
        "engine_median_ms": round(percentile(engine, 0.5) * 1000, 1), "engine_p95_ms": round(engine_p95, 1),
        "p95_ratio_to_engine": round(p95 / engine_p95, 2),
        "lost": len(lost), "answered_twice": answered_twice(stack, fake, len(turns)),
    }


def services_env() -> dict[str, str]:
    out = subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), "start"], check=True, capture_output=True,
                         text=True).stdout
    return dict(line.split("=", 1) for line in out.strip().splitlines() if "=" in line)


def run_config(name: str, patients: int, turns: list[str], rounds: int) -> dict[str, Any]:
    fake = FakeTwilio().start()
    previous = os.environ.get("CLINICBOT_E2E_BACKEND")
    if name == "postgres":
        os.environ.update(services_env())
    os.environ["CLINICBOT_E2E_BACKEND"] = "postgres" if name == "postgres" else "sqlite"
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp) / "data", gateways=2 if name == "postgres" else 1, extra_env={
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_PHONE_NUMBER": FROM_NUMBER,
            "CLINICBOT_SMS__API_BASE_URL": fake.url, "CLINICBOT_PUBLIC_URL": PUBLIC_URL,
            "CLINICBOT_LLM__BACKEND": "none", "CLINICBOT_SMS__RETRY_BACKOFF_S": "0.2"})
        try:
            print(f"[bench_load] {name}: starting the stack ({stack.gateways} gateway(s))", file=sys.stderr,
                  flush=True)
            stack.start()
            for url in stack.urls:  # warm every path once (models, connections) before timing
                httpx.post(f"{url}/api/chat", json={"sender": "warm-up-00000001", "message": "hi"}, timeout=120)
            httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": "warm-up-2", "message": "hi"},
                       timeout=120)
            print(f"[bench_load] {name}: {patients} patients x {len(turns)} turns, {rounds} rounds", file=sys.stderr,
                  flush=True)
            return asyncio.run(load(stack, fake, patients, turns, rounds))
        finally:
            stack.destroy()
            fake.stop()
            if previous is None:
                os.environ.pop("CLINICBOT_E2E_BACKEND", None)
            else:
                os.environ["CLINICBOT_E2E_BACKEND"] = previous


def run(patients: int = 50, turns: int = 6, configs: tuple[str, ...] = ("sqlite", "postgres"),
        rounds: int = 2) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name in configs:
        label = "sqlite_1_gateway" if name == "sqlite" else "postgres_2_gateways"
        for key, value in run_config(name, patients, TURNS[:turns], rounds).items():
            figures[f"{label}_{key}"] = value
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--turns", type=int, default=6, choices=range(1, len(TURNS) + 1))
    parser.add_argument("--configs", default="sqlite,postgres")
    parser.add_argument("--rounds", type=int, default=2, help="engine-then-gateway rounds, alternated")
    args = parser.parse_args()
    figures = run(args.patients, args.turns, tuple(args.configs.split(",")), args.rounds)
    print(json.dumps(figures, indent=2))
    print(table(figures))
    return 0


def table(figures: dict[str, Any]) -> str:
    """One row per figure, the configurations side by side, and PostgreSQL's over SQLite's when both ran."""
    labels = [label for label in ("sqlite_1_gateway", "postgres_2_gateways")
              if any(k.startswith(label + "_") for k in figures)]
    keys = list(dict.fromkeys(k.split("_", 3)[-1] for k in figures))  # "<backend>_<n>_<gateways>_<figure>"
    head = ["figure", *labels] + (["postgres/sqlite"] if len(labels) == 2 else [])
    rows = [head, ["---"] * len(head)]
    for key in keys:
        values = [figures.get(f"{label}_{key}") for label in labels]
        row = [key, *("" if v is None else str(v) for v in values)]
        if len(labels) == 2:
            a, b = values
            row.append(f"{b / a:.2f}" if isinstance(a, int | float) and isinstance(b, int | float) and a else "")
        rows.append(row)
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


if __name__ == "__main__":
    sys.exit(main())

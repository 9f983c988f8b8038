"""Load: simulated patients at once, half over web chat and half over signed SMS (the local fake of Twilio takes
the replies), each a 6-turn conversation with two open questions, through the whole stack (`clinicbot up`); and
in the same run the same turns sent straight to the stack's own stock `rasa run` REST channel, the baseline.

Scenarios are ``patients:think``: how many patients at once, and their mean pause between reading a reply and
sending the next message, in seconds (each pause drawn between half and one and a half times the mean, seeded).
``50:0`` is a stress test (every patient sends the moment the reply arrives, 8+ turns a second on the stack);
``50:10`` and ``50:30`` are 50 people reading and typing (a text message typically takes half a minute).
Configurations side by side: the embedded defaults (SQLite, one gateway, answers quoted from the documents:
``llm.backend: none``), PostgreSQL + Redis with two gateways (turns alternate between them, as a load balancer
spreads them), and ``local``: SQLite with the default local model (the 4-bit base + the tuned adapter, 4 s reply
budget), where the two open questions (the bill, high LDL) are the turns that use the model.

Figures per scenario: turns per second; turn median and p95 for turns without the model and for the open
questions apart (web: the request, or when the page said "give me a moment", the answer that followed; SMS:
webhook to the first reply at Twilio); silent turns (no reply at all, or an empty one); turns held with "give me
a moment"; 5xx answers; messages answered twice (the engine saw a turn twice, or a reply was sent twice);
and the stock engine's p95 on the same turns. Targets (issue 18, 2 cores): zero silent, zero 5xx, turns without
the model p95 at most 1.5 s with 50 patients, open questions p95 at most the reply budget + 2 s.

    .venv/bin/python scripts/bench_load.py [--scenarios 50:0,10:10,50:10,50:30] [--configs sqlite,postgres,local]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
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
OPEN_QUESTIONS = (3, 4)  # answered from the documents: the turns the local model drafts; the others never use it
PUBLIC_URL = "https://clinic.example.test"
TIMEOUT_S = 180.0
REPLY_BUDGET_S = 4.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * (len(ordered) - 1) + 0.5))] if ordered else float("nan")


@dataclass
class Tally:
    """What one round saw: turn latencies by kind, and the turns that went wrong."""

    plain: list[float] = field(default_factory=list)  # turns answered without the model
    open: list[float] = field(default_factory=list)  # the open questions
    silent: list[str] = field(default_factory=list)  # no reply, or an empty one
    errors: list[str] = field(default_factory=list)  # 5xx from the gateway
    held: list[float] = field(default_factory=list)  # "give me a moment" (web), the answer following later
    by_turn: dict[int, list[float]] = field(default_factory=dict)
    by_channel: dict[str, list[float]] = field(default_factory=dict)

    def add(self, turn: int, seconds: float, channel: str = "engine") -> None:
        (self.open if turn in OPEN_QUESTIONS else self.plain).append(seconds)
        self.by_turn.setdefault(turn, []).append(seconds)
        self.by_channel.setdefault(channel, []).append(seconds)


@dataclass(frozen=True)
class Scenario:
    patients: int
    think_s: float  # the mean pause before the next message

    @classmethod
    def parse(cls, text: str) -> Scenario:
        patients, _, think = text.partition(":")
        return cls(int(patients), float(think or 0))

    @property
    def label(self) -> str:
        return f"{self.patients}p_{self.think_s:g}s"

    def pause(self, rng: random.Random) -> float:
        return rng.uniform(0.5 * self.think_s, 1.5 * self.think_s) if self.think_s else 0.0


async def engine_patient(client: httpx.AsyncClient, rasa_url: str, sender: str, turns: list[str],
                         scenario: Scenario, tally: Tally) -> None:
    rng = random.Random(sender)
    for i, text in enumerate(turns):
        await asyncio.sleep(scenario.pause(rng) if i else rng.uniform(0, scenario.think_s))
        started = time.monotonic()
        response = await client.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
        response.raise_for_status()
        tally.add(i, time.monotonic() - started)


async def web_patient(client: httpx.AsyncClient, urls: list[str], sender: str, turns: list[str],
                      scenario: Scenario, tally: Tally) -> None:
    rng = random.Random(sender)
    for i, text in enumerate(turns):
        await asyncio.sleep(scenario.pause(rng) if i else rng.uniform(0, scenario.think_s))
        started = time.monotonic()
        try:
            response = await client.post(f"{urls[i % len(urls)]}/api/chat",
                                         json={"sender": sender, "message": text, "message_id": f"{sender}-{i}"})
        except httpx.HTTPError:
            tally.silent.append(f"{sender}:{i}")
            continue
        if response.status_code >= 500:
            tally.errors.append(f"{sender}:{i}")
        elif response.status_code == 200 and response.json()["messages"]:
            tally.add(i, time.monotonic() - started, "web")
        elif response.status_code == 202 and response.json()["messages"]:  # "give me a moment": the answer follows
            tally.held.append(time.monotonic() - started)
            holding = int(response.json()["messages"][-1]["id"])
            if await late_answer(client, urls[i % len(urls)], sender, holding, started):
                tally.add(i, time.monotonic() - started, "web")
            else:
                tally.silent.append(f"{sender}:{i}")
        else:
            tally.silent.append(f"{sender}:{i}")


async def late_answer(client: httpx.AsyncClient, url: str, sender: str, after: int, started: float) -> bool:
    """Whether the answer that follows "give me a moment" reaches the page's history in time."""
    while time.monotonic() - started < TIMEOUT_S:
        await asyncio.sleep(0.25)
        history = await client.get(f"{url}/api/chat/messages", params={"sender": sender, "after": after})
        if history.status_code == 200 and any(m.get("direction") == "out" for m in history.json()["messages"]):
            return True
    return False


async def sms_patient(client: httpx.AsyncClient, urls: list[str], phone: str, turns: list[str], fake: FakeTwilio,
                      scenario: Scenario, tally: Tally) -> None:
    validator = RequestValidator(AUTH_TOKEN)
    rng = random.Random(phone)
    for i, text in enumerate(turns):
        # the rest of a multi-part answer arrives within a moment: never send before 0.3 s
        await asyncio.sleep(max(0.3, scenario.pause(rng)) if i else rng.uniform(0, scenario.think_s))
        form = {"MessageSid": f"SMbench{phone[-9:]}{i:02d}".ljust(34, "0"), "From": phone, "To": FROM_NUMBER,
                "Body": text}
        scanned = len(fake.sent)  # replies to this number arrive after this point of Twilio's list
        started = time.monotonic()
        signature = validator.compute_signature(f"{PUBLIC_URL}/sms/twilio", form)
        response = await client.post(f"{urls[i % len(urls)]}/sms/twilio", data=form,
                                     headers={"X-Twilio-Signature": signature})
        if response.status_code >= 500:
            tally.errors.append(f"{phone}:{i}")
            continue
        if response.status_code != 200:
            tally.silent.append(f"{phone}:{i}")
            continue
        if "<Message" in response.text:  # answered in the webhook's own TwiML (an emergency)
            tally.add(i, time.monotonic() - started, "sms")
            continue
        while not any(m["To"] == phone for m in fake.sent[scanned:]):
            if time.monotonic() - started > TIMEOUT_S:
                tally.silent.append(f"{phone}:{i}")
                break
            await asyncio.sleep(0.02)
        else:
            tally.add(i, time.monotonic() - started, "sms")


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


def figures(tally: Tally, engine: Tally, seconds: float) -> dict[str, Any]:
    def ms(values: list[float], share: float) -> float:
        return round(percentile(values, share) * 1000, 1)

    answered = len(tally.plain) + len(tally.open)
    p95, engine_p95 = ms(tally.plain, 0.95), ms(engine.plain, 0.95)
    return {
        "turns_per_s": round(answered / seconds, 2),
        "plain_median_ms": ms(tally.plain, 0.5), "plain_p95_ms": p95,
        "open_median_ms": ms(tally.open, 0.5), "open_p95_ms": ms(tally.open, 0.95),
        "silent": len(tally.silent), "5xx": len(tally.errors), "held": len(tally.held),
        "engine_plain_p95_ms": engine_p95, "engine_open_p95_ms": ms(engine.open, 0.95),
        "p95_ratio_to_engine": round(p95 / engine_p95, 2) if engine_p95 else None,
        "load_average": round(os.getloadavg()[0], 1),
        "p95_ms_by_channel": {name: ms(values, 0.95) for name, values in tally.by_channel.items()},
        "p95_ms_by_turn": {TURNS[turn]: ms(values, 0.95) for turn, values in sorted(tally.by_turn.items())},
    }


async def load(stack: Stack, fake: FakeTwilio, scenario: Scenario, turns: list[str], rounds: int,
               tag: str) -> dict[str, Any]:
    """``rounds`` times: the patients straight to the engine, then the same through the gateways (alternating
    the two kinds of round evens out the load other jobs put on a shared machine)."""
    n = scenario.patients
    limits = httpx.Limits(max_connections=n * 2, max_keepalive_connections=n * 2)
    engine, tally = Tally(), Tally()
    gateway_s = 0.0
    async with httpx.AsyncClient(timeout=TIMEOUT_S, limits=limits) as client:
        for r in range(rounds):
            await asyncio.gather(*(engine_patient(client, stack.rasa_url, f"baseline-{tag}{r}-{i:04d}", turns,
                                                  scenario, engine) for i in range(n)))
            started = time.monotonic()
            await asyncio.gather(
                *(web_patient(client, stack.urls, f"bench-web-{tag}{r}-{i:06d}", turns, scenario, tally)
                  for i in range(n // 2)),
                *(sms_patient(client, stack.urls, f"+1666{tag}{r}{i:05d}", turns, fake, scenario, tally)
                  for i in range(n - n // 2)))
            gateway_s += time.monotonic() - started
    if tally.silent or tally.errors:
        print(f"[bench_load] silent: {tally.silent[:10]} 5xx: {tally.errors[:10]}", file=sys.stderr, flush=True)
    return figures(tally, engine, gateway_s)


def services_env() -> dict[str, str]:
    out = subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), "start"], check=True, capture_output=True,
                         text=True).stdout
    return dict(line.split("=", 1) for line in out.strip().splitlines() if "=" in line)


def local_adapter() -> Path | None:
    adapter = Path(os.environ.get("CLINICBOT_LLM__ADAPTER") or ROOT / "var" / "adapter")
    return adapter if (adapter / "adapter_config.json").is_file() else None


def config_env(name: str) -> dict[str, str]:
    adapter = local_adapter()
    if name != "local" or adapter is None:
        return {"CLINICBOT_LLM__BACKEND": "none"}
    return {"CLINICBOT_LLM__BACKEND": "local", "CLINICBOT_LLM__ADAPTER": str(adapter),
            "CLINICBOT_LLM__DRAFT_BUDGET_S": str(REPLY_BUDGET_S)}


def run_config(name: str, scenarios: list[Scenario], turns: list[str], rounds: int) -> dict[str, Any]:
    fake = FakeTwilio().start()
    previous = os.environ.get("CLINICBOT_E2E_BACKEND")
    if name == "postgres":
        os.environ.update(services_env())
    os.environ["CLINICBOT_E2E_BACKEND"] = "postgres" if name == "postgres" else "sqlite"
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp) / "data", gateways=2 if name == "postgres" else 1, extra_env={
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_PHONE_NUMBER": FROM_NUMBER,
            "CLINICBOT_SMS__API_BASE_URL": fake.url, "CLINICBOT_PUBLIC_URL": PUBLIC_URL,
            "CLINICBOT_SMS__RETRY_BACKOFF_S": "0.2", **config_env(name)})
        try:
            print(f"[bench_load] {name}: starting the stack ({stack.gateways} gateway(s))", file=sys.stderr,
                  flush=True)
            stack.start()
            for url in stack.urls:  # warm every path once (models, connections) before timing
                for text in ("hi", *(TURNS[i] for i in OPEN_QUESTIONS)):
                    httpx.post(f"{url}/api/chat", json={"sender": "warm-up-00000001", "message": text}, timeout=120)
            httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": "warm-up-2", "message": "hi"},
                       timeout=120)
            for k, scenario in enumerate(scenarios):
                print(f"[bench_load] {name}: {scenario.patients} patients x {len(turns)} turns, mean pause "
                      f"{scenario.think_s:g} s, {rounds} round(s)", file=sys.stderr, flush=True)
                started = time.monotonic()
                got = asyncio.run(load(stack, fake, scenario, turns, rounds, tag=str(k)))
                print(f"[bench_load] {name} {scenario.label}: {time.monotonic() - started:.0f} s, {got}",
                      file=sys.stderr, flush=True)
                results.update({f"{scenario.label}_{key}": value for key, value in got.items()})
            results["answered_twice"] = answered_twice(stack, fake, len(turns))
        finally:
            stack.destroy()
            fake.stop()
            if previous is None:
                os.environ.pop("CLINICBOT_E2E_BACKEND", None)
            else:
                os.environ["CLINICBOT_E2E_BACKEND"] = previous
    return results


def run(scenarios: tuple[str, ...] = ("50:0", "10:10", "50:10", "50:30"),
        configs: tuple[str, ...] = ("sqlite", "postgres", "local"), turns: int = 6, rounds: int = 1,
        ) -> dict[str, Any]:
    chosen = [Scenario.parse(text) for text in scenarios]
    results: dict[str, Any] = {}
    for name in configs:
        if name == "local" and local_adapter() is None:
            print("[bench_load] local: skipped, no tuned adapter at var/adapter (`clinicbot tune`, or `make run` "
                  "once) and no CLINICBOT_LLM__ADAPTER", file=sys.stderr, flush=True)
            continue
        for key, value in run_config(name, chosen, TURNS[:turns], rounds).items():
            results[f"{name}:{key}"] = value
    return results


def table(results: dict[str, Any]) -> str:
    """One row per scenario and figure, the configurations side by side."""
    configs = list(dict.fromkeys(key.split(":", 1)[0] for key in results))
    keys = list(dict.fromkeys(key.split(":", 1)[1] for key in results))
    rows = [["figure", *configs], ["---"] * (len(configs) + 1)]
    for key in keys:
        if "_by_" not in key:
            rows.append([key, *(str(results.get(f"{c}:{key}", "")) for c in configs)])
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default="50:0,10:10,50:10,50:30",
                        help="patients:mean pause in seconds, comma separated")
    parser.add_argument("--configs", default="sqlite,postgres,local")
    parser.add_argument("--turns", type=int, default=6, choices=range(1, len(TURNS) + 1))
    parser.add_argument("--rounds", type=int, default=1, help="engine-then-gateway rounds per scenario")
    args = parser.parse_args()
    results = run(tuple(args.scenarios.split(",")), tuple(args.configs.split(",")), args.turns, args.rounds)
    print(json.dumps(results, indent=2))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scripted patient conversations run through the real stack, turn by turn, as a patient would see them.

The scripts (``tests/data/blind/conversations.yml``) were written from the product's description only, not from
its code. Each step is a patient message (``say``), a front-desk action (``staff: claim | handback``) or a staff
reply (``staff_reply``); its ``expect`` holds regexes (case-insensitive) over everything the patient sees in
answer: ``any`` (one must match), ``all`` (each must), ``none`` (none may). Web messages go through
``/api/chat`` (late answers and staff replies are read from ``/api/chat/messages``); SMS through Twilio's signed
webhook, with the replies read from a local fake of Twilio's API. ``{code}`` is the last one-time code texted to
the patient's phone on file.

Every conversation starts from a freshly seeded demo clinic. ``run_all`` returns one result per conversation
with each turn's latency; ``python -m tests.e2e.conversations`` starts a stack and prints the table.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import yaml
from sqlalchemy import delete, select
from twilio.request_validator import RequestValidator

from bot.identity import staff
from bot.runtime import demo
from bot.settings import PROJECT_ROOT, load_settings
from bot.store import Message, SmsOptOut, session_scope
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

SCRIPTS = PROJECT_ROOT / "tests" / "data" / "blind" / "conversations.yml"
PROJECT_SCRIPTS = PROJECT_ROOT / "tests" / "data" / "conversations_project.yml"  # blind misses that led to a fix
STAFF_USER, STAFF_PASSWORD = "frontdesk", "a long enough front-desk password"
SETTLE_S = 1.5  # quiet time after the last message before a turn counts as answered
TURN_LIMIT_S = 45.0
CODE = re.compile(r"\b(\d{4,8})\b")
_sids = itertools.count(1)


def load_scripts(path: Path = SCRIPTS) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def stack_env(fake: FakeTwilio, public_url: str) -> dict[str, str]:
    """What a stack needs to send SMS to the fake Twilio and to check the webhook's signatures."""
    return {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_PHONE_NUMBER": FROM_NUMBER,
            "CLINICBOT_SMS__API_BASE_URL": fake.url, "CLINICBOT_PUBLIC_URL": public_url}


@dataclass
class Turn:
    step: str
    seen: list[str]
    seconds: float
    problems: list[str]


@dataclass
class Result:
    name: str
    channel: str
    turns: list[Turn] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(not t.problems for t in self.turns)

    def failure(self) -> str:
        for number, turn in enumerate(self.turns, 1):
            if turn.problems:
                shown = " | ".join(turn.seen) or "(nothing)"
                return f"step {number} {turn.step!r}: {'; '.join(turn.problems)}; saw: {shown[:600]}"
        return ""


def check(expect: dict[str, list[str]] | None, seen: list[str]) -> list[str]:
    text = "\n".join(seen)
    expect = expect or {}
    problems = []
    anyof = expect.get("any") or []
    if anyof and not any(re.search(p, text, re.I | re.S) for p in anyof):
        problems.append(f"none of {anyof} matched")
    problems += [f"{p!r} did not match" for p in expect.get("all") or [] if not re.search(p, text, re.I | re.S)]
    problems += [f"{p!r} matched" for p in expect.get("none") or [] if re.search(p, text, re.I | re.S)]
    return problems


class Runner:
    """Talks to one running stack (``url``, clinic store ``database_url``) as patients and as the front desk."""

    def __init__(self, url: str, database_url: str, fake: FakeTwilio, public_url: str,
                 env: dict[str, str] | None = None) -> None:
        self.url = url
        self.database_url = database_url
        self.fake = fake
        self.public_url = public_url
        self.http = httpx.Client(base_url=url, timeout=TURN_LIMIT_S + 15)
        self.console = httpx.Client(base_url=url, timeout=30, follow_redirects=False)
        # the stack's own settings (its time zone above all): the demo clinic is seeded here, and a visit seeded
        # at 10 am in one zone would read as another hour in the stack's
        with mock.patch.dict(os.environ, {k: v for k, v in (env or {}).items() if k.startswith("CLINICBOT_")}):
            self.settings = load_settings(database_url=database_url)

    def close(self) -> None:
        self.http.close()
        self.console.close()

    # -- the clinic ----------------------------------------------------------------------------------
    def reset_clinic(self) -> None:
        """A freshly seeded demo clinic, no opt-outs, and a front-desk account (conversations start clean)."""
        with session_scope(self.database_url) as session:
            demo.wipe(session)
            session.execute(delete(SmsOptOut))
            demo.seed(session, self.settings)
            if not staff.authenticate(session, STAFF_USER, STAFF_PASSWORD):
                staff.create_user(session, STAFF_USER, STAFF_PASSWORD, role="staff")
        self.console.cookies.clear()

    def sign_in(self) -> None:
        page = self.console.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, "no sign-in form"
        done = self.console.post("/console/login", data={"username": STAFF_USER, "password": STAFF_PASSWORD,
                                                         "csrf_token": token.group(1)})
        assert done.status_code == 303, done.text[:300]

    def staff_action(self, conversation_id: str, action: str, text: str = "") -> None:
        if "clinicbot_staff" not in self.console.cookies:
            self.sign_in()
        page = self.console.get(f"/console/conversations/{conversation_id}")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, f"no form on the conversation page ({page.status_code})"
        data = {"csrf_token": token.group(1), **({"text": text} if text else {})}
        done = self.console.post(f"/console/conversations/{conversation_id}/{action}", data=data)
        assert done.status_code == 303 and "error=" not in done.headers.get("location", ""), \
            f"{action}: {done.status_code} {done.headers.get('location', '')}"

    def conversation_id(self, channel: str, user: str) -> str:
        from bot.store import Conversation

        with session_scope(self.database_url) as session:
            found = session.scalars(select(Conversation.id).where(Conversation.channel == channel,
                                                                  Conversation.channel_user == user)).first()
        assert found, f"no {channel} conversation yet"
        return str(found)

    def last_code(self, phone: str) -> str:
        for message in reversed(self.fake.sent):
            if message["To"] == phone and (found := CODE.search(message["Body"])):
                return found.group(1)
        return "000000"

    # -- patients ------------------------------------------------------------------------------------
    def outbound_after(self, channel: str, user: str, after_id: int) -> list[tuple[int, str]]:
        from bot.store import Conversation

        with session_scope(self.database_url) as session:
            rows = session.execute(
                select(Message.id, Message.text).join(Conversation, Conversation.id == Message.conversation_id)
                .where(Conversation.channel == channel, Conversation.channel_user == user,
                       Message.direction == "out", Message.id > after_id).order_by(Message.id)).all()
        return [(int(i), str(t)) for i, t in rows]

    def last_message_id(self) -> int:
        with session_scope(self.database_url) as session:
            return int(session.scalars(select(Message.id).order_by(Message.id.desc())).first() or 0)

    def pending(self, sid: str) -> bool:
        with session_scope(self.database_url) as session:
            status = session.scalars(select(Message.status).where(Message.client_message_id == sid)).first()
        return status is None or status == "pending"

    def pending_id(self, message_id: int) -> bool:
        with session_scope(self.database_url) as session:
            return session.get(Message, message_id).status == "pending"  # type: ignore[union-attr]

    def say_web(self, sender: str, text: str) -> list[str]:
        before = self.last_message_id()
        response = self.http.post("/api/chat", json={"sender": sender, "message": text,
                                                     "message_id": f"m{next(_sids)}"})
        ok = response.status_code in (200, 202)  # 202: "give me a moment", the answer follows
        seen = [str(m["text"]) for m in response.json().get("messages", [])] if ok else []
        if not ok:
            seen.append(f"[HTTP {response.status_code}] {response.json().get('error', {}).get('message', '')}")
        if response.status_code == 202:
            sid = response.json()["message_id"]
            deadline = time.monotonic() + TURN_LIMIT_S
            while self.pending_id(sid) and time.monotonic() < deadline:
                time.sleep(0.2)
        return self._settle("web", sender, before, seen)

    def say_sms(self, phone: str, text: str) -> list[str]:
        sent_before = len(self.fake.sent)
        sid = f"SM{secrets.token_hex(16)}"
        form = {"MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": phone, "To": FROM_NUMBER, "Body": text,
                "NumMedia": "0"}
        signature = RequestValidator(AUTH_TOKEN).compute_signature(self.public_url + "/sms/twilio", form)
        response = self.http.post("/sms/twilio", data=form, headers={"X-Twilio-Signature": signature})
        seen = re.findall(r"<Message>(.*?)</Message>", response.text, re.S) if response.status_code == 200 else \
            [f"[HTTP {response.status_code}]"]
        deadline = time.monotonic() + TURN_LIMIT_S
        while self.pending(sid) and time.monotonic() < deadline:
            time.sleep(0.2)
        # the replies are delivered off the event loop: wait for the first (at most twice the quiet time when
        # the webhook's TwiML held the answer or none comes), then until nothing new arrives for SETTLE_S
        first_by = time.monotonic() + SETTLE_S * 2
        while not any(m["To"] == phone for m in self.fake.sent[sent_before:]) and time.monotonic() < first_by:
            time.sleep(0.1)
        quiet_until = time.monotonic() + SETTLE_S
        count = len(self.fake.sent)
        while time.monotonic() < quiet_until:
            time.sleep(0.2)
            if len(self.fake.sent) != count:
                count, quiet_until = len(self.fake.sent), time.monotonic() + SETTLE_S
        return seen + [m["Body"] for m in self.fake.sent[sent_before:] if m["To"] == phone]

    def _settle(self, channel: str, user: str, before: int, seen: list[str]) -> list[str]:
        """Wait until nothing new has arrived for ``SETTLE_S``; add what arrived besides the HTTP answer."""
        known = set(seen)
        quiet_until = time.monotonic() + SETTLE_S
        latest = self.outbound_after(channel, user, before)
        while time.monotonic() < quiet_until:
            time.sleep(0.2)
            now = self.outbound_after(channel, user, before)
            if len(now) != len(latest):
                latest, quiet_until = now, time.monotonic() + SETTLE_S
        return seen + [t for _, t in latest if t not in known]

    # -- one script ----------------------------------------------------------------------------------
    def run(self, script: dict[str, Any]) -> Result:
        self.reset_clinic()
        channel = str(script["channel"])
        user = str(script.get("phone") or demo.DEMO_PHONE) if channel == "sms" else f"conv-{secrets.token_hex(8)}"
        result = Result(str(script["name"]), channel)
        for step in script["steps"]:
            started = time.monotonic()
            if "say" in step:
                text = str(step["say"]).replace("{code}", self.last_code(demo.DEMO_PHONE))
                label = text
                seen = self.say_sms(user, text) if channel == "sms" else self.say_web(user, text)
            else:
                before = self.last_message_id()
                sent_before = len(self.fake.sent)
                conversation = self.conversation_id(channel, user)
                if "staff_reply" in step:
                    label = f"staff: {step['staff_reply']}"
                    self.staff_action(conversation, "reply", str(step["staff_reply"]))
                else:
                    label = f"staff: {step['staff']}"
                    self.staff_action(conversation, {"claim": "claim", "handback": "handback"}[str(step["staff"])])
                if channel == "sms":
                    time.sleep(SETTLE_S * 2)
                    seen = [m["Body"] for m in self.fake.sent[sent_before:] if m["To"] == user]
                else:
                    seen = self._settle(channel, user, before, [])
            seconds = time.monotonic() - started
            result.turns.append(Turn(label, seen, seconds, check(step.get("expect"), seen)))
        return result


def table(results: list[Result]) -> str:
    lines = [f"{'conversation':<52} {'channel':<7} {'turns':>5} {'median s':>9} {'max s':>7}  result"]
    for r in results:
        times = [t.seconds for t in r.turns if not t.step.startswith("staff")] or [0.0]
        lines.append(f"{r.name:<52} {r.channel:<7} {len(r.turns):>5} {statistics.median(times):>9.2f} "
                     f"{max(times):>7.2f}  {'pass' if r.passed else 'FAIL: ' + r.failure()[:160]}")
    passed = sum(r.passed for r in results)
    all_times = [t.seconds for r in results for t in r.turns if not t.step.startswith("staff")]
    if all_times:
        ordered = sorted(all_times)
        lines.append(f"passed {passed}/{len(results)}; patient turns {len(all_times)}, median "
                     f"{statistics.median(ordered):.2f} s, p95 {ordered[int(0.95 * (len(ordered) - 1))]:.2f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Start a stack with a fake Twilio, run every script, print the table; exit 1 if any failed."""
    import tempfile

    from tests.e2e.stack import Stack, midday_zone

    names = set(argv if argv is not None else sys.argv[1:])
    fake = FakeTwilio().start()
    with tempfile.TemporaryDirectory() as tmp:
        # CONVERSATIONS_DATA_DIR keeps the stack's data and logs for a look afterwards
        stack = Stack(Path(os.environ.get("CONVERSATIONS_DATA_DIR") or Path(tmp) / "data"))
        stack.extra_env = {**stack_env(fake, stack.url), "CLINICBOT_CLINIC__TIMEZONE": midday_zone()}
        stack.start()
        runner = Runner(stack.url, f"sqlite:///{stack.data_dir / 'clinic.db'}", fake, stack.url, stack.extra_env)
        try:
            scripts = load_scripts() + load_scripts(PROJECT_SCRIPTS)
            results = [runner.run(s) for s in scripts if not names or s["name"] in names]
        finally:
            runner.close()
            stack.stop()
            fake.stop()
    print(table(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

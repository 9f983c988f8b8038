from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from bot.runtime import demo
from bot.settings import Settings
from bot.store import AuditEvent, Conversation, Message, audit, session_scope
from bot.store.retention import purge

CLINICBOT = Path(sys.executable).parent / "clinicbot"


def test_audit_trail_is_append_only(seeded: Settings) -> None:
    with session_scope(seeded.database_url) as session:
        jordan = demo.demo_patient(session)
        assert jordan is not None
        audit.record(session, actor_type="conversation", actor_id="conv-1", action="verification_passed",
                     patient_id=jordan.id, detail={"channel": "sms"})
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DatabaseError, match="append-only"), session_scope(seeded.database_url) as session:
            session.execute(text(statement))
    with session_scope(seeded.database_url) as session:
        assert [e.action for e in session.query(AuditEvent)] == ["verification_passed"]


def test_unknown_audit_actions_are_refused(seeded: Settings) -> None:
    with pytest.raises(ValueError, match="unknown audit action"), session_scope(seeded.database_url) as session:
        audit.record(session, actor_type="system", actor_id="x", action="peeked", patient_id=None)


def test_audit_command_prints_the_patients_trail(seeded: Settings) -> None:
    with session_scope(seeded.database_url) as session:
        jordan = demo.demo_patient(session)
        assert jordan is not None
        patient_id = jordan.id
        audit.record(session, actor_type="conversation", actor_id="conv-9", action="verification_failed",
                     patient_id=patient_id)
        audit.record(session, actor_type="staff", actor_id="maria", action="conversation_opened",
                     patient_id=patient_id, detail={"conversation_id": "conv-9"})
    out = subprocess.run([str(CLINICBOT), "audit", "--patient", str(patient_id), "--json"], capture_output=True,
                         text=True, check=True).stdout
    rows = json.loads(out)
    assert [(r["actor_type"], r["actor_id"], r["action"]) for r in rows] == [
        ("conversation", "conv-9", "verification_failed"), ("staff", "maria", "conversation_opened")]
    table = subprocess.run([str(CLINICBOT), "audit", "--patient", str(patient_id)], capture_output=True, text=True,
                           check=True).stdout
    assert "staff:maria  conversation_opened  conversation_id=conv-9" in table
    missing = subprocess.run([str(CLINICBOT), "audit", "--patient", "99999"], capture_output=True, text=True)
    assert missing.returncode == 1 and "no patient" in missing.stdout


def test_purge_removes_old_message_text_and_engine_events_but_keeps_recent_ones_and_the_audit(
    seeded: Settings,
) -> None:
    now = datetime.now(UTC)
    with session_scope(seeded.database_url) as session:
        session.add(Conversation(id="c1", channel="web", channel_user="browser-1"))
        session.flush()
        session.add_all([
            Message(conversation_id="c1", direction="in", author="patient", text="my dob is 01/01/1980",
                    status="answered", created_at=now - timedelta(days=seeded.retention_days + 1)),
            Message(conversation_id="c1", direction="in", author="patient", text="recent question",
                    status="answered", created_at=now - timedelta(days=1)),
        ])
        audit.record(session, actor_type="system", actor_id="t", action="results_shown", patient_id=1)
    tracker = create_engine(seeded.rasa.tracker_store_url)
    with tracker.begin() as conn:
        conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                          "timestamp FLOAT, data TEXT)"))
        conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES "
                          "('c1', 'user', :old, '{\"text\": \"old\"}'), ('c1', 'user', :new, '{\"text\": \"new\"}')"),
                     {"old": (now - timedelta(days=40)).timestamp(), "new": now.timestamp()})
    counts = purge(seeded, now)
    assert (counts.messages, counts.tracker_events) == (1, 1)
    with session_scope(seeded.database_url) as session:
        texts = [m.text for m in session.query(Message).order_by(Message.id)]
        assert texts == ["", "recent question"]
        assert session.query(AuditEvent).count() == 1
    with tracker.connect() as conn:
        assert conn.execute(text("SELECT data FROM events")).scalars().all() == ['{"text": "new"}']
    assert purge(seeded, now).messages == 0  # idempotent

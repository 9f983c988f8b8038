"""The clinic store on a real PostgreSQL (``make test-scale``): the migrations up, down and up again, the audit
trail refusing any change, and the slot compare-and-set booking a contested time exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import DatabaseError

from bot import scheduling
from bot.runtime import demo
from bot.scheduling.timeparse import parse_preference
from bot.settings import Settings
from bot.store import AppointmentType, AuditEvent, audit, get_engine, migrate, session_scope
from bot.store.db import _alembic_config
from tests.e2e.stack import backend, create_database, drop_database

pytestmark = pytest.mark.skipif(backend() != "postgres",
                                reason="PostgreSQL only: make test-scale (scripts/services.sh starts it)")


def test_migrations_run_up_down_and_up_again_and_are_idempotent() -> None:
    url = create_database("migrations")
    try:
        migrate(url)
        migrate(url)  # nothing to do the second time
        tables = set(inspect(get_engine(url)).get_table_names())
        assert {"leases", "outbound_sends", "live_events", "owner_settings", "audit_events",
                "reminder_sends", "alembic_version"} <= tables
        command.downgrade(_alembic_config(url), "0002")
        engine = create_engine(url)
        assert "leases" not in set(inspect(engine).get_table_names())
        engine.dispose()
        command.upgrade(_alembic_config(url), "head")
        with get_engine(url).connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0006_scale"
    finally:
        get_engine(url).dispose()
        drop_database(url)


def test_the_audit_trail_refuses_updates_deletes_and_truncation(store: Settings) -> None:
    with session_scope(store.database_url) as session:
        jordan = demo.demo_patient(session)
        assert jordan is not None
        audit.record(session, actor_type="conversation", actor_id="conv-1", action="verification_passed",
                     patient_id=jordan.id)
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events",
                      "TRUNCATE audit_events"):
        with pytest.raises(DatabaseError, match="append-only"), session_scope(store.database_url) as session:
            session.execute(text(statement))
    with session_scope(store.database_url) as session:
        assert [e.action for e in session.scalars(select(AuditEvent))] == ["verification_passed"]


@pytest.mark.parametrize("minutes", [20, 40])  # one block, and two consecutive blocks
def test_eight_connections_racing_for_one_time_book_it_exactly_once(store: Settings, minutes: int) -> None:
    with session_scope(store.database_url) as session:
        patient = demo.demo_patient(session)
        kind = session.scalars(select(AppointmentType).where(AppointmentType.code == "follow_up")).one()
        assert patient is not None
        patient_id, kind_id = patient.id, kind.id
        preference = parse_preference("any", datetime.now(UTC), store.clinic.tz)
        assert preference is not None
        offer = scheduling.find_offers(session, duration_minutes=minutes, preference=preference,
                                       now=datetime.now(UTC), clinic=store.clinic).offers[0]
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def race() -> None:
        barrier.wait()
        try:
            scheduling.book(store.database_url, patient_id=patient_id, appointment_type_id=kind_id, offer=offer,
                            location="here")
            outcomes.append("booked")
        except scheduling.SlotTaken:
            outcomes.append("taken")

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked"] + ["taken"] * 7
    with session_scope(store.database_url) as session:
        assert scheduling.double_bookings(session) == 0

"""Every change is audited: booking, rescheduling, cancelling and confirming through the assistant (as the
conversation) or by anyone else (as them), sign-ins, settings; ``clinicbot audit`` finds them by patient,
conversation, staff account and kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from actions.appointment_questions import ActionAskChosenSlot
from actions.appointment_submits import (
    ActionBookSubmit,
    ActionCancelSubmit,
    ActionConfirmSubmit,
    ActionRescheduleSubmit,
)
from bot import scheduling
from bot.cli import main as clinicbot
from bot.runtime import demo
from bot.settings import Settings
from bot.store import AuditEvent, Conversation, session_scope
from bot.store.audit import Actor
from tests.test_appointment_actions import responses, run, slots_of, tracker

SMS = "conv-audit-sms"


@pytest.fixture
def clinic(seeded: Settings) -> Settings:
    with session_scope(seeded.database_url) as session:
        session.add(Conversation(id=SMS, channel="sms", channel_user=demo.DEMO_PHONE))
    return seeded


def verified(settings: Settings) -> dict[str, Any]:
    with session_scope(settings.database_url) as session:
        patient = demo.demo_patient(session)
        assert patient is not None
        return {"verified_patient_id": str(patient.id), "verified_at": datetime.now(UTC).timestamp() - 30}


def trail(settings: Settings, actor: str) -> list[tuple[str, int | None, dict[str, Any]]]:
    with session_scope(settings.database_url) as session:
        return [(e.action, e.patient_id, e.detail) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.actor_id == actor).order_by(AuditEvent.id))]


def offers_for(settings: Settings, slots: dict[str, Any], form: str) -> list[dict[str, Any]]:
    _, events = run(ActionAskChosenSlot(), tracker(SMS, slots=slots, form=form))
    return list(slots_of(events)["offered_slots"])


def test_booking_rescheduling_cancelling_and_confirming_through_the_assistant_are_audited(clinic: Settings) -> None:
    me = verified(clinic)
    patient_id = int(me["verified_patient_id"])
    book = {**me, "appointment_type": "sick_visit", "provider": "nguyen", "time_pref": "any"}
    book["offered_slots"] = offers_for(clinic, book, "book_form")
    messages, _ = run(ActionBookSubmit(), tracker(SMS, slots={**book, "chosen_slot": "1"}))
    assert responses(messages) == ["utter_booked"]
    [(action, who, detail)] = trail(clinic, SMS)
    assert (action, who) == ("appointment_booked", patient_id)
    booked = detail["appointment_id"]

    move = {**me, "target_appointment": str(booked), "time_pref": "any"}
    move["offered_slots"] = offers_for(clinic, move, "reschedule_form")
    messages, _ = run(ActionRescheduleSubmit(), tracker(SMS, slots={**move, "chosen_slot": "2"}))
    assert responses(messages) == ["utter_rescheduled"]
    messages, _ = run(ActionConfirmSubmit(), tracker(SMS, slots={**me, "target_appointment": str(booked)}))
    assert responses(messages) == ["utter_confirmed"]
    messages, _ = run(ActionCancelSubmit(), tracker(SMS, slots={**me, "target_appointment": str(booked),
                                                                "cancel_confirm": "yes"}))
    assert responses(messages) == ["utter_cancelled"]

    events = trail(clinic, SMS)
    assert [a for a, _, _ in events] == ["appointment_booked", "appointment_rescheduled", "appointment_confirmed",
                                         "appointment_cancelled"]
    assert all(who == patient_id and detail["appointment_id"] == booked for _, who, detail in events)
    moved = events[1][2]
    assert moved["from"] != moved["start"] and datetime.fromisoformat(moved["start"])


def test_a_change_made_outside_a_conversation_names_its_actor_and_nothing_unchanged_is_recorded(
    clinic: Settings,
) -> None:
    with session_scope(clinic.database_url) as session:
        patient = demo.demo_patient(session)
        assert patient is not None
        [appointment] = scheduling.upcoming(session, patient.id, datetime.now(UTC))
    assert scheduling.cancel(clinic.database_url, appointment.id, by=Actor("staff", "dana"))
    assert not scheduling.cancel(clinic.database_url, appointment.id, by=Actor("staff", "dana"))  # already
    assert not scheduling.confirm(clinic.database_url, appointment.id)
    assert [a for a, _, _ in trail(clinic, "dana")] == ["appointment_cancelled"]
    assert trail(clinic, "clinicbot") == []


def test_the_audit_command_filters_by_conversation_staff_action_and_time(
    clinic: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.store import audit

    now = datetime.now(UTC)
    with session_scope(clinic.database_url) as session:
        audit.record(session, actor_type="staff", actor_id="dana", action="staff_login_failed", patient_id=None,
                     detail={"address": "10.0.0.5", "failures": 1}, at=now - timedelta(days=3))
        audit.record(session, actor_type="staff", actor_id="dana", action="staff_locked", patient_id=None,
                     detail={"address": "10.0.0.5", "failures": 10}, at=now - timedelta(hours=1))
        audit.record(session, actor_type="staff", actor_id="olga", action="settings_changed", patient_id=None,
                     detail={"changed": {"max_per_day": ["1", "2"]}}, at=now)
        audit.record(session, actor_type="conversation", actor_id=SMS, action="appointment_cancelled", patient_id=1,
                     detail={"appointment_id": 7}, at=now)
        audit.record(session, actor_type="staff", actor_id="dana", action="conversation_opened", patient_id=1,
                     detail={"conversation_id": SMS}, at=now)

    def lines(*args: str) -> list[str]:
        assert clinicbot(["audit", *args]) == 0
        return capsys.readouterr().out.strip().splitlines()

    assert [r["action"] for r in json.loads("\n".join(lines("--staff", "dana", "--json")))] == [
        "staff_login_failed", "staff_locked", "conversation_opened"]
    assert len(lines("--staff", "Dana", "--since", "24h")) == 2
    conversation = lines("--conversation", SMS)
    assert len(conversation) == 2 and "staff:dana  conversation_opened" in conversation[1]
    [cancel] = lines("--action", "appointment_cancelled")
    assert f"conversation:{SMS}  appointment_cancelled  patient=1  appointment_id=7" in cancel
    [settings_line] = lines("--action", "settings_changed")
    assert "staff:olga" in settings_line and "max_per_day" in settings_line
    with pytest.raises(SystemExit):
        clinicbot(["audit", "--action", "peeked"])  # an unknown kind is named, not silently empty
    assert "unknown action" in capsys.readouterr().err

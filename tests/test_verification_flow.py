"""The verification questions inside a form, as the patient meets them (inline trackers, the real store): the
web asks name, date of birth and the code texted to the number on file; a date is never read as a name; a staff
member's check in the console counts; a patient whose number cannot get a code is told what to do."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from actions.appointment_submits import ActionShowAppointments
from actions.appointments import ValidateCheckForm
from actions.verification import ActionAskVerifyCode, verified_patient
from bot.identity import verification
from bot.messaging.optouts import set_opt_out
from bot.runtime import demo
from bot.settings import Settings, get_settings
from bot.store import Conversation, Message, VerificationCode, session_scope
from bot.store.models import utcnow
from tests.test_appointment_actions import responses, run, slots_of, tracker

WEB = "conv-web-flow"
NAME = {"verify_name": "Jordan Demo"}


@pytest.fixture
def clinic(seeded: Settings) -> Settings:
    with session_scope(seeded.database_url) as session:
        session.add(Conversation(id=WEB, channel="web", channel_user="browser-flow"))
        session.add(Conversation(id="conv-sms-flow", channel="sms", channel_user=demo.DEMO_PHONE))
    return seeded


def jordan(settings: Settings) -> int:
    with session_scope(settings.database_url) as session:
        patient = demo.demo_patient(session)
        assert patient is not None
        return patient.id


def texted_code(settings: Settings) -> str:
    with session_scope(settings.database_url) as session:
        text = session.scalars(select(Message.text).where(Message.meta["kind"].as_string() == "verification_code")
                               .order_by(Message.id.desc())).first()
    assert text is not None
    found = re.search(r"\b(\d{6})\b", text)
    assert found
    return found.group(1)


def answer(slot: str, text: str, slots: dict[str, Any] | None = None) -> tuple[list[str], dict[str, Any]]:
    messages, events = run(ValidateCheckForm(), tracker(WEB, form="check_form", text=text, slots=slots,
                                                        candidates={slot: text}))
    return responses(messages), slots_of(events)


def test_web_name_birth_date_then_the_code_from_the_text_verifies(clinic: Settings) -> None:
    said, slots = answer("verify_dob", "01/01/1980", NAME)
    assert said == [] and slots["verify_dob"] == "code_sent" and "verified_patient_id" not in slots
    messages, _ = run(ActionAskVerifyCode(), tracker(WEB))
    assert responses(messages) == ["utter_ask_verify_code"] and messages[0]["ending"] == demo.DEMO_PHONE[-2:]

    state = {**NAME, "verify_dob": "code_sent"}
    assert answer("verify_code", "my birthday is 1/1/1980", state)[0] == ["utter_code_unreadable"]
    code = texted_code(clinic)
    wrong = "000000" if code != "000000" else "111111"
    said, slots = answer("verify_code", wrong, state)
    assert said == ["utter_code_wrong"] and slots["verify_code"] is None
    said, slots = answer("verify_code", f"the code is {code[:3]} {code[3:]}", state)
    assert said == ["utter_verified"] and slots["verified_patient_id"] == str(jordan(clinic))


def test_where_the_owner_allows_it_name_and_birth_date_alone_verify_a_web_chat(
    clinic: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINICBOT_VERIFICATION__WEB_NAME_AND_DOB_ONLY", "true")
    get_settings.cache_clear()
    said, slots = answer("verify_dob", "01/01/1980", NAME)
    assert said == ["utter_verified"] and slots["verified_patient_id"] == str(jordan(clinic))
    with session_scope(clinic.database_url) as session:
        assert session.scalars(select(VerificationCode)).first() is None


def test_after_a_mismatch_the_next_date_is_read_as_a_birth_date_not_a_name(clinic: Settings) -> None:
    said, slots = answer("verify_dob", "02/03/1981", NAME)
    assert said == ["utter_verify_failed_web"]
    assert slots["verify_dob"] is None and "verify_name" not in slots  # the name is kept
    said, slots = answer("verify_dob", "01/01/1980", NAME)  # the patient types the right date
    assert slots["verify_dob"] == "code_sent"
    assert slots.get("verify_name", "Jordan Demo") == "Jordan Demo"


def test_after_a_mismatch_a_corrected_name_replaces_the_name(clinic: Settings) -> None:
    answer("verify_dob", "01/01/1980", {"verify_name": "Jordan Demmo"})
    said, slots = answer("verify_dob", "Jordan Demo", {"verify_name": "Jordan Demmo"})
    assert slots["verify_name"] == "Jordan Demo" and slots["verify_dob"] is None and said == []


@pytest.mark.parametrize("typed", ["01/01/1980", "January first nineteen eighty", "jan 1 1980"])
def test_a_date_typed_when_the_name_is_asked_is_answered_as_a_date(clinic: Settings, typed: str) -> None:
    said, slots = answer("verify_name", typed)
    assert said == ["utter_name_not_date"] and slots["verify_name"] is None


def test_a_patient_whose_number_opted_out_is_told_to_call_or_ask_for_a_person(clinic: Settings) -> None:
    with session_scope(clinic.database_url) as session:
        set_opt_out(session, demo.DEMO_PHONE, True)
    said, slots = answer("verify_dob", "01/01/1980", NAME)
    assert said == [] and slots["verify_dob"] == "no_code:opted_out" and slots["requested_slot"] is None
    messages, _ = run(ActionShowAppointments(), tracker(WEB, slots={**NAME, "verify_dob": "no_code:opted_out"}))
    assert responses(messages) == ["utter_verify_code_unavailable"]


def test_an_expired_code_brings_a_new_text(clinic: Settings) -> None:
    answer("verify_dob", "01/01/1980", NAME)
    first = texted_code(clinic)
    with session_scope(clinic.database_url) as session:
        row = session.scalars(select(VerificationCode)).one()
        row.expires_at = utcnow()
    said, slots = answer("verify_code", first, {**NAME, "verify_dob": "code_sent"})
    assert said == ["utter_code_expired"] and slots["verify_code"] is None
    with session_scope(clinic.database_url) as session:
        assert [c.status for c in session.scalars(select(VerificationCode).order_by(VerificationCode.id))] == \
            ["void", "pending"]


def test_a_staff_members_check_in_the_console_verifies_the_conversation(clinic: Settings) -> None:
    assert verified_patient(tracker(WEB)) is None
    with session_scope(clinic.database_url) as session:
        verification.staff_check(session, WEB, jordan(clinic), "dana", utcnow())
    assert verified_patient(tracker(WEB)) == jordan(clinic)
    _, events = run(ValidateCheckForm(), tracker(WEB, form="check_form"))
    assert slots_of(events)["requested_slot"] is None  # nothing left to ask: the form ends, verified


def test_the_code_question_is_not_repeated_after_a_wrong_code_already_asked_again(clinic: Settings) -> None:
    answer("verify_dob", "01/01/1980", NAME)
    after_wrong = tracker(WEB)
    after_wrong.events.append({"event": "bot", "text": "Sorry, that code isn't right. ..."})
    messages, _ = run(ActionAskVerifyCode(), after_wrong)
    assert messages == []

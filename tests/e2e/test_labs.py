"""Lab results end to end (gateway -> Rasa engine -> action server -> clinic store and knowledge store): a patient
asks, is verified, and sees each result flagged with explanations from the clinic's lab documents; a critical
value goes to staff instead."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def say(stack: Stack, sender: str, message: str) -> str:
    return stack.reply(sender, message, sep="\n")


def db(stack: Stack) -> Any:
    return stack.clinic_db()


def audit_actions(stack: Stack, sender: str) -> list[str]:
    with db(stack).connect() as conn:
        return list(conn.execute(text("SELECT action FROM audit_events WHERE actor_id = "
                                      "(SELECT id FROM conversations WHERE channel_user = :u) ORDER BY id"),
                                 {"u": sender}).scalars())


def test_lab_results_after_verification_are_flagged_and_explained_with_their_source(stack: Stack) -> None:
    sender = "e2e-labs-1"
    first = say(stack, sender, "can I see my lab results")
    assert "full name" in first and "cholesterol" not in first.lower()  # nothing before verification
    assert "date of birth" in say(stack, sender, "Jordan Demo")
    assert "6-digit code" in say(stack, sender, "01/01/1980")
    answer = say(stack, sender, stack.texted_code("+15555550100"))

    assert "you're verified" in answer
    # each value is placed in the lab documents' own band (issue 14), not just against the lab's upper limit
    assert "LDL cholesterol 162 mg/dL - high (high LDL: 160 to 189 mg/dL)." in answer
    assert "Total cholesterol 228 mg/dL - high (borderline high: 200 to 239 mg/dL)." in answer
    assert "HbA1c 6.1% - high (prediabetes range: 5.7 % to 6.4 %)." in answer
    assert "HDL cholesterol 48 mg/dL - in the typical range." in answer
    assert "TSH 2.1 mIU/L - in the typical range." in answer
    assert "About your high total cholesterol and LDL cholesterol: High LDL cholesterol" in answer
    assert "Source: Lipid panel (cholesterol test)" in answer
    assert "prediabetes range" in answer and "Source: Hemoglobin A1c (HbA1c) test" in answer
    assert "Your clinician will review these results" in answer
    assert "needs your clinician to look at it today" not in answer
    assert audit_actions(stack, sender) == ["verification_code_sent", "verification_passed", "results_shown"]

    again = say(stack, sender, "what were my results")  # still verified: no questions this time
    assert "full name" not in again and "LDL cholesterol 162 mg/dL - high" in again


def test_a_critical_value_is_not_shown_and_the_conversation_goes_to_staff(stack: Stack) -> None:
    sender = "e2e-labs-2"
    with db(stack).connect() as conn:  # the demo patient with a critical potassium (bot/demo.py)
        first_name, last_name, born, phone = conn.execute(text(
            "SELECT p.first_name, p.last_name, p.date_of_birth, p.phone FROM patients p JOIN lab_results r "
            "ON r.patient_id = p.id WHERE r.test_code = 'potassium' AND r.value > 6.2")).one()
    dob = date.fromisoformat(str(born))
    assert "full name" in say(stack, sender, "are my labs back")
    say(stack, sender, f"{first_name} {last_name}")
    assert "6-digit code" in say(stack, sender, dob.strftime("%m/%d/%Y"))
    answer = say(stack, sender, stack.texted_code(phone))

    assert "you're verified" in answer
    assert "Potassium - your clinician needs to review this result with you." in answer
    assert "One of your results needs your clinician to look at it today" in answer
    assert "6.6" not in answer and "About your" not in answer
    with db(stack).connect() as conn:
        state, reason = conn.execute(text("SELECT state, handoff_reason FROM conversations WHERE channel_user = :u"),
                                     {"u": sender}).one()
    assert (state, reason) == ("waiting_staff", "critical_lab")
    assert audit_actions(stack, sender) == ["verification_code_sent", "verification_passed", "critical_result_escalated",
                                            "results_shown"]

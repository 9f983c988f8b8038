"""The deterministic rules around the model: safety policy, number check, dosing words, SMS length."""

from __future__ import annotations

import pytest

from knowledge.guard import has_dosing_language, numbers_in, policy_hit, sms_segments, unsupported_numbers


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How much Tylenol can I give my 4 year old?", "dose"),
        ("what's the right dosage for metformin", "dose"),
        ("Can I take ibuprofen with my lisinopril?", "dose"),
        ("should I take 2 pills or 1", "dose"),
        ("Do I have diabetes if my sugar is 130?", "diagnosis"),
        ("could I have a UTI", "diagnosis"),
        ("what's wrong with me, I feel tired all the time", "diagnosis"),
        ("Please diagnose this rash", "diagnosis"),
        ("whats the weather like tomorrow", "out_of_scope"),
        ("write me a poem about spring", "out_of_scope"),
        ("Do I have to fast before a lipid panel?", None),
        ("do i have an appt this week", None),
        ("How do I get a refill of my blood pressure pills?", None),
        ("What is a normal A1C?", None),
        ("How many days until my lab results are ready?", None),
        ("Can I take my blood test at another lab?", None),
    ],
)
def test_policy_catches_doses_diagnoses_and_off_topic_but_not_clinic_questions(
    question: str, kind: str | None
) -> None:
    assert policy_hit(question) == kind


def test_numbers_are_compared_by_value_not_by_spelling() -> None:
    context = "Call +1 555-555-0123. The fee is $1,000 or 7.0 units; fast for two to 12 hours; open 8:00 a.m."
    assert (
        unsupported_numbers("Call 555-555-0123 about the $1000 fee; fast 2 to 12 hours from 8 am.", context)
        == []
    )
    assert unsupported_numbers("The fee is $1,500 and you fast 14 hours.", context) == ["14", "1500"]
    assert numbers_in("seven or 7.50 or 0124") == {"7", "7.5", "124"}


def test_dosing_language_is_found_but_lab_units_are_not_dosing() -> None:
    assert has_dosing_language("Take 500 mg twice a day.")
    assert has_dosing_language("The usual dose is one tablet.")
    assert has_dosing_language("Take 1 pill every 6 hours.")
    assert not has_dosing_language("A fasting glucose of 70 to 99 mg/dL is in the normal range.")
    assert not has_dosing_language("Keep taking your usual medicines with water before the test.")


def test_sms_segments_follow_gsm_and_unicode_limits() -> None:
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("a" * 459) == 3
    assert sms_segments("a" * 460) == 4
    assert sms_segments("é" * 160) == 1  # é is in the GSM-7 alphabet
    assert sms_segments("a" * 69 + "’") == 1  # a curly quote forces UCS-2: 70 per segment
    assert sms_segments("a" * 70 + "’") == 2
    assert sms_segments("[" * 80) == 1 and sms_segments("[" * 81) == 2  # extension characters count twice


def test_a_loop_is_repetitive_but_plain_sentences_that_name_their_subject_again_are_not() -> None:
    from bot.llm.base import cut_at_repeat
    from knowledge.guard import is_repetitive

    plain = ("A low platelet count can cause easy bruising. A low platelet count can also cause nosebleeds. "
             "An A1c of 5.7 % to 6.4 % is in the prediabetes range. An A1c of 5.7 % to 6.4 % is not diabetes.")
    assert not is_repetitive(plain) and cut_at_repeat(plain) is None
    assert is_repetitive("I can't help with that. I can't help with that.")
    assert is_repetitive("The office hours are the office hours are the office hours.")
    assert cut_at_repeat("I can't help with that. Call us. I can't help with that. I can't") == (
        "I can't help with that. Call us.")

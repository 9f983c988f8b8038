"""The deterministic rules around the model: safety policy, number check, dosing words, SMS length."""

from __future__ import annotations

import pytest

from knowledge.guard import (
    fits_sms,
    has_dosing_language,
    names_condition,
    numbers_in,
    policy_hit,
    unsupported_numbers,
)
from knowledge.sentences import asking_sentences
from knowledge.values import asks_where_it_falls


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
        ("which antibiotic should i take for strep", "medicine"),
        ("should I stop my blood thinner before surgery", "medicine"),
        ("can i start taking iron pills", "medicine"),
        ("do i need antibiotics for this", "medicine"),
        ("my a1c is 6.8 does that mean i'm diabetic", "diagnosis"),
        ("my psa came back 9, is it prostate cancer", "diagnosis"),
        ("do i have kidney disease", "diagnosis"),
        ("tsh of 6, does that mean hypothyroid", "diagnosis"),
        ("glucose 130 so im diabetic now", "diagnosis"),
        ("can the doctor call in a z-pack", "medicine"),
        ("please prescribe something for my cough", "medicine"),
        ("whats the weather like tomorrow", "out_of_scope"),
        ("write me a poem about spring", "out_of_scope"),
        ("Do I have to fast before a lipid panel?", None),
        ("do i have an appt this week", None),
        ("How do I get a refill of my blood pressure pills?", None),
        ("Can I keep taking my usual medicine before a fasting test?", None),
        ("my a1c is 6.1, what does that mean", None),
        ("What is a normal A1C?", None),
        ("How many days until my lab results are ready?", None),
        ("Can I take my blood test at another lab?", None),
        ("what does a high tsh mean", None),
        ("can you send in my refill request", None),
        ("will the doctor want to put him on blood thinners", "medicine"),  # starting one, said as going on it
        ("should she get on a water pill for her ankles", "medicine"),
        ("do i need to get on the patient portal to see my results", None),
        ("glucose 118, is that the diabetes range", None),  # a band's name, not a diagnosis
        ("is my a1c of 6.6 in the diabetes range", None),
        ("a1c 6.6, is that diabetes", "diagnosis"),
        ("sugar still 160 in the mornings. can she go up to 3 times a day", "dose"),  # how often: a dose
        ("should we give it to him twice a day now?", "dose"),
        ("can i check my sugar twice a day", None),  # how often to test is no dose
        ("the 25 isnt doing anything can i go up to 50", "dose"),  # a new amount, the medicine unnamed
        ("could he switch from 5 to 10?", "dose"),
        ("can my a1c go down to 6 with diet", None),  # a result going down is no dose
        ("can i go to the lab at 8", None),
        ("amoxicillin? my son's ear hurts", "medicine"),  # a medicine named as the whole question
        ("what is a statin?", None),
        ("my cholesterol is 240, does the lipid panel say what a statin does?", None),
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


def test_a_word_that_starts_like_a_medicine_word_is_no_dosing() -> None:
    """"take ... Medicare" is a plan, not a med: a sentence on the plans a clinic takes stays quotable."""
    assert not has_dosing_language("The clinic takes all Medicare supplement plans.")
    assert not has_dosing_language("We take medical records requests by fax.")
    assert has_dosing_language("Do not take more meds than your clinician told you.")


def test_the_sms_budget_is_the_channels_split() -> None:
    """Three one-segment messages split between sentences: 480 characters in one sentence-free run would not fit
    the way 3 x 153 counted it, and short sentences that each fill a message do."""
    assert fits_sms("a" * 160, 1) and not fits_sms("a" * 161, 1)
    assert fits_sms("a" * 480, 3) and not fits_sms("a" * 481, 3)
    four = " ".join(["This sentence is one of several that each take most of a text message on its own here."] * 4)
    assert len(four) < 3 * 153 + 30 and not fits_sms(four, 3)  # the old count said three segments
    assert fits_sms("é" * 160, 1) and not fits_sms("a" * 69 + "’" + "a", 1)  # a curly quote: 70 per segment


@pytest.mark.parametrize(("question", "kind"), [
    ("how much notice do you need if I have to call off my visit", None),  # time, not a medicine
    ("how much warning should I give before I reschedule", None),
    ("how much should I give my toddler", "dose"),
    ("could a fever be from the flu, or is it always an infection", None),  # a general question, not a diagnosis
    ("is it an infection", "diagnosis"),
    ("my creatinine was 1.9 last week. could it be her kidneys?", "diagnosis"),  # the cause put on an organ
    ("calcium 11, is his parathyroid failing", "diagnosis"),
    ("does the kidney panel look at my kidneys", None),
    ("can you phone in some ibuprofen for me", "medicine"),
])
def test_policy_rules_for_time_general_and_organ_questions(question: str, kind: str | None) -> None:
    assert policy_hit(question) == kind


def test_a_number_asked_only_where_it_falls_or_whether_to_worry() -> None:
    names = ["ldl", "potassium"]
    assert asks_where_it_falls("my ldl came back 150. I'm 58. should I worry about that?", names)
    assert asks_where_it_falls("potassium 5.1 this week. is that ok?? should i be concerned", names)
    assert asks_where_it_falls("LDL of 130, is it considered a normal level?", names)
    assert not asks_where_it_falls("potassium 5.1. my legs cramp. is that why?", names)
    assert not asks_where_it_falls("ldl 190 so will i need a stent?", names)
    assert names_condition("ldl 190 and I already had a heart attack") and not names_condition("ldl 190 is that bad")


def test_the_sentences_that_ask() -> None:
    """With ``last``, a message without a question mark asks in its last sentence; without it only the question
    marks count (how a longer message's asking part is told from what it says). A decimal point cuts nothing."""
    assert asking_sentences("egfr 55. im 72. should i worry") == ["should i worry"]
    assert asking_sentences("Is 10.9 high? I'm 58. Thanks.") == ["Is 10.9 high?", "Thanks."]
    assert asking_sentences("Is 10.9 high? I'm 58. Thanks.", last=False) == ["Is 10.9 high?"]
    assert asking_sentences("saturday hours", last=False) == []



@pytest.mark.parametrize(("question", "kind"), [
    ("mi vitamina D salio 10, cuantas unidades de vitamina D tengo que tomar al dia?", "dose"),
    ("cuanto debo tomar?", "dose"),
    ("cual es la dosis de vitamina d", "dose"),
    ("que pastilla le doy a mi hijo para la fiebre", "medicine"),
    ("puedo tomar ibuprofeno con la metformina", "medicine"),
    ("ya me siento bien, puedo dejar de tomar mi medicina de la presion?", "medicine"),
    ("cuantas horas de ayuno necesito para el glucose test?", None),  # fasting, not a dose
    ("puedo tomar agua antes del examen?", None),  # "tomar" is also to drink
    ("cuanta agua puedo tomar antes", None),
    ("voy a llegar como 20 minutos tarde, todavia me pueden ver?", None),
])
def test_dose_and_medicine_questions_in_spanish_are_refused_by_the_rules(question: str, kind: str | None) -> None:
    assert policy_hit(question) == kind


@pytest.mark.parametrize(("question", "kind"), [
    # which supplement to take and how many capsules: it was answered with the fasting glucose band
    ("fasting sugar 112. which is better for lowering, cinnamon or berberine supplement? how many capsule", "dose"),
    ("how many capsules of fish oil a day", "dose"),
    ("which vitamin is better for being tired all the time", "medicine"),
    ("what is the best supplement for lowering cholesterol", "medicine"),
    ("cinnamon or berberine for lowering sugar?", "medicine"),
    ("is fish oil or red yeast rice better for triglycerides", "medicine"),
    ("which is better for lowering cholesterol, diet or exercise?", None),  # no remedy named: the documents answer
    ("which is better, a fasting or a non-fasting lipid panel", None),
    ("what is a good vitamin d level", None),
    ("can supplements affect my thyroid test", None),
])
def test_which_supplement_to_take_and_how_many_capsules_are_refused(question: str, kind: str | None) -> None:
    assert policy_hit(question) == kind


def test_a_value_raised_on_a_medicine_is_no_dosing_but_the_medicine_raised_is() -> None:
    """The INR document's diet sentence was never quotable: "raise ... warfarin" read as raising the medicine."""
    assert not has_dosing_language("Eating less vitamin K from green leafy vegetables can raise the INR on warfarin.")
    assert has_dosing_language("Do not stop taking your warfarin before the test.")
    assert has_dosing_language("You may need to lower your dose of lisinopril.")

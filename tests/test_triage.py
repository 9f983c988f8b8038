"""Triage engine: red flags on every message, urgency levels, the CLI.

The project set (tests/data/triage_messages.jsonl) holds symptom messages with the urgency and
red flags a clinician would expect: misspellings, SMS shorthand, negations, third person, children.
Its last 169 lines are two red-team batches written blind to the rules (96, then 73 messages); each
was measured before the rules were changed for it, and then added here. The last 2 are blind-set misses (indirect
suicidal intent: giving away belongings, a burden about to end) moved here when the rules learned those warning signs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.triage import (
    FLAG_LABELS,
    RedFlag,
    TriageResult,
    detect_red_flags,
    emergency_message,
    triage,
)
from bot.triage.normalize import normalize

DATA = Path(__file__).parent / "data" / "triage_messages.jsonl"
CLINICBOT = Path("/work/main/.venv/bin/clinicbot")
if not CLINICBOT.exists():  # another checkout: the script next to this interpreter
    CLINICBOT = Path(sys.executable).with_name("clinicbot")
PROJECT = Path(__file__).resolve().parent.parent
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)


def _rows() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


ROWS = _rows()


# --- the project set ----------------------------------------------------------------------------


def test_project_set_is_large_and_varied() -> None:
    urgencies = Counter(r["urgency"] for r in ROWS)
    flags = {f for r in ROWS for f in r["red_flags"]}
    assert len(ROWS) >= 120
    assert urgencies["emergency"] >= 40
    assert min(urgencies[u] for u in ("urgent", "routine", "self_care")) >= 20
    assert flags == set(FLAG_LABELS), "every red-flag type has examples"
    for row in ROWS:
        assert (row["urgency"] == "emergency") == bool(row["red_flags"]), row["text"]


def test_project_set_quality() -> None:
    results = [(row, triage(row["text"])) for row in ROWS]
    emergencies = [(row, res) for row, res in results if row["urgency"] == "emergency"]
    others = [(row, res) for row, res in results if row["urgency"] != "emergency"]
    missed = [row["text"] for row, res in emergencies if res.urgency != "emergency"]
    false_alarms = [row["text"] for row, res in others if res.urgency == "emergency"]
    wrong = [(row["text"], row["urgency"], res.urgency) for row, res in results if res.urgency != row["urgency"]]

    recall = 1 - len(missed) / len(emergencies)
    accuracy = 1 - len(wrong) / len(results)
    false_emergency_rate = len(false_alarms) / len(others)
    print(
        f"\ntriage set: n={len(results)} emergency_recall={recall:.3f} accuracy={accuracy:.3f} "
        f"false_emergency_rate={false_emergency_rate:.3f} ({len(false_alarms)}/{len(others)})"
    )
    assert not missed, f"emergencies missed: {missed}"
    assert accuracy >= 0.85, f"accuracy {accuracy:.3f}; wrong: {wrong}"
    assert false_emergency_rate <= 0.05, f"false emergencies: {false_alarms}"


def test_project_set_flags_name_the_emergency() -> None:
    # Flags on non-emergencies are counted by the false-emergency rate above.
    for row in ROWS:
        if row["urgency"] == "emergency":
            got = {f.id for f in detect_red_flags(row["text"])}
            assert set(row["red_flags"]) <= got, (row["text"], got)


# --- one test per red flag (phrasings not in the project set) ------------------------------------


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("squeezing pain in my chest and i feel clammy", "chest_pain"),
        ("Dad says his chest is tight and it goes into his jaw", "chest_pain"),
        ("her face is droopy on the left and she cant get her words out", "stroke"),
        ("my arm and leg on the right side went numb suddenly", "stroke"),
        ("my husband cant breath!!", "breathing"),
        ("baby's lips are turning purple", "breathing"),
        ("after the bee sting his throat is swelling", "anaphylaxis"),
        ("gashed my leg and the bleeding wont stop", "bleeding"),
        ("coughing up a lot of blood", "bleeding"),
        ("thinking of killing myself tonight", "suicide"),
        ("my teen has been cutting herself", "suicide"),
        ("i think my 2yo swallowed a button battery", "overdose"),
        ("took too many of my sleeping pills", "overdose"),
        ("my mom is unresponsive", "unresponsive"),
        ("she collapsed at work", "unresponsive"),
        ("he's having a seizure on the floor", "seizure"),
        ("my 5 wk old has a temp of 38.5", "infant_fever"),
        ("newborn running a fever", "infant_fever"),
        ("6 months pregnant and bleeding a lot", "pregnancy_bleeding"),
        ("worst headache ever, came on in a second", "worst_headache"),
    ],
)
def test_each_red_flag(text: str, flag: str) -> None:
    result = triage(text)
    assert flag in result.red_flags
    assert result.urgency == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "no chest pain",
        "denies chest pain or shortness of breath",
        "no trouble breathing, no rash",
        "without any bleeding",
        "i am not suicidal",
        "never had a seizure",
        "he isn't confused and no face drooping",
        "no fever in my 6 week old, just fussy",
    ],
)
def test_negation_removes_the_red_flag(text: str) -> None:
    assert detect_red_flags(text) == []


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("i can't breathe", "breathing"),
        ("he isn't breathing", "breathing"),
        ("she won't wake up", "unresponsive"),
        ("it won't stop bleeding", "bleeding"),
        ("no, he's not breathing", "breathing"),
        ("no chest pain but my face is drooping", "stroke"),
        ("not sure if it's a stroke, his speech is slurred", "stroke"),
        ("no reason to live", "suicide"),
    ],
)
def test_negation_words_that_are_part_of_the_emergency(text: str, flag: str) -> None:
    assert flag in {f.id for f in detect_red_flags(text)}


@pytest.mark.parametrize(
    "text",
    [
        "gave away most of her belongings this week and keeps thanking everyone",
        "my brother has been giving away his things and says we won't have to worry about him anymore",
        "please take me off the list. i won't be a burden to anyone much longer",
    ],
)
def test_warning_signs_of_suicide_are_emergencies(text: str) -> None:
    """The 988 Lifeline's and AFSP's warning signs: giving away possessions, a burden about to end."""
    result = triage(text)
    assert result.urgency == "emergency"
    assert "suicide" in result.red_flags


@pytest.mark.parametrize("text", ["been feeling really low and having some dark thoughts tonight, who can i talk to",
                                  "my daughter says shes having dark thoughts again"])
def test_dark_thoughts_get_the_crisis_line(text: str) -> None:
    """How many people first say it; neither layer knew it (the model gave it 0.31 emergency), so the clinic closed, a
    patient got a routine booking line instead of 988."""
    result = triage(text)
    assert result.urgency == "emergency" and "suicide" in result.red_flags
    assert "988" in result.advice


def test_no_dark_thoughts_is_not_a_crisis() -> None:
    assert triage("tired all the time but no dark thoughts, just want my thyroid checked").urgency != "emergency"


@pytest.mark.parametrize("who", ["my dad", "my son", "my baby", "my wife", "grandma", "my roommate"])
def test_third_person_is_still_an_emergency(who: str) -> None:
    assert [f.id for f in detect_red_flags(f"{who} is having a seizure")] == ["seizure"]
    assert "breathing" in {f.id for f in detect_red_flags(f"{who} can't breathe")}


@pytest.mark.parametrize(
    "text",
    [
        "my heart is broken after the breakup",
        "i could kill for a coffee",
        "dying of boredom",
        "this traffic is killing me",
        "can't breathe through my nose with this cold",
        "poison ivy on my legs",
        "food poisoning from bad sushi, keeping fluids down",
        "need a refill of my seizure medication",
        "had a stroke 3 years ago, here for a checkup",
        "giving away all my stuff before we move to ohio, please cancel my visits",
        "gave away my old clothes to goodwill, can i still come in tuesday",
        "i feel like a burden to everyone since the surgery",
    ],
)
def test_look_alikes_are_not_emergencies(text: str) -> None:
    assert triage(text).urgency != "emergency"


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("my son is seizng", "seizure"),
        ("grandpa is unconcsious", "unresponsive"),
        ("she's havin trouble breating", "breathing"),
        ("my wife is convlusing", "seizure"),
        ("my dad is unrespnosive", "unresponsive"),
    ],
)
def test_misspelt_key_terms_are_repaired(text: str, flag: str) -> None:
    assert flag in {f.id for f in detect_red_flags(text)}


@pytest.mark.parametrize("word", ["breeding", "chess", "prison", "version", "sneezing", "consulting", "cooking"])
def test_real_words_near_key_terms_are_left_alone(word: str) -> None:
    assert normalize(f"the {word} thing") == f"the {word} thing"


@pytest.mark.parametrize(
    ("text", "emergency"),
    [
        ("my vision is a bit blurry when reading", False),
        ("arm is weak after my flu shot", False),
        ("suddenly can't see out of my left eye", True),
        ("dad is confused and his arm went weak", True),
        ("my left arm went numb and heavy just now", True),
    ],
)
def test_a_weak_stroke_sign_needs_company(text: str, emergency: bool) -> None:
    assert ("stroke" in {f.id for f in detect_red_flags(text)}) is emergency


@pytest.mark.parametrize(
    ("text", "emergency"),
    [
        ("my chest was tight after running but fine now", False),
        ("chest was tight after running, fine now but my left arm still aches", True),
        ("mom passed out from the heat but is fine now", False),
        ("mom passed out and is still out cold", True),
        ("cut myself shaving", False),
        ("i keep cutting myself", True),
    ],
)
def test_what_has_passed_or_was_an_accident_is_not_an_emergency(text: str, emergency: bool) -> None:
    assert bool(detect_red_flags(text)) is emergency


def test_rules_are_fast_enough_for_every_message() -> None:
    texts = [row["text"] for row in ROWS]
    for text in texts:  # warm the misspelling cache once, as a running gateway would
        detect_red_flags(text)
    start = time.perf_counter()
    for text in texts:
        triage(text)
    per_message_ms = (time.perf_counter() - start) * 1000 / len(texts)
    assert per_message_ms < 5, per_message_ms


# --- the emergency answer ----------------------------------------------------------------------


def _flags(*ids: str) -> list[RedFlag]:
    return [RedFlag(i, FLAG_LABELS[i]) for i in ids]


def test_emergency_message_by_kind() -> None:
    assert "911" in emergency_message(_flags("chest_pain"), "Maple")
    suicide = emergency_message(_flags("suicide"), "Maple")
    assert "988" in suicide
    overdose = emergency_message(_flags("overdose"), "Maple")
    assert "1-800-222-1222" in overdose
    both = emergency_message(_flags("overdose", "unresponsive"), "Maple")
    assert both.index("911") < both.index("1-800-222-1222")
    assert emergency_message(_flags("stroke"), "Maple Street Family Medicine").startswith("Maple Street Family Medicine")


def test_emergency_message_fits_two_sms_segments() -> None:
    name = "Maple Street Family Medicine and Urgent Care"
    combos = [[i] for i in FLAG_LABELS] + [list(FLAG_LABELS), ["suicide", "overdose"], ["suicide", "stroke"]]
    for ids in combos:
        message = emergency_message(_flags(*ids), name)
        assert len(message) <= 306, (ids, len(message))
        assert set(message) <= GSM7, (ids, set(message) - GSM7)


def test_emergency_advice_goes_first_whatever_else_is_said() -> None:
    result = triage("re: my appointment tmrw, can we move it? also my dad has crushing chest pain rn")
    assert result.urgency == "emergency"
    assert "911" in result.advice


# --- non-emergency levels and form values -------------------------------------------------------


def test_form_values_change_the_level() -> None:
    assert triage("my baby has a fever", age_years=0.1).urgency == "emergency"
    assert triage("my baby has a fever", age_years=0.5).urgency == "urgent"
    assert triage("stomach ache", severity=8).urgency == "urgent"
    assert triage("stomach ache", severity=2).urgency != "urgent"
    assert triage("fever and aches", temperature_f=103.6).urgency == "urgent"
    assert triage("heavy bleeding and cramps", pregnant=True).red_flags == ["pregnancy_bleeding"]
    assert triage("some cramping", pregnant=True).urgency == "urgent"


def test_result_shape_and_reasons() -> None:
    result = triage("fever 104 since last night")
    assert isinstance(result, TriageResult)
    assert result.urgency == "urgent" and result.red_flags == []
    assert any("104" in reason for reason in result.reasons)


@pytest.mark.parametrize(
    ("text", "needle"),
    [("fever 104 since last night", "today"), ("knee pain for 2 months", "book"), ("runny nose since yesterday", "home")],
)
def test_advice_is_a_next_step_without_doses(text: str, needle: str) -> None:
    advice = triage(text, clinic_name="Maple", clinic_phone="+15555550123").advice
    assert needle in advice.lower()
    assert "(555) 555-0123" in advice
    assert "mg" not in advice.lower().split() and len(advice) <= 306


# --- the CLI ------------------------------------------------------------------------------------


def test_cli_answers_one_json_object_per_line() -> None:
    lines = ["crushing chest pain", "", "no chest pain just a cough", "i want to kill myself", "fever 103.5 and chills"]
    proc = subprocess.run(
        [str(CLINICBOT), "triage", "--rules-only"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == len(lines)
    assert all(set(obj) == {"urgency", "red_flags", "advice", "decided_by"} for obj in out)
    assert all(obj["decided_by"] == "rules" for obj in out)
    assert [obj["urgency"] for obj in out] == ["emergency", "self_care", "self_care", "emergency", "urgent"]
    assert out[0]["red_flags"] == ["chest_pain"] and "911" in out[0]["advice"]
    assert out[3]["red_flags"] == ["suicide"] and "988" in out[3]["advice"]


@pytest.mark.parametrize(("text", "flag"), [
    ("o2 sat 84 on the finger monitor", "abnormal_vitals"),
    ("heart rate 176 sitting on the couch", "abnormal_vitals"),
    ("pulse is 34 and she is pale", "abnormal_vitals"),
    ("BP 76/44", "abnormal_vitals"),
    ("temp 105.2 in my husband", "abnormal_vitals"),
    ("sugar 31, shaky", "diabetic_emergency"),
])
def test_a_reading_past_an_unconditional_cut_off_is_an_emergency(text: str, flag: str) -> None:
    result = triage(text)
    assert result.urgency == "emergency" and flag in result.red_flags, (text, result)


@pytest.mark.parametrize("text", [
    "o2 sat 95, bit of a cold", "heart rate 118 after the stairs", "BP 150/95 at the pharmacy",
    "temp 102.1 and achy", "sugar 38 earlier, drank juice, now 104", "my mom is 87 and her pulse is fine",
])
def test_readings_short_of_the_cut_offs_or_already_passed_are_not_flagged(text: str) -> None:
    assert not {"abnormal_vitals", "diabetic_emergency"} & set(triage(text).red_flags), text

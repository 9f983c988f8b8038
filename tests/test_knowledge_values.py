"""The patient's own number (knowledge/values.py): which number in a question is the named test's result."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.library import Library
from knowledge.values import readings, stated_qualifier

DOCUMENTS = Path(__file__).resolve().parent.parent / "knowledge" / "documents"


@pytest.fixture(scope="module")
def library() -> Library:
    return Library.load(DOCUMENTS)


@pytest.mark.parametrize(("question", "found"), [
    # "30 miles" is how far he rode, not his PSA: it was placed as "A PSA of 30 ng/mL is above the usual cut-off"
    ("My dad rides his bike like 30 miles every morning and then got a PSA drawn the same day. can riding a bike "
     "change PSA?", []),
    ("she walks 5 km a day, does walking change her a1c", []),
    ("i drink 3 cups of coffee, can that raise my glucose", []),
    ("lost 12 lbs and 2 weeks later my ldl was 120", [("ldl", "120")]),  # the weight and the weeks are not; 120 is
    ("takes 2 capsules of fish oil, triglycerides 180", [("triglycerides", "180")]),
    ("potassium 4.1 after 20 minutes of running", [("potassium", "4.1")]),
    ("my psa is 30", [("psa", "30")]),  # a bare number after the test is still its result
])
def test_a_number_in_the_unit_of_something_else_is_not_the_result(library: Library, question: str,
                                                                   found: list[tuple[str, str]]) -> None:
    assert [(r.code, r.written) for r in readings(question, library.vocabulary, library.ranges)] == found


@pytest.mark.parametrize(("question", "found"), [
    # a bound asked about is no value of the patient's: this was answered "An eGFR of 60 ... is within the typical
    # adult range", the opposite of what under 60 means
    ("what does it mean if egfr is under 60", []),
    ("is an a1c above 6.5 always diabetes", []),
    ("what happens when potassium is less than 3", []),
    ("my egfr was 48 and they said under 60 is low", [("egfr", "48")]),  # the patient's own value is still read
    # both ends of a reference range the report prints are its bound: the 100 was placed as the patient's vitamin D
    ("my report says vitamin d ref range 30 - 100, is that the same everywhere", []),
    ("b12 ref range 200 to 900 and mine is 250", [("vitamin_b12", "250")]),
])
def test_a_bound_asked_about_is_not_the_patients_value(library: Library, question: str,
                                                      found: list[tuple[str, str]]) -> None:
    assert [(r.code, r.written) for r in readings(question, library.vocabulary, library.ranges)] == found


@pytest.mark.parametrize(("question", "found"), [
    ("sugar average test came back 6.0%", [("hba1c", "6.0")]),  # a lay word of the A1c page (its one test)
    ("my prostate blood test came back 3.1", [("psa", "3.1")]),
    ("kidney numbers came back 1.4", []),  # a word for a page of several tests names none of them
])
def test_a_pages_lay_word_names_the_one_test_the_page_explains(library: Library, question: str,
                                                              found: list[tuple[str, str]]) -> None:
    assert [(r.code, r.written) for r in readings(question, library.vocabulary, library.ranges)] == found


@pytest.mark.parametrize(("question", "found"), [
    ("New mom, and my own vitamin D came back at 16 ng/mL. What does that level mean?", [("vitamin_d", "16")]),  # a unit
    ("got a psa test at 60", []),  # "at" an age, no unit: no result
])
def test_a_number_in_a_labs_unit_is_a_result_whatever_comes_before_it(library: Library, question: str,
                                                                      found: list[tuple[str, str]]) -> None:
    assert [(r.code, r.written) for r in readings(question, library.vocabulary, library.ranges)] == found


def test_a_full_stop_after_the_unit_ends_the_sentence_not_the_unit(library: Library) -> None:
    """"came back at 16 ng/mL." was read in the unit "ng/mL." and not placed (no band is in that unit)."""
    found = readings("my vitamin D came back at 16 ng/mL. What does that mean?", library.vocabulary, library.ranges)
    assert [(r.code, r.unit) for r in found] == [("vitamin_d", "ng/mL")]


@pytest.mark.parametrize(("question", "code", "qualifier"), [
    ("hdl 44 and im a woman", "hdl", "for women"),
    ("I'm a 61 year old man and my HDL was 35", "hdl", "for men"),
    ("hgb 11.2 (female, 34)", "hemoglobin", "for women"),
    ("my husband's hgb was 18.1", "hemoglobin", ""),  # who "my husband" is, the table's words do not say
    ("me and my wife both had ferritin done, i'm a man and she is a woman", "ferritin", ""),  # both: neither
    ("on warfarin and my inr is 2.4", "inr", "on warfarin"),
    ("inr 1.0 before surgery", "inr", ""),
])
def test_the_tables_row_for_who_the_patient_says_they_are(library: Library, question: str, code: str,
                                                          qualifier: str) -> None:
    assert stated_qualifier(question, library.ranges[code]) == qualifier


@pytest.mark.parametrize(("question", "found"), [
    # "INR went from 2.4 to 3.4 ... could that be related" (dev17) placed the 2.4, the value it no longer has
    ("my inr went from 2.2 to 3.5 since last month", [("inr", "3.5")]),
    ("ldl went from 160 mg/dL to 130 mg/dL after the diet", [("ldl", "130")]),
    ("a1c 6.8 → 7.1, from last year", [("hba1c", "6.8")]),  # no "from" before the first: the first is said
])
def test_a_result_that_went_from_one_number_to_another_is_the_second(library: Library, question: str,
                                                                    found: list[tuple[str, str]]) -> None:
    assert [(r.code, r.written) for r in readings(question, library.vocabulary, library.ranges)] == found

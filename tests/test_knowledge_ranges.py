"""What the answers and the lab flags read from the documents themselves: the vocabulary of test names,
abbreviations and lay words (front matter), and the lab ranges (tables). One source for both."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.labs import latest_results
from bot.settings import PROJECT_ROOT
from bot.store import LabResult
from knowledge.documents import load_documents, parse_document
from knowledge.ranges import parse_range, ranges_from
from knowledge.vocabulary import Vocabulary

DOCUMENTS = load_documents(PROJECT_ROOT / "knowledge" / "documents")
RANGES = ranges_from(DOCUMENTS)
VOCABULARY = Vocabulary.from_documents(DOCUMENTS)
DAY = datetime(2026, 11, 18, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(("question", "code"), [
    ("whats my bun", "bun"), ("egfr 52", "egfr"), ("my A1C", "hba1c"), ("hgba1c", "hba1c"), ("bad cholesterol", "ldl"),
    ("good cholesterol", "hdl"), ("tsh", "tsh"), ("psa", "psa"), ("inr", "inr"), ("alt", "alt"), ("ast", "ast"),
    ("my potasium", "potassium"), ("cholestrol", "total_cholesterol"), ("my sugar", "glucose"), ("b12", "vitamin_b12"),
])
def test_a_test_named_by_abbreviation_lay_word_or_misspelling_is_recognised(question: str, code: str) -> None:
    assert [m.term.code for m in VOCABULARY.mentions(question)] == [code]


@pytest.mark.parametrize(("question", "title"), [
    ("what is a pee test", "Urinalysis (urine test)"), ("my kidney number", "Kidney tests: BUN, creatinine and eGFR"),
    ("whats in a cbc", "Complete blood count (CBC)"), ("what is a cmp", "Basic and comprehensive metabolic panels (BMP "
                                                                        "and CMP)"),
    ("my lfts", "Liver tests: ALT, AST, alkaline phosphatase, bilirubin and albumin"),
])
def test_a_lay_word_or_panel_name_points_at_its_page(question: str, title: str) -> None:
    assert title in {m.term.title for m in VOCABULARY.mentions(question)}


def test_the_vocabulary_is_the_documents_own() -> None:
    """An abbreviation a lab page gives after a test's name ("blood urea nitrogen (BUN)") is one of the names."""
    every = {n.lower() for d in DOCUMENTS for ns in d.names.values() for n in ns} | {
        w.lower() for d in DOCUMENTS for w in d.also_called}
    for doc in (d for d in DOCUMENTS if d.kind == "lab"):
        assert set(doc.names) == set(doc.tests), doc.source  # each test the page explains has its names
        body = " ".join(doc.body.split())
        for match in re.finditer(r"([A-Za-z][A-Za-z -]{2,40}) \(([A-Z][A-Za-z0-9]{1,5})\)", body):
            before = match.group(1).lower()
            if any(before.endswith(n) for ns in doc.names.values() for n in (x.lower() for x in ns) if len(n) > 3):
                assert match.group(2).lower() in every, (doc.source, match.group(0))


@pytest.mark.parametrize(("cell", "parsed"), [
    ("About 3.5 to 5.0 mmol/L", (3.5, 5.0, False, False, "mmol/L")),
    ("Under 5.7 %", (None, 5.7, False, True, "%")),
    ("6.5 % or higher", (6.5, None, False, False, "%")),
    ("Over 50 ng/mL", (50.0, None, True, False, "ng/mL")),
    ("126 mg/dL or higher (on two tests)", (126.0, None, False, False, "mg/dL")),
    ("60 mL/min/1.73 m² or higher", (60.0, None, False, False, "mL/min/1.73 m²")),
    ("Pale to dark yellow, clear", None),
])
def test_range_cells_are_read_as_written(cell: str, parsed: tuple | None) -> None:
    assert parse_range(cell) == parsed


def test_every_lab_test_with_a_number_range_has_one_parsed_from_its_document() -> None:
    codes = {c for d in DOCUMENTS for c in d.tests} - {"bmp", "cmp", "urinalysis"}  # panels: their tests have pages
    assert codes <= set(RANGES)
    for test in RANGES.values():
        for bands in test.groups().values():
            assert sum(b.normal for b in bands) == 1, test.code  # one normal band per group, by the band's label


@pytest.mark.parametrize(("code", "value", "flag", "band"), [
    ("hba1c", 5.9, "high", "Prediabetes range"), ("hba1c", 5.6, "normal", "Normal range"),
    ("ldl", 115, "high", "Near optimal LDL"), ("ldl", 99, "normal", "Optimal (best) LDL"),
    ("vitamin_d", 15, "low", "May be too low for bone health"), ("glucose", 65, "low", "Low blood sugar"),
    ("potassium", 5.4, "high", ""), ("egfr", 45, "low", ""), ("psa", 4.0, "high", ""),
])
def test_a_value_is_placed_in_its_documents_band(code: str, value: float, flag: str, band: str) -> None:
    [placement] = RANGES[code].place(value)
    assert (placement.flag, placement.band.label) == (flag, band)


def test_a_range_that_depends_on_sex_or_a_blood_thinner_gives_no_single_flag() -> None:
    assert [p.band.qualifier for p in RANGES["hemoglobin"].place(13)] == ["for men", "for women"]
    assert RANGES["hemoglobin"].flag(13) is None and RANGES["inr"].flag(2.5) is None


def _row(code: str, value: float, unit: str, low: float | None, high: float | None) -> LabResult:
    return LabResult(patient_id=1, panel="p", test_code=code, test_name=code, value=value, unit=unit, ref_low=low,
                     ref_high=high, collected_at=DAY)


def test_lab_flags_use_the_documents_ranges_and_the_report_where_they_have_none() -> None:
    rows = [
        _row("potassium", 5.05, "mmol/L", 3.5, 5.1),  # the report says normal; the documents' range ends at 5.0
        _row("hba1c", 6.1, "%", None, 5.6),
        _row("hemoglobin", 12.5, "g/dL", 13.5, 17.5),  # differs by sex: the report's range decides
        _row("vitamin_b12", 150, "pmol/L", 148, 616),  # another unit: the report's range decides
        _row("ck", 400, "U/L", 30, 200),  # no document
    ]
    latest = latest_results(rows, UTC, {}, RANGES)
    assert latest is not None
    flags = {r.test_code: (r.flag, r.reference) for r in latest.results}
    assert flags["potassium"] == ("high", "typical adult range: 3.5 to 5.0 mmol/L")
    assert flags["hba1c"] == ("high", "prediabetes range: 5.7 % to 6.4 %")
    assert flags["hemoglobin"] == ("low", "") and flags["vitamin_b12"] == ("normal", "") and flags["ck"] == ("high", "")


def test_a_document_with_names_that_are_not_lists_is_refused() -> None:
    from knowledge.documents import DocumentError

    with pytest.raises(DocumentError, match="names"):
        parse_document("---\ntitle: T\nnames: {ldl: LDL}\n---\n# T\n", "labs/t.md")


@pytest.mark.parametrize(("question", "named"), [
    ("can someone translate for my dad", "translator"), ("she needs somebody to interpret", "interpreter"),
    ("can i get my bp med refilled", "refills"), ("what units is my potassium in", "potassium"),
])
def test_another_form_of_a_one_word_name_names_it(question: str, named: str) -> None:
    """A word with the stem of a one-word name or lay word names it too ("translate": "translator"); a stem of fewer
    than five letters names nothing ("units" is no "United", the insurer)."""
    assert [m.term.text for m in VOCABULARY.mentions(question)] == [named]


@pytest.mark.parametrize(("question", "codes"), [
    ("K 5.3 on my BMP", ["potassium", "bmp"]), ("k 5.6??", ["potassium"]), ("K+ critical values?", ["potassium"]),
    ("K: 3.1 L", ["potassium"]),
    ("does vitamin K change my INR", ["inr"]), ("Vitamin K 5 mg", []), ("K thanks, what time do you close", []),
    ("ok 5 more minutes", []),
])
def test_a_one_letter_symbol_names_its_test_only_before_a_number(question: str, codes: list[str]) -> None:
    """"K 5.3 on my BMP ... whats normal range" (dev22), "k 5.6??" (dev3): lab reports print potassium as K. A name of
    one letter names its test just before a number or a charge sign, never in "vitamin K" or a texted "K"."""
    assert [m.term.code for m in VOCABULARY.test_mentions(question)] == codes


@pytest.mark.parametrize(("question", "codes"), [
    ("what's the difference between the basic and the comprehensive metabolic panel", ["bmp", "cmp"]),
    ("basic vs comprehensive metabolic panel", ["bmp", "cmp"]),
    ("is a basic or a comprehensive metabolic panel better", ["bmp", "cmp"]),
    ("what's in a comprehensive metabolic panel", ["cmp"]),
    ("is it basic and comprehensive metabolic panel", ["bmp", "cmp"]),
    ("quick and comprehensive metabolic panel", ["cmp"]),  # "quick metabolic panel" names no test
])
def test_a_first_word_said_once_for_two_names_names_both(question: str, codes: list[str]) -> None:
    """"the difference between the basic and the comprehensive metabolic panel" (dev22) names the BMP too: "basic" is
    the first word of "basic metabolic panel", whose other words are said once, for both."""
    assert [m.term.code for m in VOCABULARY.test_mentions(question)] == codes


@pytest.mark.parametrize(("question", "named"), [
    ("my service dog goes everywhere with me, is that ok", ["service dog"]),
    ("can I bring my emotional support dog? she's not a trained service dog", []),
    ("he isn't a service animal, just a pet", []), ("it’s not a service dog", []),
    ("im not a new patient, how do i book", []),
    ("do you not take new patients anymore", ["new patient"]),  # a question put in the negative still asks it
])
def test_a_page_word_said_of_what_a_thing_is_not_names_no_page(question: str, named: list[str]) -> None:
    """An emotional support dog that is "not a trained service dog" (answers_unknown, unknown_dev2) is no service
    animal: the directions page's "service dog" (dev22: "I have a SERVICE DOG. Can he come in with me?") is not what
    such a question is about, so it is not named there. A test's name is never read this way."""
    assert [m.term.text.lower() for m in VOCABULARY.mentions(question)] == named

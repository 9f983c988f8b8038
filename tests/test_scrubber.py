"""PHI scrubber: identifiers leave, clinical content and the clinic's own names stay.

Fast tests check single recognizers and the span logic without loading spaCy. Tests that load
the real analyzer (spaCy + Presidio, ~10 s once per module) are marked slow.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from bot.phi.scrubber import Finding, Scrubber, _allow_pattern, _subtract, merge, offline_tldextract
from bot.settings import PROJECT_ROOT
from tests.bench_scripts import load_bench

# Presidio (and with it spaCy and torch) is imported by the tests that need it, not at collection.


bench = load_bench("bench_scrub")


def found(entity: str, text: str) -> list[str]:
    from bot.phi.recognizers import pattern_recognizers

    recognizer = next(r for r in pattern_recognizers() if r.entity == entity)
    spans = merge(Finding(r.entity_type, r.start, r.end, r.score) for r in recognizer.analyze(text, [entity]))
    return [text[f.start : f.end] for f in spans]


# --- fast: recognizers and span logic ------------------------------------------------------------


@pytest.mark.parametrize(
    "text, phone",
    [
        ("call 555.555.0100 pls", "555.555.0100"),
        ("cell (555) 555-0100 thx", "(555) 555-0100"),
        ("call 5555550100 after 5", "5555550100"),
        ("reach me on +1 555 555 0100 today", "+1 555 555 0100"),
        ("work 555-555-0134 x204", "555-555-0134 x204"),
    ],
)
def test_phone_formats(text: str, phone: str) -> None:
    assert found("PHONE", text) == [phone]


@pytest.mark.parametrize("ssn", ["123-45-6789", "000-12-3456", "078-05-1120", "666-12-3456"])
def test_ssns_that_presidio_rejects_are_still_found(ssn: str) -> None:
    assert ssn in found("SSN", f"my ssn is {ssn} ok")


def test_labelled_ids_keep_their_label() -> None:
    assert found("MRN", "MRN: 00123456, refill please") == ["00123456"]
    assert found("MEMBER_ID", "member id XJH123456789 group 004821") == ["XJH123456789", "004821"]
    assert found("MBI", "medicare 1EG4-TE5-MK73") == ["1EG4-TE5-MK73"]


def test_dates_and_birth_dates() -> None:
    from bot.phi.recognizers import DateRecognizer

    dates = DateRecognizer()
    text = "dob 1/1/80, seen jan 1 1980 and since 3/4; pain 7/10, bp 150/95"
    results = {text[r.start : r.end]: r.entity_type for r in dates.analyze(text, ["DATE", "DOB"])}
    assert results == {"1/1/80": "DOB", "jan 1 1980": "DATE", "3/4": "DATE"}


def test_addresses_and_not_doses() -> None:
    assert found("ADDRESS", "moved to 412 maple st apt 3, springfield") == ["412 maple st apt 3"]
    assert found("ADDRESS", "took 2 tylenol at 3 with Dr. Patel") == []


@pytest.mark.parametrize(
    "text, name",
    [
        ("hello, this is dave, calling about my knee", "dave"),
        ("my daughter emma has a fever", "emma"),
        ("Patient: Maria Lopez, MRN 1", "Maria Lopez"),
        ("ok thx. -greg", "greg"),
        ("I'm Hannah Kim", "Hannah Kim"),
    ],
)
def test_names_from_context(text: str, name: str) -> None:
    from bot.phi.names import ContextNameRecognizer

    results = ContextNameRecognizer().analyze(text, ["PERSON"])
    assert [text[r.start : r.end] for r in results] == [name]


def test_context_does_not_turn_symptoms_into_names() -> None:
    from bot.phi.names import ContextNameRecognizer

    for text in ["i'm diabetic and my sugar is high", "my son has a fever", "its worse at night - better"]:
        assert ContextNameRecognizer().analyze(text, ["PERSON"]) == [], text


def test_schools_and_employers() -> None:
    from bot.phi.names import OrganizationRecognizer

    text = "my son goes to Jefferson Middle School, I work at Acme Logistics now"
    results = OrganizationRecognizer().analyze(text, ["ORG"])
    assert sorted(text[r.start : r.end] for r in results) == ["Acme Logistics", "Jefferson Middle School"]


def test_allow_list_cuts_names_out_of_findings() -> None:
    text = "this is Dr. Patel's patient jennifer wu"
    allowed = [m.span() for m in _allow_pattern(["Dr. Patel"]).finditer(text)]  # type: ignore[union-attr]
    pieces = _subtract(Finding("PERSON", 8, len(text), 0.8), allowed, text)
    assert [text[f.start : f.end] for f in pieces] == ["patient jennifer wu"]


def test_overlapping_findings_merge_under_the_specific_type() -> None:
    merged = merge([Finding("PERSON", 5, 30, 0.85), Finding("ADDRESS", 0, 20, 0.75)])
    assert merged == [Finding("ADDRESS", 0, 30, 0.75)]


# --- slow: the real analyzer ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def scrubber() -> Iterator[Scrubber]:
    from bot.phi import get_scrubber

    yield get_scrubber(bench.ALLOW_LIST)


@pytest.mark.slow
def test_quality_over_the_labelled_set(scrubber: Scrubber) -> None:
    cases = bench.load_cases()
    assert len(cases) >= 150
    outcomes = [bench.judge(case, scrubber.scrub(case.text)) for case in cases]
    identifiers = sum(len(c.phi) for c in cases)
    terms = sum(len(c.keep) for c in cases)
    leaked = [item for o in outcomes for item in o.leaked]
    lost = [term for o in outcomes for term in o.lost]
    recall = 1 - len(leaked) / identifiers
    retention = 1 - len(lost) / terms
    assert recall >= 0.99, f"recall {recall:.3f}; leaked: {leaked}"
    assert retention >= 0.95, f"retention {retention:.3f}; lost: {lost}"


@pytest.mark.slow
def test_placeholders_are_typed(scrubber: Scrubber) -> None:
    from bot.phi.recognizers import PLACEHOLDERS

    text = (
        "this is john smith, dob 1/1/80, mrn 00123456, member id XJH123456789, ssn 078-05-1120, "
        "call (555) 555-0100 or jsmith80@gmail.com, 412 maple st apt 3, springfield il 62704"
    )
    out = scrubber.scrub(text)
    for placeholder in [
        "<NAME>",
        "<DOB>",
        "<MRN>",
        "<MEMBER_ID>",
        "<SSN>",
        "<PHONE>",
        "<EMAIL>",
        "<ADDRESS>",
        "<ZIP>",
    ]:
        assert placeholder in out, (placeholder, out)
    assert set(re.findall(r"<[A-Z_]+>", out)) <= set(PLACEHOLDERS.values())


@pytest.mark.slow
def test_allow_list_and_clinical_terms_survive(scrubber: Scrubber) -> None:
    text = "Dr. Patel at Maple Street Family Medicine said my ldl 162 mg/dl and a1c 6.1; metformin 500mg"
    assert scrubber.scrub(text) == text
    # Without the allow-list the doctor's name is scrubbed like any other.
    assert "Patel" not in Scrubber(()).scrub("Dr. Patel called me")


@pytest.mark.slow
def test_cli_scrubs_one_line_for_one(scrubber: Scrubber) -> None:
    lines = ["this is maria lopez, ph 555.555.0100", "", "chest pain since 3am", "mrn: 00123456"]
    env = {**os.environ, "CLINICBOT_ENVIRONMENT": "test"}
    proc = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "clinicbot"), "scrub"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=PROJECT_ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.split("\n")
    assert out[-1] == "" and len(out) - 1 == len(lines)
    assert out[:-1] == [scrubber.scrub(line) for line in lines]
    assert "maria" not in proc.stdout and "00123456" not in proc.stdout
    assert out[2] == "chest pain since 3am"


@pytest.mark.slow
def test_no_network_is_attempted(monkeypatch: pytest.MonkeyPatch) -> None:
    import tldextract

    from bot.phi.scrubber import build_analyzer

    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    build_analyzer.cache_clear()  # load spaCy and Presidio again, under the patch
    fresh = Scrubber(bench.ALLOW_LIST)
    out = fresh.scrub("email karen.oneil@yahoo.com or see https://mychart.example.org/p/1, this is karen")
    offline_tldextract()
    assert tldextract.extract("forms.example.co.uk").suffix == "co.uk"
    assert "<EMAIL>" in out and "<URL>" in out
    assert attempts == []


def test_importing_the_package_loads_nothing() -> None:
    code = "import sys, bot.phi, bot.runtime.commands.scrub; print('spacy' in sys.modules, 'presidio_analyzer' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.split() == ["False", "False"], proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "Eliquis 5 mg bid and Lipitor 20mg",
        "Zyrtec 10 mg isn't helping my allergies",
        "Mom is diabetic, takes Januvia 100 mg",
        "Hep B vaccine #2 due?",
        "its swollen and red",
        "this is urgent, chest pain",
        "I'm Diabetic",
        "He is 90 lbs",
        "pain 8/10 since this morning",
        "I walked 10000 steps today",
    ],
)
def test_clinical_sentences_pass_untouched(scrubber: Scrubber, text: str) -> None:
    assert scrubber.scrub(text) == text

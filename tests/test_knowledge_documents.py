"""Static checks of the clinic's knowledge documents and the retrieval question set.

These documents are what the assistant quotes to patients, so they must parse, agree with the
practice's config.yml, cover every lab test the clinic explains, and never give medicine doses.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings, load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCS_DIR = PROJECT_ROOT / "knowledge" / "documents"
QUESTIONS = Path(__file__).resolve().parent / "data" / "retrieval_questions.jsonl"

# Every lab topic the clinic promises to explain; each must be the subject of a lab document
# (named in its title or in one of its ## headings), not just mentioned in passing.
REQUIRED_LAB_TOPICS = [
    "complete blood count",
    "hemoglobin",
    "hematocrit",
    "white blood cell",
    "platelet",
    "basic metabolic panel",
    "comprehensive metabolic panel",
    "glucose",
    "sodium",
    "potassium",
    "chloride",
    "CO2",
    "BUN",
    "creatinine",
    "eGFR",
    "calcium",
    "albumin",
    "ALT",
    "AST",
    "alkaline phosphatase",
    "bilirubin",
    "total cholesterol",
    "LDL",
    "HDL",
    "triglycerides",
    "A1c",
    "TSH",
    "free T4",
    "vitamin D",
    "vitamin B12",
    "ferritin",
    "urinalysis",
    "PSA",
    "INR",
]

UNITS = (
    r"mg/dL|mmol/L|g/dL|%|mIU/L|ng/dL|ng/mL|pg/mL|U/L|mg/g|mL/min(?:/1\.73 m²)?|seconds"
    r"|thousand per microliter|million per microliter|per high-power field"
)
NUM = r"\d[\d,]*(?:\.\d+)?"
RANGE_WITH_UNIT = re.compile(
    rf"(?:{NUM}\s*(?:to|-|–)\s*{NUM}|(?:under|over|below|above|less than|at least)\s+{NUM})\s*(?:{UNITS})",
    re.IGNORECASE,
)

DOSE_WORDS = re.compile(
    r"\b(take|takes|taking|took|tablets?|pills?|capsules?|doses?|dosage|dosing|inject\w*|puffs?|spoonfuls?)\b",
    re.IGNORECASE,
)
# An amount of medicine. A lab unit (mg/dL, IU/L, mL/min) continues with "/" and is not an amount.
DOSE_AMOUNT = re.compile(
    r"\d+(?:\.\d+)?\s?(?:mg|mcg|µg|g|ml|units?|iu)\b(?![/])(?!\s+per\b)"
    r"|\b(?:once|twice|three times|\d+ times) (?:a|per|each) day\b|\bevery \d+ hours\b",
    re.IGNORECASE,
)

PHONE = re.compile(r"(?<![\d-])(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?![\d-])")
# Public numbers a document may give besides the clinic's own.
PUBLIC_PHONES = {"8002221222"}  # Poison Help

WEEKDAY_NAMES = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


@dataclass
class Document:
    path: Path
    meta: dict[str, Any]
    body: str
    # (heading, text) for each "## " section, in order
    sections: list[tuple[str, str]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.meta.get("title", ""))

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", ""))

    @property
    def flat(self) -> str:
        """Body text with all whitespace runs collapsed, so line breaks do not split phrases."""
        return " ".join(self.body.split())


def parse_document(path: Path) -> Document:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.DOTALL)
    assert match, f"{path.name}: must start with YAML front matter between '---' lines"
    meta = yaml.safe_load(match.group(1))
    assert isinstance(meta, dict), f"{path.name}: front matter must be a mapping"
    body = match.group(2)
    sections = []
    for part in re.split(r"^## ", body, flags=re.MULTILINE)[1:]:
        heading, _, section_text = part.partition("\n")
        sections.append((heading.strip(), section_text.strip()))
    return Document(path=path, meta=meta, body=body, sections=sections)


def _all_documents() -> list[Document]:
    return [parse_document(p) for p in sorted(DOCS_DIR.rglob("*.md"))]


DOCUMENTS = _all_documents()
LAB_DOCS = [d for d in DOCUMENTS if d.kind == "lab"]
POLICY_DOCS = [d for d in DOCUMENTS if d.kind == "policy"]


def _doc(relative: str) -> Document:
    return next(d for d in DOCUMENTS if d.path == DOCS_DIR / relative)


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)[-10:]


def _phones_in(text: str) -> set[str]:
    return {_digits(m) for m in PHONE.findall(text)}


def dosing_sentences(text: str) -> list[str]:
    """Sentences that pair a dose word (take, tablet, dose...) with an amount or schedule."""
    flat = " ".join(text.split())
    return [s for s in re.split(r"(?<=[.!?])\s+", flat) if DOSE_WORDS.search(s) and DOSE_AMOUNT.search(s)]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings()


# --- every document ---------------------------------------------------------------------------


def test_documents_exist_in_both_folders() -> None:
    assert len(LAB_DOCS) >= 10
    assert len(POLICY_DOCS) >= 9


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: d.path.name)
def test_front_matter_is_complete(doc: Document) -> None:
    assert doc.title.strip(), "title is required"
    refs = doc.meta.get("references")
    assert isinstance(refs, list) and refs and all(isinstance(r, str) and r.strip() for r in refs)
    reviewed = doc.meta.get("last_reviewed")
    assert isinstance(reviewed, dt.date), "last_reviewed must be a YYYY-MM-DD date"
    assert reviewed <= dt.date.today() + dt.timedelta(days=1), "last_reviewed is in the future"
    assert doc.kind in ("lab", "policy")
    expected_folder = {"lab": "labs", "policy": "policies"}[doc.kind]
    assert doc.path.parent.name == expected_folder, f"a {doc.kind} document belongs in {expected_folder}/"
    # The H1 repeats the title so the intro chunk names its topic.
    assert re.search(rf"^# {re.escape(doc.title)}\s*$", doc.body, re.MULTILINE), (
        "first heading must be the title"
    )
    assert doc.sections, "split the document into ## sections"
    for heading, text in doc.sections:
        assert heading and len(text.split()) >= 15, f"section {heading!r} is empty or too thin to stand alone"


def test_titles_are_unique() -> None:
    titles = [d.title for d in DOCUMENTS]
    assert len(titles) == len(set(titles)), sorted(t for t in titles if titles.count(t) > 1)


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: d.path.name)
def test_no_dosing_language(doc: Document) -> None:
    assert dosing_sentences(doc.body) == []


# A sentence that only points at the list or table after it means nothing when it is sent alone, and answers
# are made of sentences sent alone ("A low albumin can be a sign of any of these.").
POINTER = re.compile(
    r"(?:\b(?:these|this list|the following|below|as follows)|:)\W*$"
    r"|^(?:these are|here are|here is|this is|the table)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: d.path.name)
def test_every_sentence_makes_sense_alone(doc: Document) -> None:
    from knowledge.sentences import plain_sentences

    pointers = [s for _, text in doc.sections for s in plain_sentences(text) if POINTER.search(s)]
    assert not pointers, "say what the list says, in short sentences of their own: " + " | ".join(pointers)


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: d.path.name)
def test_documents_read_at_a_6th_to_8th_grade_level(doc: Document) -> None:
    """Flesch-Kincaid over the sentences answers are cut from (see scripts/reading_level.py)."""
    from bot.llm.metrics import flesch_kincaid_grade
    from knowledge.training import generate

    sentences = [s for sec in generate.parse_document(doc.path, DOCS_DIR) for s in generate.answer_sentences(sec)]
    grades = [flesch_kincaid_grade(s) for s in sentences]
    assert sum(grades) / len(grades) <= 7.0
    assert sum(g <= 8.0 for g in grades) / len(grades) >= 0.8, [s for s, g in zip(sentences, grades, strict=True) if g > 8]


def test_dosing_check_tells_doses_from_lab_units() -> None:
    assert dosing_sentences("Take 500 mg of this medicine.")
    assert dosing_sentences("The usual dose is 2 tablets twice a day.")
    assert dosing_sentences("Take 1,000 IU of vitamin D.")
    assert not dosing_sentences("Take a look: an LDL under 100 mg/dL is optimal.")
    assert not dosing_sentences("Ask before you take a supplement. ALP is about 44 to 147 IU/L.")


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: d.path.name)
def test_only_known_phone_numbers(doc: Document, settings: Settings) -> None:
    known = {_digits(settings.clinic.phone), *_phones_in(settings.clinic.after_hours), *PUBLIC_PHONES}
    assert _phones_in(doc.body) <= known, "a document gives a phone number that is not the clinic's"


# --- lab documents ----------------------------------------------------------------------------


@pytest.mark.parametrize("doc", LAB_DOCS, ids=lambda d: d.path.name)
def test_lab_document_has_codes_range_and_when_to_call(doc: Document) -> None:
    codes = doc.meta.get("tests")
    assert isinstance(codes, list) and codes and all(re.fullmatch(r"[a-z0-9_]+", str(c)) for c in codes)
    assert RANGE_WITH_UNIT.search(doc.flat), "give a typical range with its unit"
    assert re.search(r"ranges? (?:can )?vary", doc.flat, re.IGNORECASE), "say that ranges vary by lab"
    when = [text for heading, text in doc.sections if heading.lower().startswith("when to call")]
    assert when, "needs a 'When to call' section"
    assert "+1 555-555-0123" in when[0] or _phones_in(when[0]), "the 'When to call' section gives a number"


@pytest.mark.parametrize("doc", LAB_DOCS, ids=lambda d: d.path.name)
def test_each_lab_section_names_its_test(doc: Document) -> None:
    """Sections are retrieved alone, so each must say which test it is about."""
    generic = {"and", "the", "test", "tests", "blood", "for", "with", "what"}
    terms = {w for w in re.findall(r"[a-z0-9]+", doc.title.lower()) if len(w) >= 3 and w not in generic}
    terms |= {str(c).replace("_", " ") for c in doc.meta["tests"]}
    for heading, text in doc.sections:
        chunk = f"{heading} {text}".lower()
        assert any(re.search(rf"\b{re.escape(t)}\b", chunk) for t in terms), heading


def test_lab_test_codes_belong_to_one_document() -> None:
    codes = [str(c) for d in LAB_DOCS for c in d.meta["tests"]]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)


@pytest.mark.parametrize("topic", REQUIRED_LAB_TOPICS)
def test_required_lab_topic_is_covered(topic: str) -> None:
    pattern = re.compile(rf"\b{re.escape(topic)}s?\b", re.IGNORECASE)
    covering = [
        d.path.name
        for d in LAB_DOCS
        if any(pattern.search(h) for h in [d.title, *(h for h, _ in d.sections)])
    ]
    assert covering, f"no lab document has {topic!r} in its title or a section heading"


def test_every_critical_lab_has_a_document(settings: Settings) -> None:
    codes = {str(c) for d in LAB_DOCS for c in d.meta["tests"]}
    assert set(settings.labs.critical) <= codes


def test_lab_ranges_agree_with_demo_data() -> None:
    lipids = _doc("labs/lipid-panel.md").flat
    a1c = _doc("labs/hba1c.md").flat
    thyroid = _doc("labs/thyroid.md").flat
    assert "Under 100 mg/dL" in lipids and "160 to 189 mg/dL" in lipids
    assert "40 mg/dL or higher for men" in lipids and "50 mg/dL or higher for women" in lipids
    assert "under 200 mg/dL" in lipids and "under 150 mg/dL" in lipids
    assert "Under 5.7 %" in a1c and "5.7 % to 6.4 %" in a1c and "6.5 % or higher" in a1c
    assert "0.4 to 4.0 mIU/L" in thyroid


def test_critical_thresholds_in_documents_match_config(settings: Settings) -> None:
    """Where a document tells patients which values go straight to staff, it uses config.yml's limits."""
    docs = {
        "potassium": "labs/electrolytes.md",
        "sodium": "labs/electrolytes.md",
        "glucose": "labs/glucose.md",
        "inr": "labs/inr.md",
    }
    for code, relative in docs.items():
        text = _doc(relative).flat
        for limit in settings.labs.critical[code].values():
            shown = f"{limit:g}" if code != "inr" else f"{limit:.1f}"
            assert re.search(rf"\b{re.escape(shown)}\b", text), f"{code}: {shown} missing from {relative}"


# --- policy documents agree with config.yml ---------------------------------------------------


def _parse_clock(text: str) -> str:
    m = re.fullmatch(r"(\d{1,2}):(\d{2}) ([ap])\.m\.", text.strip())
    assert m, f"unreadable time {text!r}"
    hour = int(m.group(1)) % 12 + (12 if m.group(3) == "p" else 0)
    return f"{hour:02d}:{m.group(2)}"


def test_hours_document_matches_config(settings: Settings) -> None:
    doc = _doc("policies/hours-and-contact.md")
    table: dict[str, str] = {}
    for day, span in re.findall(r"^\| (\w+day) \| ([^|]+) \|$", doc.body, re.MULTILINE):
        if span.strip().lower() == "closed":
            table[WEEKDAY_NAMES[day.lower()]] = "closed"
        else:
            start, end = span.split(" to ")
            table[WEEKDAY_NAMES[day.lower()]] = f"{_parse_clock(start)}-{_parse_clock(end)}"
    assert table == settings.clinic.hours


def test_contact_document_gives_config_phone_and_address(settings: Settings) -> None:
    doc = _doc("policies/hours-and-contact.md")
    assert _digits(settings.clinic.phone) in _phones_in(doc.body)
    assert settings.clinic.address in doc.flat
    assert settings.clinic.name in doc.flat
    if settings.clinic.email:
        assert settings.clinic.email in doc.flat
    for provider in settings.providers:
        line = next((ln for ln in doc.body.splitlines() if provider.name in ln), "")
        assert line, f"{provider.name} is not listed"
        days = {WEEKDAY_NAMES[d.lower()] for d in re.findall(r"\b(\w+day)\b", line)}
        assert days == set(provider.days or WEEKDAY_NAMES.values()), provider.name


def test_after_hours_document_gives_config_nurse_line(settings: Settings) -> None:
    nurse = _phones_in(settings.clinic.after_hours)
    assert nurse, "config clinic.after_hours should name the nurse line"
    doc = _doc("policies/after-hours.md")
    assert nurse <= _phones_in(doc.body)
    assert "911" in doc.flat and "988" in doc.flat


def test_cancellation_document_matches_config(settings: Settings) -> None:
    policy = settings.clinic.cancellation_policy
    doc = _doc("policies/cancellations.md").flat
    for hours in re.findall(r"(\d+) hours", policy):
        assert f"{hours} hours" in doc
    for fee in re.findall(r"\$\d+", policy):
        assert fee in doc


def test_directions_and_billing_use_config_address(settings: Settings) -> None:
    assert settings.clinic.address in _doc("policies/directions-and-parking.md").flat
    assert settings.clinic.address in _doc("policies/billing.md").flat


def test_insurance_document_lists_the_accepted_plans() -> None:
    doc = _doc("policies/insurance.md").flat
    for plan in [
        "Medicare",
        "Medicaid",
        "Blue Cross Blue Shield of Illinois",
        "Aetna",
        "Cigna",
        "UnitedHealthcare",
        "Humana",
        "self-pay",
    ]:
        assert plan in doc, plan


def test_refill_document_states_turnaround_and_controlled_substance_rule() -> None:
    doc = _doc("policies/refills.md").flat
    assert "2 business days" in doc
    assert re.search(r"controlled substances[^.]*cannot be requested by text", doc)


@pytest.mark.parametrize("doc", POLICY_DOCS, ids=lambda d: d.path.name)
def test_each_policy_section_names_the_clinic(doc: Document, settings: Settings) -> None:
    """A section retrieved alone must still say whose policy it is (or be about emergencies)."""
    for heading, text in doc.sections:
        flat = " ".join(text.split())
        assert settings.clinic.name in flat or "911" in flat, heading


# --- retrieval evaluation set -----------------------------------------------------------------


def _questions() -> list[dict[str, Any]]:
    lines = [ln for ln in QUESTIONS.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return [json.loads(ln) for ln in lines]


def test_retrieval_questions_are_well_formed() -> None:
    questions = _questions()
    assert len(questions) >= 50
    texts = [q["question"] for q in questions]
    assert len(texts) == len(set(texts)), "duplicate questions"
    for q in questions:
        assert set(q) == {"question", "expected_titles", "kind", "facts"}
        assert isinstance(q["question"], str) and q["question"].strip()
        assert isinstance(q["expected_titles"], list) and q["expected_titles"]
        # scripts/bench_answers.py: an answer holds one alternative of every fact group; a refusal holds none
        assert q["kind"] in {"answer", "refuse"}
        assert bool(q["facts"]) == (q["kind"] == "answer")
        assert all(group and all(isinstance(alt, str) and alt for alt in group) for group in q["facts"])


def test_every_key_fact_of_the_project_questions_is_in_its_documents() -> None:
    """A fact group no document sentence can satisfy would make a question unanswerable by quoting."""
    text = {d.title: " ".join(d.body.split()).lower() for d in DOCUMENTS}
    for q in _questions():
        for group in q["facts"]:
            found = [alt for alt in group if any(alt.lower() in text[t] for t in q["expected_titles"])]
            assert found, (q["question"], group)


def test_retrieval_expected_titles_exist() -> None:
    titles = {d.title for d in DOCUMENTS}
    unknown = sorted({t for q in _questions() for t in q["expected_titles"]} - titles)
    assert unknown == []


def test_retrieval_questions_cover_every_document() -> None:
    asked = {t for q in _questions() for t in q["expected_titles"]}
    assert sorted(d.title for d in DOCUMENTS if d.title not in asked) == []

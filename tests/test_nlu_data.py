"""Static checks of the assistant's NLU training data and its held-out test set.

Fast: reads bot/assistant/data/nlu.yml with PyYAML, no Rasa needed. A broken file here means a model
that misreads patients (an intent with too few examples, one message taught as two intents, a provider
name that maps to no provider) or an accuracy test that measures memorisation instead of understanding.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
NLU_PATH = REPO / "bot" / "assistant" / "data" / "nlu.yml"
HOLDOUT_PATH = REPO / "tests" / "data" / "nlu_holdout.jsonl"
SCOPE_DEV_PATH = REPO / "tests" / "data" / "scope_dev.jsonl"  # off-topic and clinic messages, never trained on

REQUIRED_INTENTS = (
    "greet",
    "goodbye",
    "affirm",
    "deny",
    "thank_you",
    "book_appointment",
    "reschedule_appointment",
    "cancel_appointment",
    "confirm_appointment",
    "check_appointment",
    "lab_results",
    "report_symptoms",
    "prescription_refill",
    "billing_question",
    "records_request",
    "clinic_info",
    "request_human",
    "out_of_scope",
    "inform",
    "nevermind",
    "join_waitlist",
    "leave_waitlist",
)
MIN_EXAMPLES = 25
MIN_HOLDOUT_PER_INTENT = 6

# Entity values the actions understand (config.yml: providers[].key, appointment_types[].code).
ENTITY_KEYS = {
    "provider": {"patel", "okafor", "nguyen"},
    "appointment_type": {"annual_physical", "sick_visit", "follow_up", "lab_review"},
}
PROVIDER_SURNAMES = ("patel", "okafor", "nguyen")

# Rasa 3 annotation forms: [text](entity), [text](entity:value), [text]{"entity": ...}, [text][{...}, ...]
ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)|(?P<dict>\{[^}]+?\})|\[(?P<dicts>.*?)\])"
)
# The SMS gateway consumes these keywords (opt-out / opt-in / help) before NLU ever sees them.
SMS_KEYWORDS_ONLY_GATEWAY = {"cancel", "unsubscribe", "stopall", "optout", "revoke", "end", "help", "start"}


def _examples(block: str) -> list[str]:
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    bad = [line for line in lines if not line.startswith("- ")]
    assert not bad, f"example lines must start with '- ': {bad[:3]}"
    return [line[2:].strip() for line in lines]


def strip_annotations(text: str) -> str:
    return ANNOTATION.sub(lambda m: m.group("text"), text)


def normalise(text: str) -> str:
    """The form two messages share when a model cannot tell them apart: no markup, case, spacing."""
    plain = re.sub(r"\s+", " ", strip_annotations(text)).strip().lower()
    return plain.rstrip(".!?").strip() or plain


def entity_annotations(text: str) -> list[tuple[str, str, str | None]]:
    """(annotated text, entity, explicit value or None) for each annotation in an example."""
    found: list[tuple[str, str, str | None]] = []
    for m in ANNOTATION.finditer(text):
        if m.group("entity"):
            found.append((m.group("text"), m.group("entity").strip(), m.group("value")))
        else:
            raw = m.group("dict") or f"[{m.group('dicts')}]"
            parsed = json.loads(raw)
            for item in parsed if isinstance(parsed, list) else [parsed]:
                found.append((m.group("text"), item["entity"], item.get("value")))
    return found


@pytest.fixture(scope="module")
def nlu_doc() -> dict[str, Any]:
    doc = yaml.safe_load(NLU_PATH.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


@pytest.fixture(scope="module")
def intents(nlu_doc: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in nlu_doc["nlu"]:
        if "intent" in item:
            assert item["intent"] not in found, f"intent {item['intent']} is declared twice"
            found[item["intent"]] = _examples(item["examples"])
    return found


@pytest.fixture(scope="module")
def synonyms(nlu_doc: dict[str, Any]) -> dict[str, str]:
    """Synonym text (lower case) -> the key it maps to."""
    mapping: dict[str, str] = {}
    for item in nlu_doc["nlu"]:
        if "synonym" in item:
            for example in _examples(item["examples"]):
                key = example.lower()
                assert key not in mapping, f"{example!r} is a synonym of two values"
                mapping[key] = item["synonym"]
    return mapping


@pytest.fixture(scope="module")
def holdout() -> list[dict[str, str]]:
    rows = []
    for number, line in enumerate(HOLDOUT_PATH.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        assert set(row) == {"text", "intent"}, f"line {number}: expected keys text and intent, got {set(row)}"
        assert isinstance(row["text"], str) and row["text"].strip(), f"line {number}: empty text"
        rows.append(row)
    return rows


def test_file_is_rasa_3_1_training_data(nlu_doc: dict[str, Any]) -> None:
    assert str(nlu_doc.get("version")) == "3.1"
    assert isinstance(nlu_doc.get("nlu"), list) and nlu_doc["nlu"]
    kinds = {"intent", "synonym", "regex", "lookup"}
    for item in nlu_doc["nlu"]:
        assert len(kinds & set(item)) == 1, f"each nlu item needs exactly one of {kinds}: {item}"
        assert isinstance(item.get("examples"), str), f"examples must be a '|' block: {item}"


@pytest.mark.parametrize("intent", REQUIRED_INTENTS)
def test_required_intent_has_enough_unique_examples(intents: dict[str, list[str]], intent: str) -> None:
    assert intent in intents, f"intent {intent} is missing from nlu.yml"
    unique = {normalise(example) for example in intents[intent]}
    assert len(unique) >= MIN_EXAMPLES, f"{intent}: {len(unique)} unique examples, need {MIN_EXAMPLES}"


def test_no_example_repeats_within_an_intent(intents: dict[str, list[str]]) -> None:
    repeats = {
        intent: [text for text, count in Counter(map(normalise, examples)).items() if count > 1]
        for intent, examples in intents.items()
    }
    assert not {intent: texts for intent, texts in repeats.items() if texts}


def test_no_example_is_taught_as_two_intents(intents: dict[str, list[str]]) -> None:
    owners: dict[str, set[str]] = {}
    for intent, examples in intents.items():
        for example in examples:
            owners.setdefault(normalise(example), set()).add(intent)
    clashes = {text: sorted(names) for text, names in owners.items() if len(names) > 1}
    assert not clashes, f"examples under more than one intent: {clashes}"


def test_only_known_intents_are_trained(intents: dict[str, list[str]]) -> None:
    assert set(intents) <= set(REQUIRED_INTENTS), set(intents) - set(REQUIRED_INTENTS)


def test_every_annotation_resolves_to_a_known_key(
    intents: dict[str, list[str]], synonyms: dict[str, str]
) -> None:
    unresolved = []
    for intent, examples in intents.items():
        for example in examples:
            for text, entity, value in entity_annotations(example):
                assert entity in ENTITY_KEYS, f"{intent}: {example!r} annotates {entity} (dates are parsed, not annotated)"
                resolved = value or synonyms.get(text.lower(), text.lower())
                if resolved not in ENTITY_KEYS[entity]:
                    unresolved.append((intent, example, text, resolved))
    assert not unresolved, f"annotated text with no synonym to a {ENTITY_KEYS} key: {unresolved}"


def test_synonyms_point_at_keys_the_actions_know(nlu_doc: dict[str, Any]) -> None:
    all_keys = set().union(*ENTITY_KEYS.values())
    targets = {item["synonym"] for item in nlu_doc["nlu"] if "synonym" in item}
    assert targets <= all_keys, targets - all_keys
    assert targets == all_keys, f"keys without any synonym: {all_keys - targets}"


def test_entities_are_annotated_in_booking_examples(intents: dict[str, list[str]]) -> None:
    for intent in ("book_appointment", "reschedule_appointment"):
        annotated = [example for example in intents[intent] if entity_annotations(example)]
        entities = {entity for example in annotated for _, entity, _ in entity_annotations(example)}
        assert len(annotated) >= len(intents[intent]) // 4, f"{intent}: only {len(annotated)} annotated examples"
        assert entities == set(ENTITY_KEYS), f"{intent}: annotates only {entities}"


def test_provider_names_are_never_left_unannotated(intents: dict[str, list[str]]) -> None:
    leftovers = []
    for intent, examples in intents.items():
        for example in examples:
            outside = ANNOTATION.sub(" ", example).lower()
            if any(re.search(rf"\b{name}\b", outside) for name in PROVIDER_SURNAMES):
                leftovers.append((intent, example))
    assert not leftovers, f"provider named without a provider annotation: {leftovers}"


def test_gateway_keywords_are_not_training_examples(intents: dict[str, list[str]]) -> None:
    """A lone 'cancel' never reaches Rasa (SMS opt-out), so teaching it would only blur cancel_appointment."""
    taught = {normalise(example) for examples in intents.values() for example in examples}
    assert not taught & SMS_KEYWORDS_ONLY_GATEWAY


def test_holdout_covers_every_intent(holdout: list[dict[str, str]]) -> None:
    counts = Counter(row["intent"] for row in holdout)
    assert set(counts) <= set(REQUIRED_INTENTS), set(counts) - set(REQUIRED_INTENTS)
    short = {intent: counts[intent] for intent in REQUIRED_INTENTS if counts[intent] < MIN_HOLDOUT_PER_INTENT}
    assert not short, f"held-out messages per intent below {MIN_HOLDOUT_PER_INTENT}: {short}"


def test_holdout_has_no_repeats(holdout: list[dict[str, str]]) -> None:
    repeats = [text for text, count in Counter(normalise(row["text"]) for row in holdout).items() if count > 1]
    assert not repeats


def test_holdout_messages_are_not_in_training_data(
    intents: dict[str, list[str]], holdout: list[dict[str, str]]
) -> None:
    taught = {normalise(example) for examples in intents.values() for example in examples}
    leaked = [row["text"] for row in holdout if normalise(row["text"]) in taught]
    assert not leaked, f"held-out messages found in nlu.yml: {leaked}"


def test_scope_set_is_not_in_training_data_and_is_labelled_with_known_intents(
    intents: dict[str, list[str]], holdout: list[dict[str, str]]
) -> None:
    rows = [json.loads(line) for line in SCOPE_DEV_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert all(set(r) == {"text", "intent"} and r["intent"] in REQUIRED_INTENTS for r in rows)
    counts = Counter(r["intent"] == "out_of_scope" for r in rows)
    assert counts[True] >= 100 and counts[False] >= 60, counts
    taught = {normalise(example) for examples in intents.values() for example in examples}
    texts = [normalise(r["text"]) for r in rows]
    assert not [t for t in texts if t in taught], "scope set messages found in nlu.yml"
    assert len(set(texts)) == len(texts)
    assert not set(texts) & {normalise(r["text"]) for r in holdout}


def test_off_topic_examples_cover_many_subjects(intents: dict[str, list[str]]) -> None:
    """Off-topic training examples from many walks of life, including ones that share words with clinic matters
    (a salon appointment, a phone bill, a coffee refill), so neither the classifier nor the nearest-example
    opinion learns that "appointment" or "bill" alone means the clinic."""
    examples = " ".join(intents["out_of_scope"]).lower()
    subjects = ["book", "novel", "flight", "hotel", "car", "oil change", "song", "music", "phone plan", "phone bill",
                "recipe", "dog", "cat", "taxes", "mortgage", "weather", "movie", "game", "homework", "resume"]
    assert not [s for s in subjects if s not in examples]
    clinic_words = ["appointment", "cancel", "reschedule", "bill", "refill", "results", "insurance", "open"]
    shared = {w: sum(w in e.lower() for e in intents["out_of_scope"]) for w in clinic_words}
    assert min(shared.values()) >= 3, shared
    assert len(intents["out_of_scope"]) >= 500


def test_every_configured_provider_can_be_named() -> None:
    """The entity extractor only knows the names in data/lookups.yml: a provider added to config.yml
    must be added there too."""
    from bot.settings import load_settings

    lookups = yaml.safe_load((NLU_PATH.parent / "lookups.yml").read_text())["nlu"]
    provider_names = next(t for t in lookups if t.get("lookup") == "provider")["examples"].lower()
    for provider in load_settings().providers:
        surname = provider.name.split()[-1].lower()
        assert f"- {surname}\n" in provider_names, f"{provider.name}: add '{surname}' to lookups.yml"

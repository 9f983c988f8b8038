"""The triage model's training data and the adapter shipped with it: enough, varied, clean, and in step."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from bot.triage import dataset
from bot.triage.categories import CATEGORY_IDS, LEVELS
from bot.triage.dataset import DataError, Item, parse_file
from bot.triage.model import PACKAGED_ADAPTER, adapter_exists, model_text, read_meta, spec

PROJECT_SET = Path(__file__).parent / "data" / "triage_messages.jsonl"
ITEMS = dataset.load_items()


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def test_there_are_thousands_of_messages_and_most_are_written_by_hand() -> None:
    sources = Counter(i.source for i in ITEMS)
    assert len(ITEMS) >= 3000
    assert sources["hand"] >= 3000 and sources["hand"] >= 0.7 * len(ITEMS)
    assert set(sources) == {"hand", "vitals", "ramble", "sms"}


def test_every_level_and_every_category_has_examples_in_training_and_validation() -> None:
    train, validation = dataset.split(ITEMS)
    for part, at_least in ((train, 25), (validation, 1)):
        categories = Counter(i.category for i in part)
        levels = Counter(i.level for i in part)
        assert all(categories[c] >= at_least for c in CATEGORY_IDS), categories
        assert all(levels[level] >= 10 * at_least for level in LEVELS), levels
    assert 0.12 <= len(validation) / len(ITEMS) <= 0.18


def test_a_generated_copy_stays_in_the_split_of_the_message_it_came_from() -> None:
    split_of = {i.group: i.split for i in ITEMS if i.source == "hand"}
    copies = [i for i in ITEMS if i.source in ("ramble", "sms")]
    assert copies and all(i.split == split_of[i.group] for i in copies)


def test_the_project_evaluation_set_is_not_in_the_training_data_nor_near_it() -> None:
    """No training message shares 60 % or more of its words with a message of the project's set (which stays an
    evaluation set)."""
    def words(text: str) -> set[str]:
        return set(re.findall(r"[a-z0-9]+", text.lower()))

    project = [words(json.loads(line)["text"]) for line in PROJECT_SET.read_text().splitlines() if line.strip()]
    mine = [(i.text, words(i.text)) for i in ITEMS if i.source == "hand"]
    close = [text for text, w in mine if any(len(w & p) / max(1, len(w | p)) >= 0.6 for p in project)]
    assert not close


def test_no_message_carries_two_labels() -> None:
    labels: dict[str, set[tuple[str, str]]] = {}
    for item in ITEMS:
        labels.setdefault(_norm(item.text), set()).add((item.level, item.category))
    assert not {text: found for text, found in labels.items() if len(found) > 1}


def test_vital_signs_are_labelled_on_both_sides_of_each_cut_off() -> None:
    vitals = [i for i in ITEMS if i.source == "vitals"]
    assert Counter(i.level for i in vitals)["emergency"] >= 80
    assert all(sum(1 for i in vitals if i.level == level) >= 20 for level in LEVELS)


@pytest.mark.parametrize(("text", "error"), [
    ("a message with no header\n", "before any '@ level' header"),
    ("@ emergency\nno category\n", "emergencies need a category"),
    ("@ urgent chest_pain\nurgent with a category\n", "emergencies need a category"),
    ("@ soon\nunknown level\n", "a header needs a level"),
])
def test_a_broken_data_file_names_the_line(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(DataError, match=error):
        parse_file(path)


def test_the_shipped_adapter_was_trained_on_the_data_as_it_is_now() -> None:
    assert adapter_exists(PACKAGED_ADAPTER), "no triage adapter in bot/triage/adapter"
    meta = read_meta(PACKAGED_ADAPTER)
    assert meta.spec == spec(), "the prompt or label words changed since the shipped adapter was trained"
    assert meta.fingerprint == dataset.fingerprint(ITEMS, spec()), (
        "the training data changed since the shipped adapter was trained: "
        "run `clinicbot tune --task triage --out bot/triage/adapter` and commit the result")
    assert 0.2 <= meta.thresholds.emergency <= 0.9


def test_items_are_labelled_as_their_header_says(tmp_path: Path) -> None:
    path = tmp_path / "ok.txt"
    path.write_text("# note\n@ emergency sepsis\nfever and shaking\n\n@ self_care\nthanks!\n")
    assert [(i.text, i.level, i.category, i.source) for i in parse_file(path)] == [
        ("fever and shaking", "emergency", "sepsis", "hand"), ("thanks!", "self_care", "none", "hand")]
    assert isinstance(parse_file(path)[0], Item)


def test_the_model_reads_a_message_in_capitals_as_it_would_read_it_in_lower_case() -> None:
    assert model_text("MY  SON WILL\nCALL YOU") == "my son will call you"
    assert model_text("Dr Kim said my INR is fine") == "Dr Kim said my INR is fine"  # an abbreviation is not shouting
    assert model_text("OK") == "OK" and model_text("") == ""

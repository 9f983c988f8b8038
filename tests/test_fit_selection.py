"""The sentence selection's weights: fitted from the answer sets (scripts/fit_selection.py), read by
knowledge/select.py, and the scores the answers rank by are those weights over the features."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge.embeddings import HashingEmbedder
from knowledge.select import FEATURES, HAND_WEIGHTS, WEIGHTS, WEIGHTS_FILE, SentenceSelector, load_weights
from knowledge.types import Passage
from tests.bench_scripts import load_bench

fitting = load_bench("fit_selection")
LIST, RANK = FEATURES.index("list_item"), FEATURES.index("rank")


def _records(seed: int, n: int = 120) -> list[tuple[np.ndarray, np.ndarray]]:
    """Scorings where the right sentence is the one from a list, which the hand weights rank too low to win: its
    sentence similarity is a little lower than a wrong one's."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = rng.normal(0.0, 0.02, (5, len(FEATURES)))
        x[:, RANK] = 0.0
        x[:, FEATURES.index("other_direction")] = 0.0
        right = np.zeros(5, dtype=bool)
        right[rng.integers(5)] = True
        x[right, LIST] = 1.0
        x[~right, FEATURES.index("sentence")] += 0.3  # the wrong ones look closer by meaning alone
        out.append((x, right))
    return out


def test_a_feature_that_marks_the_right_sentences_gains_weight_and_the_best_sentence_is_right_more_often() -> None:
    hand = np.array([HAND_WEIGHTS[f] for f in FEATURES])
    weights, sharpness, _ = fitting.fit(_records(1), pull=0.001)
    fitted = np.array([weights[f] for f in FEATURES])
    assert weights["list_item"] > HAND_WEIGHTS["list_item"] + 0.1
    assert weights["sentence"] == HAND_WEIGHTS["sentence"]  # the scale of the selection's window stays
    assert sharpness > 0
    unseen = _records(2)  # scored on scorings it was not fitted on
    assert fitting.top_right(unseen, fitted) > fitting.top_right(unseen, hand) + 0.5


def test_a_strong_pull_keeps_the_hand_weights() -> None:
    weights, _, _ = fitting.fit(_records(3), pull=1000.0)
    assert all(abs(weights[f] - HAND_WEIGHTS[f]) < 0.02 for f in FEATURES)


def test_the_blind_set_is_never_fitted_on() -> None:
    with pytest.raises(SystemExit, match="blind"):
        fitting.set_path("blind")
    with pytest.raises(SystemExit, match="blind"):
        fitting.set_path("tests/data/blind/answers_blind.jsonl")
    assert fitting.set_path("dev12").name == "answers_dev12.jsonl"


def test_weights_come_from_the_file_with_the_hand_weights_for_what_it_lacks(tmp_path: Path) -> None:
    assert load_weights(tmp_path / "none.json") == HAND_WEIGHTS
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"weights": {"rank": -0.5}}))
    assert load_weights(path) == HAND_WEIGHTS | {"rank": -0.5}


def test_the_shipped_weights_name_every_feature_and_say_how_they_were_made() -> None:
    if not WEIGHTS_FILE.is_file():
        pytest.skip("no fitted weights shipped: the hand weights are used")
    shipped = json.loads(WEIGHTS_FILE.read_text())
    assert set(shipped["weights"]) == set(FEATURES)
    assert shipped["written_by"] == "scripts/fit_selection.py" and "blind" not in shipped["fitted_on"]
    assert {f: shipped["weights"][f] for f in FEATURES} == WEIGHTS


def test_a_sentence_scores_the_weights_over_its_features() -> None:
    selector = SentenceSelector(HashingEmbedder())
    passages = [Passage("TSH test", "What a high TSH can mean", "A high TSH can mean an underactive thyroid. TSH is "
                        "made by the pituitary gland.", "labs/thyroid.md", 0.9),
                Passage("TSH test", "What a low TSH can mean", "A low TSH can mean an overactive thyroid.",
                        "labs/thyroid.md", 0.8)]
    question = "what does a high tsh mean"
    rows = selector.features(question, passages)
    scored = selector.score(question, passages)
    by_text = {s.text: s.score for s in scored}
    assert len(rows) == len(scored) == 3
    for _, _, text, values in rows:
        assert by_text[text] == pytest.approx(sum(WEIGHTS[f] * v for f, v in zip(FEATURES, values, strict=True)))
    low = next(values for _, _, text, values in rows if "low TSH" in text)
    assert low[FEATURES.index("other_direction")] == 1.0 and scored[-1].text.startswith("A low TSH")

"""Lists in a section (knowledge/lists.py): a lead-in and its items are found in the Markdown, and an answer that
quotes one part of a list quotes the list, within the one SMS budget; a yes/no question about one item gets the
lead-in and that item."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.embeddings import HashingEmbedder
from knowledge.lists import Block, asks_yes_no, blocks, with_lists
from knowledge.select import SentenceSelector, candidates
from knowledge.sentences import plain_sentences
from knowledge.types import Passage, Sentence

VACCINES = Passage(
    title="Vaccines",
    heading="Vaccines we give",
    text="Which vaccines do you give? The clinic gives most routine vaccines.\n\n- Flu shots.\n- Tetanus boosters.\n"
    "- Shingles vaccine.\n- Hepatitis B vaccine.\n\nWe also give travel shots for hepatitis A and typhoid.",
    source="policies/vaccines.md",
    score=0.7,
)
STEPS = Passage(
    title="Stool test",
    heading="How the stool test is done",
    text="You collect the sample at home. To collect it, first put the paper over the toilet bowl. Then scoop a "
    "little stool into the tube. Next, close the tube tightly. The lab reads it in a few days.",
    source="labs/stool.md",
    score=0.7,
)


def ranked(passage: Passage) -> list[Sentence]:
    return [Sentence(text, passage, n, 1.0 - n / 100) for n, text in enumerate(candidates(passage))]


def pick(passage: Passage, *texts: str) -> list[Sentence]:
    return [s for s in ranked(passage) if s.text in texts]


def test_bullets_under_a_lead_in_are_one_list_and_the_question_line_is_no_lead_in() -> None:
    assert blocks(VACCINES.text) == [Block("The clinic gives most routine vaccines.", (
        ("Flu shots.",), ("Tetanus boosters.",), ("Shingles vaccine.",), ("Hepatitis B vaccine.",)))]


def test_numbered_steps_after_a_heading_have_no_lead_in_and_an_item_keeps_its_sentences() -> None:
    text = "## Before the scan\n\n1. Wear loose clothes. Leave jewelry at home.\n2. Drink two glasses of water.\n"
    assert blocks(text) == [Block("", (("Wear loose clothes.", "Leave jewelry at home."),
                                       ("Drink two glasses of water.",)))]


def test_plain_lines_after_a_colon_are_items_and_stay_apart_as_sentences() -> None:
    text = "For the sleep study, pack these:\nYour pajamas\nYour pillow\n\nArrive by 8 p.m."
    assert blocks(text) == [Block("For the sleep study, pack these:", (("Your pajamas",), ("Your pillow",)))]
    assert plain_sentences(text) == ["For the sleep study, pack these:", "Your pajamas", "Your pillow",
                                     "Arrive by 8 p.m."]


def test_steps_said_in_prose_are_a_list_with_the_sentence_before_them_as_lead_in() -> None:
    (block,) = blocks(STEPS.text)
    assert block.lead == "You collect the sample at home."
    assert [item[0] for item in block.items] == ["To collect it, first put the paper over the toilet bowl.",
                                                 "Then scoop a little stool into the tube.",
                                                 "Next, close the tube tightly."]


def test_a_lead_in_chosen_alone_brings_its_items() -> None:
    out = with_lists(pick(STEPS, "You collect the sample at home."), ranked(STEPS), lambda _: True,
                     "how do i do the stool test")
    assert [s.text for s in out] == candidates(STEPS)[:4]


def test_an_item_brings_the_lead_in_and_the_other_items_as_far_as_the_budget_holds() -> None:
    chosen = pick(VACCINES, "Shingles vaccine.")
    every = with_lists(chosen, ranked(VACCINES), lambda _: True, "what vaccines can i get")
    assert [s.text for s in every] == ["The clinic gives most routine vaccines.", "Flu shots.", "Tetanus boosters.",
                                      "Shingles vaccine.", "Hepatitis B vaccine."]
    short = with_lists(chosen, ranked(VACCINES), lambda body: len(body) <= 60, "what vaccines can i get")
    assert "Shingles vaccine." in [s.text for s in short]  # what was chosen stays
    assert len(" ".join(s.text for s in short)) <= 60 and len(short) > 1


def test_a_yes_no_question_about_one_item_gets_the_lead_in_that_item_and_the_sentences_that_name_it() -> None:
    chosen = pick(VACCINES, "Flu shots.", "Hepatitis B vaccine.")
    out = with_lists(chosen, ranked(VACCINES), lambda _: True, "do you give the hepatitis b vaccine")
    assert [s.text for s in out] == ["The clinic gives most routine vaccines.", "Hepatitis B vaccine."]
    assert asks_yes_no("can i get a flu shot there") and not asks_yes_no("what shots do you give")


def test_the_selection_quotes_the_list_its_best_sentence_belongs_to() -> None:
    selector = SentenceSelector(HashingEmbedder())
    picked = selector.select("which vaccines does the clinic give", [VACCINES], lambda body: len(body) <= 300,
                             refined=True)
    assert picked.text.startswith("The clinic gives most routine vaccines. Flu shots. Tetanus boosters.")
    unrefined = selector.select("which vaccines does the clinic give", [VACCINES], lambda body: len(body) <= 300)
    assert len(unrefined.sentences) <= 3  # the adapter's training examples are made without it


def test_the_documents_sentences_are_embedded_once_and_read_back_by_the_next_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Priming embeds every sentence of the sections; the vectors are kept on disk, so the next action server
    (or test process) reads them back instead of embedding them again, and scores the same."""
    import knowledge.embeddings as embeddings

    monkeypatch.setattr(embeddings, "CACHE_DIR", tmp_path)
    passage = Passage(title="Lipid panel", heading="HDL", text="HDL is often called good cholesterol. A higher HDL is "
                      "better. For men, an HDL of 40 mg/dL or higher is good.", source="labs/lipid-panel.md", score=0.8)
    counting = HashingEmbedder()
    first = SentenceSelector(counting)
    first.prime([passage])
    assert sum(counting.calls) > 3 and list(tmp_path.glob("embeddings-*.npy"))

    embedder = HashingEmbedder()
    again = SentenceSelector(embedder)
    again.prime([passage])
    assert embedder.calls == []  # read back from disk
    scored = [(s.text, round(s.score, 5)) for s in first.score("what is hdl", [passage])]
    assert [(s.text, round(s.score, 5)) for s in again.score("what is hdl", [passage])] == scored

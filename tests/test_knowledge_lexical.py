"""The lexical helpers beside the embeddings: a sentence holding the question's rare words (knowledge/lexical.py)."""

from __future__ import annotations

import pytest

from knowledge.lexical import rare_overlap, said_together, tokens


def test_the_sentence_with_the_questions_rare_word_leads_and_a_word_most_share_counts_for_nothing() -> None:
    sentences = ["The clinic lot is free.", "The clinic lot is behind the building.",
                 "A shuttle van leaves from the train station.", "Call the clinic to ask."]
    overlaps = rare_overlap("i take the train, how do i get to the clinic", sentences)
    assert overlaps[2] == 1.0 and overlaps[0] == overlaps[1] == overlaps[3] == 0.0  # "clinic" is in most of them


def test_no_shared_word_adds_nothing() -> None:
    assert rare_overlap("blorp", ["The clinic lot is free.", "Call the clinic."]) == [0.0, 0.0]
    assert rare_overlap("where is the lot", []) == []


def test_a_patients_word_for_children_is_the_documents_word() -> None:
    """"can i see my kid stuff on the portal": the sentence on "portal access for children under 12" holds its word."""
    assert "children" in tokens("can i see my kid stuff on the portal") and "teen" in tokens("my teenage son")
    assert rare_overlap("my kid on the portal", ["Parents can ask for portal access for children under 12.",
                                                 "The portal is a secure website."])[0] > 0


def test_a_words_other_forms_are_the_same_word() -> None:
    """"why do i bruise so easily" holds the rare word of the sentence on "easy bruising", and "can someone translate"
    the one of the sentence naming a translator (the hand-written suffix stripper before kept both pairs apart)."""
    assert rare_overlap("why do i bruise so easily", ["With a low platelet count, you may notice easy bruising.",
                                                      "Platelets help your blood clot."])[0] > 0
    assert rare_overlap("can someone translate for my mom", ["Ask the front desk for a translator.",
                                                            "Ask the front desk for a parking pass."])[0] > 0
    assert tokens("cancelled, canceling") == tokens("cancel cancel")


@pytest.mark.parametrize(("question", "text", "together"), [
    ("late day??", "Wednesday is our late day, and we stay open until 7:00 p.m.", True),
    ("the late day?", "Wednesday is our late day.", True),  # a stop word of the question is no content word
    ("day late?", "Wednesday is our late day.", False),  # not in the question's order
    ("late fee day", "Wednesday is our late day.", False),  # every content word, together
    ("late", "Wednesday is our late day.", False),  # one word is no phrase
    ("k 5.6??", "Potassium 5.6 k", False),  # a number is no word of a phrase
    ("is wednesday our late day or not then", "Wednesday is our late day.", False),  # past four words: not short
])
def test_a_short_questions_words_said_together(question: str, text: str, together: bool) -> None:
    assert said_together(question, text) is together

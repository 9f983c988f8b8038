"""Two questions in one message (knowledge/parts.py): cut at the conjunction when each part is a question of its
own, and both parts answered within the one SMS budget."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.settings import Settings
from knowledge.answer import Answer, Answerer
from knowledge.embeddings import HashingEmbedder
from knowledge.parts import as_selection, merged, split_question
from knowledge.sentences import terms
from knowledge.types import Passage, Selection, Sentence

PARKING = Passage("Directions and parking", "Parking", "Parking is free in the lot behind the building. The lot "
                  "has 4 accessible spaces by the ramp.", "policies/parking.md", 0.7)
FLU = Passage("Vaccines", "Flu shots", "Flu shots are given every fall. You do not need an appointment for a flu "
              "shot.", "policies/vaccines.md", 0.7)


@pytest.mark.parametrize(("question", "parts"), [
    ("where do i park and do you have flu shots", ["where do i park", "do you have flu shots"]),
    ("when does the lab open, and how long is the wait", ["when does the lab open", "how long is the wait"]),
    ("what is a vitamin b12 test and why is it done",
     ["what is a vitamin b12 test", "why is vitamin b12 done"]),  # the pronoun: the first part's subject
    ("what is the phone and fax number", ["what is the phone and fax number"]),  # one question, two things
    ("my ldl is 160 and what should i eat", ["my ldl is 160 and what should i eat"]),  # a number: placed whole
    ("where and when", ["where and when"]),
    ("got a bill i cant pay rn, do yall do payment plans or do u charge interest",  # after a comma, joined by "or"
     ["got a bill i cant pay rn, do yall do payment plans", "do u charge interest"]),
    ("my son has a fever and do you have flu shots", ["my son has a fever and do you have flu shots"]),  # no ask first
    ("what is vitamin b12 and what's the normal range",  # a range of nothing named: the first part's subject
     ["what is vitamin b12", "what's the normal range for vitamin b12"]),
    ("could you explain what inr stands for, and whom the test is used for",  # "whom"; "the test" is the subject
     ["could you explain what inr stands for", "whom inr is used for"]),
    ("i have diabetes how often should i get an a1c and can anemia throw the number off",  # a wh-word within
     ["i have diabetes how often should i get an a1c", "can anemia throw a1c off"]),
    ("my visit is tomorrow. If I cancel now is there a charge? And can I do it online?",  # asked by its mark
     ["my visit is tomorrow. If I cancel now is there a charge", "can I do it online?"]),
    ("2 quick things: which days is Dr. Okafor in, and what's your email?",  # a lead-in before a colon, its number
     ["which days is Dr. Okafor in", "what's your email?"]),
    ("what counts as low blood sugar and what does it feel like",  # the word that says which of the subject
     ["what counts as low blood sugar", "what does low blood sugar feel like"]),
    ("i was told 2 things: my a1c is 7 and what should i eat", ["i was told 2 things: my a1c is 7 and what should i eat"]),
    # a slash before a question word asks again, as texts do ("how long do refills take / can I text you for ...")
    ("where do i park / do you have flu shots", ["where do i park", "do you have flu shots"]),
    ("do you take blue cross/blue shield", ["do you take blue cross/blue shield"]),  # a slash in a name
    # a wh-word texted with "is" run on asks too (dev22: "wheres the parkin at and do i got to pay for it")
    ("wheres the parking lot and do i have to pay for it", ["wheres the parking lot", "do i have to pay for it"]),
    ("hows the parking there and is it free", ["hows the parking there", "is it free"]),
    # a number that counts or times something is no result to place whole, and an emoji ends a sentence (dev22: "we
    # just moved here with 3 kids 🙃 are you taking new patients and what do I need to bring to the first appt")
    ("new in town with 2 kids 😅 do you see children and where do i park",
     ["new in town with 2 kids 😅 do you see children", "where do i park"]),
    ("my 7 yo has a cold, is the clinic open saturday and when does it close",
     ["my 7 yo has a cold, is the clinic open saturday", "when does it close"]),
    ("my a1c is 6 😬 is that ok and what should i eat", ["my a1c is 6 😬 is that ok and what should i eat"]),
    # a report's "H" after a result is its flag for high, no count of hours: the result keeps the message whole
    ("is AST 41 H bad and what should i do", ["is AST 41 H bad and what should i do"]),
    ("my son has 2 kids and do you have flu shots", ["my son has 2 kids and do you have flu shots"]),  # no ask first
])
def test_a_message_is_cut_where_a_second_question_starts(question: str, parts: list[str]) -> None:
    names = ("vitamin b12", "inr", "a1c", "blood sugar")
    assert split_question(question, lambda text: next((n for n in names if n in text), "")) == parts


def test_the_parts_take_turns_in_the_budget_and_each_keeps_its_order() -> None:
    one = Selection(tuple(Sentence(t, PARKING, n, 1.0) for n, t in enumerate(["Park in the back lot.",
                                                                              "Four spaces are by the ramp."])))
    two = Selection((Sentence("Flu shots are given every fall.", FLU, 0, 1.0),
                     Sentence("Park in the back lot.", PARKING, 0, 1.0)))
    assert merged([one, two], lambda _: True).text == (
        "Park in the back lot. Four spaces are by the ramp. Flu shots are given every fall.")  # said once
    assert merged([one, two], lambda body: len(body) <= 55).text == (
        "Park in the back lot. Flu shots are given every fall.")  # each part's first before any second


def test_each_part_gives_its_best_sentence_before_any_part_gives_a_second() -> None:
    days = Selection((Sentence("Three clinicians work set days.", PARKING, 0, 0.3),
                      Sentence("Dr. Okafor works Monday and Friday.", PARKING, 1, 0.9)))
    email = Selection((Sentence("Email the front desk.", FLU, 0, 0.8),))
    assert merged([days, email], lambda body: len(body) <= 60).text == (
        "Dr. Okafor works Monday and Friday. Email the front desk.")  # the best, not the first said


def test_a_range_answer_is_one_sentence_of_its_source_and_a_handoff_is_none() -> None:
    ranged = as_selection(Answer("A typical INR is 0.8 to 1.1.\nSource: PT/INR", sources=["PT/INR"], reason="range"))
    assert ranged is not None and ranged.text == "A typical INR is 0.8 to 1.1." and ranged.titles == ["PT/INR"]
    assert as_selection(Answer("I'm passing your question on.", reason="low_similarity")) is None


@dataclass
class WordRetriever:
    passages: list[Passage]

    def query(self, text: str, k: int) -> list[Passage]:
        return sorted(self.passages, key=lambda p: -len(terms(text) & terms(p.text)))[:k]


def test_each_part_of_a_two_part_question_is_answered(settings: Settings) -> None:
    answerer = Answerer(WordRetriever([PARKING, FLU]), settings, embedder=HashingEmbedder())
    result = answerer.answer("is parking free and do i need an appointment for a flu shot")
    assert result.grounded and "Parking is free" in result.answer and "need an appointment" in result.answer
    assert result.sources == ["Directions and parking", "Vaccines"]


def test_a_part_the_policy_refuses_alone_is_answered_by_the_whole_message(settings: Settings) -> None:
    answerer = Answerer(WordRetriever([PARKING, FLU]), settings, embedder=HashingEmbedder())
    answerer.policy.decide = lambda question, vector=None: (  # type: ignore[method-assign]
        ("dose", "model") if question.startswith("may i") else (None, ""))
    result = answerer.answer("is parking free in the lot, and may i bring my kids for flu shots every fall")
    assert result.grounded and "Parking is free" in result.answer and "Flu shots" in result.answer
    assert ("parts", {"parts": 2}) in result.trace  # not the whole message alone, as when a part was refused

"""Questions dictated by voice-to-text or spelt by sound are read as the same question typed clean: letters said one
by one, numbers in words, misspelt words (knowledge/spoken.py). The documents are the real ones."""

from __future__ import annotations

import pytest

from bot.settings import PROJECT_ROOT, Settings
from knowledge.answer import Answerer
from knowledge.asks import asks_definition
from knowledge.embeddings import HashingEmbedder
from knowledge.library import Library
from knowledge.spoken import join_letters, spoken_numbers
from knowledge.types import Passage

LIBRARY = Library.load(PROJECT_ROOT / "knowledge" / "documents")
PARKING = Passage(title="Directions and parking", heading="Parking", source="policies/parking.md", score=0.42,
                  text="Free parking is in the lot behind the building, with 4 accessible spaces next to the ramp.")


class StubRetriever:
    def __init__(self) -> None:
        self.queries: list[str] = []

    def query(self, text: str, k: int) -> list[Passage]:
        self.queries.append(text)
        return [PARKING][:k]


@pytest.mark.parametrize(("said", "read"), [
    ("my l d l came back high", "my LDL came back high"),
    ("what does the a one see test show exactly", "what does the A1c test show exactly"),
    ("can metformin lower my b twelve", "can metformin lower my B12"),
    ("do i need to fast for a b m p", "do i need to fast for a BMP"),
    ("my e g f r was low", "my eGFR was low"),
    ("i got this e o b thing in the mail", "i got this EOB thing in the mail"),  # an abbreviation of the text
    ("vitamin d in n mol per liter", "vitamin d in nmol per liter"),  # a letter said apart from its word
    ("i had p t last week", "i had p t last week"),  # two letters spell nothing for sure
    ("can you see me today", "can you see me today"),  # letter names that spell nothing stay words
])
def test_letters_said_one_by_one_become_the_documents_abbreviation(said: str, read: str) -> None:
    assert join_letters(said, LIBRARY.hearing.abbreviations, LIBRARY.hearing.speller.words) == read


@pytest.mark.parametrize(("said", "read"), [
    ("my ldl came back one forty five", "my ldl came back 145"),
    ("fasting sugar was one oh eight", "fasting sugar was 108"),
    ("my a1c is five point nine", "my a1c is 5.9"),
    ("potassium came back five point four", "potassium came back 5.4"),
    ("egfr was fifty five, under sixty", "egfr was 55, under 60"),
    ("forty-five", "45"),
    ("a hundred and five", "105"),
    ("my husband is sixty to is he due", "my husband is 62 is he due"),  # "to" after a tens word is "two"
    ("between sixty to seventy", "between 60 to 70"),  # ... unless a number follows: a range
    ("i dont get off work til five thirty", "i dont get off work til 5:30"),  # a time
    ("how long till some one answers", "how long till some one answers"),  # a lone "one" is a word
    ("my a1c is 5.9 and my ldl 145", "my a1c is 5.9 and my ldl 145"),  # digits are never touched
    # a lone number word after "those", "the", "both"... counts what was named: read as "those 2", a report's two
    # lines had the 2 placed as a white cell count
    ("WBC 15-20 /hpf, Leukocyte Esterase 2+. what do those two point to", "WBC 15-20 /hpf, Leukocyte Esterase 2+. what "
     "do those two point to"),
    ("is the first one forty five or the second", "is the first 145 or the second"),
])
def test_numbers_said_in_words_are_read_as_digits(said: str, read: str) -> None:
    assert spoken_numbers(said) == read


@pytest.mark.parametrize("medicine", ["xarelto", "eliquis", "jardiance", "ozempic", "lasix", "crestor", "lipitor",
                                      "zoloft", "metoprolol", "cholecalciferol", "methimazole", "cytomel"])
def test_a_medicine_name_is_never_changed(medicine: str) -> None:
    assert LIBRARY.hearing.read(f"can {medicine} change my labs") == f"can {medicine} change my labs"


@pytest.mark.parametrize(("written", "meant"), [
    ("what do wite blood cells do", "what do white blood cells do"),
    ("what does calsium do", "what does calcium do"),
    ("my mom is in a weelchair", "my mom is in a wheelchair"),
    ("the blood thiner test on warfrin", "the blood thinner test on warfarin"),
    ("the suger test what numbr is low", "the sugar test what number is low"),
    ("wat is the fone number", "wat is the phone number"),  # by sound; a three-letter word is left alone
    ("how long till some one answers my portal massage", "how long till some one answers my portal massage"),
    ("que significa nitrites en la orina", "que significa nitrites en la orina"),  # Spanish is not misspelt
    ("wheres the parkin at", "wheres the parking at"),  # the g dropped, as it is said (dev22)
    ("can she get in the buildin ok", "can she get in the building ok"),
    ("is there protein in my pee, and is it vitamin related", "is there protein in my pee, and is it vitamin related"),
])
def test_a_misspelt_word_is_read_as_the_documents_closest_word(written: str, meant: str) -> None:
    assert LIBRARY.hearing.speller.read(written) == meant


def make(settings: Settings) -> tuple[Answerer, StubRetriever]:
    retriever = StubRetriever()
    return Answerer(retriever, settings, embedder=HashingEmbedder(), library=LIBRARY), retriever


def test_a_dictated_result_is_placed_in_its_band(settings: Settings) -> None:
    answerer, retriever = make(settings)
    result = answerer.answer("my l d l came back one forty five is that high")
    assert result.reason == "value" and retriever.queries == []
    assert "LDL cholesterol of 145 mg/dL" in result.answer and "130 to 159 mg/dL" in result.answer
    assert ("heard", {"question": "my LDL came back 145 is that high"}) in result.trace


def test_a_dictated_result_asked_with_the_normal_range_gets_both(settings: Settings) -> None:
    answerer, _ = make(settings)
    result = answerer.answer("my fasting sugar was one oh eight what is the normal range for fasting sugar")
    assert result.reason == "value"
    assert "108 mg/dL is in the prediabetes range" in result.answer and "70 to 99 mg/dL: normal range" in result.answer


def test_the_policy_still_reads_what_was_written(settings: Settings) -> None:
    answerer, _ = make(settings)
    result = answerer.answer("my i n r is three point eight should i skip my warfarin tonight")
    assert result.reason.startswith("policy:") and not result.grounded


def test_a_misspelt_question_is_retrieved_in_the_documents_words(settings: Settings) -> None:
    answerer, retriever = make(settings)
    answerer.answer("my mom is in a weelchair can she get in the door ok")
    assert retriever.queries and retriever.queries[0].startswith("my mom is in a wheelchair can she get in the door")


@pytest.mark.parametrize("question", ["what does the A1c test show exactly", "what is alt lol", "whats a bun test again?"])
def test_a_definition_asked_with_a_spoken_filler_at_the_end_is_still_one(question: str) -> None:
    assert asks_definition(question)

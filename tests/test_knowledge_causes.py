"""A cause the patient names beside a test ("AST 40, ran a half marathon, could the run do that"): the sentence of the
test's own document on that cause (knowledge/causes.py)."""

from __future__ import annotations

import pytest

from bot.settings import PROJECT_ROOT, Settings
from knowledge.answer import Answerer
from knowledge.kinds import gives, question_kinds, words
from knowledge.select import first_direction


@pytest.mark.parametrize("question", [
    "I rode my bike the day of my PSA, would that mess it up?",
    "took biotin before my thyroid test, would that throw it off",
])
def test_whether_a_thing_messes_up_a_result_asks_a_cause(question: str) -> None:
    assert "cause" in question_kinds(question)


def test_a_result_that_goes_up_after_something_is_caused_by_it() -> None:
    assert gives("cause", "Your triglycerides go up for a while after you eat a meal.", words("triglycerides"))
    assert gives("cause", "Creatinine can also be a little high in people with a lot of muscle.", words("creatinine"))


def test_the_side_a_sentence_speaks_of_first_is_its_subjects() -> None:
    assert first_direction("High sodium (hypernatremia) most often means you are low on fluids.") == "high"
    assert first_direction("Low sodium can mean you have too much water.") == "low"
    assert first_direction("Biotin can also change thyroid test results.") == ""


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    from knowledge.embeddings import MiniLMEmbedder
    from knowledge.ingest import ingest
    from knowledge.store import KnowledgeStore

    store = KnowledgeStore("causes_real", chroma_dir=tmp_path_factory.mktemp("chroma"), embedder=MiniLMEmbedder())
    ingest(PROJECT_ROOT / "knowledge" / "documents", store)
    settings = Settings()
    return Answerer(store, settings.model_copy(update={"llm": settings.llm.model_copy(update={"backend": "none"})}))


@pytest.mark.slow
@pytest.mark.parametrize(("question", "said", "fact"), [
    ("tsh 6.1, i take a biotin supplement, could the biotin cause that", "6.1", "biotin can also change"),
    ("triglycerides 230 but i had a big breakfast before the draw, does eating change it", "230",
     "go up for a while after you eat"),
    ("went on a long bike ride the morning of my PSA test, would riding mess it up?", "", "riding a bike"),
])
def test_a_cause_the_patient_names_gets_the_documents_sentence_on_it(answerer: Answerer, question: str, said: str,
                                                                      fact: str) -> None:
    result = answerer.answer(question)
    assert result.grounded and said in result.answer, result.answer
    assert fact in result.answer.lower(), result.answer


@pytest.mark.slow
@pytest.mark.parametrize("question", ["alt is 80, what usually causes high liver enzymes",
                                      "AST 41 H on my portal this morning. why would AST be flagged high?"])
def test_a_cause_asked_without_naming_one_gets_no_named_cause(answerer: Answerer, question: str) -> None:
    result = answerer.answer(question)
    assert result.reason == "value" and not any(stage == "value_cause" for stage, _ in result.trace), result.answer

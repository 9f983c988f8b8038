"""The answering pipeline with the FakeLLM: safety policy, threshold, draft checks and fallback."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.llm.base import FakeLLM
from bot.settings import Settings
from knowledge import answer as answer_module
from knowledge.answer import Answerer, extract_sentences, plain_sentences
from knowledge.guard import sms_segments
from knowledge.types import Passage

FEE = Passage(
    title="Cancellation policy",
    heading="Late cancellation fee",
    text="Please cancel at least 24 hours before your visit. A late cancellation or a missed visit may carry "
    "a $25 fee. We waive the fee once a year and when you were sick or had an emergency.",
    source="policies/cancellations.md",
    score=0.71,
)
PARKING = Passage(
    title="Directions and parking",
    heading="Parking",
    text="Free parking is in the lot behind the building, with 4 accessible spaces next to the ramp.",
    source="policies/parking.md",
    score=0.42,
)
LIPID_TABLE = Passage(
    title="Lipid panel",
    heading="Typical cholesterol results",
    text="| Result | Typical adult goal |\n| --- | --- |\n| LDL cholesterol | under 100 mg/dL |\n"
    "| HDL cholesterol | 60 mg/dL or higher |\n\nHigh LDL cholesterol raises the risk of heart disease.",
    source="labs/lipid-panel.md",
    score=0.66,
)


@dataclass
class StubRetriever:
    passages: list[Passage]
    queries: list[str] = field(default_factory=list)

    def query(self, text: str, k: int) -> list[Passage]:
        self.queries.append(text)
        return self.passages[:k]


def make(
    settings: Settings, passages: list[Passage], *replies: str
) -> tuple[Answerer, FakeLLM, StubRetriever]:
    llm = FakeLLM(replies=list(replies))
    retriever = StubRetriever(passages)
    return Answerer(retriever, settings, llm=llm), llm, retriever


def test_grounded_draft_is_sent_with_its_source(settings: Settings) -> None:
    answerer, llm, _ = make(settings, [FEE, PARKING], "A late cancellation may carry a $25 fee.")
    result = answerer.answer("Is there a fee if I cancel late?")
    assert result.reason == "generated" and result.grounded
    assert result.answer == "A late cancellation may carry a $25 fee.\nSource: Cancellation policy"
    assert result.sources == ["Cancellation policy"]
    prompt = llm.calls[0][1]["content"]
    assert "$25 fee" in prompt and "Is there a fee if I cancel late?" in prompt
    assert settings.clinic.name in llm.calls[0][0]["content"]


def test_draft_with_an_invented_number_falls_back_to_the_passage(settings: Settings) -> None:
    answerer, llm, _ = make(
        settings, [FEE, PARKING], "The late cancellation fee is $40, waived twice a year."
    )
    result = answerer.answer("How much is the late cancellation fee?")
    assert len(llm.calls) == 1
    assert result.reason == "fallback:numbers" and result.grounded
    assert "40" not in result.answer
    assert "$25 fee" in result.answer  # the sentence that answers it, taken from the document
    assert result.answer.endswith("\nSource: Cancellation policy")
    assert result.sources == ["Cancellation policy"]


def test_number_written_as_a_word_must_also_come_from_the_context(settings: Settings) -> None:
    answerer, _, _ = make(settings, [FEE], "Please cancel at least two days ahead.")
    assert answerer.answer("When should I cancel?").reason == "fallback:numbers"


def test_dosing_question_is_refused_without_calling_the_model(settings: Settings) -> None:
    answerer, llm, retriever = make(settings, [FEE], "anything")
    for question in (
        "How much ibuprofen can I take for a headache?",
        "what dose of metformin should I be on",
        "Can I take 2 tylenol at once?",
        "should I double my insulin tonight",
    ):
        result = answerer.answer(question)
        assert result.reason == "policy:dose", question
        assert not result.grounded and result.sources == []
        assert "dose" in result.answer and "care team" in result.answer
    assert llm.calls == [] and retriever.queries == []


def test_diagnosis_and_out_of_scope_questions_get_fixed_answers(settings: Settings) -> None:
    answerer, llm, _ = make(settings, [FEE])
    assert answerer.answer("Do I have diabetes?").reason == "policy:diagnosis"
    assert answerer.answer("Is this rash cancer?").reason == "policy:diagnosis"
    scope = answerer.answer("Who won the football game last night?")
    assert scope.reason == "policy:out_of_scope" and settings.clinic.name in scope.answer
    assert llm.calls == []


def test_ordinary_questions_are_not_mistaken_for_dose_or_diagnosis(settings: Settings) -> None:
    answerer, llm, _ = make(settings, [LIPID_TABLE], *["LDL cholesterol: under 100 mg/dL."] * 3)
    for question in (
        "Do I have to fast before a lipid panel?",
        "What is a normal LDL cholesterol?",
        "Do I have an appointment this week?",
    ):
        assert answerer.answer(question).reason == "generated", question
    assert len(llm.calls) == 3


def test_low_similarity_gets_the_handoff_message(settings: Settings) -> None:
    weak = [Passage(p.title, p.heading, p.text, p.source, score=0.12) for p in (FEE, PARKING)]
    answerer, llm, _ = make(settings, weak, "anything")
    result = answerer.answer("Can you recommend a plumber for my kitchen sink?")
    assert result.reason == "low_similarity" and not result.grounded and result.sources == []
    assert "front desk" in result.answer and "(555) 555-0123" in result.answer
    assert llm.calls == []


def test_draft_with_dosing_language_falls_back(settings: Settings) -> None:
    answerer, _, _ = make(settings, [FEE], "Take your medicine twice a day and cancel 24 hours ahead.")
    result = answerer.answer("When do I need to cancel by?")
    assert result.reason == "fallback:dosing"
    assert "twice a day" not in result.answer and "24 hours" in result.answer


def test_overlong_draft_falls_back_to_an_answer_within_three_segments(settings: Settings) -> None:
    long_draft = "Please cancel at least 24 hours before your visit. " * 12
    answerer, _, _ = make(settings, [FEE], long_draft)
    result = answerer.answer("How early must I cancel?")
    assert result.reason == "fallback:length"
    assert sms_segments(result.answer) <= settings.sms.max_segments


def test_model_saying_it_cannot_answer_becomes_a_handoff(settings: Settings) -> None:
    answerer, _, _ = make(settings, [PARKING], "I'm not sure. I will pass your question to the front desk.")
    result = answerer.answer("Where do I park?")
    assert result.reason == "model_declined" and not result.grounded


def test_failing_model_still_gets_an_extractive_answer(settings: Settings) -> None:
    class Broken(FakeLLM):
        def generate(self, messages, *, max_new_tokens=None):  # type: ignore[no-untyped-def]
            raise RuntimeError("out of memory")

    answerer = Answerer(StubRetriever([PARKING]), settings, llm=Broken())
    result = answerer.answer("Is parking free?")
    assert result.reason == "fallback:llm_error" and result.grounded
    assert "Free parking" in result.answer and result.answer.endswith("Source: Directions and parking")


def test_model_source_line_is_replaced_by_ours(settings: Settings) -> None:
    answerer, _, _ = make(
        settings, [FEE, PARKING], "Parking is free behind the building.\n(Source: parking doc)"
    )
    result = answerer.answer("Is parking free?")
    assert result.answer.count("Source") == 1


def test_extractive_answer_reads_tables_as_sentences() -> None:
    assert plain_sentences(LIPID_TABLE.text)[0] == "LDL cholesterol: under 100 mg/dL."  # header row dropped
    text = extract_sentences("what is a good HDL cholesterol", LIPID_TABLE, budget=60)
    assert text == "HDL cholesterol: 60 mg/dL or higher."


def test_shared_answer_function_builds_one_answerer_lazily(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answer_module, "_shared", {})
    first = answer_module.answer("How many mg of tylenol can my child have?", settings)
    again = answer_module.get_answerer()
    assert first.reason == "policy:dose"
    assert again is answer_module.get_answerer(settings)
    store = again.store
    assert getattr(store, "_collection", "x") is None  # no client or model was created for a refusal


def test_typographic_punctuation_is_made_sms_safe(settings: Settings) -> None:
    curly = Passage("Billing", "Payment", "We’ll send a bill — you can pay online “any time”.", "b.md", 0.8)
    answerer, _, _ = make(settings, [curly], "We’ll send a bill — pay “any time”.")
    assert answerer.answer("How do I pay my bill?").answer.startswith('We\'ll send a bill - pay "any time".')
    extractive = Answerer(StubRetriever([curly]), settings).answer("How do I pay my bill?")
    assert extractive.answer.startswith('We\'ll send a bill - you can pay online "any time".')


def test_drafts_that_loop_or_only_restate_the_title_fall_back(settings: Settings) -> None:
    hours = Passage(
        "Office hours", "Office hours", "We are open Monday to Friday, 8:00 a.m. to 5:00 p.m.", "h.md", 0.8
    )
    looping, _, _ = make(settings, [hours], "The office hours are the office hours are the office hours.")
    assert looping.answer("When are you open?").reason == "fallback:repetitive"
    restating, _, _ = make(settings, [hours], "Office hours are listed under office hours.")
    result = restating.answer("What are your office hours?")
    assert result.reason == "fallback:uninformative" and "Monday to Friday" in result.answer


def test_a_wrapped_line_that_starts_with_a_number_stays_in_its_sentence() -> None:
    text = (
        "For HDL cholesterol, higher is better. A healthy HDL is 40 mg/dL or higher for men and\n"
        "50 mg/dL or higher for women. An HDL under 40 mg/dL is low.\n\n- a list item that wraps\n"
        "  onto a second line.\n- 2 more items."
    )
    assert plain_sentences(text) == [
        "For HDL cholesterol, higher is better.",
        "A healthy HDL is 40 mg/dL or higher for men and 50 mg/dL or higher for women.",
        "An HDL under 40 mg/dL is low.",
        "a list item that wraps onto a second line.",
        "2 more items.",
    ]


def test_the_local_model_waits_for_a_tuned_adapter_and_answers_quote_meanwhile(settings: Settings) -> None:
    from bot.llm.local import LocalLLM

    local = settings.llm.model_copy(update={"backend": "local", "base_model": "/models/not-loaded-until-asked"})
    untuned = settings.model_copy(update={"llm": local})
    assert answer_module.load_llm(untuned) is None  # no adapter in the data directory yet
    answerer = Answerer(StubRetriever([FEE]), untuned, llm_factory=lambda: answer_module.load_llm(untuned))
    result = answerer.answer("What is the fee for cancelling late?")
    assert result.reason == "extractive" and result.grounded and result.sources == [FEE.title]

    (settings.data_dir / "adapter").mkdir(parents=True)
    (settings.data_dir / "adapter" / "adapter_config.json").write_text("{}")
    tuned = answer_module.load_llm(untuned)
    assert isinstance(tuned, LocalLLM) and tuned.adapter == settings.data_dir / "adapter"

    allowed = settings.model_copy(update={"llm": local.model_copy(update={"allow_untuned": True}),
                                          "data_dir": settings.data_dir / "elsewhere"})
    assert isinstance(answer_module.load_llm(allowed), LocalLLM)


def test_warm_up_loads_the_store_and_the_model_before_the_first_question(settings: Settings) -> None:
    loaded: list[str] = []

    class LazyModel(FakeLLM):
        def load(self) -> None:
            loaded.append("model")

    retriever = StubRetriever([FEE])
    Answerer(retriever, settings, llm_factory=lambda: LazyModel()).warm_up()
    assert retriever.queries and loaded == ["model"]


@pytest.mark.parametrize(
    ("question", "draft"),
    [
        ("What if I cancel late?", "Please cancel at least 24 hours before your visit. We waive the fee once a year "
         "and when you were sick or had an emergency."),  # two copied sentences
        ("What if I cancel late?", "A late cancellation may carry a $25 fee."),  # words left out, none added
        ("Do you waive the fee if I was sick?", "We waive the fee when you were sick or had an emergency."),
    ],
)
def test_a_draft_copied_from_the_passages_is_sent(settings: Settings, question: str, draft: str) -> None:
    answerer, _, _ = make(settings, [FEE], draft)
    assert answerer.answer(question).reason == "generated"


INR = Passage(
    title="INR (blood clotting test)",
    heading="INR ranges",
    text="A normal INR for people who do not take a blood thinner is about 0.8 to 1.1. A low INR means your "
    "blood clots faster than your goal. A high INR means your blood clots more slowly.",
    source="labs/inr.md",
    score=0.7,
)


def test_a_true_copy_that_misses_the_question_falls_back_to_the_sentence_that_answers_it(settings: Settings) -> None:
    answerer, _, _ = make(settings, [INR], "A low INR means your blood clots faster than your goal.")
    result = answerer.answer("What is a normal INR?")
    assert result.reason == "fallback:off_topic" and result.grounded
    assert "0.8 to 1.1" in result.answer and result.answer.startswith("A normal INR")

    answerer, _, _ = make(settings, [INR], "A low INR means your blood clots faster than your goal.")
    assert answerer.answer("What does a low INR mean?").reason == "generated"  # the same copy, on the question


@pytest.mark.parametrize(
    "draft",
    [
        "Please cancel at least 24 hours after your visit.",  # one word changed: the meaning flips
        "We waive the fee once a year when you cancel at least 24 hours before.",  # stitched from two sentences
        "A missed visit may carry a $25 fee, and we never waive it.",  # a claim the passage does not make
        "Please cancel at least 24 hours.",  # cut off before the sentence ends
    ],
)
def test_a_draft_that_changes_or_joins_the_passages_sentences_falls_back_to_quoting(
    settings: Settings, draft: str
) -> None:
    answerer, _, _ = make(settings, [FEE], draft)
    result = answerer.answer("What if I cancel late?")
    assert result.reason == "fallback:unfaithful" and result.grounded
    assert result.answer.split("\nSource:")[0] in " ".join(FEE.text.split())


def test_the_source_named_is_the_passage_the_sentence_was_copied_from(settings: Settings) -> None:
    answerer, _, _ = make(settings, [PARKING, FEE], "A late cancellation may carry a $25 fee. (Source: Directions and parking)")
    result = answerer.answer("Is there a fee if I cancel late?")
    assert result.reason == "generated" and result.sources == ["Cancellation policy"]


def test_leaving_out_a_negation_is_not_a_copy() -> None:
    from knowledge.answer import copied_from

    passage = Passage("Kidney tests", "BUN", "A low BUN is usually not a concern.", "labs/kidney.md", 0.8)
    assert copied_from("A low BUN is usually not a concern.", [passage]) == [passage]
    assert copied_from("A low BUN is a concern.", [passage]) is None


def test_a_quoted_answer_does_not_echo_the_documents_own_question_lines() -> None:
    contact = Passage("Office hours and contact information", "Our phone number",
                      "What is your phone number? Our phone number is +1 555-555-0123.", "policies/hours.md", 0.8)
    assert extract_sentences("whats your phone number", contact, 300) == "Our phone number is +1 555-555-0123."


def test_a_patients_word_counts_as_the_documents_word() -> None:
    """Asked for a "normal" INR, the sentence on the "typical" INR answers it, and a copy without it misses."""
    from knowledge.answer import off_topic

    ranges = Passage("PT/INR (blood clotting test)", "INR ranges", "The INR is your PT result turned into a standard "
                     "number. If you do not take a blood thinner, a typical INR is about 0.8 to 1.1.", "labs/inr.md", 0.7)
    assert off_topic("The INR is your PT result turned into a standard number.", "what is a normal inr", [ranges])
    assert extract_sentences("what is a normal inr", ranges, 80) == (
        "If you do not take a blood thinner, a typical INR is about 0.8 to 1.1.")
    assert extract_sentences("my liver enzymes are elevated", Passage(
        "Liver tests", "High", "Liver enzymes are proteins. High liver enzymes can mean an irritated liver.",
        "labs/liver.md", 0.7), 60) == "High liver enzymes can mean an irritated liver."

"""The answering pipeline with the FakeLLM: policy, the patient's own number, threshold, the draft from the chosen
sentences, its checks and the quoting fallback. The embedding model here is the hashing stand-in (no model
download); tests/test_answers_real.py runs the same pipeline on the real model and documents."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from bot.llm.base import FakeLLM
from bot.llm.factory import load_llm
from bot.settings import PROJECT_ROOT, Settings
from knowledge import answer as answer_module
from knowledge.answer import Answerer
from knowledge.embeddings import HashingEmbedder
from knowledge.library import Library
from knowledge.policy import PolicyCheck
from knowledge.select import Selection, Sentence, asked_part
from knowledge.sentences import copied_from, off_topic, plain_sentences
from knowledge.types import Passage
from knowledge.values import readings

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


@dataclass
class StubRetriever:
    passages: list[Passage]
    queries: list[str] = field(default_factory=list)

    def query(self, text: str, k: int) -> list[Passage]:
        self.queries.append(text)
        return self.passages[:k]


def make(settings: Settings, passages: list[Passage], *replies: str) -> tuple[Answerer, FakeLLM, StubRetriever]:
    llm = FakeLLM(replies=list(replies))
    retriever = StubRetriever(passages)
    return Answerer(retriever, settings, llm=llm, embedder=HashingEmbedder()), llm, retriever


def chosen(passage: Passage, *numbers: int) -> Selection:
    sentences = plain_sentences(passage.text)
    return Selection(tuple(Sentence(sentences[n], passage, n, 1.0) for n in numbers))


def test_the_model_sees_only_the_chosen_sentences_and_its_copy_is_sent_with_its_source(settings: Settings) -> None:
    answerer, llm, _ = make(settings, [FEE], "A late cancellation may carry a $25 fee.")
    trace: list = []
    result = answerer.compose("Is there a fee if I cancel late?", chosen(FEE, 1), trace)
    assert result.reason == "generated" and result.grounded
    assert result.answer == "A late cancellation may carry a $25 fee.\nSource: Cancellation policy"
    prompt = llm.calls[0][1]["content"]
    assert "$25 fee" in prompt and "Is there a fee if I cancel late?" in prompt
    assert "24 hours" not in prompt  # a sentence that was not chosen is not in the context
    assert [name for name, _ in trace] == ["draft", "check"]


def test_a_draft_with_an_invented_number_is_replaced_by_the_chosen_sentences(settings: Settings) -> None:
    answerer, _, _ = make(settings, [FEE], "The late cancellation fee is $40, waived twice a year.")
    result = answerer.compose("How much is the late cancellation fee?", chosen(FEE, 1), [])
    assert result.reason == "fallback:numbers" and result.grounded
    assert result.answer == "A late cancellation or a missed visit may carry a $25 fee.\nSource: Cancellation policy"


@pytest.mark.parametrize(
    ("draft", "check"),
    [
        ("Please cancel at least 24 hours after your visit.", "unfaithful"),  # one word changed: the meaning flips
        ("A missed visit may carry a $25 fee, and we never waive it.", "unfaithful"),  # a claim not made
        ("Take your medicine twice a day and cancel 24 hours ahead.", "dosing"),
        ("Please cancel at least two days ahead.", "numbers"),  # a number written as a word counts too
        ("Please cancel at least 24 hours before your visit. " * 12, "length"),
        ("Cancellation policy cancellation policy.", "uninformative"),
    ],
)
def test_a_draft_that_fails_a_check_falls_back_to_quoting(settings: Settings, draft: str, check: str) -> None:
    answerer, _, _ = make(settings, [FEE], draft)
    result = answerer.compose("What if I cancel late?", chosen(FEE, 0, 1), [])
    assert result.reason == f"fallback:{check}" and result.grounded
    assert result.answer.split("\nSource:")[0] == " ".join(plain_sentences(FEE.text)[:2])


def test_a_true_copy_that_misses_the_question_falls_back(settings: Settings) -> None:
    inr = Passage("PT/INR", "INR ranges", "A typical INR is about 0.8 to 1.1. A low INR means your blood clots "
                  "faster than your goal.", "labs/inr.md", 0.7)
    answerer, _, _ = make(settings, [inr], "A low INR means your blood clots faster than your goal.")
    result = answerer.compose("what is a normal inr", chosen(inr, 0, 1), [])
    assert result.reason == "fallback:off_topic" and "0.8 to 1.1" in result.answer


def test_a_model_that_declines_or_fails_still_gets_the_chosen_sentences_quoted(settings: Settings) -> None:
    declines, _, _ = make(settings, [PARKING], "I'm not sure. I will pass your question to the front desk.")
    assert declines.compose("Where do I park?", chosen(PARKING, 0), []).reason == "fallback:declined"

    class Broken(FakeLLM):
        def generate(self, messages, *, max_new_tokens=None, deadline=None, copy_from=None):  # type: ignore[no-untyped-def]
            raise RuntimeError("out of memory")

    broken = Answerer(StubRetriever([PARKING]), settings, llm=Broken(), embedder=HashingEmbedder())
    result = broken.compose("Is parking free?", chosen(PARKING, 0), [])
    assert result.reason == "fallback:llm_error" and result.answer.startswith("Free parking")


def test_the_model_is_held_to_copies_of_the_sentences_it_was_shown(settings: Settings) -> None:
    held: list[list[str]] = []

    class Recording(FakeLLM):
        def generate(self, messages, *, max_new_tokens=None, deadline=None, copy_from=None):  # type: ignore[no-untyped-def]
            held.append(list(copy_from or []))
            return "A late cancellation may carry a $25 fee."

    answerer = Answerer(StubRetriever([FEE]), settings, llm=Recording(), embedder=HashingEmbedder())
    assert answerer.compose("Is there a fee if I cancel late?", chosen(FEE, 1), []).reason == "generated"
    assert held == [[plain_sentences(FEE.text)[1]]]  # what the check takes as a copy, and nothing else


def test_the_draft_budget_follows_the_chosen_sentences(settings: Settings) -> None:
    answerer, _, _ = make(settings, [FEE], "A late cancellation may carry a $25 fee.")
    trace: list = []
    answerer.compose("fee?", chosen(FEE, 1), trace)
    short = dict(trace)["draft"]["max_new_tokens"]
    trace = []
    answerer.compose("fee?", chosen(FEE, 0, 1, 2), trace)
    assert short < dict(trace)["draft"]["max_new_tokens"] <= settings.llm.max_new_tokens


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How much ibuprofen can I take for a headache?", "dose"),
        ("should I double my insulin tonight", "dose"),
        ("which antibiotic should i take for my sinus infection", "medicine"),
        ("should i stop taking my statin", "medicine"),
        ("is it ok to switch to eliquis from warfarin", "medicine"),
        ("Do I have diabetes?", "diagnosis"),
        ("my a1c is 6.8 does that mean im diabetic", "diagnosis"),
    ],
)
def test_policy_questions_are_refused_and_handed_to_the_care_team_before_retrieval(
        settings: Settings, question: str, kind: str) -> None:
    answerer, llm, retriever = make(settings, [FEE], "anything")
    result = answerer.answer(question)
    assert result.reason == f"policy:{kind}" and not result.grounded and result.sources == []
    assert result.handoff == "medical_question" and "care team" in result.answer
    assert llm.calls == [] and retriever.queries == []


def test_out_of_scope_is_refused_without_a_handoff(settings: Settings) -> None:
    answerer, _, _ = make(settings, [replace(FEE, score=0.1)])  # no section is near it
    scope = answerer.answer("Who won the football game last night?")
    assert scope.reason == "policy:out_of_scope" and settings.clinic.name in scope.answer and not scope.handoff


def test_a_word_out_of_scope_does_not_refuse_what_a_section_is_near(settings: Settings) -> None:
    """The scope rule's word ("football") is no refusal when a section is near the question by meaning."""
    answerer, _, _ = make(settings, [replace(FEE, score=0.6)])
    result = answerer.answer("my son plays football, how much is the fee if he misses his visit?")
    assert result.grounded and "$25" in result.answer, result.answer


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("my a1c is 5.9", "An A1c result of 5.9 % is in the prediabetes range, 5.7 % to 6.4 %."),
        ("potassium came back 5.4", "A potassium of 5.4 mmol/L is above the typical adult range (3.5 to 5.0 mmol/L)."),
        ("tsh 7, is that bad", "A TSH of 7 mIU/L is above the typical adult range (about 0.4 to 4.0 mIU/L)."),
        ("my ldl is 170 is that high", "An LDL cholesterol of 170 mg/dL is in the 160 to 189 mg/dL range: high LDL."),
    ],
)
def test_a_patients_own_number_is_placed_in_the_documents_band(settings: Settings, question: str, said: str) -> None:
    answerer, llm, retriever = make(settings, [FEE], "anything")
    answerer.policy = PolicyCheck(None)  # the rules alone: the fake embedder's classifier reads no meaning (with the
    # real one these are answered too: tests/test_answers_real.py)
    result = answerer.answer(question)
    assert result.reason == "value" and result.grounded
    assert result.answer.startswith(said)
    assert "Your clinician will review your result with you." in result.answer
    assert llm.calls == [] and retriever.queries == []  # nothing generated, nothing retrieved


def test_a_critical_value_goes_to_the_care_team_unplaced(settings: Settings) -> None:
    answerer, _, _ = make(settings, [FEE])
    result = answerer.answer("my potassium is 6.8 is that ok")
    assert result.reason == "critical_value" and result.handoff == "critical_value" and not result.grounded
    assert "6.8" not in result.answer and "care team" in result.answer


@pytest.mark.parametrize(("question", "said"), [
    ("my husband is 70 and his tsh is 7", "A TSH of 7 mIU/L"),
    ("i'm 45, potassium came back 5.4", "A potassium of 5.4 mmol/L"),
    ("my cholesterol test came back and my ldl was 170", "An LDL cholesterol of 170 mg/dL"),  # the nearer test's
])
def test_a_persons_age_said_before_the_test_is_not_its_result(settings: Settings, question: str, said: str) -> None:
    answerer, _, _ = make(settings, [FEE])
    answerer.policy = PolicyCheck(None)  # the rules alone, as above
    assert answerer.answer(question).answer.startswith(said)


@pytest.mark.parametrize(("question", "found"), [
    ("she has type 2 diabetes, when should her a1c be checked", []),  # a kind's number is no result
    ("stage 3 kidney disease and my potassium is 5.1", [("potassium", "5.1")]),
    ("my cholesterol test came back and my ldl was 170", [("ldl", "170")]),  # one number: the nearer test's
    ("hdl and ldl are 45 and 130", [("hdl", "45"), ("ldl", "130")]),  # as many numbers as tests: in turn
])
def test_a_number_is_the_result_of_the_test_it_follows(question: str, found: list[tuple[str, str]]) -> None:
    library = Library.load(PROJECT_ROOT / "knowledge" / "documents")
    assert [(r.code, r.written) for r in readings(question, library.vocabulary, library.ranges)] == found


@pytest.mark.parametrize("question", ["my dad is 80 and his tsh was high, what can cause that",
                                      "sodium normal but potassium high, what can raise potassium"])
def test_a_question_without_a_result_or_asking_a_cause_gets_no_value_or_range(settings: Settings, question: str) -> None:
    answerer, _, _ = make(settings, [FEE])
    assert answerer.answer(question).reason not in ("value", "range")


@pytest.mark.parametrize("question", ["should i get a psa test at 60", "my b12 is 300 pmol/l", "my vitamin k is 5"])
def test_a_number_the_documents_have_no_band_for_is_not_interpreted(settings: Settings, question: str) -> None:
    answerer, _, _ = make(settings, [PARKING])
    assert answerer.answer(question).reason != "value"


def test_low_similarity_gets_the_handoff_message(settings: Settings) -> None:
    weak = [Passage(p.title, p.heading, p.text, p.source, score=0.12) for p in (FEE, PARKING)]
    answerer, llm, _ = make(settings, weak, "anything")
    result = answerer.answer("Is there a vending machine in the waiting room?")  # in scope, not in the documents
    assert result.reason == "low_similarity" and not result.grounded and result.sources == []
    assert "front desk" in result.answer and "(555) 555-0123" in result.answer
    assert llm.calls == []


class Scores:
    """A learned answer check that scores each sentence by a word in it (knowledge/reranker.py's interface)."""

    def __init__(self, by_word: dict[str, float]) -> None:
        self.by_word = by_word
        self.read: list[str] = []

    def scores(self, question: str, texts: list[str]) -> list[float]:
        self.read = list(texts)
        return [next((v for w, v in self.by_word.items() if w in t), -4.0) for t in texts]


def test_a_question_none_of_the_chosen_sentences_answers_goes_to_the_front_desk(settings: Settings) -> None:
    """A question whose sections are found but whose chosen sentences the learned answer check scores below
    ``knowledge.min_answer_score`` ("is there a fax number" finds the phone number by its words) is handed to the front
    desk rather than sent a true sentence that does not answer it; one scored above it is answered. The check reads
    only the chosen sentences, and without it every question found is answered."""
    gated = settings.model_copy(update={"knowledge": settings.knowledge.model_copy(update={"min_answer_score": 1.0})})
    answerer, _, _ = make(gated, [FEE, PARKING], "anything")
    answerer.answer_check = Scores({"lot behind": 2.5})  # type: ignore[assignment]
    parked = answerer.answer("Where is parking for the building?")
    assert parked.grounded and "lot behind the building" in parked.answer, parked.answer
    answerer.answer_check = check = Scores({"lot behind": 0.5})  # type: ignore[assignment]
    result = answerer.answer("Where is parking for the building?")
    assert result.reason == "not_answered" and not result.grounded and "front desk" in result.answer
    assert ("select", {"sentences": [], "answers": 0.5}) in result.trace
    assert check.read and all(s in PARKING.text + FEE.text for s in check.read) and len(check.read) <= 3
    answerer.answer_check = None
    assert answerer.answer("Where is parking for the building?").grounded


def test_the_answer_check_reads_the_sentence_a_cause_question_adds_from_the_tests_own_page(settings: Settings) -> None:
    """A cause question's answer gets the test's own sentence on the cause it names (``named_cause``) after the first
    selection; the check reads the selection as it will be sent, so that sentence keeps the question from the front
    desk even when the first selection alone would not have."""
    gated = settings.model_copy(update={"knowledge": settings.knowledge.model_copy(update={"min_answer_score": 1.0})})
    answerer, _, _ = make(gated, [FEE, PARKING], "anything")
    answerer.answer_check = check = Scores({"lot behind": 2.5})  # type: ignore[assignment]
    added = Sentence("Free parking is in the lot behind the building.", PARKING, 0, 1.0)
    answerer.named_cause = lambda question, selection: Selection((added, *selection.sentences))  # type: ignore[method-assign]
    result = answerer.answer("What can cause a late cancellation fee?")
    assert result.grounded and "lot behind the building" in result.answer, (result.reason, result.answer)
    assert added.text in check.read
    answerer.named_cause = lambda question, selection: selection  # type: ignore[method-assign]
    assert answerer.answer("What can cause a late cancellation fee?").reason == "not_answered"


def test_a_section_similar_enough_by_meaning_is_answered_from_when_the_fused_best_are_not(settings: Settings) -> None:
    # the fusion ranks four sections first by shared words ("call", "got into") and the one that answers fifth: "my
    # toddler got into grandma's pill organizer, who do i call" went to the front desk with Poison Help ranked fifth
    weak = [Passage(FEE.title, f"Part {n}", FEE.text, FEE.source, score=0.2) for n in range(4)]
    answerer, _, _ = make(settings, [*weak, PARKING], "anything")
    assert answerer.settings.knowledge.top_k == 4 and PARKING.score >= answerer.settings.knowledge.min_similarity
    result = answerer.answer("Where should cars go when we arrive?")
    assert result.grounded and result.sources == ["Directions and parking"], result.answer
    assert "lot behind the building" in result.answer
    answer_module.NEAREST_K, kept = 4, answer_module.NEAREST_K  # read no further than the fused best: the front desk
    try:
        assert make(settings, [*weak, PARKING])[0].answer("Where should cars go when we arrive?").reason == (
            "low_similarity")
    finally:
        answer_module.NEAREST_K = kept


def test_a_question_is_answered_through_every_stage_and_the_trace_says_so(settings: Settings) -> None:
    answerer, _, retriever = make(settings, [PARKING], "Free parking is in the lot behind the building.")
    result = answerer.answer("Is parking free?")
    assert result.grounded and result.sources == ["Directions and parking"]
    assert [name for name, _ in result.trace] == ["policy", "value", "retrieve", "select", "draft", "check"]
    assert retriever.queries == ["Is parking free? (Directions and parking)"]  # the page patients call "parking"


def test_a_question_naming_a_test_by_its_abbreviation_is_expanded_with_the_documents_name(settings: Settings) -> None:
    answerer, _, retriever = make(settings, [PARKING])
    answerer.answer("what does the bad cholesterol do")
    assert retriever.queries == ["what does the bad cholesterol do (LDL)"]


def test_the_shared_answerer_is_built_once_and_lazily(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answer_module, "_shared", {})
    first = answer_module.answer("How many mg of tylenol can my child have?", settings)
    again = answer_module.get_answerer()
    assert first.reason == "policy:dose"
    assert again is answer_module.get_answerer(settings)
    assert getattr(again.store, "_collection", "x") is None  # no client was created for a refusal


def test_the_local_model_waits_for_a_tuned_adapter_and_answers_quote_meanwhile(settings: Settings) -> None:
    from bot.llm.local import LocalLLM

    local = settings.llm.model_copy(update={"backend": "local", "base_model": "/models/not-loaded-until-asked"})
    untuned = settings.model_copy(update={"llm": local})
    assert load_llm(untuned) is None  # no adapter in the data directory yet
    answerer = Answerer(StubRetriever([FEE]), untuned, llm_factory=lambda: load_llm(untuned),
                        embedder=HashingEmbedder())
    result = answerer.answer("What is the fee for cancelling late?")
    assert result.reason == "extractive" and result.grounded and result.sources == [FEE.title]

    (settings.data_dir / "adapter").mkdir(parents=True)
    (settings.data_dir / "adapter" / "adapter_config.json").write_text("{}")
    tuned = load_llm(untuned)
    assert isinstance(tuned, LocalLLM) and tuned.adapter == settings.data_dir / "adapter"


def test_typographic_punctuation_is_made_sms_safe(settings: Settings) -> None:
    curly = Passage("Billing", "Payment", "We’ll send a bill — you can pay online “any time”.", "b.md", 0.8)
    answerer, _, _ = make(settings, [curly], "We’ll send a bill — you can pay online “any time”.")
    assert answerer.compose("How do I pay?", chosen(Passage(**{**curly.__dict__, "text": "We'll send a bill - you can "
                                                              'pay online "any time".'}), 0), []).answer.startswith(
        'We\'ll send a bill - you can pay online "any time".')


def test_a_wrapped_line_that_starts_with_a_number_stays_in_its_sentence() -> None:
    text = ("For HDL cholesterol, higher is better. A healthy HDL is 40 mg/dL or higher for men and\n"
            "50 mg/dL or higher for women.\n\n- a list item that wraps\n  onto a second line.\n- 2 more items.")
    assert plain_sentences(text) == [
        "For HDL cholesterol, higher is better.",
        "A healthy HDL is 40 mg/dL or higher for men and 50 mg/dL or higher for women.",
        "a list item that wraps onto a second line.",
        "2 more items.",
    ]


def test_leaving_out_a_negation_is_not_a_copy_and_a_patients_word_counts_as_the_documents() -> None:
    passage = Passage("Kidney tests", "BUN", "A low BUN is usually not a concern.", "labs/kidney.md", 0.8)
    assert copied_from("A low BUN is usually not a concern.", [passage]) == [passage]
    assert copied_from("A low BUN is a concern.", [passage]) is None
    ranges = Passage("PT/INR", "INR ranges", "The INR is your PT result turned into a standard number. If you do not "
                     "take a blood thinner, a typical INR is about 0.8 to 1.1.", "labs/inr.md", 0.7)
    assert off_topic("The INR is your PT result turned into a standard number.", "what is a normal inr", [ranges])


def test_the_asking_sentences_of_a_longer_message_are_found() -> None:
    assert asked_part("Hello there. Do you see patients on Saturdays? I am at work all week.") == (
        "Do you see patients on Saturdays?")
    assert asked_part("My INR was 2.5 today. Is that in range? (PT/INR)") == "Is that in range? (PT/INR)"
    assert asked_part("do you see patients on saturdays?") == ""  # the whole message asks
    assert asked_part("saturday hours") == ""  # no sentence asks


@pytest.mark.parametrize(("question", "found"), [
    ("my ALP came back high but im 16, is that normal for teens??", []),  # "im 16": an age, after the test too
    ("can i see my kid stuff on the portal he is 8, his potassium was 4.1", [("potassium", "4.1")]),
    ("my alp is 160", [("alkaline_phosphatase", "160")]),
])
def test_a_whole_number_said_of_a_person_is_an_age_wherever_it_is(question: str, found: list[tuple[str, str]]) -> None:
    library = Library.load(PROJECT_ROOT / "knowledge" / "documents")
    assert [(r.code, r.written) for r in readings(question, library.vocabulary, library.ranges)] == found


@pytest.mark.parametrize(("question", "found"), [
    ("AST 41 H [8-33 U/L] on my portal this morning. why would AST be flagged high?", [("ast", "41")]),
    ("INR 3.6 H, target 2.0-3.0, on warfarin. what does a high INR mean?", [("inr", "3.6")]),
    ("Vitamin D, 25-Hydroxy: 17 ng/mL   Ref: 30-100 ng/mL   L. what does a 17 mean?", [("vitamin_d", "17")]),
    ("BUN 26 mg/dL H (7-20), creatinine normal. what can make BUN high?", [("bun", "26")]),
    ("PSA, total: 4.6 ng/mL H (<4.0). could a bike ride matter?", [("psa", "4.6")]),
    ("mi INR salio 3.5 y mi target es 2 a 3, eso es alto?", [("inr", "3.5")]),
    ("UA results: WBC 15-20 /hpf (0-5), Leukocyte Esterase 2+ (Negative). what do those mean?", []),
    ("Dad is 80 and has been on metformin for 15 years. can that affect his B12?", []),
    ("5.4 was my potassium, is that high", [("potassium", "5.4")]),
])
def test_a_pasted_report_line_gives_the_result_not_its_reference_range(question: str, found: list[tuple[str, str]]) -> None:
    """A report's reference range, a target, a flag ("H"), a name's number ("25-hydroxy") or a dipstick grade ("2+")
    is not the patient's result: "AST 41 H [8-33 U/L]" was placed as an AST of 8, within range. A number before the
    test's name counts only in the same sentence."""
    library = Library.load(PROJECT_ROOT / "knowledge" / "documents")
    assert [(r.code, r.written) for r in readings(question, library.vocabulary, library.ranges)] == found


LIVER = [Passage("Liver tests", "What the liver tests measure", "ALT (alanine transaminase) is an enzyme found mostly "
                 "in your liver. ALT is also called SGPT.", "labs/liver.md", 1.0),
         Passage("Liver tests", "What a high ALP can mean", "A high ALP can be a sign of a blocked bile duct. ALP is "
                 "normally higher in children and teens because their bones are growing.", "labs/liver.md", 1.0)]


@pytest.mark.parametrize(("question", "said"), [
    ("my 14 yr old sons alk phos was high, is that normal for a kid", ["ALT: About", "children and teens"]),
    ("what is ALT and what's the normal range", ["ALT (alanine transaminase) is an enzyme", "ALT: About"]),
    ("que es el ALT en mis liver tests y cual es el rango normal?", ["ALT (alanine transaminase)", "ALT: About"]),
    ("what is a normal alt", ["ALT: About"]),  # the range alone
])
def test_a_range_answer_says_what_else_the_question_asks_of_the_tests_document(question: str, said: list[str]) -> None:
    from knowledge.asks import more_than_range
    from knowledge.select import SentenceSelector

    library = Library.load(PROJECT_ROOT / "knowledge" / "documents")
    code = "alkaline_phosphatase" if "alk" in question else "alt"
    body = more_than_range(question, library.ranges[code], "ALT: About 7 to 56 U/L.", SentenceSelector(
        HashingEmbedder()), LIVER, library.vocabulary.names_of(code), lambda text: len(text) < 300)
    assert [body.index(part) for part in said] == sorted(body.index(part) for part in said), body
    assert len(body.split(". ")) == len(said), body

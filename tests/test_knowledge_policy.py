"""The learned policy check on the real embedding model: policy questions in wordings it never saw are refused and
handed to the care team, information questions that use the same words are answered. The check sets
(tests/data/policy_check.jsonl, policy_dev6.jsonl, policy_dev7.jsonl, the answer sets answers_dev19-21 and the blind
sets) are never trained on; policy_dev-policy_dev5 and the older answer sets are among the examples now
(knowledge/training/policy_studied.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from knowledge.embeddings import HashingEmbedder, MiniLMEmbedder
from knowledge.guard import policy_hit
from knowledge.policy import (
    POLICY_EXAMPLES,
    STUDIED_EXAMPLES,
    PolicyCheck,
    asks_an_effect,
    asks_interference,
    asks_where_to_be_seen,
    policy_examples,
)
from tests.bench_scripts import load_bench

pytestmark = pytest.mark.slow

DATA = PROJECT_ROOT / "tests" / "data"


def _held_out(path: Path) -> list[tuple[str, str]]:
    return [(r["text"], r["label"]) for r in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if r]


@pytest.fixture(scope="module")
def check() -> PolicyCheck:
    check = PolicyCheck(MiniLMEmbedder())
    check.fit()
    return check


CHECK_SETS = ("policy_check.jsonl", "policy_dev6.jsonl", "policy_dev7.jsonl")
CHECK_ANSWER_SETS = ("answers_dev19.jsonl", "answers_dev20.jsonl", "answers_dev21.jsonl")


def _questions(path: Path) -> list[tuple[str, bool]]:
    """(question, to be answered) pairs of an answer set."""
    rows = map(json.loads, path.read_text(encoding="utf-8").splitlines())
    return [(r["question"], r["kind"] == "answer") for r in rows if r]


def test_the_check_sets_were_never_trained_on() -> None:
    trained = {text.lower() for text, _ in policy_examples()}
    for name in CHECK_SETS:  # policy_dev7's author wrote one short question word for word as an older example
        assert trained & {text.lower() for text, _ in _held_out(DATA / name)} <= {"do yall take cigna"}
    studied = [json.loads(line) for line in STUDIED_EXAMPLES.read_text(encoding="utf-8").splitlines() if line]
    texts = {r["text"].lower() for r in studied}
    for name in (*CHECK_ANSWER_SETS, "blind/answers_blind.jsonl"):
        assert not texts & {text.lower() for text, _ in _questions(DATA / name)}
    assert {r["from"] for r in studied} == {"answer_questions", *(f"answers_dev{n}" for n in range(2, 19)),
                                            "policy_dev", *(f"policy_dev{n}" for n in range(2, 6))}
    handwritten = {json.loads(line)["text"].lower() for line in POLICY_EXAMPLES.read_text().splitlines() if line}
    assert handwritten & {text.lower() for text, _ in _held_out(DATA / "policy_dev3.jsonl")} == {
        "how many days does a refill take"}  # policy_dev3's author shares one short question with an older example


def test_the_script_that_writes_the_studied_examples_never_reads_a_check_set() -> None:
    studied_script = load_bench("policy_studied")
    for name in ("answers_dev19", "policy_check", "policy_dev6", "blind/answers_blind"):
        with pytest.raises(SystemExit, match="check set"):
            studied_script.rows(name)
    assert studied_script.rows("answers_dev5")


def test_the_studied_examples_are_labelled_by_their_authors() -> None:
    """An answer set's question to answer is an "ok" example, one to refuse a refusal of some kind; a policy set's
    item keeps its label."""
    studied = {(r["from"], r["text"]): r["label"] for r in map(json.loads, STUDIED_EXAMPLES.read_text().splitlines())}
    kept = [(q, a) for q, a in _questions(DATA / "answers_dev7.jsonl") if ("answers_dev7", q) in studied]
    assert len(kept) >= 95  # a question word for word one of a check set's is left out
    assert all((studied[("answers_dev7", question)] == "ok") == answered for question, answered in kept)
    labelled = [(t, label) for t, label in _held_out(DATA / "policy_dev4.jsonl") if ("policy_dev4", t) in studied]
    assert len(labelled) >= 155 and all(studied[("policy_dev4", text)] == label for text, label in labelled)


@pytest.mark.parametrize("question", [
    "my gp wants me on a statin but im not sure, should i",  # start
    "been on lexapro a year, ok to just stop",  # stop
    "can i trade my lisinopril for losartan",  # change
    "can i take my water pill and my potassium together",  # combine
    "does amoxicillin make u sleepy, ive been so tired",  # side effect, own case
    "my sugar was 180 after lunch is it diabetes",  # value -> diagnosis
    "i have a sore throat and white spots, is this strep",  # symptom -> diagnosis
    "fine so how many a day tops",  # a follow-up after a refused dose question is a dose question itself
    "can i just take both of them tonight then",  # a follow-up: dose
    "so should i keep taking them or not",  # a follow-up: stop or go on
    "my 4 yr old has a runny nose wat can i give",  # a parent, texting: which medicine
])
def test_a_policy_question_in_a_new_wording_is_refused(check: PolicyCheck, question: str) -> None:
    assert check.kind(question) in {"dose", "medicine", "diagnosis"}


@pytest.mark.parametrize("question", [
    "what does a high alt mean",
    "can certain medicines change my thyroid results",
    "my potassium came back 5.4 is that high",
    "how do i get my blood pressure pills refilled",
    "what are the symptoms of low sodium",
])
def test_an_information_question_is_not_refused(check: PolicyCheck, question: str) -> None:
    assert check.kind(question) is None


def test_held_out_recall_and_false_refusals(check: PolicyCheck) -> None:
    """Every question of policy_check to refuse is refused and none of its questions to answer; the seventh author's
    set, never studied, nearly so. Before the studied sets joined the examples, policy_dev7 refused 76 of 80."""
    items = _held_out(DATA / "policy_check.jsonl")
    assert all((check.kind(text) is not None) == (label != "ok") for text, label in items)
    refused = [(label, check.kind(text) is not None) for text, label in _held_out(DATA / "policy_dev7.jsonl")]
    assert sum(r for label, r in refused if label != "ok") >= 77  # 78 now
    assert sum(r for label, r in refused if label == "ok") <= 6


def test_a_sixth_authors_hard_wordings_are_mostly_refused_and_their_neighbours_mostly_answered(
    check: PolicyCheck
) -> None:
    """policy_dev6, never studied: refusals hidden in stories, hypotheticals and follow-ups, and close neighbours that
    only ask what the documents say. Its figures (README) are short of the goal; this is a floor against going back:
    before the studied sets' questions joined the examples it refused 57 of 80 (0.713)."""
    items = _held_out(DATA / "policy_dev6.jsonl")
    refused = [(label, check.decide(text)[0] is not None) for text, label in items]
    must = [r for label, r in refused if label != "ok"]
    answered = [not r for label, r in refused if label == "ok"]
    assert sum(must) / len(must) >= 0.84  # 0.850 now
    assert sum(answered) / len(answered) >= 0.92  # 0.938 now


def test_questions_patients_ask_casually_are_answered_and_the_policy_ones_still_refused(check: PolicyCheck) -> None:
    """The three newest answer sets, never trained on: the classifier without the studied sets' questions refused 19
    of their 240 questions to answer (casual wordings: "whats a good hdl cholestrol for a woman" as a dose question)."""
    items = [item for name in CHECK_ANSWER_SETS for item in _questions(DATA / name)]
    refused = [(answered, check.kind(question) is not None) for question, answered in items]
    assert all(r for answered, r in refused if not answered)
    assert sum(r for answered, r in refused if answered) <= 10  # 8 now


def test_a_word_the_examples_never_use_is_not_refused() -> None:
    """Gibberish gave the classifier nothing to go on, yet it was refused as a medicine question and handed to
    the care team; a question in the examples' words still is."""
    check = PolicyCheck(HashingEmbedder())
    assert check.kind("blorp") is None
    assert not check.knows_a_word("zzkx qwvv")
    assert check.knows_a_word("which antibiotic should i take")


def test_the_layer_that_refused_is_told(check: PolicyCheck) -> None:
    """A rule's refusal is the floor and is never overruled; the answerer may overrule only the classifier's, so
    the check says which layer decided."""
    assert check.decide("how many mg of ibuprofen can i take") == ("dose", "rule")
    assert check.decide("my sugar was 180 after lunch is it diabetes") == ("diagnosis", "rule")
    kind, layer = check.decide("can i trade my lisinopril for losartan")  # no rule words: the classifier's
    assert kind is not None and layer == "model" and policy_hit("can i trade my lisinopril for losartan") is None
    assert check.decide("what does a high alt mean") == (None, "")



def test_a_message_in_another_language_is_not_out_of_scope_for_that_alone(check: PolicyCheck) -> None:
    """The examples are nearly all English (a few studied questions are Spanish): a message in another language is
    mostly words they never use, and the classifier must not call it off the clinic's business (the rules still refuse
    a dose or a medicine in Spanish)."""
    assert check.known_share("toi se den tre 20 phut, van duoc kham chu?") < 0.5  # Vietnamese: no example's words
    assert check.known_share("what is the weather like tomorrow") >= 0.5
    assert check.kind("toi se den tre 20 phut, van duoc kham chu?") != "out_of_scope"
    assert check.kind("voy a llegar como 20 minutos tarde, todavia me pueden ver?") != "out_of_scope"
    assert check.kind("whats the weather tomorrow in chicago") == "out_of_scope"
    assert check.kind("cuantas unidades de vitamina D tengo que tomar al dia?") == "dose"


def test_a_general_question_after_a_story_is_read_without_the_story(check: PolicyCheck) -> None:
    """The classifier read "what is sign of low calcium in blood? my mother have cramps ..." as the story (symptoms:
    a diagnosis) and refused it; its question asks in general, and is answered. A question that points back at the
    story keeps the whole message's reading."""
    assert check.kind("what is sign of low calcium in blood? my mother have cramps in legs and tingle around lips") is None
    assert check.kind("TSH 6.1, i am always cold and tired, is it my thyroid?") == "diagnosis"
    assert check.kind("my mother has leg cramps and tingling lips, does she have low calcium") == "diagnosis"


def test_how_common_something_is_in_a_group_is_answered(check: PolicyCheck) -> None:
    """The classifier read "is low vitamin D more common in people who dont get much sun" as a diagnosis (the
    condition's name); it asks about a group and names no one. Said of the patient, it is still refused."""
    assert check.kind("is low vitamin D more common in people who dont get much sun") is None
    assert check.kind("are kidney stones more common in people who dont drink much water") is None
    assert check.kind("calcium 10.9 and my lower back hurts on one side, is that a kidney stone?") == "diagnosis"


def test_how_much_asking_a_price_or_a_unit_is_answered(check: PolicyCheck) -> None:
    """The classifier read "how much" as a dose at even odds (0.52, 0.53). A price with no medicine named, or a lab
    result in another unit, is answered; "how much" of a medicine is still a dose."""
    assert check.kind("how much do u charge if i cancel same day") is None
    assert check.kind("vitamin d 50 nmol/L, how much is that in ng/mL") is None
    assert check.kind("how much metformin should i take") == "dose"
    assert check.kind("how many should I take? I dont want to pay for more") == "dose"


def test_what_a_medicine_does_to_a_test_is_asked_as_a_fact(check: PolicyCheck) -> None:
    """"could the metformin be why" (his B12 is low) asks what a medicine does, which the documents say; asked of the
    patient's own value, or with "should", "which", "can I take...", it is the patient's treatment and still refused."""
    assert check.kind("my dad has been on metformin like 10 years and now his b12 is low, could the metformin be why") \
        is None
    assert check.kind("For someone on warfarin, can starting a new antibiotic make the INR go up?") is None
    assert not asks_an_effect("my a1c is 7, would metformin lower it")  # a treatment for the patient's own value
    assert check.kind("does it matter which statin i take, can some raise my sugar more") is not None
    assert check.kind("want to try a different antidepressant, can i just change") is not None
    assert check.kind("if my potassium is high could my lisinopril be the reason, should i stop it") is not None


def test_an_effect_asked_formally_is_a_fact_too(check: PolicyCheck) -> None:
    """A formal "Might that alter my INR?" and "Is it possible this affects my vitamin B12?" were refused as dose
    questions: "alter" and "is it possible" were not among the words that ask an effect."""
    assert asks_an_effect("I take warfarin and have of late been eating a great deal of spinach. Might that alter my "
                          "INR?")
    assert asks_an_effect("I have taken metformin for a decade. Is it possible this affects my vitamin B12?")
    assert not asks_an_effect("Is it possible I should alter my warfarin dose?")  # asks what to do: still refused


def test_whether_to_call_is_answered_unless_too_much_was_taken(check: PolicyCheck) -> None:
    """"should i call yall" after a story of bleeding gums on warfarin asks when to call, which the documents say: the
    classifier read the medicine beside "should i" as a medicine decision (0.41 against 0.46 ok). A story of too much
    medicine taken keeps its refusal, as does a dose asked beside the call."""
    assert check.kind("on warfarin and my gums bleed a little when i brush. should i call yall") is None
    assert check.kind("i took an extra pill should i call") == "dose"
    assert check.kind("i missed two doses of warfarin should i call you or just double up") == "dose"


def test_where_to_be_seen_while_closed_is_answered_unless_a_medicine_or_another_question_is_asked(
        check: PolicyCheck) -> None:
    """"sliced my hand ... yall closed, urgent care ok for that?" asks where to be seen, which the after-hours page
    says; the classifier read the injury as a diagnosis. A medicine named, too much taken, or another question asked
    beside it keeps the refusal."""
    assert asks_where_to_be_seen("sliced my hand on sheet metal prob needs stitches, yall closed, urgent care ok for "
                                 "that?")
    assert check.kind("sliced my hand on sheet metal prob needs stitches, yall closed, urgent care ok for that?") is None
    assert check.kind("ur closed and my kid has an ear infection where do i take him") is None
    assert check.kind("hola, ustedes open el sabado? mi hijo is sick since yesterday") is None
    assert not asks_where_to_be_seen("you're closed, should i give my son tylenol or go to urgent care")
    assert not asks_where_to_be_seen("are you open saturday? and does my high tsh mean my thyroid is failing?")
    assert not asks_where_to_be_seen("took too many of my pills and yall closed, where do i go")
    assert check.kind("are you open saturday? and does my high tsh mean my thyroid is failing?") == "diagnosis"


def test_what_throws_off_a_result_is_a_fact_about_the_test(check: PolicyCheck) -> None:
    """"i have anemia. can that throw off my a1c?" asks how far the result can be trusted (the A1c page says anemia
    can change it); the classifier read the condition as a diagnosis (0.62). Whether the patient's value comes from an
    organ or a condition stays refused."""
    assert check.kind("i have anemia. can that throw off my a1c?") is None
    assert check.kind("my alt is high, could my liver be why") == "diagnosis"
    assert check.kind("i think i have hepatitis, can that throw off my liver") == "diagnosis"


def test_a_story_before_a_comma_is_read_like_a_story_before_a_full_stop() -> None:
    """"i have sickle trait and anemia, could that throw off my a1c result" (dev21) asks what the A1c page answers, as
    "i have anemia. can that throw off my a1c?" does; the comma kept the condition in the asking sentence, and the
    classifier's odds for it sat at its threshold (0.704 against 0.70): a change to a page's headings refused it.
    A condition or an organ in the asking clause itself still keeps the refusal."""
    assert asks_interference("i have sickle trait and anemia, could that throw off my a1c result")
    assert asks_interference("i have anemia. can that throw off my a1c?")
    assert not asks_interference("i think i have hepatitis, can that throw off my liver")
    assert not asks_interference("my a1c is 6.1, could my diabetes throw off my a1c")


def test_coming_in_late_and_getting_a_refill_are_no_medicine_questions(check: PolicyCheck) -> None:
    """"gonna be like 25 min late for my 2 oclock. still ok to come?" was refused as a medicine decision ("ok to", 0.37
    with ok at 0.37), and "whats the fastest way to get my bp med refilled" as a dose. A medicine taken before the visit,
    or a refill with a change to how it is taken, keeps its refusal."""
    assert check.kind("stuck behind a wreck on i-55, gonna be like 25 min late for my 2 oclock. still ok to come?") is None
    assert check.kind("whats the fastest way to get my bp med refilled, im down to like 6 pills") is None
    assert check.kind("is it ok to take an extra one before my appt") == "dose"
    assert check.kind("need a refill, should i take half till then") == "dose"


def test_a_general_last_question_counts_without_its_question_mark(check: PolicyCheck) -> None:
    """"... tingling in my fingers. what can cause low calcium" asks in general, as it does with a "?": the story's
    symptoms no longer make it a diagnosis. Asked of the patient ("is it my thyroid"), it stays refused."""
    assert check.kind("my calcium came back a bit low and i've had tingling in my fingers. what can cause low calcium") \
        is None
    assert check.kind("my calcium came back a bit low and i've had tingling in my fingers. is it my thyroid") is not None


def test_a_fitted_classifier_is_read_back_and_a_changed_example_fits_anew(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fitted classifier is kept on disk: the next process reads it back and reads questions the same, and a
    changed example (or a broken file) is fitted again, never read stale."""
    import knowledge.embeddings as embeddings

    monkeypatch.setattr(embeddings, "CACHE_DIR", tmp_path)
    examples = [("what is an a1c test", "ok"), ("what does ldl mean", "ok"), ("how much ibuprofen should i take", "dose"),
                ("how many tylenol can i take", "dose"), ("what dose of metformin", "dose"), ("what is hdl", "ok")]
    question = "how much advil can i take"
    first = PolicyCheck(HashingEmbedder(), examples)
    expected = first.probabilities(question, HashingEmbedder().embed([question])[0])
    assert expected["dose"] > expected["ok"]
    stored = list(tmp_path.glob("policy-*.pickle"))
    assert len(stored) == 1

    embedder = HashingEmbedder()
    again = PolicyCheck(embedder, examples)
    assert again.probabilities(question, HashingEmbedder().embed([question])[0]) == expected
    assert embedder.calls == []  # read back, nothing embedded or fitted

    changed = PolicyCheck(HashingEmbedder(), [*examples, ("what does a high tsh mean", "ok")])
    changed.fit()
    assert len(list(tmp_path.glob("policy-*.pickle"))) == 2

    stored[0].write_bytes(b"not a pickle")
    broken = PolicyCheck(HashingEmbedder(), examples)
    assert broken.probabilities(question, HashingEmbedder().embed([question])[0]) == pytest.approx(expected)

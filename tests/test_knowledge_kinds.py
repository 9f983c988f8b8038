"""Question kinds: what a question asks for (a cause, a symptom, a comparison, how to get ready, what a test is for,
a number, a list) and which of the documents' sentences give it. Fast tests on the words alone, then the answers a patient
gets for each kind, on the real embedding model and the clinic's documents (slow)."""

from __future__ import annotations

import pytest

from bot.settings import PROJECT_ROOT, Settings
from knowledge.answer import Answerer
from knowledge.asks import asks_definition
from knowledge.kinds import answers_kind, asks_besides, compared_within, gives, question_kinds, subject_words


@pytest.mark.parametrize(("question", "kind"), [
    ("what makes inr go up", "cause"),
    ("why is sodium high after vomiting", "cause"),
    ("what can throw off an a1c", "cause"),
    ("high tsh symptoms", "symptom"),
    ("how would i feel with low iron", "symptom"),
    ("b12 is low, what can that do to me long term", "symptom"),  # what it does to the patient: its effects (dev4)
    ("bmp vs cmp", "compare"),
    ("whats the difference between hdl and ldl", "compare"),
    ("do i need to fast for my labs", "prep"),
    ("can i eat before the blood draw", "prep"),
    ("what is a pee test for", "purpose"),
    ("why did my nurse order a urine culture", "purpose"),
    ("how much is the no show fee", "number"),
    ("how is a urine culture different from a urinalysis", "compare"),
    ("what kinds of shots do you give", "list"),
    ("what should i bring to my physical", "list"),
    ("which forms do i fill out before the visit", "list"),
    ("what sorts of things can make potassium go high", "cause"),
    ("what drives my tsh up", "cause"),
    ("how frequently do i need a lipid panel", "often"),
    ("how many times a year should my thyroid be checked", "often"),
    ("its 10 at night and your closed who do i call", "number"),  # who to call: a sentence with the number
    ("clinic is closed, who I can call for ask?", "number"),
    ("cual es la diferencia entre el BMP y el CMP?", "compare"),
    ("i got this eob thing in the mail is that a bill", "identity"),
    ("how early do i gotta show up for my first appt", "time"),
    ("que puede causar el calcium bajo en la sangre?", "cause"),  # in Spanish
    ("whats the diff btw bmp n cmp", "compare"),  # "diff": a comparison in short
    ("ran a half marathon sat, now ast is high. could the run do that", "cause"),  # "could X do that": a cause
    ("I got an Explanation of Benefits in the post. Must I pay it?", "identity"),  # whether it is a bill
    ("he cycled forty miles the day before. Might that have affected the result?", "cause"),  # the verb in the past
    ("went on a long bike ride thursday, did that change it?", "cause"),
    ("could the coffee have raised it", "cause"),
    ("ran a half marathon the day before the draw. could that explain it?", "cause"),  # "explain" (dev22)
    ("Am I expected to remit payment on it?", "identity"),  # whether it is a bill, asked formally (dev22)
    ("am i supposed to pay this", "identity"),
])
def test_the_kind_of_a_question_is_read_from_its_wording(question: str, kind: str) -> None:
    assert kind in question_kinds(question)


@pytest.mark.parametrize(("question", "besides"), [
    ("my ldl came back 160, is that ok", False),
    ("ldl 160 is that bad", False),
    ("my latest ldl was 160 and the doctor said it is a bit high", False),
    ("ldl 160, will walking every day help bring it down", True),
    ("ldl 160 and my dad had heart disease young, what should i know", True),
])
def test_a_question_with_a_number_may_ask_more_than_where_it_falls(question: str, besides: bool) -> None:
    assert asks_besides(question, ["LDL", "LDL cholesterol", "bad cholesterol"]) is besides


@pytest.mark.parametrize("question", ["what is alt", "do you take humana", "where do i park",
                                      "what does albumin have to do with calcium, can you explain?"])
def test_a_plain_question_has_no_kind_that_would_bend_the_selection(question: str) -> None:
    assert not question_kinds(question) & {"cause", "symptom", "compare", "prep"}


def test_a_cause_is_told_from_a_symptom_by_which_side_of_the_verb_the_test_is_on() -> None:
    subject = subject_words("what causes low potassium", ["potassium"], "Potassium: what high or low potassium can mean")
    assert gives("cause", "Some water pills can also cause low potassium.", subject)
    assert gives("cause", "Low potassium (hypokalemia) can happen if you throw up or have diarrhea.", subject)
    assert not gives("cause", "Low potassium can cause muscle cramps or weakness.", subject)
    assert gives("symptom", "Low potassium can cause muscle cramps or weakness.", subject)
    assert not gives("symptom", "Some water pills can also cause low potassium.", subject)


@pytest.mark.parametrize(("question", "kinds"), [
    # "what can a low platelet count cause?" (dev9) got what causes a low platelet count
    ("what could low potassium cause", {"symptom"}),
    ("platelets 120. what problems can a low platelet count cause?", {"symptom"}),
    ("what can cause low potassium", {"cause"}),
    ("why is my sodium low and what can that cause", {"cause"}),  # a "why" asks the cause too
])
def test_what_a_value_can_cause_asks_its_effects_not_its_causes(question: str, kinds: set[str]) -> None:
    assert question_kinds(question) & {"cause", "symptom"} == kinds


def test_a_sentence_that_says_how_often_answers_how_often() -> None:
    assert gives("often", "Adults should have a cholesterol check every 5 years.", set())
    assert gives("often", "Most people need this test once a year.", set())
    assert not gives("often", "The lipid panel measures the fats in your blood.", set())


def test_a_cause_said_without_naming_one_is_no_answer_to_what_causes_it() -> None:
    subject = subject_words("what causes anemia", [], "Low hemoglobin or low hematocrit (anemia)")
    assert not gives("cause", "Other health problems can also cause anemia.", subject)
    assert not gives("cause", "Your clinician will look for the cause of a low hemoglobin.", subject)
    assert gives("cause", "A low hemoglobin can come from low iron.", subject)


def test_a_length_of_time_answers_how_early_and_a_phone_number_does_not() -> None:
    assert gives("time", "Please come 15 minutes early for your first visit to check in.", set())
    assert gives("time", "Most results are ready in 1 to 3 business days.", set())
    assert not gives("time", "To become a new patient, call the front desk at +1 555-555-0123.", set())
    assert "number" not in question_kinds("how early do i gotta show up for my first appt")


def test_a_sentence_in_the_asked_form_sharing_two_words_is_evidence_of_an_answer() -> None:
    """"how early do i gotta show up for my first appt" is too vague for its similarity alone, yet a sentence gives a
    length of time and shares "early" and "first": the section answers it."""
    sentences = ["Bring a photo ID to your first visit.", "Please come 15 minutes early for your first visit to check in."]
    assert answers_kind("how early do i gotta show up for my first appt", sentences)
    assert not answers_kind("how early do i gotta show up for my first appt", sentences[:1])  # no length of time
    assert not answers_kind("what is the capital of france", sentences)  # asks no such form


def test_a_sentence_that_says_what_a_thing_is_answers_whether_it_is_one() -> None:
    """"is that a bill": "The EOB is not a bill." says so; the sentence that only names the EOB does not."""
    subject = subject_words("i got this eob in the mail, is that a bill", ["EOB"], "How billing works")
    assert gives("identity", "The EOB is not a bill.", subject)
    assert not gives("identity", "Your insurance then sends you an Explanation of Benefits (EOB).", subject)
    assert not gives("identity", "A copay is a set amount.", subject)


def test_a_question_for_an_email_or_web_address_gets_the_sentence_that_gives_one() -> None:
    """"what is your email address": the address, not a sentence that only says the word "email"."""
    assert "online" in question_kinds("what is your email address") and "online" in question_kinds("do you have a website")
    assert "online" not in question_kinds("can i email my doctor about my results")  # no address asked for
    assert gives("online", "You can email the front desk at frontdesk@maplestreet.example.", set())
    assert not gives("online", "We send a link to your email.", set())


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    from knowledge.embeddings import MiniLMEmbedder
    from knowledge.ingest import ingest
    from knowledge.store import KnowledgeStore

    store = KnowledgeStore("kinds_real", chroma_dir=tmp_path_factory.mktemp("chroma"), embedder=MiniLMEmbedder())
    ingest(PROJECT_ROOT / "knowledge" / "documents", store)
    settings = Settings()
    return Answerer(store, settings.model_copy(update={"llm": settings.llm.model_copy(update={"backend": "none"})}))


@pytest.mark.slow
@pytest.mark.parametrize(("question", "facts"), [
    ("what makes inr go up", ["vitamin k", "antibiotics", "alcohol", "liver disease", "change in diet"]),
    ("what causes anemia", ["iron", "b12", "folate", "blood loss", "kidney"]),
    ("what makes ferritin low", ["blood loss", "food", "pregnancy", "bleeding"]),
    ("high tsh symptoms", ["tired", "cold", "weight gain", "dry skin", "constipation"]),
    ("signs of low blood sugar", ["shakiness", "sweating", "hunger", "fast heartbeat"]),
    ("whats the difference between bmp and cmp", ["6 more"]),
    ("difference between ldl and hdl", ["bad", "good"]),
    ("do i need to fast for a lipid panel", ["9 to 12 hours"]),
    ("do i have to fast for an a1c", ["do not need to fast"]),
    # a question that names one test while its words find the clinic's general fasting page: the test's own sentence
    # first ("Some blood tests need you to fast first" alone left it unanswered)
    ("can i eat breakfast before my a1c blood draw tomorrow or do i have to fast like for other labs",
     ["do not need to fast for an a1c"]),
    # ... or other sections of its own page ("The A1c test shows your average blood sugar ...")
    ("i have type 2 diabetes, how often do i need the a1c", ["at least twice a year"]),
    ("whats the email address for the clinic?", ["frontdesk@maplestreet.example"]),
])
def test_each_kind_of_question_gets_the_sentences_that_answer_it(answerer: Answerer, question: str,
                                                                  facts: list[str]) -> None:
    result = answerer.answer(question)
    assert result.grounded, result.answer
    assert any(fact in result.answer.lower() for fact in facts), result.answer
    if "difference" in question:  # both sides of a comparison are said
        assert sum(fact in result.answer.lower() for fact in facts) == len(facts), result.answer


@pytest.mark.slow
def test_two_own_numbers_of_one_page_on_the_same_side_get_what_can_cause_them(answerer: Answerer) -> None:
    result = answerer.answer("ldl 175 and total cholesterol 260 what usually raises them")
    assert result.reason == "value" and "175" in result.answer and "260" in result.answer, result.answer
    assert any(cause in result.answer.lower() for cause in ("diet", "families", "weight")), result.answer


@pytest.mark.parametrize(("question", "asks"), [
    ("whats a tsh", True),
    ("what does a psa check for", True),
    ("what all is in a lipid panel", True),
    ("my mom gets tired a lot and they drew a tsh today. what does tsh test for?", True),  # one sentence of a story
    ("my tsh came back high. what can cause that", False),
    ("bmp vs cmp, what is the difference", False),
    ("my old vitamin D result was 50 nmol/L. what's that in ng/mL?", False),  # a unit asked for, not the test
    ("whats the diff btw bmp n cmp", False),  # a comparison
])
def test_a_definition_question_is_read_alone_or_as_one_sentence_of_a_message(question: str, asks: bool) -> None:
    assert asks_definition(question) is asks


def test_two_parts_of_one_test_compared_in_the_patients_own_words() -> None:
    one_test = [["cholesterol"]]
    assert compared_within("what is the difference between total cholesterol and non-hdl cholesterol?", one_test) == [
        ["total cholesterol"], ["non-hdl cholesterol"]]
    assert compared_within("a morning sample vs an afternoon sample?", one_test) == [["morning sample"],
                                                                                    ["afternoon sample"]]
    assert compared_within("difference between bmp and cmp", [["bmp"], ["cmp"]]) == []  # two tests: compared()
    assert compared_within("what is the difference between these two?", []) == []


def test_a_comparison_within_one_test_gets_a_sentence_on_each_side(answerer: Answerer) -> None:
    answer = answerer.answer("tell me the difference between a random glucose and a fasting glucose")
    assert "at any time" in answer.answer and "8 hours" in answer.answer


def test_a_side_said_in_spanish_is_that_side() -> None:
    from knowledge.select import direction

    assert direction("mi INR salio 3.5, eso es alto?") == "high"
    assert direction("que puede causar el calcium bajo") == "low"


def test_a_what_is_question_about_something_else_than_the_test_is_no_definition() -> None:
    """"What's the advice for men his age?" after "a PSA every year" asks of the advice, not what a PSA is."""
    from knowledge.asks import _asks_of

    names = ["PSA", "prostate-specific antigen"]
    assert not _asks_of("My dad turned 72 and should get a PSA every year. What's the advice for men his age?", names)
    assert _asks_of("what is the prostate blood test", names)  # a lay name of the test is still the test
    assert _asks_of("my son had a psa. what does it test for", names)


@pytest.mark.slow
def test_a_sentence_that_gives_what_is_asked_comes_before_one_that_does_not(answerer: Answerer) -> None:
    """"Must I pay it?": "The EOB is not a bill." is kept before the billing steps that score as well by meaning."""
    result = answerer.answer("I received an Explanation of Benefits in the post from my insurer. Must I pay it?")
    assert "not a bill" in result.answer, result.answer


@pytest.mark.slow
def test_two_own_numbers_of_one_page_on_two_sides_get_what_else_is_asked(answerer: Answerer) -> None:
    result = answerer.answer("TSH 5.2 H (ref 0.4-4.0), Free T4 1.2 (ref 0.8-1.8). Is a slightly high TSH with a "
                             "normal T4 common?")
    assert result.reason == "value" and "normal free T4 is common" in result.answer, result.answer


def test_a_word_that_names_the_test_is_no_band_label_asked_for() -> None:
    # "sugar" is a word of the band "low blood sugar" and a name of the glucose test ("sugar test"): a question that
    # only names the test asks for no range ("how is it different from a regular sugar test" got the glucose table)
    from knowledge.asks import asks_range
    from knowledge.library import Library

    library = Library.load(PROJECT_ROOT / "knowledge" / "documents")
    glucose, names = library.ranges["glucose"], library.vocabulary.names_of("glucose")
    assert not asks_range("what does the a1c measure, like how is it different from a regular sugar test", glucose,
                          names)
    assert asks_range("what sugar number is prediabetes", glucose, names)  # a band's own word: its range
    assert asks_range("what is a normal blood sugar", glucose, names)

"""The answering pipeline on the real embedding model and the clinic's real documents (quoting, no language
model): abbreviations and lay words are retrieved, the sentences that answer are chosen by meaning, a patient's
own number is placed in its band, and policy questions are refused in wordings no rule lists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT, Settings
from knowledge.answer import Answerer
from knowledge.embeddings import MiniLMEmbedder
from knowledge.ingest import ingest
from knowledge.store import KnowledgeStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeStore:
    store = KnowledgeStore("answers_real", chroma_dir=tmp_path_factory.mktemp("chroma"), embedder=MiniLMEmbedder())
    ingest(PROJECT_ROOT / "knowledge" / "documents", store)
    return store


@pytest.fixture
def answerer(store: KnowledgeStore, settings: Settings) -> Answerer:
    quoting = settings.model_copy(update={"llm": settings.llm.model_copy(update={"backend": "none"})})
    return Answerer(store, quoting)


@pytest.mark.parametrize(("question", "source", "fact"), [
    ("whats a bun test", "Kidney tests: BUN, creatinine and eGFR", "waste"),
    ("what is a pee test for", "Urinalysis (urine test)", "urin"),
    ("what does high potassium mean", "Electrolytes: sodium, potassium, chloride and CO2", "kidneys"),
    ("what does low tsh mean", "Thyroid tests: TSH and free T4", "overactive"),
    ("do you take humana", "Insurance plans we accept", "Humana"),
    ("how much is the no show fee", "Cancellations and missed appointments (no-shows)", "$25"),
    # the page did not name what it offers ("interpreter" was only inside its accessibility paragraph), so this scored
    # under the threshold and went to the front desk
    ("my grandfather only speaks Portuguese, can you have an interpreter at his visit?", "Directions and parking",
     "tell us when you book"),
    # asked in seven studied sets: the portal page listed what the portal does and never said it (only the lab results
    # page did, and "portal" named the portal page), so its list was quoted
    ("saw my results in portal before my dr called me, is that normal", "Patient portal",
     "before your clinician sees them"),
    # "number" and "call" pulled the phone pages: Poison help spoke of "someone" who "swallowed" or "took too much"
    # (three studied sets' toddlers in a pill box or the dish soap pods went to the office number or the front desk)
    ("my 2 year old got into the laundry pods, who do i call", "After-hours care and emergencies", "1-800-222-1222"),
    # the low-calcium section said the clinician looks at albumin, and only the range section said why
    ("my calcium was a bit off and now they want my albumin too, how come", "Blood calcium test",
     "half of the calcium"),
])
def test_a_question_gets_the_sentence_that_answers_it(answerer: Answerer, question: str, source: str,
                                                      fact: str) -> None:
    result = answerer.answer(question)
    assert result.grounded and result.sources == [source], result
    assert fact in result.answer, result.answer


@pytest.mark.parametrize(("question", "band"), [
    ("my a1c is 5.9", "prediabetes range, 5.7 % to 6.4 %"),
    ("my fasting sugar was 110 is that bad", "prediabetes range, 100 to 125 mg/dL"),
    ("hdl 35 is that low", "below the healthy adult level for men (40 mg/dL or higher)"),
    # the policy model read the bare number as an amount and refused it as a dose question (a blind miss, moved to
    # tests/data/answers_moved.jsonl); a dose refusal is overruled only when no medicine is named
    ("tsh 7 ok?", "above the typical adult range (about 0.4 to 4.0 mIU/L)"),
])
def test_a_patients_number_is_placed_and_not_diagnosed(answerer: Answerer, question: str, band: str) -> None:
    result = answerer.answer(question)
    assert result.reason == "value" and band in result.answer


@pytest.mark.parametrize(("question", "kind"), [
    ("what antibiotic works best for strep throat", {"medicine", "dose"}),
    ("is it safe for me to quit my statin now", {"medicine", "dose"}),
    ("my psa came back 9, is it prostate cancer", {"diagnosis"}),
    ("tsh 7 ok to stop my levothyroxine?", {"medicine", "dose"}),
    ("i keep getting headaches, what could it be", {"diagnosis"}),
])
def test_policy_questions_in_other_words_are_refused_and_handed_on(answerer: Answerer, question: str,
                                                                   kind: set[str]) -> None:
    result = answerer.answer(question)
    assert result.reason.split(":")[-1] in kind and not result.grounded, result
    assert result.handoff == "medical_question"


def test_an_unrelated_question_is_handed_to_the_front_desk(answerer: Answerer) -> None:
    result = answerer.answer("can you recommend a good plumber for my kitchen sink")
    assert not result.grounded and result.reason in {"low_similarity", "policy:out_of_scope"}


@pytest.mark.parametrize("question", [
    "Do you have an X-ray machine at the clinic?",  # finds the address by its words
    "Which hospital are your doctors affiliated with?",
    "Can you mail me a paper copy of my lab results? I don't use the computer.",  # finds when results are ready
])
def test_a_question_the_documents_do_not_answer_goes_to_the_front_desk_not_to_a_nearby_sentence(
        answerer: Answerer, question: str) -> None:
    """Questions of tests/data/answers_unknown.jsonl (which the answer check was trained on): their words find a
    section, whose best sentences the answer check scores as answering nothing; without the check they were quoted."""
    assert answerer.answer_check is not None
    result = answerer.answer(question)
    assert result.reason == "not_answered" and not result.grounded and "front desk" in result.answer, result
    unchecked = answerer.settings.model_copy(update={"knowledge": answerer.settings.knowledge.model_copy(
        update={"min_answer_score": None})})
    assert Answerer(answerer.store, unchecked).answer(question).grounded


def test_warm_up_embeds_the_documents_sentences_once(answerer: Answerer) -> None:
    answerer.warm_up()
    assert answerer.selector is not None and len(answerer.selector._cache) > 1000
    assert isinstance(Path(answerer.settings.knowledge.documents_dir), Path)


@pytest.mark.parametrize(("question", "band"), [
    ("what is a normal inr", "about 0.8 to 1.1 without a blood thinner, and about 2.0 to 3.0 on warfarin"),
    ("what a1c counts as diabetes", "6.5 % or higher: diabetes range"),
    ("whats a healthy hdl for a woman", "50 mg/dL or higher for women"),
])
def test_a_range_question_gets_the_range_from_the_documents_table(answerer: Answerer, question: str,
                                                                  band: str) -> None:
    result = answerer.answer(question)
    assert result.reason == "range" and band in result.answer, result.answer


@pytest.mark.parametrize(("question", "fact"), [
    ("what is alt", "enzyme"),
    ("wat is hematocrit", "red cells"),
    ("what does the psa test measure", "protein made by the prostate"),
])
def test_a_definition_question_gets_the_sentence_that_says_what_the_test_is(answerer: Answerer, question: str,
                                                                            fact: str) -> None:
    result = answerer.answer(question)
    assert result.grounded and fact in result.answer, result.answer
    assert answerer.answer("what does a high alt mean").reason != "range"  # a meaning question is not a range one


def test_what_a_panel_holds_is_its_whole_list_with_the_lead_in(answerer: Answerer) -> None:
    # "what's in a bmp" is a definition question, and a panel is what it holds: two items of the list of its tests were
    # quoted, without the lead-in that says how many and the item that names the electrolytes (dev9)
    result = answerer.answer("whats in a bmp")
    assert result.grounded, result
    assert "has 8 tests" in result.answer and "sodium, potassium, chloride and CO2" in result.answer, result.answer


def test_a_new_policy_wording_is_refused_before_retrieval_and_handed_off(answerer: Answerer) -> None:
    result = answerer.answer("been on my water pill 2 yrs, ok if i just quit it")
    assert not result.grounded and result.handoff == "medical_question"
    assert [stage for stage, _ in result.trace] == ["policy"]
    assert answerer.answer("can certain medicines change my thyroid results").grounded


@pytest.mark.parametrize(("question", "band", "meaning"), [
    ("my alt is 80 what causes that", "above the typical adult range", "fatty liver"),
    ("inr came back 3.8, what does that mean", "above the typical range", "bleed more easily"),
    ("egfr of 50 is that bad", "below the typical adult range", "filtering less than expected"),
])
def test_a_patients_number_with_a_question_gets_what_that_side_can_mean(answerer: Answerer, question: str,
                                                                        band: str, meaning: str) -> None:
    result = answerer.answer(question)
    assert result.reason == "value" and band in result.answer and meaning in result.answer, result.answer
    assert "Your clinician will review your result" in result.answer
    plain = answerer.answer("my alt is 80")  # only where it falls: no more than the band
    assert plain.reason == "value" and "fatty liver" not in plain.answer


def test_a_sentence_that_leans_on_the_one_before_comes_with_it(answerer: Answerer) -> None:
    result = answerer.answer("how come my calcium result needs my albumin too")
    assert result.grounded, result
    if "So your clinician may check your albumin" in result.answer:
        assert "carried by a protein called albumin" in result.answer, result.answer


@pytest.mark.parametrize("question", [
    "what can make the inr go up on warfarin",  # a cause, though it names a medicine
    "i take hair skin nails gummies, can that mess with my thyroid labs",
    "what time do you close on weds",
])
def test_questions_about_what_changes_a_result_or_the_hours_are_answered(answerer: Answerer, question: str) -> None:
    result = answerer.answer(question)
    assert result.grounded, result
    if "weds" in question:
        assert "7:00 p.m." in result.answer, result.answer


def test_going_up_on_a_medicine_is_still_refused(answerer: Answerer) -> None:
    for question in ("should i go up on my insulin", "can i up my metformin", "my psa is 4.5 do i need a biopsy"):
        assert not answerer.answer(question).grounded, question


@pytest.mark.parametrize(("question", "band", "more"), [
    ("platelets came back 480, what makes them go up", "above the typical adult range", "not enough iron"),
    ("alt is 70 and i barely drink, what else can do that", "above the typical adult range", "fatty liver"),
    pytest.param("my total cholesterol is 245 and i smoke, would quitting help", "240 mg/dL or higher", "Not smoking",
                 marks=pytest.mark.xfail(strict=True, reason=(
                     "the policy classifier trained with the studied sets' questions reads quitting as stopping a "
                     "medicine (0.48 against 0.38 ordinary) and refuses it; knowledge/policy.py: REFUSE_AT"))),
])
def test_a_patients_number_with_another_question_gets_its_answer_from_the_tests_document(
        answerer: Answerer, question: str, band: str, more: str) -> None:
    """The section that names the test on the number's side (not the CBC's hemoglobin section for platelets), and
    what else the question asks, answered from the test's own document after the band."""
    result = answerer.answer(question)
    assert result.reason == "value" and band in result.answer and more in result.answer, result.answer
    plain = answerer.answer("my total cholesterol came back 245, is that ok")  # only where it falls: the band alone
    assert plain.reason == "value" and "smoking" not in plain.answer


@pytest.mark.parametrize(("question", "band", "what_it_is"), [
    ("tsh 7, what is tsh anyway", "above the typical adult range", "thyroid-stimulating hormone"),
    ("what's a bun, mine came back 25", "above the typical adult range", "waste"),
])
def test_a_patients_number_with_what_the_test_is_gets_both(answerer: Answerer, question: str, band: str,
                                                           what_it_is: str) -> None:
    """A clause that asks what the test is ("what is tsh anyway") is answered before the band; it was left out."""
    result = answerer.answer(question)
    assert result.reason == "value" and band in result.answer, result.answer
    assert what_it_is in result.answer and result.answer.index(what_it_is) < result.answer.index(band), result.answer
    assert "enzyme" not in answerer.answer("my alt was 60, is that ok").answer  # no clause asks it: the band alone
    assert "creatinine, age" not in answerer.answer("egfr 52, what is normal").answer  # the range asked, not what it is


def test_a_question_about_getting_a_test_is_not_a_range_question(answerer: Answerer) -> None:
    assert answerer.answer("should I be getting a psa test at my age").reason != "range"
    assert answerer.answer("what should my tsh be").reason == "range"


@pytest.mark.parametrize(("question", "reason", "fact"), [
    # a page's lay word names the one test it explains: the range of that test
    ("the prostate blood test, what number do most labs call normal", "range", "under 4.0 ng/mL"),
    # a unit asked for is no definition question: the document's conversion sentence
    ("my vitamin D result from abroad was 50 nmol/L. what's that in ng/mL?", "extractive", "20 ng/mL"),
])
def test_a_lay_name_or_a_unit_asked_for_is_answered(answerer: Answerer, question: str, reason: str, fact: str) -> None:
    result = answerer.answer(question)
    assert result.reason == reason and fact in result.answer, result.answer


def test_a_number_on_two_sides_is_explained_on_the_side_the_question_names(answerer: Answerer) -> None:
    """An INR of 1.5 is high without a blood thinner and low on warfarin: "what does a low INR mean" got the band and
    nothing on what a low INR means, because the number had no one side. The side the question names is the one
    (here it does not say whether he takes warfarin, which would settle it)."""
    result = answerer.answer("My dad (77) had his INR come back 1.5, his target is 2-3. what does a low INR mean in "
                             "general?")
    assert result.reason == "value" and "below it on warfarin" in result.answer, result.answer
    assert "clot too easily" in result.answer and "high INR" not in result.answer, result.answer


@pytest.mark.parametrize(("question", "first", "then"), [
    # the best sentence said how to ask for a refill, and the one that a stimulant refill cannot be asked by text was
    # in the next section, scoring as well, and was never said (studied in dev5, dev20)
    ("can u send a refill of my adderall? just reply here", "refill", "cannot be requested by text or chat"),
    # the portal page's answer time was said; that portal messages are not for urgent problems was in its list of
    # what the portal does, another section, and was not (dev9)
    ("my dad (78) is having chest pain right now, should I message the portal?", "2 business days",
     "Do not use portal messages for urgent problems"),
])
def test_a_question_two_sections_answer_gets_the_best_sentence_of_each(answerer: Answerer, question: str,
                                                                        first: str, then: str) -> None:
    result = answerer.answer(question)
    assert result.grounded and first in result.answer and then in result.answer, result.answer


def test_of_two_numbers_the_one_on_the_side_the_question_names_is_explained(answerer: Answerer) -> None:
    # a report's lines pasted: a high TSH beside a normal free T4 were both placed, and "what does a high TSH like that
    # point to" got the ranges again instead of what a high TSH can mean (dev9)
    result = answerer.answer("TSH 5.8 mIU/L [0.4-4.0] H / Free T4 1.2 ng/dL [0.8-1.8] normal. what does a high TSH "
                             "like that point to")
    assert result.reason == "value" and "underactive thyroid" in result.answer, result.answer


def test_how_early_to_come_is_said_before_what_to_bring(answerer: Answerer) -> None:
    """The time to come sat after the list of what to bring: a "how early" question got five things to bring first,
    and "new patient how early to arrive" (dev7) did not reach that section at all."""
    result = answerer.answer("how early do new patients need to get there")
    assert result.sources == ["New patients"], result
    assert result.answer.startswith("Please come 15 minutes early"), result.answer


def test_two_questions_split_by_a_slash_are_both_answered(answerer: Answerer) -> None:
    """A texted "/" between two questions (dev9: "how long do refills take / can I text you for my adderall refill")
    was read as one question, and only how long a refill takes was said."""
    result = answerer.answer("how long till a refill is ready / can i ask for my xanax refill by text")
    assert "2 business days" in result.answer, result.answer
    assert "cannot be requested by text or chat" in result.answer, result.answer


@pytest.mark.parametrize("question", [
    "have to fast for bloodwork tomorrow, am i still supposed to take my pills that morning",
    "fasting labs in the am - ok to take my regular pills?",
])
def test_whether_to_take_the_usual_pills_while_fasting_is_answered(answerer: Answerer, question: str) -> None:
    """The fasting section said "Keep taking your usual medicine", which a question about "pills" did not reach: it
    got what fasting is and whom to call, or went to the front desk (dev8, dev16)."""
    result = answerer.answer(question)
    assert result.sources == ["Getting your lab results"], result
    assert "keep taking your usual medicine" in result.answer, result.answer


@pytest.mark.parametrize(("question", "band", "thing"), [
    ("bilirubin 1.5, they said gilberts a while back. should i be worried", "above the typical adult range",
     "Gilbert syndrome"),
    ("alk phos 310 for my 12 year old son. why is it so much higher for kids", "above the typical adult range",
     "children and teens"),
])
def test_a_patients_number_with_a_thing_the_document_names_gets_that_sentence(
        answerer: Answerer, question: str, band: str, thing: str) -> None:
    """A word of the question few documents hold ("gilbert", "kids" as the documents' "children") brings the sentence
    of the test's own document that holds it, after the band: it was left for what a high value can mean (dev6, dev9,
    dev17). A word many documents hold ("eat", "drink") brings nothing."""
    result = answerer.answer(question)
    assert result.reason == "value" and band in result.answer and thing in result.answer, result.answer
    common = answerer.answer("ferritin 500, i eat a lot of red meat and drink coffee. is that bad")
    assert "Hemoglobin is the part" not in common.answer and "low ferritin" not in common.answer, common.answer


@pytest.mark.parametrize(("question", "said", "not_said"), [
    ("hdl 37 on my lipid panel, what does that mean", "under 40 mg/dL is low", 'often called the "good"'),
    ("sodium 130 what does that mean", "Low sodium (hyponatremia)", "High sodium"),
])
def test_what_a_side_means_is_said_in_sentences_on_that_side(answerer: Answerer, question: str, said: str,
                                                             not_said: str) -> None:
    """A section not headed with the number's side gives the sentences that say that side: the lipid panel has no
    "low HDL" section, and the sentences nearest "what does a low HDL mean" said what HDL is (dev10); the sodium
    section speaks of both sides, and a low sodium was told what a high one means."""
    result = answerer.answer(question)
    assert result.reason == "value" and said in result.answer and not_said not in result.answer, result.answer


@pytest.mark.parametrize(("question", "placed", "other"), [
    ("my hdl came back 47, i'm female. is that ok?", "below the healthy adult level for women", "for men"),
    ("hdl 42, 50 yo male, good?", "within the healthy adult level for men", "for women"),
    ("on warfarin, inr this morning 2.6", "within the typical range on warfarin", "without a blood thinner"),
])
def test_a_number_is_placed_in_the_band_of_who_the_patient_says_they_are(answerer: Answerer, question: str,
                                                                         placed: str, other: str) -> None:
    """A woman's HDL of 44 was "within the healthy level for men and below it for women", and what a low HDL means was
    not said, as if the side were unknown (dev13). The table's row for who the patient says they are is the one."""
    result = answerer.answer(question)
    assert result.reason == "value" and placed in result.answer and other not in result.answer, result.answer


def test_what_co2_is_comes_with_a_co2_number(answerer: Answerer) -> None:
    """"what is co2 on my blood work, mine says 21" (dev20) got only the band: the page's sentences on CO2 began "The
    CO2 in your blood is ..." and "Your CO2 result shows ...", which no definition pattern reads as saying what it is."""
    result = answerer.answer("what is the co2 on my lab work, mine is 21")
    assert result.reason == "value" and "below the typical adult range" in result.answer, result.answer
    assert "bicarbonate" in result.answer and "acid balance" in result.answer, result.answer


def test_a_short_text_whose_words_stand_together_in_a_sentence_is_answered(answerer: Answerer) -> None:
    """"late day??" (dev6) went to the front desk: its meaning alone is 0.33 near the hours section, under the 0.35
    floor, and its words are too common for the lexical ranking. Said together in a sentence, they find it; two words
    no sentence holds together still go to the front desk."""
    result = answerer.answer("the late day?")
    assert result.grounded and "Wednesday is our late day" in result.answer, result.answer
    assert not answerer.answer("dental cleaning??").grounded


@pytest.mark.parametrize("question", [
    "my dad only speaks Polish, could someone translate for him at the visit?",
    "grandpa speaks only Farsi. can somebody interpret for him when he comes in",
])
def test_a_verb_for_what_a_page_is_called_finds_the_page(answerer: Answerer, question: str) -> None:
    """"my mom only speaks Tagalog, can you get someone to translate at her visit" (dev13) and "... someone to
    interpret at her visit?" (dev18) went to the front desk: by meaning they are far from every section (0.16, 0.11),
    and the directions page is called an "interpreter" or "translator", not "translate" or "interpret". Read by their
    stem, the verbs name the page."""
    result = answerer.answer(question)
    assert result.grounded and "tell us when you book" in result.answer, result.answer


def test_a_part_that_points_back_is_answered_from_the_parts_before_it(answerer: Answerer) -> None:
    """"how do i get my records sent over from my old doctor, and how long does that take?" (dev7): its second part
    alone, "how long does that take?", was answered from the page of how long a refill or a lab result takes. A part
    that points back ("that", "it") and names nothing of its own is about what the part before it asked: it is
    answered from that part's sections."""
    result = answerer.answer("how do i get my old records moved over to you guys, and how long does that usually take?")
    assert result.grounded and "release form" in result.answer and "a few weeks" in result.answer, result.answer
    assert "refill" not in result.answer and "lab" not in result.answer.lower(), result.answer


def test_a_sentence_two_pages_say_word_for_word_is_said_once(answerer: Answerer) -> None:
    """"what is the nurse line number" got "After hours, call the nurse line at +1 555-555-0124." twice: the portal page
    and the hours page both say it, and the best sentence of another section was added beside the best one."""
    result = answerer.answer("what is the nurse line number")
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", result.answer.split("\nSource")[0]) if s]
    assert result.grounded and "555-555-0124" in result.answer, result.answer
    assert len(sentences) == len(set(sentences)), result.answer


@pytest.mark.parametrize("question", ["are you open on thanksgiving?", "is the office open memorial day"])
def test_a_holiday_question_is_told_the_clinic_closes_on_holidays(answerer: Answerer, question: str) -> None:
    """"will yall be open christmas day" (dev14) got the weekday hours: the one sentence on holidays stood in the
    weekend section, and "We are also closed on major holidays" was far, by meaning and for the learned scorer, from a
    question that names a holiday and not the word. The hours page now has a section on holidays."""
    result = answerer.answer(question)
    assert result.grounded and "closed on major holidays" in result.answer, result.answer
    assert "late day" not in result.answer, result.answer


def test_a_how_do_i_question_gets_the_step_to_take(answerer: Answerer) -> None:
    """"how do i get on the patient portal thing" (dev15) got what the portal can do: that section is nearest by
    meaning. A question that asks how to do something ("how do i get ...") is answered first by a sentence that says what
    to do ("To sign up for the portal ..., ask the front desk for an invite")."""
    result = answerer.answer("how do we get onto the patient portal thingy")
    assert result.grounded and "ask the front desk for an invite" in result.answer, result.answer


@pytest.mark.parametrize(("question", "row", "other"), [
    ("what hdl is healthy for a woman my age", "50 mg/dL or higher for women", "for men"),
    ("normal hemoglobin for a guy?", "for men", "for women"),
])
def test_a_range_asked_for_who_the_patient_is_gives_that_row(answerer: Answerer, question: str, row: str,
                                                             other: str) -> None:
    """"what's a healthy hdl for a woman" (dev18) got the rows for men and for women; the row of who the question
    says the patient is answers it, as it places their own number (knowledge/values.py: ``stated_qualifier``)."""
    result = answerer.answer(question)
    assert result.reason == "range" and row in result.answer and other not in result.answer, result.answer


def test_a_texted_parking_question_with_a_dropped_g_gets_where_and_what_it_costs(answerer: Answerer) -> None:
    """"wheres the parkin at and do i got to pay for it" (dev22) went to the front desk: "parkin" is a word of its own
    to the speller (a rare one), so the lexical ranking never found the parking section, and "wheres" asked nothing,
    so the message was not cut in two. Now "parkin" is read as the documents' "parking" and "wheres" asks, so each
    part is answered: where the lot is and that parking is free."""
    result = answerer.answer("wheres the parkin at and do we gotta pay for it")
    assert result.grounded and "behind the building" in result.answer, result.answer
    assert "park for free" in result.answer, result.answer


@pytest.mark.parametrize(("question", "fact"), [
    ("my daughter needs a sports physical for soccer, she's 12. are you taking new patients her age?", "all ages"),
    ("sprained his ankle playing football and you're closed, can urgent care see him?", "help with a sprain"),
    ("my mom has to bring a pee sample and shes confused, can you explain the steps so i can translate for her",
     "clean catch"),
])
def test_a_question_a_page_answers_is_not_out_of_scope_for_a_word(answerer: Answerer, question: str,
                                                                   fact: str) -> None:
    """"my boy needs a physical for football ... do yall take new patints his age", "twisted his ankle at soccer ...
    urgent care or ER", "... explain the steps so I can translate for her" (dev22): a floor rule refused each as out of
    scope for one word ("football", "soccer", "translate"). A question a page is about is the clinic's business; what
    no page is about is still refused."""
    result = answerer.answer(question)
    assert result.grounded and fact in result.answer, result.answer


@pytest.mark.parametrize("question", ["who won the soccer game last night",
                                      "can you translate this letter from my landlord into spanish",
                                      "write me a poem about spring"])
def test_what_no_page_is_about_is_still_out_of_scope(answerer: Answerer, question: str) -> None:
    result = answerer.answer(question)
    assert result.reason == "policy:out_of_scope" and not result.grounded, result.answer


def test_a_potassium_printed_as_its_symbol_is_placed(answerer: Answerer) -> None:
    """"K 5.3 on my BMP ... whats normal range" (dev22) got what a BMP holds, and "k 5.6??" (dev3) went to the front
    desk: "K" named nothing. It is the potassium page's symbol now, read before a number."""
    result = answerer.answer("K 5.4 on my labs, what's the normal range")
    assert result.reason == "value" and "3.5 to 5.0 mmol/L" in result.answer, result.answer


def test_whether_a_named_thing_affected_a_result_asked_in_the_past_gets_that_cause(answerer: Answerer) -> None:
    """"he rode forty miles on his bicycle the day before. Might that have affected the result?" (dev22) got the
    screening advice: "have affected" was not read as asking a cause (only "affect" was), so the bike sentence was
    never looked for."""
    result = answerer.answer("My father had a PSA test at his checkup on Tuesday. I ought to mention he cycled a long "
                             "way on Monday. Might that have affected the result?")
    assert result.grounded and "Riding a bike" in result.answer, result.answer


def test_whether_an_eob_must_be_paid_asked_formally_gets_that_it_is_no_bill(answerer: Answerer) -> None:
    """"... an envelope from my insurer labelled "Explanation of Benefits" ... Am I expected to remit payment on it?"
    (dev22) got how a claim goes: only "must/do/should I pay it" asked whether a thing is what it seems."""
    result = answerer.answer("My insurance company sent me something called an Explanation of Benefits showing $95. "
                             "Am I expected to make a payment on it?")
    assert result.grounded and "not a bill" in result.answer, result.answer


def test_a_patients_number_with_could_that_explain_it_gets_the_cause_they_name(answerer: Answerer) -> None:
    """"AST 48 H U/L 8-33 — I ran a half marathon two days before the draw. Could that explain it?" (dev22) got the
    ranges: "could that explain it" was not read as asking a cause, so the hard-exercise sentence was never looked
    for first, after the band."""
    result = answerer.answer("AST 47 (high). ran a marathon the day before the draw, could that explain it")
    sentences = re.split(r"(?<=[.!?])\s+", result.answer)
    assert result.reason == "value" and sentences[1].startswith("Hard exercise"), result.answer


def test_two_questions_after_a_count_and_an_emoji_are_both_answered(answerer: Answerer) -> None:
    """"hiii we just moved here with 3 kids 🙃 are you taking new patients and what do I need to bring to the first
    appt" (dev22) got only what to bring: "3" kept the message whole as if it were a result, and the emoji was no
    break before "are you taking", so the message was never cut in two."""
    result = answerer.answer("hey we just moved to town with 2 kids 😅 do you take new patients and what should I "
                             "bring to the first visit")
    assert result.grounded and "new patients" in result.answer and "photo ID" in result.answer, result.answer


def test_the_difference_between_the_basic_and_the_comprehensive_panel_says_what_the_cmp_adds(
        answerer: Answerer) -> None:
    """"the difference between the basic and the comprehensive metabolic panel" (dev22) got that each is a group of
    tests: "basic" alone named nothing, so the question compared nothing and the CMP's own section was not read."""
    result = answerer.answer("What is the difference between the basic and the comprehensive metabolic panel?")
    assert result.grounded and "6 more tests" in result.answer, result.answer


def test_a_service_dog_question_gets_that_service_animals_are_welcome(answerer: Answerer) -> None:
    """"I have a SERVICE DOG. Can he come in with me?" (dev22) went to the front desk: nothing named the page that says
    "Service animals are welcome at our clinic". "service dog" and "service animal" are what patients call that page's
    subject now (its front matter)."""
    result = answerer.answer("my service dog has to stay with me, is he allowed inside during my visit?")
    assert result.grounded and "Service animals are welcome" in result.answer, result.answer


def test_an_emotional_support_dog_that_is_no_service_dog_is_handed_off(answerer: Answerer) -> None:
    """No page says anything of an emotional support animal, and a patient who says theirs is "not a trained service
    dog" is not asking about service dogs: handed to the front desk (answers_unknown, unknown_dev2), not told that
    service animals are welcome."""
    result = answerer.answer("can my emotional support dog come to my appointment? he's not a certified service dog")
    assert not result.grounded and "front desk" in result.answer, result.answer

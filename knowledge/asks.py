"""Two kinds of question the lab documents answer by their structure, before sentences are ranked by meaning:

- a range question ("what is a normal inr", "what should my hdl be", "what a1c is diabetes") gets the range the
  document's table gives for the test it names, every band or qualifier of it, said from the parsed table
  (knowledge/ranges.py, the same one the value answers and the lab flags read): "The typical range for INR is about
  0.8 to 1.1 without a blood thinner, and about 2.0 to 3.0 on warfarin."
- a definition question ("what is alt", "what does egfr mean", "what does the a1c show") gets the sentences of the
  test's own document that say what the test is, wherever they are in it ("ALT (alanine transaminase) is an enzyme
  ..."), ranked by meaning among themselves.

A question about what a high or low value means, what causes one, or a patient's own number is neither: it goes the
usual way (the value stage, or retrieval and selection).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from knowledge.kinds import question_kinds, words
from knowledge.lists import blocks, with_lists
from knowledge.ranges import Band, TestRange
from knowledge.select import KEEP_WITHIN, Sentence, SentenceSelector, candidates, direction
from knowledge.sentences import PEOPLE_WORDS
from knowledge.types import Passage, Selection, first_then
from knowledge.values import stated_qualifier

_RANGE = re.compile(
    r"\b(normal|range|ranges|typical|healthy|target|goal|should (it|they|my [\w ]+|[\w ]+) be(?! \w+ing\b)|cut-?off|counts? as|"
    r"good [\w ]{0,25}(number|level|result|reading|range)|(a|the) (good|healthy|ideal|safe)|what number)\b", re.I)
_NOT_RANGE = re.compile(r"\b(mean|means|meaning|cause[sd]?|why|symptoms?|signs?|feel|affects?|change|raise|lower|"
                        r"high|low|higher|lower|above|below|worried|call)\b", re.I)
_ASKS_WHICH = re.compile(r"^(what|which|at what|whats|what's|wat)\b", re.I)
_LABEL_WORDS_SKIP = {"range", "high", "low", "very", "near", "the", "and", "from", "most", "often", "or", "of", "for",
                     "can", "cause", "problems", "if", "needed", "than", "higher", "may", "be", "too", "people",
                     "enough", "best"}
_DEFINITION = re.compile(
    r"^(whats|what's|(what|wat|wht) (is|are|s)) (a |an |the |my )?[\w /-]{1,30}?( test| level| number| result)?"
    r"( for| used for)?$|\bstand for$|^what does (the |a |an |my )?[\w /-]{1,30} (show|do|test|check|measure|mean|tell"
    r"( me)?|look at)( for)?$|^what( all)?('s| is) (in|on) (a |an |the |my )?[\w /-]{1,30}$|"
    r"^(que|qué) (es|son) (el |la |los |las |un |una |mi |mis )?[\w /-]{1,30}$", re.I)  # and in Spanish: "que es el alt"


_FILLER = r"(exactly|actually|again|anyway|though|tho|lol|pls|please)"
_TRAILING = re.compile(rf"( {_FILLER})+$")
_TRAILING_SAID = re.compile(rf"(\s+{_FILLER})+(?=\W*$)", re.I)  # one for both would strip "exactly." in _plain


def _plain(question: str) -> str:
    """Lower case, one space, no question mark, no filler at the end ("what does the a1c test show exactly")."""
    return _TRAILING.sub("", " ".join(question.lower().replace("?", " ").split()))


def _label_words(test: TestRange) -> set[str]:
    """The words a band's label adds to the test's name ("diabetes", "borderline", "optimal", "deficient")."""
    words = {w for band in test.bands for w in re.findall(r"[a-z]+", band.label.lower())}
    return words - _LABEL_WORDS_SKIP - set(re.findall(r"[a-z]+", f"{test.name} {test.code}".lower()))


def asks_range(question: str, test: TestRange, names: Sequence[str] = ()) -> bool:
    """"what is a normal tsh", "what should my hdl be", "what a1c is diabetes" (a band's own label word). A label word
    that is also one of the test's ``names`` ("sugar" of "low blood sugar" and "sugar test") only names the test: "what
    does the a1c measure, how is it different from a regular sugar test" asks no range of glucose."""
    plain = _plain(question)
    if _NOT_RANGE.search(plain) and not re.search(r"\b(normal|range|typical|healthy)\b", plain):
        return False
    if re.search(r"\b(mean|means|cause[sd]?|why)\b", plain) or "cause" in question_kinds(plain):
        return False  # "bun a bit high but creatinine normal, what can raise bun" asks for a cause, not the range
    if _RANGE.search(plain):
        return True
    named = {w for n in names for w in re.findall(r"[a-z]+", n.lower())}
    return bool(_ASKS_WHICH.search(plain)) and bool((_label_words(test) - named) & set(re.findall(r"[a-z]+", plain)))


def asks_typical_range(question: str, test: TestRange) -> bool:
    """"my fasting sugar was 108 what is the normal range": a range asked for in "normal" or "typical" words (the
    answer gives every band beside the patient's own; "which range is that" is answered by their band alone)."""
    return asks_range(question, test) and bool(re.search(r"\b(normal|typical)\b", question, re.I))


def asks_definition(question: str) -> bool:
    """"what is alt", "whats a bun test", "what does egfr mean", "what does the a1c show", "whats in a cmp", said alone
    or as one sentence of a longer message."""
    plain = _plain(question)
    if re.search(r"\b(difference|differ|diffs?|vs|versus|compared?)\b", plain):
        return False
    if re.search(r"\b(in|to|into) [a-zµ]+/[a-z]+\b|\bconvert", plain):
        return False  # "my vitamin d was 50 nmol/l. what's that in ng/ml": a unit asked for, not what the test is
    # the question may be one sentence of a message that tells a story around it: "my son chews ice and the doctor
    # ordered a ferritin. what does ferritin test for"
    return any(_DEFINITION.search(_plain(part)) for part in [question, *re.split(r"(?<=[.?!])\s+", question)])


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() or text[1:2] == " " else text


def _band_phrase(band: Band) -> str:
    written = _lower_first(band.written)
    if band.label:
        return f"{written}: {_lower_first(band.label.rstrip('.'))}"
    return f"{written} {band.qualifier}".strip()


def asked_row(question: str, test: TestRange) -> TestRange:
    """The table's rows for who the question says the patient is ("a healthy hdl for a woman": the row for women,
    knowledge/values.py: ``stated_qualifier``), else the whole table."""
    qualifier = stated_qualifier(question, test)
    return replace(test, bands=tuple(b for b in test.bands if b.qualifier == qualifier)) if qualifier else test


def describe_range(test: TestRange) -> str:
    """The test's range as its table gives it, every band or qualifier, in one or two plain sentences."""
    phrases = [_band_phrase(b) for b in test.bands]
    if test.banded:
        subject = re.sub(r"\s+(result|level)$", "", test.name, flags=re.I)
        return f"{subject[:1].upper()}{subject[1:]} ranges: {'; '.join(phrases)}."
    joined = phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])}, and {phrases[-1]}"
    return f"The {test.kind} for {test.name} is {joined}."


_VERBS = (r"is|are|stands for|means|measures|shows|checks|counts|looks at|tells|includes|adds|has|helps|carries|takes|"
          r"moves|removes|comes|is made")


def defines(sentence: str, names: Sequence[str]) -> bool:
    """The sentence says what one of ``names`` is or does: "LDL is often called ...", "The A1c test shows ...",
    "HDL helps take cholesterol away", "The CMP adds 6 more tests"."""
    return any(re.match(rf"^(the |a |an )?{re.escape(n)}( test| blood test| level)?( \([^)]*\))?,? ({_VERBS})\b",
                        sentence, re.I) for n in names)


_STATES_RANGE = re.compile(r"\b(typical|normal|healthy)\b.*\d(\.\d+)? (to|-) \d", re.I)


def range_sentence(passages: Sequence[Passage], names: Sequence[str]) -> str:
    """The document's own prose sentence giving the test's typical range ("A typical adult vitamin B12 level is
    about 200 to 900 pg/mL."), or ""."""
    named = re.compile("|".join(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])" for n in names) or "$^", re.I)
    return next((s for p in passages for s in candidates(p) if _STATES_RANGE.search(s) and named.search(s)
                 and ":" not in s), "")


VERB_BONUS = 0.1
# The words of a definition question that only ask what a thing is ("what does the ... test show exactly"): any other
# word names what is asked about: three or more of them that name no test ask of something else (a lay name of the test,
# "the prostate blood test", is one or two).
_ASKING_WORDS = words("what whats wat wht is are does do show shows measure measures check checks tell tells me look "
                      "looks at stand stands used all in on que es el la los las un una mi mis it that this these "
                      "those one stuff thing exactly actually again anyway though tho lol pls please blood")


def _asks_of(question: str, names: Sequence[str]) -> bool:
    """A part of the question that asks what a thing is asks it of the test ``names`` name, or of "it" ("what does it
    test for"), not of something else it names ("what's the advice for men his age" after "PSA every year")."""
    named = {w for n in names for w in words(n)}
    parts = [_plain(p) for p in [question, *re.split(r"(?<=[.?!])\s+", question)]]
    return any(_DEFINITION.search(p) and len(words(p) - named - _ASKING_WORDS) < 3 for p in parts)
_ONLY_NAMES = re.compile(r"\b(also called|another name|also known as|is short for)\b", re.I)  # names, not what it is


def definition_sentences(question: str, selector: SentenceSelector, passages: Sequence[Passage],
                         names: Sequence[str], fits: Callable[[str], bool], most: int = 2) -> list[Sentence]:
    """The sentences of ``passages`` (a test's own document) that say what one of ``names`` is, best by meaning
    first, then up to ``most`` of them that score nearly as well, in the document's order; [] when the question is
    about a high or low value or none says what the test is."""
    if direction(question) or not _asks_of(question, names):
        return []
    verb = re.search(r"\b(show|measure|check|test|mean|tell|look at)s?$", _plain(question))
    measuring = verb is not None and verb.group(1) != "mean"  # "what does the a1c measure": "The A1c test shows ..."
    said = re.compile(r"\b(shows|measures|checks|tells|looks at|counts|is used to check)\b" if measuring else rf"\b{verb.group(1)}"
                      if verb else "$^", re.I)
    scored = selector.score(_TRAILING_SAID.sub("", question), passages)
    ranked = sorted((replace(s, score=s.score + (VERB_BONUS if said.search(s.text) else 0.0))
                     for s in scored if defines(s.text, names) and not _ONLY_NAMES.search(s.text)),
                    key=lambda s: -s.score)
    if not ranked or not fits(ranked[0].text):
        return []
    chosen = [ranked[0]]
    for sentence in ranked[1:]:
        if len(chosen) == most or sentence.score < ranked[0].score - KEEP_WITHIN:
            break
        if fits(" ".join(s.text for s in [*chosen, sentence])):
            chosen.append(sentence)
    # a panel is what it holds: "what's included in a bmp" chose two items of the list of its tests, and the list's
    # lead-in ("The BMP has 8 tests.") and the item naming its electrolytes were left out. Two items chosen ask for the
    # list; one does not ("what is hdl" is one item of the lipid panel's list, two sentences, and its answer is that item)
    if any(sum(any(s.passage is p and s.text in item for s in chosen) for item in b.items) > 1
           for p in {s.passage for s in chosen} for b in blocks(p.text)):
        chosen = with_lists(chosen, [*scored, *chosen], fits, question)  # (the chosen, with their verb bonus, stand)
    order = {id(p): n for n, p in enumerate(passages)}
    return sorted(chosen, key=lambda s: (order.get(id(s.passage), 0), s.position))


# A range question's words that only ask for the range ("what is a normal ldl"); the others qualify it ("for teens",
# "for people who already have diabetes") or ask something besides it ("what is alt and what's the normal range").
_ONLY_RANGE = words("normal range ranges typical healthy target goal good ideal safe should be number result reading "
                    "value count counts what whats is are the for my his her came back but im just like really too "
                    "pretty kinda okay ok fine flagged same as adult adults ask asking tell please hi thanks que cual es el la los "
                    "las mi mis en del rango lab labs blood work bloodwork paper report someone somebody person not on off") | {"im"}
_PARTS = re.compile(r"\s*(?:[,;?.!]\s*|\b(?:and|y|also|plus)\b)\s*", re.I)


def qualifiers(question: str, test: TestRange, names: Sequence[str]) -> set[str]:
    """The words of a range question that are no name of the test, no band's word and no word of asking for a range
    (stemmed; patients' words for people in the documents' words): what the range alone does not answer."""
    plain = " ".join(PEOPLE_WORDS.get(w, w) for w in re.findall(r"[a-z0-9']+", question.lower()))
    named = {w for n in [*names, test.name, test.code] for w in words(n)}
    told = " ".join([*_label_words(test), *(b.qualifier for b in test.bands)])  # "diabetes", "on warfarin"
    return {w for w in words(plain) - named - _ONLY_RANGE - words(told)
            if not w.replace(".", "").isdigit() and len(w) > 2}


def more_than_range(question: str, test: TestRange, body: str, selector: SentenceSelector | None,
                    passages: Sequence[Passage], names: Sequence[str], fits: Callable[[str], bool]) -> str:
    """The range answer ``body`` with what else the question asks of the test's own document (``passages``): before
    it, the sentence that says what the test is when a part of the question asks that ("what is alt and what's the
    normal range"); after it, the best sentence that holds a word qualifying the range ("is that normal for teens":
    "ALP is normally higher in children and teens ...")."""
    if selector is None or not passages:
        return body
    named = re.compile("|".join(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])" for n in names) or "$^", re.I)
    asked = [p for p in _PARTS.split(question) if p and named.search(p) and asks_definition(p)
             and not asks_range(p, test)]
    if asked:
        said = definition_sentences(asked[0], selector, passages, names, fits, most=1)
        if said and fits(f"{said[0].text} {body}"):
            body = f"{said[0].text} {body}"
    wanted = qualifiers(question, test, names)
    if wanted:
        ranked = selector.score(question, passages, names)
        best = next((s for s in ranked if words(s.text) & wanted and s.text not in body and ":" not in s.text), None)
        if best is not None and fits(f"{body} {best.text}"):
            body = f"{body} {best.text}"
    return body


OWN_PAGE_ROLES = {  # what a test's own document says of it, by the kind of question that asks it (knowledge/kinds.py)
    "prep": re.compile(r"\b(to fast|fast (for|first|before)|no food)\b", re.I),  # fasting for it, or not
    "often": re.compile(r"\b(once a|twice|every (year|\w+ (months|years))|times (a|per|each)|yearly|annual(ly)?)\b", re.I),
}


def own_page_first(question: str, kind: str, selector: SentenceSelector | None, sections: Sequence[Passage],
                   selection: Selection, fits: Callable[[str, Sequence[str]], bool]) -> Selection:
    """"do i need to fast for the a1c, appt at 9", "how often should a diabetic get an a1c": what the test's own
    document (``sections``) says of it (``kind``: how to get ready for it, how often it is done), the sentence nearest
    the question, first ("You do not need to fast for an A1c test"); then what was chosen (the clinic's general fasting
    page, found by the question's words) while ``fits`` (a body and its titles) holds. A question may name the test
    while its words find other pages, or other sections of the test's page."""
    found = [(p, n, s) for p in sections for n, s in enumerate(candidates(p)) if OWN_PAGE_ROLES[kind].search(s)]
    if selector is None or not found:
        return selection
    asked, *vectors = selector.vectors([question, *(s for *_, s in found)])
    (passage, position, text), _ = max(zip(found, vectors, strict=True),
                                       key=lambda f: sum(a * b for a, b in zip(asked, f[1], strict=True)))
    if not fits(text, [passage.title]):
        return selection
    return first_then([Sentence(text, passage, position, 1.0, True)], selection, fits)

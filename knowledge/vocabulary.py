"""The documents' own vocabulary: each lab test's names, abbreviations and lay words, and what patients call a page.

Built from the documents' front matter, never from a list in code::

    names:
      bun: [BUN, blood urea nitrogen, urea nitrogen]   # the first is how a sentence names the test
    also_called: [kidney number, kidney function]       # the page's subject in patients' words

A question is expanded with the documents' own words before retrieval ("whats my bun" -> "whats my bun (BUN; Kidney
tests: BUN, creatinine and eGFR)"), so a question that names a test only by its abbreviation or a lay word finds its
page both by words (BM25) and by meaning (embeddings). :meth:`Vocabulary.mentions` also says which test a patient's
number belongs to ("potassium came back 5.4").

Names match whatever the case ("ldl", "A1C"), except names of two characters ("PT", "UA", "Hb"), which match only as
written: "pt" is as often "patient". A name of one letter is a lab report's symbol ("K" for potassium): it names the
test only just before a number or a charge sign ("K 5.3", "k 5.6??", "K+"), never in "vitamin K" or "K thanks". A
misspelt test name of five letters or more ("potasium", "cholestrol", "creatine") matches the closest name. A name's
first word said for another name too ("the basic and the comprehensive metabolic panel") names that one as well. What
a page is called, said of what a thing is not ("she's not a trained service dog"), names no page.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from knowledge.documents import Document
from knowledge.lexical import stem

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
# what a page is called, said of what a thing is not: "she's not a trained service dog", "he isn't a service animal"
# ask about no service dog
_DENIED = re.compile(r"(?:\bnot|n't|n’t|\b(?:isnt|arent|aint)) an? (?:[a-z]+ )?$", re.I)
# the first word of a name said once for two: "the basic and the comprehensive metabolic panel", "basic vs comprehensive
# metabolic panel" name the basic metabolic panel too
_ELIDED = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]+) (?:and|or|vs\.?|versus|&|/) (?:the |an? )?$", re.I)


@dataclass(frozen=True)
class Term:
    text: str  # as written in the front matter
    code: str  # the lab test code, "" for a word that names the whole page
    title: str  # the page's title
    source: str


@dataclass(frozen=True)
class Mention:
    term: Term
    start: int  # character offsets in the question
    end: int
    as_written: bool = True  # False: another form of the word ("translate" for "translator") or a misspelling


def _free(start: int, end: int, taken: Iterable[Mention]) -> bool:
    """No mention already taken overlaps ``text[start:end]``."""
    return not any(start < m.end and m.start < end for m in taken)


def _pattern(text: str) -> re.Pattern[str]:
    """The name as a whole word, in the singular or the plural ("thyroid number" for "thyroid numbers", "ALTs" for
    "ALT"); a one-word name ending in s keeps its s ("bus" is no "bu")."""
    flags = 0 if len(text) == 2 else re.IGNORECASE
    if len(text) == 1:  # a lab report's symbol ("K 5.3", "k 5.6??", "K+"): only before its number or its charge sign
        return re.compile(rf"(?<![A-Za-z0-9.])(?<!vitamin ){re.escape(text)}(?=\s*[:=]?\s*[+\d])", flags)
    if len(text) >= 4 and " " in text and re.search(r"[a-rt-z]s$", text):
        body = rf"{re.escape(text[:-1])}s?"
    elif len(text) >= 3 and text[-1:].isalpha() and not text.lower().endswith("s"):
        body = rf"{re.escape(text)}s?"
    else:
        body = re.escape(text)
    return re.compile(rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9])", flags)


class Vocabulary:
    """Every name and lay word of the documents, longest first (``LDL cholesterol`` before ``cholesterol``)."""

    def __init__(self, terms: Iterable[Term], display: dict[str, str] | None = None,
                 only_test: dict[str, str] | None = None) -> None:
        self.terms = sorted(set(terms), key=lambda t: (-len(t.text), t.text.lower(), t.code, t.source))
        self.display = display or {}  # code -> how a sentence names the test (the first of its names)
        self.only_test = only_test or {}  # source -> the one test a page explains ("prostate blood test" is PSA)
        self._patterns = [(_pattern(t.text), t) for t in self.terms]

    @classmethod
    def from_documents(cls, documents: Iterable[Document]) -> Vocabulary:
        terms: list[Term] = []
        display: dict[str, str] = {}
        only_test: dict[str, str] = {}
        for doc in documents:
            if len(doc.names) == 1:
                only_test[doc.source] = next(iter(doc.names))
            for code, names in doc.names.items():
                display.setdefault(code, names[0])
                terms += [Term(name, code, doc.title, doc.source) for name in names]
            terms += [Term(word, "", doc.title, doc.source) for word in doc.also_called]
        return cls(terms, display, only_test)

    @cached_property
    def _stems(self) -> dict[str, Term]:
        """One-word names and lay words by their Snowball stem, where it keeps five letters or more: "interpret" and
        "translate" are what a page on an "interpreter" or "translator" is called too ("units" is no "United")."""
        out: dict[str, Term] = {}
        for t in reversed(self.terms):
            if re.fullmatch(r"[A-Za-z]{5,}", t.text) and len(stem(t.text.lower())) >= 5:
                out[stem(t.text.lower())] = t
        return out

    @cached_property
    def _test_names(self) -> dict[str, Term]:
        """Each test name by its text (a page's word of the same text does not hide it)."""
        return {t.text.lower(): t for t in reversed(self.terms) if t.code}

    @cached_property
    def _single_words(self) -> dict[str, Term]:
        """Test names that are one word of five letters or more: what a misspelling is matched against."""
        return {text: t for text, t in self._test_names.items() if re.fullmatch(r"[a-z]{5,}", text)}

    def mentions(self, text: str) -> list[Mention]:
        """The names in ``text``, longest first where they overlap, in the order they appear."""
        taken: list[Mention] = []
        for pattern, term in self._patterns:
            for match in pattern.finditer(text):
                if _free(match.start(), match.end(), taken):
                    taken.append(Mention(term, match.start(), match.end()))
        taken = [m for m in taken if m.term.code or not _DENIED.search(text[: m.start])]
        for mention in list(taken):  # a name whose first word is said for another's too
            rest = mention.term.text.partition(" ")[2]
            elided = _ELIDED.search(text[: mention.start]) if rest else None
            other = self._test_names.get(f"{elided.group(1)} {rest}".lower()) if elided else None
            if elided and other and _free(elided.start(1), elided.end(1), taken):
                taken.append(Mention(other, elided.start(1), elided.end(1)))
        for match in _WORD.finditer(text.lower()):  # a misspelt test name
            word = match.group()
            if len(word) < 5 or word in self._single_words or not _free(match.start(), match.end(), taken):
                continue
            same = self._stems.get(stem(word))  # another form of a one-word name ("translate": "translator")
            close = [] if same else difflib.get_close_matches(word, list(self._single_words), n=1, cutoff=0.85)
            if same or close:
                taken.append(Mention(same or self._single_words[close[0]], match.start(), match.end(), False))
        return sorted(taken, key=lambda m: m.start)

    def names_as_written(self, text: str) -> bool:
        """``text`` names a test (or a misspelling of one), or a page by a word as the documents write it: "translate
        this letter" names no page, though "translate" is read as the directions page's "translator" elsewhere."""
        return any(m.term.code or m.as_written for m in self.mentions(text))

    def test_mentions(self, text: str) -> list[Mention]:
        """The tests ``text`` names: :meth:`mentions`, where a page's lay word names the one test the page explains
        ("my prostate blood test came back 4.5", "sugar average test 6.0%") as that test; a word for a page of
        several tests ("kidney numbers", "cholesterol test") names none of them."""
        out = []
        for mention in self.mentions(text):
            term = mention.term
            code = term.code or self.only_test.get(term.source, "")
            if code:
                out.append(mention if term.code else Mention(Term(term.text, code, term.title, term.source),
                                                             mention.start, mention.end))
        return out

    def expansions(self, text: str) -> list[str]:
        """The documents' words for what ``text`` names: a test's own name ("bad cholesterol" -> "LDL"), or the
        page's title for a word that names a whole page ("pee test" -> "Urinalysis (urine test)")."""
        out: list[str] = []
        for mention in self.mentions(text):
            term = mention.term
            word = self.display.get(term.code, "") if term.code else term.title
            if word and word.lower() not in text.lower() and word not in out:
                out.append(word)
        return out

    def expand(self, text: str) -> str:
        """``text`` with the documents' words for what it names appended: "whats my bun (BUN; Kidney tests ...)"."""
        extra = self.expansions(text)
        return f"{text} ({'; '.join(extra)})" if extra else text

    def names_in(self, text: str) -> list[str]:
        """Every name of each test ``text`` names (all of its names, not only the one written)."""
        codes = list(dict.fromkeys(m.term.code for m in self.mentions(text) if m.term.code))
        return [t.text for code in codes for t in self.terms if t.code == code]

    def name_groups(self, text: str) -> list[list[str]]:
        """Every name of each test ``text`` names, one list per test, in the order they are named."""
        codes = list(dict.fromkeys(m.term.code for m in self.mentions(text) if m.term.code))
        return [self.names_of(code) for code in codes]

    def page_words(self, codes: Iterable[str]) -> list[str]:
        """What patients call the pages that explain ``codes`` ("iron stores" for ferritin's page)."""
        sources = {t.source for t in self.terms if t.code and t.code in set(codes)}
        return [t.text for t in self.terms if not t.code and t.source in sources]

    def names_of(self, code: str) -> list[str]:
        return [t.text for t in self.terms if t.code == code]

    def name(self, code: str) -> str:
        return self.display.get(code, code.replace("_", " "))


# Weekdays as patients text them ("what time u close on wed"): the documents spell them out. Only the shortenings
# that are no other word ("sat", "sun" and "mon" are left alone).
_WEEKDAYS = {"tue": "Tuesday", "tues": "Tuesday", "wed": "Wednesday", "weds": "Wednesday", "thu": "Thursday",
             "thur": "Thursday", "thurs": "Thursday", "fri": "Friday"}
_WEEKDAY_RE = re.compile(rf"(?<![\w'])({'|'.join(_WEEKDAYS)})\.?(?![\w'])", re.I)


def spelled_out(question: str) -> str:
    """``question`` with the weekdays it shortens spelt out after it: "close on wed (Wednesday)"."""
    days = list(dict.fromkeys(_WEEKDAYS[m.group(1).lower()] for m in _WEEKDAY_RE.finditer(question)))
    return f"{question} ({'; '.join(days)})" if days else question

"""A question as voice-to-text and spelling by sound write it, read the way the same question typed clean is read.

Three steps, on the question only (the answer quotes the documents), each built from the documents, never from a
list of tests in code:

- letters dictated one by one are joined when the joined word is an abbreviation the documents write: "my l d l"
  -> "my LDL", "the a one see test" -> "the A1c test", "my b twelve" -> "my B12", "e o b" -> "EOB" (a letter may be
  said as its name: "see" is C, "you" is U; a digit as its word). Joined words of fewer than three characters are
  left alone ("p t" may be physical therapy).
- numbers said in words become digits: "one forty five" -> "145", "one oh eight" -> "108", "five point nine" ->
  "5.9", "fifty five" -> "55", "sixty to" -> "62" (voice-to-text writes the "two" after a tens word as "to"), "til
  five thirty" -> "til 5:30". A lone "one" stays ("no one", "one of"). Digits the patient wrote are never changed.
- a word that is neither English (wordfreq) nor Spanish nor a word of the documents is put right when one word of
  the documents is clearly the closest, by sound first ("wite" -> "white", "calsium" -> "calcium", "fone" ->
  "phone") and else by spelling ("colestrol" -> "cholesterol"). A word written with its "g" dropped, as it is said,
  is the documents' "-ing" word when that is the commoner word ("parkin" -> "parking", "buildin" -> "building").

:class:`Hearing` is made once from the documents (knowledge/library.py); :meth:`Hearing.read` does the three steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from knowledge.documents import Document

UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
         "seventeen": 17, "eighteen": 18, "nineteen": 19}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
# How voice-to-text writes a letter said by its name.
LETTER_NAMES = {"bee": "b", "be": "b", "see": "c", "sea": "c", "cee": "c", "dee": "d", "ef": "f", "gee": "g",
                "aitch": "h", "eye": "i", "jay": "j", "kay": "k", "el": "l", "ell": "l", "em": "m", "en": "n",
                "oh": "o", "pee": "p", "cue": "q", "are": "r", "ar": "r", "es": "s", "ess": "s", "tee": "t",
                "tea": "t", "you": "u", "vee": "v", "ex": "x", "why": "y", "zee": "z", "zed": "z"}
_ZEROS = {"oh", "o", "zero"}  # "one oh eight"
# A time, not a value: "til five thirty", "at nine fifteen", "five thirty pm".
_TIME_BEFORE = frozenset(["at", "til", "till", "until", "by", "around", "about", "before", "after", "from", "between"])
# A lone number word after these counts things already named, no result: "what do those two usually point to" (a
# report's two lines; read as "those 2", the 2 was placed as a white cell count)
_COUNTING_BEFORE = frozenset(["those", "these", "the", "both", "all", "other", "which"])
_TIME_AFTER = frozenset(["am", "pm", "oclock", "o'clock"])
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
# wordfreq: a word this common in English is one, whatever was meant ("massage", "strep" 2.7, "appt" 2.6); the
# misspellings are rarer ("fone" 2.2, "suger" 1.9, "wite" 1.8)
ENGLISH_ZIPF = 2.5
SPANISH_ZIPF = 3.0  # ... or in Spanish ("salio", "cita", "presion" 3.4): Spanglish is not misspelt English
MIN_LETTERS = 4  # shorter words ("wat", "ppl", "rn") are left as they are


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()


def tokens(text: str) -> list[Token]:
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _apart(text: str, a: Token, b: Token, hyphen: bool = False) -> bool:
    """Two tokens with only spaces (or a hyphen) between them."""
    gap = text[a.end:b.start]
    return bool(re.fullmatch(r"[ \t]+" if not hyphen else r"[ \t]*-?[ \t]*", gap)) and gap != ""


def _replace(text: str, changes: Sequence[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(changes, reverse=True):
        text = text[:start] + new + text[end:]
    return text


# -- letters dictated one by one --------------------------------------------------------------------
def _letter(token: Token) -> str:
    """The letter or digit a dictated token stands for ("l", "see" -> "c", "one" -> "1", "12"), or ""."""
    word = token.lower
    if len(word) == 1 and word.isalpha():
        return word
    if word.isdigit() and len(word) <= 2:
        return word
    number = UNITS.get(word, TEENS.get(word))
    if number is not None and word != "zero":
        return str(number)
    return LETTER_NAMES.get(word, "")


def join_letters(text: str, abbreviations: dict[str, str], words: frozenset[str] = frozenset()) -> str:
    """Runs of dictated letters joined into the documents' abbreviation they spell ("l d l" -> "LDL"); a letter said
    apart from the rest of a word of the documents joined to it ("n mol" -> "nmol", "e mail" -> "email")."""
    found, changes, i = tokens(text), [], 0
    while i < len(found):
        end = i
        while end < len(found) and _letter(found[end]) and (end == i or _apart(text, found[end - 1], found[end])):
            end += 1
        joined = None
        for stop in range(end, i + 1, -1):  # the longest run from here that spells an abbreviation
            run = found[i:stop]
            spelt = "".join(_letter(t) for t in run)
            single = any(len(t.text) == 1 and t.text.isalpha() for t in run)
            if single and len(spelt) >= 3 and spelt in abbreviations:
                joined = (stop, abbreviations[spelt])
                break
        if joined is None and i + 1 < len(found) and re.fullmatch(r"[b-hj-z]", found[i].lower) and _apart(
                text, found[i], found[i + 1]) and len(word := found[i].lower + found[i + 1].lower) >= 4 and word in words:
            joined = (i + 2, found[i].text + found[i + 1].text)
        if joined is None:
            i += 1
            continue
        changes.append((found[i].start, found[joined[0] - 1].end, joined[1]))
        i = joined[0]
    return _replace(text, changes)


def abbreviations_of(documents: Iterable[Document]) -> dict[str, str]:
    """Each abbreviation the documents write (two capitals or more, or letters with a digit: "LDL", "eGFR", "A1c",
    "B12", "EOB"), keyed by its letters and digits in lower case; the front matter's spelling first."""
    found: dict[str, str] = {}
    documents = list(documents)
    written = [n for d in documents for names in d.names.values() for n in names]
    written += [w for d in documents for w in d.also_called]
    written += [m.group() for d in documents for m in re.finditer(r"[A-Za-z0-9]+", d.body)]
    for word in written:
        if " " in word.strip():
            continue
        key = re.sub(r"[^a-z0-9]", "", word.lower())
        capitals = sum(c.isupper() for c in word)
        digits = any(c.isdigit() for c in key)
        if len(key) >= 3 and key[0].isalpha() and (capitals >= 2 or (digits and capitals >= 1)):
            found.setdefault(key, word)
    return found


# -- numbers said in words --------------------------------------------------------------------------
def _word(found: Sequence[Token], i: int) -> str:
    return found[i].lower if i < len(found) else ""


def _small(found: Sequence[Token], i: int, text: str) -> tuple[int, int] | None:
    """1 to 99 at token ``i``: "five", "fifteen", "forty", "forty five", "forty-five"; (value, next index)."""
    word = _word(found, i)
    if word in TENS:
        if i + 1 < len(found) and _word(found, i + 1) in UNITS and _word(found, i + 1) != "zero" and \
                _apart(text, found[i], found[i + 1], hyphen=True):
            return TENS[word] + UNITS[_word(found, i + 1)], i + 2
        return TENS[word], i + 1
    if word in TEENS:
        return TEENS[word], i + 1
    if word in UNITS:
        return UNITS[word], i + 1
    return None


def _next(found: Sequence[Token], i: int, text: str) -> bool:
    """Token ``i`` goes on the number before it (only spaces or a hyphen between)."""
    return 0 < i < len(found) and _apart(text, found[i - 1], found[i], hyphen=True)


def _cardinal(found: Sequence[Token], i: int, text: str) -> tuple[str, int] | None:
    """The number that starts at token ``i``, as digits, and the index after it."""
    first = _small(found, i, text)
    if first is None and _word(found, i) == "a" and _word(found, i + 1) == "hundred" and _next(found, i + 1, text):
        first = (1, i + 1)
    if first is None:
        return None
    value, j = first
    if _word(found, j) == "hundred" and _next(found, j, text) and value < 10:
        value, j = value * 100, j + 1
        k = j + 1 if _word(found, j) == "and" and _next(found, j, text) else j
        rest = _small(found, k, text) if _next(found, k, text) else None
        if rest is not None:
            value, j = value + rest[0], rest[1]
        return str(value), j
    if value < 20 and (value != 10 or (i > 0 and _word(found, i - 1) in _TIME_BEFORE)):
        # "one forty five", "one oh eight", "nineteen eighty", "at ten thirty"
        if _word(found, j) in _ZEROS and _word(found, j + 1) in UNITS and _next(found, j, text) and \
                _next(found, j + 1, text) and _word(found, j + 1) != "zero":
            return _clock_or_digits(found, i, j + 2, value, UNITS[_word(found, j + 1)], text)
        rest = _small(found, j, text) if _next(found, j, text) and _word(found, j) not in UNITS else None
        if rest is not None and rest[0] >= 10:
            return _clock_or_digits(found, i, rest[1], value, rest[0], text)
    return str(value), j


def _clock_or_digits(found: Sequence[Token], i: int, j: int, high: int, low: int, text: str) -> tuple[str, int]:
    """"five thirty" after "til" (or before "pm") is 5:30; said of a result it is 530 ("one forty five" is 145)."""
    said_before = i > 0 and _word(found, i - 1) in _TIME_BEFORE
    clock = high <= 12 and low < 60 and (said_before or _word(found, j) in _TIME_AFTER)
    return (f"{high}:{low:02d}" if clock else f"{high}{low:02d}"), j


def spoken_numbers(text: str) -> str:
    """Numbers said in words written as digits: "one forty five" -> "145", "five point nine" -> "5.9"."""
    found, changes, i = tokens(text), [], 0
    while i < len(found):
        read = _cardinal(found, i, text)
        if read is None:
            i += 1
            continue
        digits, j = read
        if _word(found, j) == "point" and _next(found, j, text):  # "five point nine", "one point two five"
            decimals, k = "", j + 1
            while _word(found, k) in UNITS or (_word(found, k) in _ZEROS and decimals):
                if not _next(found, k, text):
                    break
                decimals, k = decimals + str(UNITS.get(_word(found, k), 0)), k + 1
            if decimals and ":" not in digits:
                digits, j = f"{digits}.{decimals}", k
        elif _word(found, i) in TENS and j == i + 1 and _word(found, j) in ("to", "too") and _next(found, j, text) \
                and not _says_number(found, j + 1):
            digits, j = str(TENS[_word(found, i)] + 2), j + 1  # "sixty to" is 62; "sixty to seventy" is a range
        if j == i + 1 and (_word(found, i) in ("one", "zero") or (i > 0 and _word(found, i - 1) in _COUNTING_BEFORE)):
            i += 1  # "no one", "one of them", "those two"
            continue
        changes.append((found[i].start, found[j - 1].end, digits))
        i = j
    return _replace(text, changes)


def _says_number(found: Sequence[Token], i: int) -> bool:
    word = _word(found, i)
    return word.isdigit() or word in UNITS or word in TEENS or word in TENS


# -- spelling by sound ------------------------------------------------------------------------------
def sounded(word: str) -> str:
    """The word spelt as it sounds: "ph" is f, "wh" w, a soft c s, a hard c k; doubled letters once."""
    w = word.lower()
    for written, said in (("tch", "ch"), ("ph", "f"), ("wh", "w"), ("ck", "k"), ("kn", "n"), ("wr", "r"),
                          ("qu", "kw"), ("x", "ks"), ("ch", "§")):
        w = w.replace(written, said)
    w = re.sub(r"c(?=[eiy])", "s", w).replace("c", "k").replace("§", "ch")
    return re.sub(r"(.)\1+", r"\1", w)


def sound_key(word: str) -> str:
    """The first sound and the consonants after it: "calsium" and "calcium" both "klsm"."""
    w = sounded(word)
    return w[:1] + re.sub(r"[aeiouyhw]", "", w[1:])


def distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment): edits, a swap of two letters being one."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


@lru_cache(maxsize=4096)
def _zipf(word: str, language: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, language))


class Speller:
    """Words that are neither English nor the documents', put right to the documents' closest word."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(w for w in words if len(w) >= 3)
        self._by_sound: dict[str, list[str]] = {}
        for word in sorted(self.words):
            self._by_sound.setdefault(sound_key(word), []).append(word)

    def known(self, word: str) -> bool:
        """A word of the documents, or its plural or possessive ("thinners", "tonights")."""
        return word in self.words or (word.endswith("s") and (word[:-1] in self.words or word[:-2] in self.words
                                                                or f"{word[:-3]}y" in self.words))

    def unknown(self, word: str) -> bool:
        return (len(word) >= MIN_LETTERS and word.isalpha() and not self.known(word)
                and _zipf(word, "en") < ENGLISH_ZIPF and _zipf(word, "es") < SPANISH_ZIPF)

    def correct(self, word: str) -> str | None:
        """The documents' word ``word`` stands for, or None when none is clearly the closest."""
        word = word.lower()
        dropped = f"{word}g"  # "parkin", "buildin": the g dropped as it is said ("parkin" is a word too, rarer)
        if len(word) >= 5 and word.endswith("in") and dropped in self.words and (
                _zipf(dropped, "en") > _zipf(word, "en")):
            return dropped
        if not self.unknown(word):
            return None
        said = sounded(word)
        near = 0 if len(word) <= MIN_LETTERS else 1  # "fone" is "phone"; "stor" is no more "story" than "store"
        scored = {c: distance(said, sounded(c)) for c in self._by_sound.get(sound_key(word), [])}
        scored = {c: d for c, d in scored.items() if d <= near}
        if not scored and len(word) > MIN_LETTERS:  # by spelling: one edit, two in a long word, the same first letter
            most = 1 if len(word) < 7 else 2
            scored = {c: d for c in self.words if c[0] == word[0] and abs(len(c) - len(word)) <= most
                      and (d := distance(word, c)) <= most}
        if not scored:
            return None
        best = min(scored.values())
        chosen = [c for c, d in scored.items() if d == best]
        if len(chosen) != 1 or _zipf(chosen[0], "en") <= _zipf(word, "en"):
            return None
        return chosen[0]

    def read(self, text: str) -> str:
        changes = []
        for token in tokens(text):
            fixed = self.correct(token.text) if token.text.isalpha() else None
            if fixed is not None:
                changes.append((token.start, token.end, fixed.capitalize() if token.text[:1].isupper() else fixed))
        return _replace(text, changes)


def document_words(documents: Iterable[Document]) -> set[str]:
    """Every word the documents write, in lower case (titles, names, lay words and text)."""
    out: set[str] = set()
    for doc in documents:
        texts = [doc.title, doc.body, *doc.also_called, *(n for names in doc.names.values() for n in names)]
        out |= {w for text in texts for w in re.findall(r"[a-z]+", text.lower())}
    return out


class Hearing:
    """What a question dictated or spelt by sound says, in the documents' words."""

    def __init__(self, abbreviations: dict[str, str], speller: Speller) -> None:
        self.abbreviations = abbreviations
        self.speller = speller

    @classmethod
    def from_documents(cls, documents: Iterable[Document]) -> Hearing:
        documents = list(documents)
        return cls(abbreviations_of(documents), Speller(document_words(documents)))

    def warm(self) -> None:
        """Load the word lists now, not for the first patient."""
        for language in ("en", "es"):
            _zipf("the", language)

    def read(self, question: str) -> str:
        """``question`` with dictated letters joined, numbers in digits and misspelt words put right."""
        joined = join_letters(question, self.abbreviations, self.speller.words)
        return self.speller.read(spoken_numbers(joined))

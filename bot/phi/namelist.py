"""Names, places and organisations found with the lexicon's lists, in any case.

A word that is only a name or a place (``kowalski``, ``tuscaloosa``) is PHI wherever it stands. A
word that is also an everyday word (``rose``, ``will``, ``mobile``) is PHI only when it is used as
one: after a title or a cue ("Mr.", "my sister", "this is"), capitalised in the middle of a
sentence, next to another name ("Rose Kowalski"), or, for places, after "in"/"from" or before a
state. A run of capitalised words around a name or ending in an organisation word ("Mercy General",
"Acme Logistics", "St. Mary's Hospital") is an organisation.
"""

from __future__ import annotations

import re

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from bot.phi import cues, venues
from bot.phi.lexicon import Lexicon
from bot.phi.lowercase import CLAUSE_OPENERS, PERSON_VERBS, lower_case_person, paired, subject
from bot.phi.names import STOP_WORDS
from bot.phi.tokens import (
    PLACE_CUES,
    RELATIVES,
    STRONG_CUES,
    TITLES,
    Piece,
    after_cue,
    capital_runs,
    joined,
    mostly_title,
    mostly_upper,
    pieces,
)

ORG_WORDS = frozenset(
    ["hospital", "hospitals", "medical", "center", "centre", "clinic", "clinics", "health", "healthcare", "memorial", "general", "regional", "university", "college", "school", "academy", "elementary", "middle", "high", "church", "bank", "inc", "llc", "corp", "corporation", "company", "co", "group", "foods", "logistics", "services", "systems", "partners", "associates", "assoc", "pharmacy", "laboratories", "labs", "institute", "foundation", "county", "community", "nursing", "rehab", "rehabilitation", "hospice", "manor", "industries", "motors", "works", "steel", "insurance", "solutions", "technologies", "store", "stores", "market", "dept", "department", "infirmary", "sanitarium", "practice", "physicians", "surgeons", "consultants", "enterprises", "holdings", "manufacturing", "construction"]
)
# "Filbert Bright, M.D.", "ANNA K. LEE RN": capitalised words before a degree are a name.
SIGNED = re.compile(
    r"\b([A-Z][\w'’-]*\.?(?:[ \t]+[A-Z][\w'’-]*\.?){0,3}),?[ \t]+"
    r"(?:M\.?D\.?|D\.?O\.|R\.?N\.?|N\.?P\.?|P\.?A\.?-?C?|Ph\.?D\.?|LPN|FNP|MSW|LCSW|PharmD|DDS|CNM|APRN)(?![\w])"
)
NAME_GAP = r"\s*[,.]?\s*|/"  # "Rose Kowalski", "kowalski, rose", dictation initials "GPP/church/olinger"
RUN_GAP = r"\s+|['’]s\s+|\.\s+|\s*&\s*"
# A head that makes the words before it a place's name in any case ("good samaritan hospital",
# "lincoln elementary"); the walk back stops at a common short word or a clinical term.
ANY_CASE_HEADS = frozenset(
    ["hospital", "hospitals", "clinic", "school", "elementary", "academy", "university", "college", "bank", "church", "pharmacy", "infirmary", "hospice", "manor", "inc", "llc", "corp", "corporation", "foods", "logistics", "industries"]
)
RESIDENCE_CUES = frozenset(["live", "lives", "living", "lived", "moved", "moving", "relocated", "visiting", "staying", "drove"])
CONNECTORS = frozenset(["of", "the", "and", "&", "for", "at", "on", "st", "st.", "de", "la", "del", "van", "von"])
US_STATES = frozenset(
    ["al", "ak", "az", "ar", "ca", "co", "ct", "de", "fl", "ga", "hi", "id", "il", "in", "ia", "ks", "ky", "la", "me", "md", "ma", "mi", "mn", "ms", "mo", "mt", "ne", "nv", "nh", "nj", "nm", "ny", "nc", "nd", "oh", "ok", "or", "pa", "ri", "sc", "sd", "tn", "tx", "ut", "vt", "va", "wa", "wv", "wi", "wy", "dc", "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut", "delaware", "florida", "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa", "kansas", "kentucky", "louisiana", "maine", "maryland", "massachusetts", "michigan", "minnesota", "mississippi", "missouri", "montana", "nebraska", "nevada", "ohio", "oklahoma", "oregon", "pennsylvania", "tennessee", "texas", "utah", "vermont", "virginia", "washington", "wisconsin", "wyoming"]
)


def _state_after(text: str, items: list[Piece], i: int) -> bool:
    if i + 1 >= len(items) or not joined(text, items[i], items[i + 1]):
        return False
    nxt = items[i + 1]
    return (nxt.lower in US_STATES and (nxt.upper or len(nxt.lower) > 2)) or bool(re.fullmatch(r"\d{5}", nxt.text))


def find(text: str, lex: Lexicon) -> list[tuple[int, int, str]]:
    """(start, end, entity) for every name, place and organisation the lists and context show."""
    items = pieces(text)
    caps_text = mostly_upper(text) or mostly_title(items)
    flags: list[str | None] = [None] * len(items)
    ambiguous: list[bool] = [False] * len(items)
    for i, p in enumerate(items):
        w = p.word
        if not p.alpha or len(w) < 2:
            continue
        name, place = lex.is_name(w), w in lex.places
        if not (name or place):
            if i and items[i - 1].word in TITLES and w not in lex.safe and w not in lex.clinical:
                flags[i] = "PERSON"  # "DR. OYELARAN", "mrs petrakis": a word no list knows, after a title
            continue
        clinical, safe = w in lex.clinical, w in lex.safe
        kind = "LOCATION" if place and (not name or _place_context(text, items, i)) else "PERSON"
        if not safe and not clinical and not (p.upper and w in lex.abbreviations):  # "HA", "DOE": abbreviations
            flags[i] = kind
            continue
        ambiguous[i] = True
        flags[i] = _ambiguous(text, items, i, lex, caps_text)
    _spread(text, items, flags, ambiguous, lex)
    found = [(items[i].start, items[i].end, f) for i, f in enumerate(flags) if f]
    found += [(m.start(1), m.end(1), "PERSON") for m in SIGNED.finditer(text)
              if not all(w in lex.clinical for w in re.findall(r"[a-z]+", m.group(1).lower()))]
    found += _organisations(text, items, flags, lex, caps_text)
    if not caps_text:
        found += _named_runs(text, items, flags, lex)
    found += _schools(text, items, flags, lex)
    found += _headed_places(text, items, lex)
    found += venues.find(text, items, lex, [f == "PERSON" for f in flags])
    found += _numbered(text, items, lex)
    return found + cues.titled(text, items, lex) + cues.of_names(text, items, lex) + cues.teams(text, items, lex)


# "CVS #4412", "Safeway Pharmacy No. 1187", "Kroger store #611", "HOME DEPOT STORE 4410": a number after a
# name and "#", "No." or "store" is a store's, a unit's or an account's; the name goes with it.
NUMBERED = re.compile(r"(?:#|(?i:\bno\.|\bstore\b|\bbranch\b|\blocation\b)[ \t]*#?)[ \t]*(\d{3,6})\b(?![.,/:]\d)")
# Words that label a number themselves ("Suite No. 204", "Room #12", "Disp #100"): only the number goes.
NUMBER_LABELS = frozenset(
    ["room", "rm", "bed", "suite", "ste", "unit", "apt", "apartment", "lot", "box", "ext", "order", "rx", "claim", "case", "ticket", "invoice", "ref", "item", "disp", "dispense", "qty", "quantity", "tab", "tabs", "page", "lane", "gate", "door", "floor", "bay", "exam", "pod", "station"]
)


def _numbered(text: str, items: list[Piece], lex: Lexicon) -> list[tuple[int, int, str]]:
    found = []
    for m in NUMBERED.finditer(text):
        after = re.match(r"\s*([A-Za-z/]+)", text[m.end() :])
        if after and after.group(1).lower() in lex.units:
            continue  # "#100 tablets" is a count
        start, named = m.start(), 0
        k = max((p.index for p in items if p.end <= m.start()), default=-1)
        while k >= 0 and named < 4:
            p = items[k]
            if text[p.end : start].strip(" \t") or not p.alpha or p.word in CUE_WORDS or p.word in NUMBER_LABELS \
                    or _verb(p, lex) or not (p.capitalised or p.word in ("store", "pharmacy")):
                break
            start, named, k = p.start, named + 1, k - 1
        if not named:
            start, named = _placed_store(text, items, m.start(), lex)
        found.append((start, m.end(1), "ORG") if named else (m.start(1), m.end(1), "OTHER_ID"))
    return found


def _placed_store(text: str, items: list[Piece], at: int, lex: Lexicon) -> tuple[int, int]:
    """In lower case: "send it to cvs #4471", "the pharmacist at rite aid #3127": one to three words between a
    preposition of place and a store's number are the store's name. (start, words) or (at, 0)."""
    k = max((p.index for p in items if p.end <= at), default=-1)
    words: list[Piece] = []
    while k >= 0 and len(words) < 3:
        p = items[k]
        if text[p.end : words[-1].start if words else at].strip(" \t") or not p.alpha:
            break
        if p.word in venues.PREPOSITIONS:
            if words:
                return words[-1].start, len(words)
            break
        if p.word in CUE_WORDS or p.word in NUMBER_LABELS or p.word in lex.units or _verb(p, lex):
            break
        words.append(p)
        k -= 1
    return at, 0


def _ambiguous(text: str, items: list[Piece], i: int, lex: Lexicon, caps_text: bool) -> str | None:
    """An everyday word that is also a name or a place, used as one here?"""
    p = items[i]
    w = p.word
    name, place, clinical = lex.is_name(w), w in lex.places, w in lex.clinical
    before = items[i - 1].word if i else ""
    after = [q.word for q in items[i + 1 : i + 3]]
    relative = before in RELATIVES and w not in lex.plain  # "PT STATES": a verb, not a name
    # "CC: HA x1 wk", "c/o HA": a medical abbreviation in capitals after a cue that a note uses for its own
    # headings ("cc" chief complaint, "c/o" complains of) is the complaint, not a name
    abbreviation = p.upper and w in lex.abbreviations
    if name and (before in TITLES or (not clinical and not abbreviation and (relative or after_cue(items, i, STRONG_CUES)))):
        return "PERSON"
    if name and not clinical and p.capitalised and not caps_text and after and (
        after[0] in PERSON_VERBS or after[:2] in (["and", "i"], ["and", "me"])
    ):
        return "PERSON"  # "Rose called earlier", "Hope and I"
    if w in lex.first_names and not clinical and not p.capitalised and after and after[0] in PERSON_VERBS \
            and (p.sentence_start or before in CLAUSE_OPENERS):
        return "PERSON"  # "grant called back", "so bill said" (but "the bill came", "the insurance lady asked")
    if w in lex.first_names and not clinical and not p.capitalised and lower_case_person(text, items, i, lex):
        return "PERSON"
    if w in lex.first_names and not clinical and not p.capitalised and (paired(text, items, i, lex)
                                                                        or subject(text, items, i)):
        return "PERSON"
    if place and _state_after(text, items, i) and (p.capitalised or p.upper):
        return "LOCATION"  # "Normal, IL", "Mobile AL"
    if place and not clinical and _residence(items, i):
        return "LOCATION"  # "we live in mobile now"
    if w in lex.towns and before in PLACE_CUES and before != "of":
        return "LOCATION"  # "im near kalamazoo", "the walgreens in fairview": a rare word, a town here
    if clinical or caps_text or not p.capitalised or p.sentence_start or (p.upper and (w in lex.abbreviations
                                                                                   or w in lex.plain)):
        return None
    if place and _place_context(text, items, i):
        return "LOCATION"
    if name:
        return "PERSON"  # "with dtr (Summer)", "Baby girl HOPE": a name that is also some town's is someone's
    return None


def _named_runs(text: str, items: list[Piece], flags: list[str | None], lex: Lexicon) -> list[tuple[int, int, str]]:
    """Capitalised words in a row around a name or a place, none of them clinical: the whole run is
    the name of something ("Mercy West", "Metro Transit", "Swift Freight", "Summit Orthopedics")."""
    found = []
    for run in capital_runs(text, items, r"[ \t]+"):
        while run and not flags[run[0].index] and (run[0].sentence_start or run[0].word in CUE_WORDS
                                                   or "'" in run[0].lower):
            run = run[1:]  # "Wife Henrietta", "Thanks Mark", "I'm Rose": the cue is not part of the name
        flagged = [p for p in run if flags[p.index]]
        others = [p for p in run if not flags[p.index]]
        if len(run) >= 2 and flagged and others and not any(
            p.word in lex.clinical or p.word in CUE_WORDS for p in others
        ):
            # "Mark Oyelaran" (a word no list knows) is a person; "Mercy West" (an everyday word) is not
            person = all(p.word not in lex.safe for p in others) and all(flags[p.index] == "PERSON" for p in flagged)
            found.append((run[0].start, run[-1].end, "PERSON" if person else "ORG"))
    return found


CUE_WORDS = STOP_WORDS | TITLES | RELATIVES
# After a name or a place these make it an organisation's name in any case ("roosevelt middle",
# "banner health", "jefferson county health dept").
SCHOOL_HEADS = frozenset(["middle", "high", "elementary", "junior", "prep", "academy", "health", "healthcare", "general", "memorial", "regional", "medical", "hospital", "clinic", "county", "university", "college", "bank"])


def _schools(text: str, items: list[Piece], flags: list[str | None], lex: Lexicon) -> list[tuple[int, int, str]]:
    """A name or place with a school or organisation word after it, in any case: "roosevelt middle",
    "LINCOLN HIGH", "banner health"; "st marys", "saint jude's": a saint's name is a hospital's."""
    found = []
    for i, p in enumerate(items[:-1]):
        nxt = items[i + 1]
        if flags[i] and nxt.word in SCHOOL_HEADS and joined(text, p, nxt, r"[ \t]+"):
            end = nxt.end
            if i + 2 < len(items) and items[i + 2].word == "school" and joined(text, nxt, items[i + 2], r"[ \t]+"):
                end = items[i + 2].end
            found.append((p.start, end, "ORG"))
        bare = re.sub(r"(?:'s|s)$", "", nxt.word)
        if p.word in ("st", "saint") and nxt.alpha and (lex.is_name(nxt.word) or lex.is_name(bare)) and \
                joined(text, p, nxt, r"\.?[ \t]+") and not (i and items[i - 1].alpha and not items[i - 1].sentence_start
                                                             and items[i - 1].word not in STOP_WORDS | PLACE_CUES):
            found.append((p.start, nxt.end, "ORG"))  # not "main st" before a name
    return found


def _verb(p: Piece, lex: Lexicon) -> bool:
    """"discussed hospice", "visiting clinic": an everyday word in -ed or -ing is no part of a name."""
    return p.word in lex.safe and not lex.is_name(p.word) and p.word.endswith(("ed", "ing"))


def _headed_places(text: str, items: list[Piece], lex: Lexicon) -> list[tuple[int, int, str]]:
    found = []
    for k, head in enumerate(items):
        if head.word not in ANY_CASE_HEADS:
            continue
        first = k
        while first > 0 and k - first < 3:
            prev = items[first - 1]
            if (not joined(text, prev, items[first], r"[ \t]+|['’]s[ \t]+") or not prev.alpha
                    or prev.word in STOP_WORDS or prev.word in CONNECTORS or prev.word in ANY_CASE_HEADS
                    or (prev.word in lex.clinical and not lex.is_name(prev.word)) or _verb(prev, lex)):
                break
            first -= 1
        if first < k:
            found.append((items[first].start, head.end, "ORG"))
    return found


def _residence(items: list[Piece], i: int) -> bool:
    """"live in X", "moved to X", "visiting from X"."""
    before = [q.word for q in items[max(0, i - 2) : i]]
    return bool(before) and (before[-1] in RESIDENCE_CUES or (len(before) == 2 and before[0] in RESIDENCE_CUES
                                                                and before[1] in PLACE_CUES))


def _place_context(text: str, items: list[Piece], i: int) -> bool:
    before = items[i - 1].word if i else ""
    after_comma = i > 0 and text[items[i - 1].end : items[i].start].strip() == ","  # "..., Duluth"
    return before in PLACE_CUES or _state_after(text, items, i) or (after_comma and items[i].capitalised)


def _spread(text: str, items: list[Piece], flags: list[str | None], ambiguous: list[bool], lex: Lexicon) -> None:
    """Names stick together: "Rose Kowalski", "kowalski, rose", "Xzavian G. Tavares"."""
    for _ in range(3):
        changed = False
        for i, p in enumerate(items):
            if flags[i]:
                continue
            neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(items) and flags[j] == "PERSON"]
            neighbours = [j for j in neighbours
                          if joined(text, items[min(i, j)], items[max(i, j)], allow=NAME_GAP)]
            if not neighbours:
                continue
            initial = len(p.text) == 1 and p.text.isupper()
            same_case = all(items[j].capitalised == p.capitalised for j in neighbours)
            clinical = p.word in lex.clinical
            common = p.word in lex.plain and not p.capitalised  # "kowalski went home": "went" is no name
            if initial or (ambiguous[i] and lex.is_name(p.word) and same_case and (not clinical or p.capitalised)
                           and not common):
                flags[i] = "PERSON"
                changed = True
        if not changed:
            return


def _organisations(
    text: str, items: list[Piece], flags: list[str | None], lex: Lexicon, caps_text: bool
) -> list[tuple[int, int, str]]:
    if caps_text:
        return _organisations_in_capitals(text, items, flags, lex)
    found = []
    i = 0
    while i < len(items):
        if not (items[i].capitalised and items[i].alpha):
            i += 1
            continue
        j = i
        while j + 1 < len(items) and joined(text, items[j], items[j + 1], RUN_GAP) and (
            items[j + 1].capitalised or (items[j + 1].lower in CONNECTORS and j + 2 < len(items)
                                         and items[j + 2].capitalised)
        ):
            j += 1
        run = items[i : j + 1]
        if run[0].sentence_start and run[0].word in STOP_WORDS:
            run = run[1:]  # "Called Mercy General": the verb starts the sentence, not the name
        while run and ((run[0].upper and len(run[0].text) <= 5 and not flags[run[0].index] and run[0].word in lex.safe)
                       or run[0].lower in CONNECTORS):
            run = run[1:]  # "F/u with GI at Jefferson Digestive Health": the clinic's department is no name
        words = [p for p in run if p.lower not in CONNECTORS]
        has_org = any(p.word in ORG_WORDS for p in words[1:]) or (
            len(words) > 1 and words[0].word in ORG_WORDS and run[1].lower == "of"
        )
        named = any(p.word not in ORG_WORDS and p.word not in lex.clinical for p in words)
        if len(words) >= 2 and has_org and named:
            found.append((run[0].start, run[-1].end, "ORG"))
        i = j + 1
    return found


def _organisations_in_capitals(
    text: str, items: list[Piece], flags: list[str | None], lex: Lexicon
) -> list[tuple[int, int, str]]:
    """In capitals every word looks like a name: take the words just before an organisation word,
    back to a common short word, when one of them is a name or not a known word ("MERCY GENERAL")."""
    found = []
    for k, head in enumerate(items):
        if head.word not in ORG_WORDS or k == 0 or not head.capitalised:
            continue  # in a line of capitalised words, "Crane's insurance" is a person's insurance
        first = k
        while first > 0 and k - first < 3:
            prev = items[first - 1]
            if not prev.alpha or prev.word in CUE_WORDS or prev.word in lex.clinical or prev.word in ORG_WORDS \
                    or _verb(prev, lex) or not joined(text, prev, items[first], r"[ \t]+"):  # not "BLAKE RE: HOSPICE"
                break
            first -= 1
        named = [items[m] for m in range(first, k)]
        if named and any(flags[p.index] or p.word not in lex.safe for p in named):
            found.append((items[first].start, head.end, "ORG"))
    return found


class NameListRecognizer(LocalRecognizer):
    """Presidio recognizer over :func:`find` (the lexicon loads on the first call)."""

    # above spaCy's 0.85: Presidio drops a result that one of the same type and a higher or equal score
    # covers, and spaCy's spans ("grant", "Spoke w/ Nguyen Thi Lan") may then be judged no PHI
    def __init__(self, score: float = 0.86) -> None:
        self.score = score
        self.label = "NameListRecognizer"
        super().__init__(supported_entities=["PERSON", "LOCATION", "ORG"], name=self.label)

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        from bot.phi.lexicon import load

        lex = load()
        return [
            RecognizerResult(
                entity,
                start,
                end,
                self.score,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for start, end, entity in find(text, lex)
            if entity in entities
        ]

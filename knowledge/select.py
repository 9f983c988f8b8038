"""Choosing the sentences that answer: by meaning (sentence embeddings), not by shared words.

Each sentence of the retrieved sections is scored by its embedding's similarity to the question, plus how close its
section's heading is to the question (a sentence under "What a low TSH can mean" answers "what does low tsh mean"
even where it only says "An overactive thyroid can cause ..."), less a little for each rank its section is below the
first. Two floors stay in words: a question about a high value does not get a sentence only about a low one (and the
other way round), and a question about a range or a normal value prefers sentences that give the numbers.

A learned sentence scorer (knowledge/reranker.py), which reads the question and the sentence together, adds a tenth
of its score when the selector has one, to the ten best sentences by the rest.

The best sentence is taken, then the next best ones of the same section that score nearly as well, in the section's
order, and the best of another section when it scores nearly as well as the best, after them, as long as the answer
still fits the SMS budget. Embeddings are cached per sentence text: a clinic's documents
are a few thousand sentences.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from knowledge.embeddings import Embedder, embed_cached
from knowledge.guard import has_dosing_language
from knowledge.kinds import compared, compared_within, gives, heading_gives, question_kinds, subject_words
from knowledge.lexical import rare_overlap
from knowledge.lists import blocks, with_lists
from knowledge.reranker import Reranker
from knowledge.sentences import asking_sentences, message_sentences, plain_sentences, sms_safe
from knowledge.types import Passage, Selection, Sentence, added_if_fits, answer_order

# What a sentence is scored on, and each one's weight (knowledge/selection_weights.json when it is there, fitted on
# the project's answer sets by scripts/fit_selection.py; else these, set by hand):
FEATURES = (
    "sentence",  # the sentence's embedding's similarity to the question's
    "context",  # the same for the sentence written after its section's heading (in_context)
    "heading",  # the section heading's similarity to the question
    "heading_kind",  # the heading is the kind of section the question asks for ("What a high TSH can mean")
    "rank",  # how many sections rank above the sentence's
    "position",  # its place in its section (up to 8): a section's first sentences carry its point
    "rare_words",  # the question's rare words it holds (knowledge/lexical.py: rare_overlap)
    "other_direction",  # it speaks of a low value where a high one is asked, or the other way round
    "number_for_range",  # a range or normal value is asked and it gives a number
    "definition",  # "what is ldl": it says what LDL is
    "list_item",  # a list is asked for (knowledge/kinds.py) and it is of one of the section's lists
    "role",  # it gives what the question's kind asks for (a cause, a symptom: knowledge/kinds.py)
)
HAND_WEIGHTS = {"sentence": 0.5, "context": 0.5, "heading": 0.5, "heading_kind": 0.05, "rank": -0.08, "position": -0.01,
                "rare_words": 0.15, "other_direction": -1.0, "number_for_range": 0.15, "definition": 0.25,
                "list_item": 0.1, "role": 0.25}
WEIGHTS_FILE = Path(__file__).resolve().parent / "selection_weights.json"


def load_weights(path: Path = WEIGHTS_FILE) -> dict[str, float]:
    """The fitted weights (a feature the file lacks keeps its hand weight); the hand weights without the file."""
    if not path.is_file():
        return dict(HAND_WEIGHTS)
    fitted = json.loads(path.read_text(encoding="utf-8"))["weights"]
    return {f: float(fitted.get(f, HAND_WEIGHTS[f])) for f in FEATURES}


WEIGHTS = load_weights()
# The learned sentence scorer's weight beside them (knowledge/reranker.py, when the selector has one): its scores spread
# over a few units where the features' weighed sum spreads over tenths, so a tenth of it orders the close calls (the
# right sentence of the right page) and leaves the floors (the other direction, -1) where they were.
LEARNED_WEIGHT = 0.1
# It reads the features' ten best candidates, not every sentence of the sections: its cost grows with what it reads,
# and on every answer set the ten gave the same answers as all (dev15 two more) at half the p95 (blind 505 -> 162 ms)
LEARNED_CANDIDATES = 10
_ROLE, _RARE = FEATURES.index("role"), FEATURES.index("rare_words")
# Further sentences of the best section are kept when they score this close to the best. 0.17 against 0.14: on the 22
# answer sets (1,800 questions to answer) two more answers hold their fact (dev7, dev15), none fewer, 239 answers
# change, 7 characters longer on average; 0.2 gave the same two and changed 383 (13 characters longer).
KEEP_WITHIN = 0.17
# The best sentence of another section is kept too when it scores this close to the best: "can u send a refill of my
# adderall? just reply here" gets the controlled-substances sentence beside how to ask for a refill, and "my dad is
# having chest pain, should I message the portal" that portal messages are not for urgent problems beside how soon they
# are answered. 0.05 against none: on the 22 answer sets five more answers hold their fact, none fewer; 0.12 gave eight
# but one blind answer fewer and three more of the questions no page answers answered (answers_unknown).
OTHER_SECTION_WITHIN = 0.05
MAX_SENTENCES = 3

_HIGH = re.compile(r"\b(high|higher|elevated|raised|above|too much|over|hyper\w*|(go|goes|went|going) up|rising|"
                   r"increased?|alt[oa]s?)\b", re.I)  # and in Spanish: "alto", "bajo"
_LOW = re.compile(r"\b(low|lower|decreased|below|too little|under|hypo\w*|deficien\w*|(go|goes|went|going) down|"
                  r"dropp?(ed|ing)?|falling|baj[oa]s?)\b", re.I)
_RANGE_QUESTION = re.compile(
    r"\b(normal|range|ranges|typical|healthy|good|target|goal|level|levels|should (it|my \w+|\w+) be|cut-?off)\b", re.I)
_NUMBER = re.compile(r"(?<![A-Za-z])\d")
# What a question asks for, and the section headings that give it: the documents' headings follow one pattern
# ("What the A1c test measures", "Typical adult TSH ranges", "What a high TSH can mean", "When to call ...").
_ASKS = [
    (re.compile(r"^(what|whats|what's)( is| are|s)? (a |an |the )?[\w\s-]{1,30}\??$|\b(test(s|ing)? for|measures?|"
                r"check(s)? for|stand for|what does (the |a |an )?[\w -]+ (show|do|test|check|measure))\b", re.I),
     re.compile(r"\b(measures?|what is|includes|adds|is done)\b|^$", re.I)),
    (_RANGE_QUESTION, re.compile(r"\b(ranges?|levels?|typical)\b", re.I)),
    (re.compile(r"\b(cause[sd]?|why|what makes|raise[sd]?|lower[sd]?|goes? (up|down)|mean|means|meaning)\b", re.I),
     re.compile(r"\bcan mean\b|\bthings that can change\b|\bcan mean\b|\b(high|low)\b", re.I)),
    (re.compile(r"\b(call|worried|worry|emergency|911|symptoms?|signs?)\b", re.I),
     re.compile(r"\b(when to call|call|can mean)\b", re.I)),
]
_NOT_DEFINITION = frozenset({"cause", "symptom", "compare", "prep"})  # "what can make my a1c wrong" is no "what is"
_CONTRAST = re.compile(r"\b(same|adds?|both|unlike|whereas|instead|differ\w*|compared)\b", re.I)


def direction(text: str) -> str:
    """"high", "low" or "" for a question or sentence that speaks of one direction only."""
    high, low = bool(_HIGH.search(text)), bool(_LOW.search(text))
    return "high" if high and not low else "low" if low and not high else ""


def first_direction(text: str) -> str:
    """"high" or "low": the side ``text`` speaks of first ("High sodium most often means you are low on fluids" is
    about a high sodium); "" when it speaks of neither."""
    high, low = _HIGH.search(text), _LOW.search(text)
    return "" if not high and not low else "high" if high and (not low or high.start() < low.start()) else "low"


CONTEXT = True


def in_context(passage: Passage, sentence: str) -> str:
    """What is embedded for a sentence: with its section's heading, so "Platelet count: About 150 to 400." is
    about typical ranges and "An overactive thyroid can cause ..." is about a low TSH."""
    if not CONTEXT:
        return sentence
    return f"{passage.heading or passage.title}: {sentence}"


_ABOUT_THE_PAGE = re.compile(r"^(this page|it also (explains|tells))\b", re.I)  # "This page tells you ..."


def candidates(passage: Passage) -> list[str]:
    """A passage's sentences an answer may quote: not its own question lines, not dosing language, not a sentence
    about the page itself. A one-word list item counts ("Humana." answers "do you take humana")."""
    return [s for s in plain_sentences(sms_safe(passage.text))
            if not s.endswith("?") and not has_dosing_language(s) and not _ABOUT_THE_PAGE.match(s)]


def defines(sentence: str, names: Sequence[str]) -> bool:
    """The sentence says what one of ``names`` is: "LDL is often called ...", "The A1c test shows ...",
    "ALT (alanine transaminase) is an enzyme ..."."""
    return any(re.match(rf"^(the |a |an )?{re.escape(n)}( test| blood test| level)?( \([^)]*\))?,? (is|are|stands "
                        rf"for|means|measures|shows|checks|counts|looks at|tells)\b", sentence, re.I) for n in names)


class SentenceSelector:
    def __init__(self, embedder: Embedder, reranker: Reranker | None = None) -> None:
        self.embedder = embedder
        self.reranker = reranker
        self._cache: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def vectors(self, texts: Sequence[str]) -> list[list[float]]:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            fresh = self.embedder.embed(missing)
            with self._lock:
                self._cache.update(zip(missing, fresh, strict=True))
        with self._lock:
            return [self._cache[t] for t in texts]

    def prime(self, passages: Sequence[Passage]) -> None:
        """Embed every sentence of ``passages`` now, so a question only embeds itself. The vectors are kept on disk
        (``embed_cached``): about 2,000 texts, 15 s on 2 cores in each action server and test process."""
        headings = [f"{p.title} - {p.heading}" if p.heading else p.title for p in passages]
        texts = list(dict.fromkeys([*headings, *(t for p in passages for s in candidates(p)
                                                  for t in (s, in_context(p, s)))]))
        vectors = embed_cached(self.embedder, texts)
        with self._lock:
            self._cache.update(zip(texts, vectors, strict=True))

    def features(self, question: str, passages: Sequence[Passage], names: Sequence[str] = (),
                 kinds: frozenset[str] | None = None) -> list[tuple[Passage, int, str, list[float]]]:
        """Every candidate sentence of ``passages`` (its section, its place there, its text) with the values of
        :data:`FEATURES` for it. ``names`` are the documents' names for the test the question names (asked what it is,
        the sentence that says so); ``kinds`` are what the question asks for (knowledge/kinds.py; read from
        ``question`` when not given)."""
        wanted = direction(question)
        kinds = question_kinds(question) if kinds is None else kinds
        asks_what = bool(names) and bool(_ASKS[0][0].search(question.strip().rstrip("?"))) and not (
            kinds & _NOT_DEFINITION)
        subjects = {id(p): subject_words(question, names, p.heading) for p in passages}
        wants_range = bool(_RANGE_QUESTION.search(question))
        listed = {(id(p), t) for p in passages for b in blocks(p.text) for t in b.sentences} if "list" in kinds else set()
        found = [(rank, p, n, s) for rank, p in enumerate(passages) for n, s in enumerate(candidates(p))]
        if not found:
            return []
        headings = [f"{p.title} - {p.heading}" if p.heading else p.title for p in passages]
        q, *rest = self.vectors([question, *headings, *(s for *_, s in found), *(in_context(p, s) for _, p, _, s in found)])
        heading_vectors, sentence_vectors = rest[: len(headings)], rest[len(headings):len(headings) + len(found)]
        context_vectors = rest[len(headings) + len(found):]
        heading_sim = [_dot(q, h) for h in heading_vectors]
        heading_kind = [float(_heading_fits(question, p.heading) or any(heading_gives(k, p.heading) for k in kinds))
                        for p in passages]
        texts, asked = [s for *_, s in found], asked_part(question)  # a longer message: what it asks counts twice
        overlaps = rare_overlap(question, texts)
        if asked:
            overlaps = [(a + b) / 2 for a, b in zip(overlaps, rare_overlap(asked, texts), strict=True)]
        rows = []
        for (rank, passage, position, text), vector, cvec, overlap in zip(found, sentence_vectors, context_vectors,
                                                                          overlaps, strict=True):
            values = {
                "sentence": _dot(q, vector), "context": _dot(q, cvec), "heading": heading_sim[rank],
                "heading_kind": heading_kind[rank], "rank": float(rank), "position": float(min(position, 8)),
                "rare_words": overlap,
                "other_direction": float(bool(wanted) and direction(text) not in ("", wanted)),
                "number_for_range": float(wants_range and bool(_NUMBER.search(text))),
                "definition": float(asks_what and defines(text, names)),
                "list_item": float((id(passage), text) in listed),
                "role": float(any(gives(kind, text, subjects[id(passage)]) for kind in kinds)),
            }
            rows.append((passage, position, text, [values[f] for f in FEATURES]))
        return rows

    def score(self, question: str, passages: Sequence[Passage], names: Sequence[str] = (),
              kinds: frozenset[str] | None = None, learned: bool = True) -> list[Sentence]:
        """Every candidate sentence of ``passages`` with its score (:meth:`features` weighed by :data:`WEIGHTS`, plus
        :data:`LEARNED_WEIGHT` times the learned scorer's when there is one), best first."""
        weights = [WEIGHTS[f] for f in FEATURES]
        rows = self.features(question, passages, names, kinds)
        by_features = [sum(w * v for w, v in zip(weights, values, strict=True)) for *_, values in rows]
        added = [0.0] * len(rows)
        if self.reranker is not None and rows and learned:
            # the features' best LEARNED_CANDIDATES are read by the learned scorer; the others keep the lowest score it
            # gave, so they stay below those, in the features' order
            read = sorted(range(len(rows)), key=lambda i: -by_features[i])[:LEARNED_CANDIDATES]
            values = self.reranker.scores(question, [rows[i][2] for i in read])
            added = [LEARNED_WEIGHT * min(values)] * len(rows)
            for i, value in zip(read, values, strict=True):
                added[i] = LEARNED_WEIGHT * value
        scored = [Sentence(text, passage, position, base + extra, bool(values[_ROLE]),
                           WEIGHTS["rare_words"] * values[_RARE], extra)
                  for (passage, position, text, values), base, extra in zip(rows, by_features, added, strict=True)]
        return sorted(scored, key=lambda s: -s.score)

    def select(self, question: str, passages: Sequence[Passage], fits: Callable[[str], bool],
               names: Sequence[str] = (), kinds: frozenset[str] | None = None,
               groups: Sequence[Sequence[str]] = (), refined: bool = False, learned: bool = True) -> Selection:
        """The best sentence, then the next best of its section that score nearly as well, while ``fits`` holds
        for their text (the SMS budget with the source line). A comparison of two or more tests (``groups``: the names
        of each test the question names) gets the sentences that set them side by side, else what each one is.
        With ``refined`` (the answers do; the adapter's training set, knowledge/training/generate.py, was made
        without), a chosen sentence that leans on the one before it ("So ...") brings that one too, and one of a list
        brings its lead-in and items (knowledge/lists.py). ``learned`` (on) adds the learned scorer's score, where
        the selector has one."""
        kinds = question_kinds(question) if kinds is None else kinds
        ranked = self.score(question, passages, names, kinds, learned)
        if not ranked:
            return Selection()
        sides = compared(question, groups) if "compare" in kinds else []
        if sides:
            return self.compare(ranked, sides, fits)
        within = compared_within(question, groups)  # two parts of one test: a sentence on each that names it alone
        if within:
            return self.compare(ranked, within, fits, alone=True)
        best = ranked[0]
        if not fits(best.text):
            return Selection()
        chosen, top = [best], best.score - best.words - best.learned
        role = WEIGHTS["role"]
        window = [s for s in ranked[1:] if s.passage is best.passage and s.score - s.learned >= top - KEEP_WITHIN
                  - role * best.gives and s.score - s.learned + role * (best.gives and not s.gives) >= top - KEEP_WITHIN]
        # the window is on the similarity alone: the role and word bonuses order, not cut; a sentence that gives what
        # the question asks for ("The EOB is not a bill.") is taken before one that does not. The learned score
        # chooses the best sentence and orders the rest, but is left out of the window: in it, its scale (a tenth of
        # a logit, an arbitrary zero) cut the further sentences that held the fact (a first adapter: project 0.974 -> 0.910)
        other = next((s for s in ranked[1:] if s.passage is not best.passage), None)
        if other is not None and other.score >= best.score - OTHER_SECTION_WITHIN:
            window = sorted([*window, other], key=lambda s: -s.score)
        for sentence in sorted(window, key=lambda s: not s.gives):
            if len(chosen) == MAX_SENTENCES:
                break
            if sentence.text not in {s.text for s in chosen}:  # two pages may say one sentence word for word
                chosen = added_if_fits(chosen, sentence, fits)
        chosen = with_lists(with_antecedents(chosen, ranked, fits), ranked, fits, question) if refined else chosen
        return Selection(tuple(answer_order(chosen)))


    @staticmethod
    def side_sections(sections: Sequence[Passage], names: Sequence[str], side: str) -> list[Passage]:
        """The sections on what a ``side`` ("high" or "low") value of the test ``names`` name can mean: first those whose
        heading names the test ("High or low white blood cell count" before "High hemoglobin" for a high WBC), else those
        on that side ("What a high TSH can mean"), else all."""
        named = re.compile("|".join(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])" for n in names) or "$^", re.I)
        return [p for p in sections if direction(p.heading) in (side, "") and named.search(p.heading)
                and heading_gives("cause", p.heading)] or [p for p in sections if direction(p.heading) == side] or list(
            sections)

    @staticmethod
    def compare(ranked: Sequence[Sentence], sides: Sequence[Sequence[str]], fits: Callable[[str], bool],
                alone: bool = False) -> Selection:
        """The best sentence that names two of the sides with a word of contrast ("The CMP has the same 8 tests as
        the BMP") and the one after it in its section; then, for each side none of them names, the best sentence that
        says what it is (or else names it), each followed by the next sentence of its section that names it too, while
        the answer fits."""
        named = [re.compile("|".join(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])" for n in side), re.I)
                 for side in sides]
        chosen: list[Sentence] = []
        both = next((s for s in ranked if _CONTRAST.search(s.text) and sum(bool(p.search(s.text)) for p in named) > 1),
                    None)
        if both is not None:
            after = next((s for s in ranked if s.passage is both.passage and s.position == both.position + 1), None)
            chosen = [both, *([after] if after is not None and any(p.search(after.text) for p in named) else [])]
        for side, pattern in zip(sides, named, strict=True):
            if any(pattern.search(s.text) for s in chosen):
                continue
            own = [s for s in ranked if pattern.search(s.text) and s not in chosen]
            if alone:  # what this side is: a sentence that names it and not the other
                own = [s for s in own if sum(bool(p.search(s.text)) for p in named) == 1] or own
            best = next((s for s in own if defines(s.text, side)), own[0] if own else None)
            if best is not None and fits(" ".join(s.text for s in [*chosen, best])):
                chosen.append(best)
        while chosen and not fits(" ".join(s.text for s in chosen)):
            chosen.pop()
        for first in list(chosen):  # then what each one does: the next sentence of its section, when it names it too
            after = next((s for s in ranked if s.passage is first.passage and s.position == first.position + 1), None)
            naming = next((p for p in named if p.search(first.text)), None)
            if after is None or after in chosen or naming is None or not naming.search(after.text):
                continue
            trial = [*chosen[: chosen.index(first) + 1], after, *chosen[chosen.index(first) + 1:]]
            if fits(" ".join(s.text for s in trial)):
                chosen = trial
        return Selection(tuple(chosen))


# A sentence that leans on the one before it ("So your clinician may check your albumin ...", "This is why ..."): said
# alone it answers nothing, so the one before it comes with it.
LEANS_BACK = re.compile(r"^(so|this|that|these|those|then|thus|but|because of this|for this reason)\b(?! (test|tests|"
                         r"page|panel|number|result)\b)", re.I)


def with_antecedents(chosen: Sequence[Sentence], ranked: Sequence[Sentence], fits: Callable[[str], bool]
                     ) -> list[Sentence]:
    """``chosen`` in the section's order, with the sentence before each one that leans back on it ("So ...",
    "This means ..."), where the answer still fits."""
    out = sorted(chosen, key=lambda s: s.position)
    for sentence in list(out):
        if not LEANS_BACK.match(sentence.text):
            continue
        before = next((r for r in ranked if r.passage is sentence.passage and r.position == sentence.position - 1),
                      None)
        if before is None or before in out:
            continue
        out = added_if_fits(out, before, fits)
    return out


def distinct(passages: Sequence[Passage]) -> list[Passage]:
    """Each section once, where it first comes."""
    return list({(p.source, p.heading): p for p in reversed(passages)}.values())[::-1]


def _heading_fits(question: str, heading: str) -> bool:
    """The section's heading is the kind of section the question asks for (a definition, a range, a meaning)."""
    plain = question.strip().rstrip("?")
    return any(asks.search(plain) and gives.search(heading) for asks, gives in _ASKS)


_ADDED = re.compile(r"\s\([^()]*\)$")  # the documents' names appended to the question (knowledge/vocabulary.py)


def asked_part(question: str) -> str:
    """The sentences of a longer message that ask ("Good morning. Could you tell me ... on Wednesdays? I work till
    five."), with the names appended to it; "" when every sentence asks or none does."""
    added = _ADDED.search(question)
    text = question[: added.start()] if added else question
    asking = asking_sentences(text, last=False)
    if not asking or len(asking) == len(message_sentences(text)):
        return ""
    return " ".join(asking) + (added.group(0) if added else "")


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return float(sum(x * y for x, y in zip(a, b, strict=True)))

"""The PHI scrubber: Presidio's analyzer with the clinic's recognizers, and its anonymizer.

Two modes, one scrubber:

- ``preview`` (the staff console): the recognizers (shapes and labels, cue words, the name and place
  lists, spaCy's PERSON, ORG, GPE, LOC, FAC and DATE where they are PHI); clinical content is kept.
- ``strict`` (every log line, every traceback, ``clinicbot scrub``): the same recognizers, then every
  word that is not a known-safe word, clinical term or clinical value is replaced too
  (:mod:`bot.phi.strict`).

Build one :class:`Scrubber` per process and mode (see :func:`bot.phi.get_scrubber`): loading spaCy
takes seconds, scrubbing a short message takes milliseconds. Everything runs offline: the spaCy model
comes from an installed package and tldextract (which Presidio's e-mail recognizer calls) is
pointed at the public suffix snapshot bundled with it before Presidio is imported.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, Protocol

from bot.phi.lexicon import SPACY_MODEL_PACKAGE

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, RecognizerResult
    from presidio_anonymizer import AnonymizerEngine

    from bot.phi.lexicon import Lexicon
    from bot.phi.tokens import Piece

logger = logging.getLogger(__name__)

Mode = Literal["strict", "preview"]
MODES: tuple[Mode, ...] = ("strict", "preview")
SCORE_THRESHOLD = 0.4
# When spans overlap, a shaped or labelled identifier names the placeholder before an
# organisation, and both before a name or a bare long number (spaCy often calls "macarthur blvd"
# or a date a PERSON).
PRIORITY = {"PERSON": 0, "OTHER_ID": 0, "REDACTED": 0, "LOCATION": 1, "ORG": 1}
# spaCy's entity labels, as the scrubber's entities (NORP, EVENT, LAW ... are not identifiers).
SPACY_ENTITIES = {"PERSON": "PERSON", "ORG": "ORG", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION",
                  "DATE": "DATE"}
RECOGNIZER_NAME = "recognizer_name"  # RecognizerResult.RECOGNIZER_NAME_KEY


class TextScrubber(Protocol):
    """What callers (logging, audit, the CLI) need: text in, text without PHI out."""

    def scrub(self, text: str) -> str: ...


@dataclass(frozen=True)
class Finding:
    entity: str
    start: int
    end: int
    score: float


def offline_tldextract() -> None:
    """Make ``tldextract.extract`` use the bundled suffix list: no HTTP request, no cache file."""
    import tldextract.tldextract as tld

    if getattr(tld.TLD_EXTRACTOR, "_clinicbot_offline", False):
        return
    extractor = tld.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
    extractor._clinicbot_offline = True  # type: ignore[attr-defined]
    tld.TLD_EXTRACTOR = extractor


def load_spacy_pipeline() -> object:
    """spaCy's small English pipeline from its PyPI package (no download): tokens and entities only."""
    import importlib

    package = importlib.import_module(SPACY_MODEL_PACKAGE)
    # The parser finds sentences and noun chunks, the tagger and lemmatizer feed Presidio's lemma-based
    # context words: none of the clinic's recognizers use them, and they take a third of the time.
    return package.load(exclude=["parser", "tagger", "attribute_ruler", "lemmatizer"])


@lru_cache(maxsize=1)
def build_analyzer() -> AnalyzerEngine:
    """Presidio's analyzer with spaCy PERSON names and the clinic recognizers (once per process)."""
    offline_tldextract()
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import IpRecognizer, SpacyRecognizer

    from bot.phi.british import british_recognizers
    from bot.phi.namelist import NameListRecognizer
    from bot.phi.names import ContextNameRecognizer, OrganizationRecognizer
    from bot.phi.recognizers import pattern_recognizers
    from bot.phi.spelled import spelled_recognizers

    ner = NerModelConfiguration(
        model_to_presidio_entity_mapping=SPACY_ENTITIES,
        labels_to_ignore=["NORP", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT", "PRODUCT",
                          "EVENT", "LAW", "LANGUAGE", "WORK_OF_ART"],
    )
    engine = SpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": SPACY_MODEL_PACKAGE}], ner_model_configuration=ner
    )
    engine.nlp = {"en": load_spacy_pipeline()}  # type: ignore[assignment]  # loaded here, so Presidio never tries a download

    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in [
        *pattern_recognizers(),
        *spelled_recognizers(),
        *british_recognizers(),
        ContextNameRecognizer(),
        OrganizationRecognizer(),
        NameListRecognizer(),
        SpacyRecognizer(supported_entities=sorted(set(SPACY_ENTITIES.values())), ner_strength=0.7),
        IpRecognizer(supported_entity="IP_ADDRESS"),
    ]:
        registry.add_recognizer(recognizer)
    analyzer = AnalyzerEngine(
        nlp_engine=engine,
        registry=registry,
        supported_languages=["en"],
        default_score_threshold=SCORE_THRESHOLD,
    )
    logger.info("phi.analyzer.loaded", extra={"recognizers": len(list(registry.recognizers))})
    return analyzer


def _allow_pattern(allow_list: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for the allowed names, case- and spacing-insensitive ("Dr. Patel" = "dr patel")."""
    alternatives = []
    for term in sorted({t.strip() for t in allow_list if t.strip()}, key=len, reverse=True):
        words = [re.escape(w.rstrip(".")) + (r"\.?" if w.endswith(".") else "") for w in term.split()]
        alternatives.append(r"\s+".join(words))
    if not alternatives:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)


def _subtract(finding: Finding, allowed: Sequence[tuple[int, int]], text: str) -> list[Finding]:
    """The parts of a finding outside the allowed spans (whitespace-only parts dropped)."""
    pieces = [(finding.start, finding.end)]
    for a_start, a_end in allowed:
        next_pieces = []
        for start, end in pieces:
            if a_end <= start or a_start >= end:
                next_pieces.append((start, end))
                continue
            if start < a_start:
                next_pieces.append((start, a_start))
            if a_end < end:
                next_pieces.append((a_end, end))
        pieces = next_pieces
    out = []
    for start, end in pieces:
        if start > finding.start and text[start : start + 2] in ("'s", "’s"):
            start += 2  # the possessive of an allowed name ("Dr. Patel's")
        chunk = text[start:end]
        stripped = chunk.strip(" \t,.'’-")
        if not stripped or (finding.entity == "PERSON" and stripped.lower() in {"dr", "s"}):
            continue
        offset = chunk.index(stripped)
        out.append(Finding(finding.entity, start + offset, start + offset + len(stripped), finding.score))
    return out


def _everyday(span: str, lex: Lexicon) -> bool:
    words = re.findall(r"[^\W\d_]+", span.lower())
    return bool(words) and all(w in lex.safe and not lex.is_name(w) and w not in lex.places for w in words)


def merge(findings: Iterable[Finding]) -> list[Finding]:
    """Overlapping findings become one span, typed by the most confident (then longest) one."""
    merged: list[tuple[int, int, list[Finding]]] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if merged and f.start < merged[-1][1]:
            start, end, group = merged[-1]
            merged[-1] = (start, max(end, f.end), [*group, f])
        else:
            merged.append((f.start, f.end, [f]))
    out = []
    for start, end, group in merged:
        best = max(group, key=lambda f: (PRIORITY.get(f.entity, 2), f.score, f.end - f.start))
        out.append(Finding(best.entity, start, end, best.score))
    return out


def _named_again(text: str, items: Sequence[Piece], findings: Sequence[Finding], lex: Lexicon) -> list[Finding]:
    """A word found as a person's name is that name wherever else the message writes it, in any case: the
    recognizers judge each place on its own context, and the second "sunny" of "its sunny love here (sunny is my
    first name)" has none. A word that is an everyday word too goes again only as the forename of a full name found
    ("sunny" of "sunny love"): a surname such as "brown" or "young" is far more often the word ("kevin brown" and
    "brown stuff"). Clinical terms and short common words are left to their own context."""
    from bot.phi.names import STOP_WORDS

    names: set[str] = set()
    for f in findings:
        if f.entity != "PERSON":
            continue
        inner = [p for p in items if f.start <= p.start and p.end <= f.end and p.alpha]
        names.update(p.word for k, p in enumerate(inner) if len(p.word) > 2 and p.word not in STOP_WORDS
                     and p.word not in lex.clinical and (p.word not in lex.safe or (k == 0 and len(inner) > 1)))
    if not names:
        return []
    return [Finding("PERSON", p.start, p.end, SCORE_THRESHOLD) for p in items if p.word in names
            and not any(f.start <= p.start and p.end <= f.end for f in findings)]


class Scrubber:
    """Replaces PHI with typed placeholders (``<NAME>``, ``<DOB>``, ``<PHONE>``...).

    ``allow_list`` holds the clinic's own name and staff names, which are kept. ``mode`` is
    ``strict`` (logs: only known-safe words survive) or ``preview`` (staff views: recognizers only).
    """

    def __init__(
        self, allow_list: Sequence[str] = (), analyzer: AnalyzerEngine | None = None, mode: Mode = "strict"
    ) -> None:
        from presidio_anonymizer import AnonymizerEngine

        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.mode = mode
        self.allow_list = tuple(allow_list)
        self._allow = _allow_pattern(self.allow_list)
        self._analyzer = analyzer if analyzer is not None else build_analyzer()
        self._anonymizer: AnonymizerEngine = AnonymizerEngine()

    def find(self, text: str) -> list[Finding]:
        """PHI spans in ``text``, without overlaps and outside the allow-list."""
        from bot.phi.around import devices, not_identifier
        from bot.phi.entities import not_phi
        from bot.phi.eponyms import spans as eponym_spans
        from bot.phi.lexicon import load

        if not text.strip():
            return []
        results: list[RecognizerResult] = self._analyzer.analyze(
            text=text, language="en", score_threshold=SCORE_THRESHOLD
        )
        lex = load()
        from bot.phi.strict import EXCEPTION_PATH, FRAME_LINE, SOURCE_PATH, code_spans

        allowed = [m.span() for m in self._allow.finditer(text)] if self._allow else []
        allowed += [m.span() for p in (FRAME_LINE, EXCEPTION_PATH, SOURCE_PATH) for m in p.finditer(text)]  # code, not data
        allowed += code_spans(text, lex)  # "rasa.core.processor", "WARNING": the software's own words
        allowed += eponym_spans(text, lex)  # "Crohn's", "Bell's palsy": a disease, not a person
        allowed += devices(text, lex)  # "my Libre 3 sensor", "CPAP (ResMed AirSense 11)": a device, not a name
        findings: list[Finding] = []
        for r in results:
            from_model = (r.recognition_metadata or {}).get(RECOGNIZER_NAME) == "SpacyRecognizer"
            if from_model and not_phi(text, r.entity_type, r.start, r.end, lex):
                continue
            if not_identifier(text, r.entity_type, r.start, r.end, lex):
                continue  # "Suboxone 8/2", "1.73m2"
            finding = Finding(r.entity_type, r.start, r.end, r.score)
            parts = _subtract(finding, allowed, text) if allowed else [finding]
            if parts != [finding]:  # what is left of "Call Maple Street Family Medicine" is "Call"
                parts = [f for f in parts if not _everyday(text[f.start : f.end], lex)]
            findings.extend(parts)
        from bot.phi.around import joined_names, shaped

        findings = merge([*findings, *(Finding(e, s, t, SCORE_THRESHOLD) for s, t, e in shaped(text, lex))])
        from bot.phi.cues import bridged, tailed
        from bot.phi.extend import extend, headed, hyphenated, placed
        from bot.phi.tokens import pieces

        items = pieces(text)  # one tokenization for the passes that run a name on
        longer = extend(text, items, [(f.start, f.end, f.entity) for f in findings], lex)  # "(<ORG> ELECTRIC)"
        if longer:
            findings = merge([*findings, *(Finding(e, s, t, SCORE_THRESHOLD) for s, t, e in longer)])
        if self.mode == "strict":
            from bot.phi.strict import strict_spans

            found = [(f.start, f.end) for f in findings]
            extra = strict_spans(text, found, allowed, lex)
            extra += extend(text, items, extra, lex)  # "<LOCATION> AIRLINES" from "SOUTHWEST AIRLINES"
            findings = merge([*findings, *(Finding(e, s, t, 0.5) for s, t, e in extra)])
        spans = [(f.start, f.end, f.entity) for f in findings]
        joined = hyphenated(text, spans, lex)  # "<NAME>-bell": the rest of a hyphenated name goes too
        joined += headed(text, items, spans, lex)  # "<NAME> street pharmacy": so does an organisation's last word
        joined += placed(text, items, spans)  # "<LOCATION> falls", "in port <NAME>": and a place's generic words
        joined += bridged(text, spans) + tailed(text, spans)  # "<NAME> OF <NAME>", "<LOCATION>, CA 90210"
        if joined:
            findings = merge([*findings, *(Finding(e, s, t, SCORE_THRESHOLD) for s, t, e in joined)])
        around = joined_names(text, [(f.start, f.end, f.entity) for f in findings], lex)  # "<NAME> dos <NAME>"
        if around:
            findings = merge([*findings, *(Finding(e, s, t, SCORE_THRESHOLD) for s, t, e in around)])
        again = _named_again(text, items, findings, lex)  # "sunny love here (sunny is my first name)"
        return merge([*findings, *again]) if again else findings

    def scrub(self, text: str) -> str:
        from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

        from bot.phi.recognizers import PLACEHOLDERS

        findings = self.find(text)
        if not findings:
            return text
        results = [RecognizerResult(f.entity, f.start, f.end, f.score) for f in findings]
        operators = {
            f.entity: OperatorConfig("replace", {"new_value": PLACEHOLDERS.get(f.entity, f"<{f.entity}>")})
            for f in findings
        }
        return self._anonymizer.anonymize(text=text, analyzer_results=results, operators=operators).text

    def scrub_lines(self, lines: Iterable[str]) -> Iterable[str]:
        """Scrub each line (without its line break), one output per input."""
        for line in lines:
            yield self.scrub(line)

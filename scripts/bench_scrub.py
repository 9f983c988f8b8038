"""PHI scrubber quality and speed: stock Presidio beside the strict and preview modes, in one run.

    .venv/bin/python scripts/bench_scrub.py            # the table: project set and blind set
    .venv/bin/python scripts/bench_scrub.py --misses   # also list what leaked on the PROJECT set
    .venv/bin/python scripts/bench_scrub.py --json     # the raw figures

Sets: ``tests/data/phi_messages.jsonl`` (the project's 202 labelled messages),
``tests/data/blind/phi_blind.jsonl`` (written independently, never tuned on: only its aggregate figures
are printed, never its items) and ``i2b2``, the five annotated de-identification notes philter-lite ships
(surrogate PHI; ages under 90 are not counted). ``--cases FILE`` scores another labelled file instead
(the validation sets ``tests/data/phi_dev*.jsonl``). Configurations: stock Presidio (the whole
``en_core_web_sm`` pipeline, the default recognizers and threshold, offline, every entity it finds
replaced), ``preview`` and ``strict``. Times are per message, in one process, on whatever else the
machine is doing: compare the ratio column.

``run()`` returns the figures as a flat dict for scripts/bench.py. The same quality measure is used by
tests/test_scrubber.py: an identifier counts as removed when neither it nor any of its words
(two characters or more, leaving out street words such as "st" or "apt") is left in the output,
unless that word also appears elsewhere in the message; the placeholders' own words do not count ("org" of
an email's domain is not left by "<ORG>": counted as a leak until 2026-12-01); a clinical term counts as kept when it is
still in the output exactly as written. The measure is kept as it was: it is harsh (a generic word
left of an identifier, "hospital" of "Mercy Hospital" or "the" of "the 4th", counts as a leak), not
unfair, and the same for every configuration.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "data" / "phi_messages.jsonl"
BLIND = ROOT / "tests" / "data" / "blind" / "phi_blind.jsonl"
# The demo clinic's allow-list (config.yml phi.allow_list); the test set mentions these names.
ALLOW_LIST = (
    "Maple Street Family Medicine",
    "Maple Street",
    "Anika Patel",
    "Dr. Patel",
    "Chidi Okafor",
    "Dr. Okafor",
    "Lena Nguyen",
)
STREET_WORDS = frozenset(["st", "street", "apt", "ave", "avenue", "dr", "drive", "blvd", "ct", "unit", "po", "box", "rd", "road", "ln", "lane", "suite", "ste"])
CONFIGS = ("stock presidio", "preview", "strict")


@dataclass(frozen=True)
class Case:
    text: str
    phi: tuple[str, ...]
    keep: tuple[str, ...]
    kind: str = ""


@dataclass(frozen=True)
class Outcome:
    leaked: tuple[str, ...]  # identifiers not fully removed
    lost: tuple[str, ...]  # clinical terms that did not survive


def load_cases(path: Path = CASES) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            cases.append(Case(row["text"], tuple(row["phi"]), tuple(row["keep"]), row.get("kind", "")))
    return cases


def philter_samples() -> list[Case]:
    """The five annotated i2b2 notes philter-lite ships (surrogate PHI; ages under 90 are not PHI)."""
    import xml.etree.ElementTree as ET

    import philter_lite

    cases = []
    for path in sorted((Path(philter_lite.__file__).parent / "data" / "i2b2_xml").glob("*.xml")):
        root = ET.parse(path).getroot()
        text = root.findtext("TEXT") or ""
        phi = []
        for tag in root.find("TAGS") or []:
            value = tag.get("text", "")
            if tag.tag == "AGE" and value.isdigit() and int(value) < 90:
                continue
            phi.append(value)
        cases.append(Case(text, tuple(phi), (), "i2b2"))
    return cases


_TAG = re.compile(r"<[A-Z][A-Z_]*>")  # the placeholders of every configuration ("<NAME>", "<EMAIL_ADDRESS>")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def judge(case: Case, scrubbed: str) -> Outcome:
    rest = case.text.lower()
    for item in case.phi:
        rest = rest.replace(item.lower(), " ")
    elsewhere = set(_words(rest))
    out_words = set(_words(_TAG.sub(" ", scrubbed)))  # a placeholder's own word is no leak: "org" of "<ORG>"
    leaked = []
    for item in case.phi:
        words = [w for w in _words(item) if len(w) >= 2 and w not in STREET_WORDS and w not in elsewhere]
        if item.lower() in scrubbed.lower() or any(w in out_words for w in words):
            leaked.append(item)
    lost = [term for term in case.keep if term not in scrubbed]
    return Outcome(tuple(leaked), tuple(lost))


def stock_presidio() -> Callable[[str], str]:
    """Presidio as a new user gets it: en_core_web_sm, default recognizers, default threshold, offline."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_anonymizer import AnonymizerEngine

    from bot.phi.scrubber import SPACY_MODEL_PACKAGE, offline_tldextract

    offline_tldextract()
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": SPACY_MODEL_PACKAGE}])
    # the whole pipeline, as Presidio loads it (its context words use the lemmatizer)
    engine.nlp = {"en": importlib.import_module(SPACY_MODEL_PACKAGE).load()}  # type: ignore[assignment]
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    anonymizer = AnonymizerEngine()

    def scrub(text: str) -> str:
        results = analyzer.analyze(text=text, language="en")
        return anonymizer.anonymize(text=text, analyzer_results=results).text  # type: ignore[arg-type]

    return scrub


def scrubber_for(config: str) -> Callable[[str], str]:
    if config == "stock presidio":
        return stock_presidio()
    from bot.phi import get_scrubber

    return get_scrubber(ALLOW_LIST, "strict" if config == "strict" else "preview").scrub


def score(scrub: Callable[[str], str], cases: list[Case]) -> dict[str, Any]:
    times: list[float] = []
    outcomes: list[Outcome] = []
    for case in cases:
        t0 = time.perf_counter()
        scrubbed = scrub(case.text)
        times.append((time.perf_counter() - t0) * 1000)
        outcomes.append(judge(case, scrubbed))
    ordered = sorted(times)
    result: dict[str, Any] = {
        "median_ms": statistics.median(times),
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "leaked": [item for o in outcomes for item in o.leaked],
        "lost": [term for o in outcomes for term in o.lost],
    }
    for kind in sorted({"", *(c.kind for c in cases)}):
        chosen = [(c, o) for c, o in zip(cases, outcomes, strict=True) if not kind or c.kind == kind]
        identifiers = sum(len(c.phi) for c, _ in chosen)
        terms = sum(len(c.keep) for c, _ in chosen)
        suffix = f"_{kind}" if kind else ""
        result[f"identifiers{suffix}"] = identifiers
        result[f"recall{suffix}"] = 1 - sum(len(o.leaked) for _, o in chosen) / identifiers if identifiers else 1.0
        result[f"retention{suffix}"] = 1 - sum(len(o.lost) for _, o in chosen) / terms if terms else 1.0
    return result


def run(sets: dict[str, Path] | None = None, include_samples: bool = True) -> dict[str, Any]:
    """Every configuration on every set; a flat dict of figures (lists only for the project set)."""
    sets = sets or {"project": CASES, **({"blind": BLIND} if BLIND.is_file() else {})}
    loaded = {name: load_cases(path) for name, path in sets.items()}
    if include_samples:
        loaded["i2b2"] = philter_samples()
    figures: dict[str, Any] = {}
    for config in CONFIGS:
        started = time.perf_counter()
        scrub = scrubber_for(config)
        scrub("warm-up: this is jo, 555-555-0100")
        figures[f"{config.replace(' ', '_')}_load_s"] = time.perf_counter() - started
        for name, cases in loaded.items():
            result = score(scrub, cases)
            key = f"{config.replace(' ', '_')}_{name}"
            for figure, value in result.items():
                if isinstance(value, list):
                    if name != "blind":  # the blind set's items are never shown, only counted
                        figures[f"{key}_{figure}"] = value
                elif "_" in figure and figure.split("_")[0] in ("identifiers", "recall", "retention"):
                    figures.setdefault("by_kind", {})[f"{key}_{figure}"] = value  # per kind: not a table row
                else:
                    figures[f"{key}_{figure}"] = value
    return figures


def table(figures: dict[str, Any], sets: list[str]) -> str:
    lines = ["| set | configuration | recall | retention | median ms | p95 ms | median vs stock |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in sets:
        base = figures[f"stock_presidio_{name}_median_ms"]
        for config in CONFIGS:
            key = f"{config.replace(' ', '_')}_{name}"
            lines.append(
                f"| {name} | {config} | {figures[f'{key}_recall']:.3f} | {figures[f'{key}_retention']:.3f} | "
                f"{figures[f'{key}_median_ms']:.1f} | {figures[f'{key}_p95_ms']:.1f} | "
                f"{figures[f'{key}_median_ms'] / base:.2f}x |"
            )
    by_kind = figures.get("by_kind", {})
    kinds = sorted({k.split("_recall_")[1] for k in by_kind if "_recall_" in k})
    if kinds:
        lines += ["", "| set | kind | " + " | ".join(f"{c} recall / retention" for c in CONFIGS) + " |",
                  "| --- | --- | " + " | ".join("---" for _ in CONFIGS) + " |"]
        for name in sets:
            for kind in kinds:
                if f"strict_{name}_recall_{kind}" not in by_kind:
                    continue
                keys = [f"{c.replace(' ', '_')}_{name}" for c in CONFIGS]
                cells = [f"{by_kind[f'{k}_recall_{kind}']:.3f} / {by_kind[f'{k}_retention_{kind}']:.3f}" for k in keys]
                lines.append(f"| {name} | {kind} ({by_kind[f'strict_{name}_identifiers_{kind}']}) | "
                             + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--misses", action="store_true", help="list leaked and lost items of the project set")
    parser.add_argument("--cases", type=Path, help="score this JSONL file instead of the project set")
    args = parser.parse_args(argv)
    if args.cases and args.misses and BLIND.parent.resolve() in args.cases.resolve().parents:
        parser.error("the blind set's items are never shown: drop --misses")
    sets = {args.cases.stem: args.cases} if args.cases else None
    figures = run(sets)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    names = [k[len("strict_"):-len("_recall")] for k in figures if k.startswith("strict_") and k.endswith("_recall")]
    print(table(figures, names))
    print("\nload: " + ", ".join(f"{c} {figures[c.replace(' ', '_') + '_load_s']:.1f} s" for c in CONFIGS))
    if args.misses:
        for name in (n for n in names if n != "blind"):
            for config in CONFIGS:
                key = f"{config.replace(' ', '_')}_{name}"
                print(f"\n{name} {config}: leaked {figures[key + '_leaked']}\n  lost {figures[key + '_lost']}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())

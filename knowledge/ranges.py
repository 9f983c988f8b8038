"""Lab ranges parsed from the lab documents' tables: one source for the answers and for the lab flags.

Two kinds of table are read (any other table is prose to the parser):

- a band table, whose first column is a range and whose second says what it means::

      | A1c result | What it means |        <- the header names the test (and how a sentence names it)
      | Under 5.7 % | Normal range |        <- the normal band: its label says normal, optimal, desirable,
      | 5.7 % to 6.4 % | Prediabetes range |     enough, healthy, good or typical
      | 6.5 % or higher | Diabetes range |

- a typical table, whose first column names a test (with an optional qualifier) and whose second is its range::

      | Test | Typical adult range |
      | Hemoglobin for men | About 13.5 to 17.5 g/dL |      <- qualifier "for men"
      | Potassium | 3.5 to 5.0 mmol/L |

A row's test is found by the document's own names for its tests (front matter ``names:``). A range is written
"X to Y", "Under X", "Over X" or "X or higher" (an "About" before it and a unit after it are kept as written).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from knowledge.documents import Document, load_documents, sections

Flag = Literal["low", "normal", "high"]

_NUM = r"(\d+(?:,\d{3})*(?:\.\d+)?)"
_RANGE_FORMS = [
    (re.compile(rf"^{_NUM}\s*(?P<unit_a>[^\d\s][^()]*?)?\s*(?:to|-|–)\s*{_NUM}\s*(?P<unit>[^()]*?)\s*(?:\(.*\))?$",
                re.I), "between"),
    (re.compile(rf"^(?:under|below|less than)\s+{_NUM}\s*(?P<unit>[^()]*?)\s*(?:\(.*\))?$", re.I), "under"),
    (re.compile(rf"^(?:over|above|more than)\s+{_NUM}\s*(?P<unit>[^()]*?)\s*(?:\(.*\))?$", re.I), "over"),
    (re.compile(rf"^{_NUM}\s*(?P<unit>[^()]*?)\s+or (?:higher|more|above)\s*(?:\(.*\))?$", re.I), "at_least"),
]
_NORMAL_LABEL = re.compile(r"\b(normal|optimal|desirable|enough|healthy|good|typical)\b", re.I)
_NOT_NORMAL = re.compile(r"\b(near|borderline|not|too|low|high)\b", re.I)  # "Near optimal LDL" is not the normal band
_SEX = re.compile(r"^(?:for\s+)?(men|women)$", re.I)


def _number(text: str) -> float:
    return float(text.replace(",", ""))


@dataclass(frozen=True)
class Band:
    low: float | None
    high: float | None
    low_open: bool  # "Over 50": the value must be above ``low``
    high_open: bool  # "Under 5.7": the value must be below ``high``
    unit: str
    written: str  # the cell as the document writes it: "About 3.5 to 5.0 mmol/L"
    label: str  # what a band table says it means ("Prediabetes range"); "" in a typical table
    qualifier: str = ""  # "for men", "without a blood thinner"; "" for everyone
    normal: bool = False

    def contains(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (self.high is not None and (value >= self.high if self.high_open else value > self.high))

    def distance(self, value: float) -> float:
        if self.contains(value):
            return 0.0
        if self.low is not None and value <= self.low:
            return self.low - value
        return value - (self.high if self.high is not None else value)


def parse_range(cell: str) -> tuple[float | None, float | None, bool, bool, str] | None:
    """(low, high, low_open, high_open, unit) of a range cell, or None when the cell is not a range."""
    text = re.sub(r"^about\s+", "", " ".join(cell.split()), flags=re.I)
    for pattern, form in _RANGE_FORMS:
        match = pattern.match(text)
        if not match:
            continue
        unit = (match.group("unit") or "").strip()
        numbers = [_number(g) for g in match.groups() if g and re.fullmatch(_NUM, g)]
        if form == "between":
            return numbers[0], numbers[1], False, False, unit or (match.group("unit_a") or "").strip()
        if form == "under":
            return None, numbers[0], False, True, unit
        if form == "over":
            return numbers[0], None, True, False, unit
        return numbers[0], None, False, False, unit
    return None


@dataclass(frozen=True)
class Placement:
    band: Band  # the band the value is in (the nearest one if it falls between two)
    flag: Flag | None  # against the normal band of its qualifier; None when the group has none


_UNIT_SPELLING = {"meq/l": "mmol/l", "uiu/ml": "miu/l", "iu/l": "u/l", "thousand/ul": "thousandpermicroliter",
                  "k/ul": "thousandpermicroliter", "x10e3/ul": "thousandpermicroliter",
                  "10^3/ul": "thousandpermicroliter", "million/ul": "millionpermicroliter",
                  "m/ul": "millionpermicroliter", "x10e6/ul": "millionpermicroliter", "ml/min/1.73m2":
                  "ml/min/1.73m²", "sec": "seconds", "s": "seconds"}


def unit_key(unit: str) -> str:
    """A unit as compared: case and spaces ignored, the usual lab spellings of one unit made one."""
    key = unit.lower().replace(" ", "")
    return _UNIT_SPELLING.get(key, key)


@dataclass(frozen=True)
class TestRange:
    code: str
    name: str  # how a sentence names it: a band table's header ("A1c result"), else the test's first name
    kind: str  # what the document calls the range: "typical adult range", "what it means"
    title: str  # the document, named as the source
    heading: str  # the section the table is in
    bands: tuple[Band, ...] = field(default=())

    @property
    def unit(self) -> str:
        return next((b.unit for b in self.bands if b.unit), "")

    @property
    def banded(self) -> bool:
        """From a band table (labels for each band), not a typical-range table."""
        return any(b.label for b in self.bands)

    def groups(self) -> dict[str, list[Band]]:
        out: dict[str, list[Band]] = {}
        for band in self.bands:
            out.setdefault(band.qualifier, []).append(band)
        return out

    def place(self, value: float, qualifier: str = "") -> list[Placement]:
        """Where ``value`` falls, one placement per qualifier ("for men", "for women"), in the table's order; only for
        ``qualifier`` when the table has it (the patient said "I'm a woman")."""
        placements = []
        groups = self.groups()
        for bands in ([groups[qualifier]] if qualifier in groups else groups.values()):
            inside = next((b for b in bands if b.contains(value)), None) or min(bands, key=lambda b: b.distance(value))
            normal = next((b for b in bands if b.normal), None)
            flag: Flag | None = None
            if normal is not None:
                flag = "normal" if normal.contains(value) else (
                    "low" if normal.low is not None and value <= normal.low else "high")
            placements.append(Placement(inside, flag))
        return placements

    def flag(self, value: float) -> Flag | None:
        """The flag for ``value``; None when it depends on something a value alone does not say (the range for men
        and for women differ, or with and without a blood thinner): the caller then uses the lab report's range."""
        placements = self.place(value)
        return placements[0].flag if len(placements) == 1 else None

    def measures_in(self, unit: str) -> bool:
        """Whether a result written in ``unit`` can be read against this range ("" matches a unitless range)."""
        return unit_key(unit) == unit_key(self.unit)

    def reference(self, value: float) -> str:
        """The band or range ``value`` was judged by, as a lab listing shows it: "prediabetes range: 5.7 % to
        6.4 %", "typical adult range: 3.5 to 5.0 mmol/L"."""
        band = self.place(value)[0].band
        if band.label:
            return f"{band.label[:1].lower()}{band.label[1:]}: {band.written}"
        return f"{self.kind}: {_lower_first(band.written)}"

    def plausible(self, value: float) -> bool:
        """Not ten times past every written bound: "a1c 59" is a typo, not a result to interpret."""
        bounds = [b for band in self.bands for b in (band.low, band.high) if b]
        return bool(bounds) and min(bounds) / 10 <= value <= max(bounds) * 10


def _tables(text: str) -> list[list[list[str]]]:
    """Each Markdown table in ``text`` as rows of cells (header first, the separator row dropped)."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        stripped = line.strip()
        if stripped.startswith("|"):
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def _find_code(cell: str, names: Mapping[str, list[str]]) -> tuple[str, str] | None:
    """(code, the cell without the name) for the longest of the document's names in ``cell``."""
    found = [(len(n), code, m) for code, ns in names.items() for n in ns
             for m in [re.search(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])", cell, re.I)] if m]
    if not found:
        return None
    _, code, match = max(found, key=lambda f: f[0])
    rest = re.sub(r"\([^)]*\)", "", cell[: match.start()] + cell[match.end():])
    for name in names[code]:  # "BUN (blood urea nitrogen)": the other name is not a qualifier
        rest = re.sub(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", "", rest, flags=re.I)
    rest = " ".join(rest.replace(",", " ").split())
    if _SEX.match(rest):
        rest = f"for {_SEX.match(rest).group(1).lower()}"  # type: ignore[union-attr]
    return code, rest


def _is_normal(label: str) -> bool:
    return bool(_NORMAL_LABEL.search(label)) and not _NOT_NORMAL.search(label)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() or len(text) == 1 else text


def ranges_from(documents: Iterable[Document]) -> dict[str, TestRange]:
    """Test code -> its range, from every lab document's tables (the first table that defines a code wins)."""
    out: dict[str, TestRange] = {}
    for doc in documents:
        if doc.kind != "lab" or not doc.names:
            continue
        for heading, text in sections(doc.body):
            for table in _tables(text):
                header, rows = table[0], table[1:]
                if len(header) < 2 or not rows:
                    continue
                if parse_range(rows[0][0]) is not None:  # a band table
                    found = _find_code(header[0], doc.names)
                    code = found[0] if found else (doc.tests[0] if len(doc.tests) == 1 else "")
                    if not code or code in out:
                        continue
                    bands = []
                    for cells in rows:
                        parsed = parse_range(cells[0])
                        if parsed and len(cells) > 1:
                            bands.append(Band(*parsed, written=cells[0], label=cells[1],
                                              normal=_is_normal(cells[1])))
                    out[code] = TestRange(code, _lower_first(header[0]), _lower_first(header[1]), doc.title,
                                          heading, tuple(bands))
                    continue
                typical: dict[str, list[Band]] = {}
                for cells in rows:
                    parsed = parse_range(cells[1]) if len(cells) > 1 else None
                    found = _find_code(cells[0], doc.names)
                    if parsed and found and found[0] not in out:
                        typical.setdefault(found[0], []).append(
                            Band(*parsed, written=cells[1], label="", qualifier=found[1], normal=True))
                for code, bands in typical.items():
                    out[code] = TestRange(code, doc.names[code][0], _lower_first(header[1]), doc.title, heading,
                                          tuple(bands))
    return out


_cache: dict[Path, tuple[tuple[tuple[str, float], ...], dict[str, TestRange]]] = {}


def load_ranges(documents_dir: Path) -> dict[str, TestRange]:
    """The ranges of the documents under ``documents_dir``, parsed again only when a file changed."""
    files = tuple(sorted((str(p), p.stat().st_mtime) for p in documents_dir.rglob("*.md")))
    cached = _cache.get(documents_dir)
    if cached is None or cached[0] != files:
        cached = (files, ranges_from(load_documents(documents_dir)))
        _cache[documents_dir] = cached
    return cached[1]

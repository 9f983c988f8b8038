"""A patient's latest lab results, each value flagged against its reference range, critical values marked.

Pure: no Rasa, no store session. The action (actions/labs.py) passes the patient's ``LabResult`` rows, the
clinic's time zone and ``settings.labs.critical``.

- The latest collection is every result collected on the patient's most recent collection day (in the
  clinic's time zone). A test drawn twice that day counts once: the later draw.
- Flag by the lab documents' range for the test (``knowledge/ranges.py`` parses them from the documents' tables; the
  answers place a patient's own number in the same bands): one source. The action passes them in as ``ranges``.
  Where the documents have no range for the code, measure it in another unit, or give ranges that depend on what
  the record does not hold (for men and for women, with or without a blood thinner), the row's own reference
  range decides: ``low`` when value < ref_low, ``high`` when value > ref_high, else ``normal``. A value equal to
  a bound is in range; a missing bound is no bound.
- Critical by the clinic's ranges (config.yml ``labs.critical``: test code -> {low, high}): a value *at or
  beyond* a critical limit (value <= low or value >= high) is critical. The limits are inclusive on both
  sides on purpose: at the limit, a person looks. A missing limit is no limit; a code with no entry is never
  critical.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Literal, Protocol

Flag = Literal["low", "high", "normal"]


class DocumentRange(Protocol):
    """A test's range from the lab documents (``knowledge.ranges.TestRange`` is one)."""

    def measures_in(self, unit: str) -> bool: ...
    def flag(self, value: float) -> Flag | None: ...
    def reference(self, value: float) -> str: ...


class LabRow(Protocol):
    """What is read from a result (``bot.store.LabResult`` has these)."""

    @property
    def test_code(self) -> str: ...
    @property
    def test_name(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def unit(self) -> str: ...
    @property
    def ref_low(self) -> float | None: ...
    @property
    def ref_high(self) -> float | None: ...
    @property
    def collected_at(self) -> datetime: ...


@dataclass(frozen=True)
class FlaggedResult:
    test_code: str
    test_name: str
    value: float
    unit: str
    ref_low: float | None
    ref_high: float | None
    collected_at: datetime
    flag: Flag
    critical: bool
    reference: str = ""  # the documents' band or range the flag was decided by; "" when the report's range was

    @property
    def out_of_range(self) -> bool:
        return self.flag != "normal"


@dataclass(frozen=True)
class LatestResults:
    collected_on: date  # the collection day, in the clinic's time zone
    results: tuple[FlaggedResult, ...]  # in the order given (the store's order)

    @property
    def critical(self) -> tuple[FlaggedResult, ...]:
        return tuple(r for r in self.results if r.critical)

    @property
    def flagged(self) -> tuple[FlaggedResult, ...]:
        """High or low, and not critical: these get an explanation."""
        return tuple(r for r in self.results if r.out_of_range and not r.critical)

    @property
    def normal(self) -> tuple[FlaggedResult, ...]:
        return tuple(r for r in self.results if not r.out_of_range and not r.critical)


def flag_value(value: float, ref_low: float | None, ref_high: float | None) -> Flag:
    """``low`` below ref_low, ``high`` above ref_high, else ``normal`` (bounds are in range)."""
    if ref_low is not None and value < ref_low:
        return "low"
    if ref_high is not None and value > ref_high:
        return "high"
    return "normal"


def is_critical(test_code: str, value: float, critical: Mapping[str, Mapping[str, float]]) -> bool:
    """At or beyond the clinic's critical limit for this test (inclusive: value <= low or value >= high)."""
    limits = critical.get(test_code)
    if not limits:
        return False
    low, high = limits.get("low"), limits.get("high")
    return (low is not None and value <= low) or (high is not None and value >= high)


def flag_result(row: LabRow, critical: Mapping[str, Mapping[str, float]],
                ranges: Mapping[str, DocumentRange] | None = None) -> FlaggedResult:
    value = float(row.value)
    document = (ranges or {}).get(row.test_code)
    flag = document.flag(value) if document is not None and document.measures_in(row.unit) else None
    return FlaggedResult(
        test_code=row.test_code, test_name=row.test_name, value=value, unit=row.unit,
        ref_low=row.ref_low, ref_high=row.ref_high, collected_at=row.collected_at,
        flag=flag or flag_value(value, row.ref_low, row.ref_high),
        critical=is_critical(row.test_code, value, critical),
        reference=document.reference(value) if flag is not None and document is not None else "",
    )


def latest_results(rows: Iterable[LabRow], tz: tzinfo, critical: Mapping[str, Mapping[str, float]],
                   ranges: Mapping[str, DocumentRange] | None = None) -> LatestResults | None:
    """The results of the most recent collection day, flagged; None when there are no results."""
    rows = list(rows)
    if not rows:
        return None
    day = max(r.collected_at.astimezone(tz).date() for r in rows)
    latest: dict[str, LabRow] = {}
    for row in rows:
        if row.collected_at.astimezone(tz).date() != day:
            continue
        earlier = latest.get(row.test_code)
        if earlier is None or row.collected_at >= earlier.collected_at:
            latest[row.test_code] = row  # keeps the first position of the code, the later draw's value
    return LatestResults(collected_on=day, results=tuple(flag_result(r, critical, ranges) for r in latest.values()))

"""A dashboard table: a name (its CSV's), a title, columns and rows of counts and rates. Never text a patient wrote,
never a name or a number: only what the page shows."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from statistics import median

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)
    note: str = ""

    def column(self, name: str) -> list[Cell]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def total(self, name: str) -> int:
        return int(sum(v for v in self.column(name) if isinstance(v, int | float)))

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if v is None else (f"{v:.4f}" if isinstance(v, float) else v) for v in row])
        return out.getvalue()


def rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def percentile(values: list[float], percent: int) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``percent`` % of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-percent * len(ordered) // 100))  # ceil(percent * n / 100), in integers
    return ordered[rank - 1]


def middle(values: list[float]) -> float | None:
    return median(values) if values else None

"""Charts for the dashboard, drawn here as inline SVG (no script, nothing fetched): a time series of one or two
lines, columns per day or week, and horizontal bars. The plot stretches to any width (a phone's 390 px too); the
labels and numbers are HTML beside it, so they stay readable, and every chart has a text alternative."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

HEIGHT = 100  # the plot's height in its own units; the width is 1 unit per point


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    css: str  # the line's class: "s1" (blue) or "s2" (amber)


def _fmt(value: float, percent: bool) -> str:
    return f"{value * 100:.0f}%" if percent else (f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}")


def _scale(series: Sequence[Series], percent: bool) -> float:
    top = max((v for s in series for v in s.values if v is not None), default=0.0)
    return 1.0 if percent else max(top, 1.0)


def line_chart(labels: Sequence[str], series: Sequence[Series], *, title: str, percent: bool = False) -> Markup:
    """One or two series over days (or weeks); gaps where a value is None."""
    width = max(len(labels) - 1, 1)
    top = _scale(series, percent)
    paths = []
    for s in series:
        points: list[str] = []
        parts: list[list[str]] = []
        for i, value in enumerate(s.values):
            if value is None:
                if points:
                    parts.append(points)
                points = []
                continue
            points.append(f"{i},{HEIGHT - value / top * (HEIGHT - 4) - 2:.2f}")
        if points:
            parts.append(points)
        d = " ".join("M" + " L".join(p) for p in parts if p)
        dots = "".join(f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="1.2"/>'
                       for part in parts if len(part) == 1 for p in part)
        paths.append(f'<path class="{s.css}" d="{d}" vector-effect="non-scaling-stroke"/>{dots}')
    grid = "".join(f'<line x1="0" x2="{width}" y1="{y}" y2="{y}" vector-effect="non-scaling-stroke"/>'
                   for y in (2, HEIGHT / 2, HEIGHT - 2))
    summary = "; ".join(f"{s.name}: total {_fmt(sum(v for v in s.values if v is not None), False)}"
                        if not percent else f"{s.name}" for s in series)
    legend = "".join(f'<span class="key {s.css}">{escape(s.name)}</span>' for s in series)
    first, last = (labels[0], labels[-1]) if labels else ("", "")
    return Markup(
        f'<figure class="chart line"><figcaption>{escape(title)} {legend}</figcaption>'
        f'<div class="plot"><span class="ymax">{escape(_fmt(top, percent))}</span>'
        f'<svg viewBox="0 0 {width} {HEIGHT}" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(title)}: {escape(summary)}"><g class="grid">{grid}</g>{"".join(paths)}</svg>'
        f'<span class="ymin">0</span></div>'
        f'<div class="xaxis"><span>{escape(first)}</span><span>{escape(last)}</span></div></figure>')


def columns(labels: Sequence[str], values: Sequence[float | None], *, title: str, percent: bool = False,
            css: str = "s1") -> Markup:
    """One column per day or week (an empty slot where there is no value)."""
    n = max(len(labels), 1)
    top = _scale([Series(title, values, css)], percent)
    bars = "".join(
        f'<rect x="{i + 0.12:.2f}" y="{HEIGHT - v / top * HEIGHT:.2f}" width="0.76" height="{v / top * HEIGHT:.2f}">'
        f"<title>{escape(labels[i])}: {escape(_fmt(v, percent))}</title></rect>"
        for i, v in enumerate(values) if v)
    first, last = (labels[0], labels[-1]) if labels else ("", "")
    total = sum(v for v in values if v is not None)
    alt = f"{title}: " + (f"total {_fmt(total, False)}" if not percent else f"{len([v for v in values if v is not None])} weeks")
    return Markup(
        f'<figure class="chart columns"><figcaption>{escape(title)}</figcaption>'
        f'<div class="plot"><span class="ymax">{escape(_fmt(top, percent))}</span>'
        f'<svg class="{css}" viewBox="0 0 {n} {HEIGHT}" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(alt)}">{bars}</svg><span class="ymin">0</span></div>'
        f'<div class="xaxis"><span>{escape(first)}</span><span>{escape(last)}</span></div></figure>')


def bars(rows: Sequence[tuple[str, float]], *, title: str, percent: bool = False, css: str = "s1") -> Markup:
    """Horizontal bars, one per row, each with its label and number."""
    top = max((v for _, v in rows), default=0.0) or 1.0
    if percent:
        top = 1.0
    items = "".join(
        f'<li><span class="label">{escape(label)}</span>'
        f'<svg class="{css}" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
        f'<rect width="{max(value / top * 100, 0.5 if value else 0):.2f}" height="10"/></svg>'
        f'<span class="value">{escape(_fmt(value, percent))}</span></li>'
        for label, value in rows)
    return Markup(f'<figure class="chart bars"><figcaption>{escape(title)}</figcaption>'
                  f'<ul role="list">{items or "<li>Nothing in this period.</li>"}</ul></figure>')

"""Times of day for the scheduling grammar (bot/scheduling/grammar.py): the clock time a patient meant, and one time
window from the time fragments of a message.

A bare hour follows the clinic's convention: 1-7 is pm, 8-11 am, 12 noon; a part of the day said in the same
message ("at 7 in the morning") or the other end of a range ("11-1", "1-3pm") overrides it. "around 2" is
1:30-2:30. Time fragments joined by "or" / "and" cover both; side by side they narrow each other ("afternoon
after 3" is 3-5 pm); when they cannot both hold, the clock time wins over a part of the day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

from bot.scheduling.words import AROUND_MINUTES, Bound


@dataclass(frozen=True)
class Times:
    """A time fragment: a window (a point when lo == hi), where in the message it was said, and how."""

    lo: Bound
    hi: Bound
    at: int
    from_clock: bool = False
    one_sided: bool = False


def minutes(bound: Bound, edge: int) -> int:
    return edge if isinstance(bound, str) else bound.hour * 60 + bound.minute


def around(at: time, where: int) -> Times:
    mins = at.hour * 60 + at.minute
    lo, hi = max(0, mins - AROUND_MINUTES), min(23 * 60 + 59, mins + AROUND_MINUTES)
    return Times(time(lo // 60, lo % 60), time(hi // 60, hi % 60), at=where, from_clock=True)


def resolve(raw: tuple[int, int, str, bool], hint: tuple[Bound, Bound] | None, *, before: time | None = None,
             after: time | None = None) -> time:
    """The clock time meant: am/pm as typed; 13-23 as typed; a bare 1-7 is pm, 8-11 am, 12 noon (the clinic's
    convention), unless a part of the day said in the message, or the other end of a range, says otherwise."""
    hour, minute, mer, fixed = raw
    if fixed:
        return time(hour % 24, minute)
    if mer:
        return time(hour % 12 + (12 if mer == "pm" else 0), minute)
    if hour == 0 or hour >= 13:
        return time(hour % 24, minute)
    readings = [time(hour % 12, minute), time(hour % 12 + 12, minute)]
    default = readings[1] if 1 <= hour <= 7 or hour == 12 else readings[0]
    if before is not None:
        fits = [r for r in readings if r < before]
        return fits[-1] if fits else default
    if after is not None:
        fits = [r for r in readings if r > after]
        return fits[0] if fits else default
    if hint is not None:
        lo, hi = minutes(hint[0], 0), minutes(hint[1], 24 * 60)
        inside = [r for r in readings if lo <= r.hour * 60 + r.minute <= hi]
        if inside and default not in inside:
            return inside[0]
    return default


def combine(frags: list[Times], joined: Callable[[int, int], str]) -> tuple[Bound, Bound]:
    groups: list[list[Times]] = []
    for frag in frags:
        how = joined(groups[-1][-1].at, frag.at) if groups else ""
        if groups and how and not (frag.one_sided or groups[-1][-1].one_sided):
            groups[-1].append(frag)
        else:
            groups.append([frag])
    windows = [hull(group) for group in groups]
    lo, hi, from_clock = windows[0]
    for w_lo, w_hi, w_clock in windows[1:]:
        new_lo = w_lo if minutes(w_lo, -1) > minutes(lo, -1) else lo
        new_hi = w_hi if minutes(w_hi, 10**4) < minutes(hi, 10**4) else hi
        if minutes(new_lo, -1) <= minutes(new_hi, 10**4):
            lo, hi, from_clock = new_lo, new_hi, from_clock or w_clock
        elif w_clock or not from_clock:
            lo, hi, from_clock = w_lo, w_hi, w_clock
    return lo, hi


def hull(group: list[Times]) -> tuple[Bound, Bound, bool]:
    lo = min((f.lo for f in group), key=lambda b: minutes(b, -1))
    hi = max((f.hi for f in group), key=lambda b: minutes(b, 10**4))
    return lo, hi, any(f.from_clock for f in group)

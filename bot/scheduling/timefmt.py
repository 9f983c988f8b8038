"""The one way times and dates are written to patients and staff: '10:00 am', 'Thu, Nov 26'."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo


def clock(value: time | datetime, *, short: bool = False) -> str:
    """10:00 -> '10:00 am', 17:30 -> '5:30 pm'; ``short`` drops ':00' ('8 am'), as in opening hours."""
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    if short and value.minute == 0:
        return f"{hour} {suffix}"
    return f"{hour}:{value.minute:02d} {suffix}"


def short_date(local: datetime) -> str:
    """'Thu, Nov 26' (the date as it is in ``local``'s zone)."""
    return f"{local:%a, %b} {local.day}"


def when_text(start: datetime, tz: ZoneInfo) -> str:
    """'Thu, Nov 26 at 10:00 am' in the clinic's zone."""
    local = start.astimezone(tz)
    return f"{short_date(local)} at {clock(local)}"

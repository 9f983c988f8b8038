from __future__ import annotations

from datetime import datetime

from bot.scheduling.hours import describe_hours, is_open, staff_reply_eta
from bot.settings import Settings


def test_hours_are_described_with_grouped_days(settings: Settings) -> None:
    text = describe_hours(settings.clinic)
    assert text == "Mon-Tue 8 am-5 pm, Wed 8 am-7 pm, Thu 8 am-5 pm, Fri 8 am-3 pm; closed Sat-Sun"


def test_staff_reply_eta_in_and_out_of_hours(settings: Settings) -> None:
    tz = settings.clinic.tz
    tuesday_10am = datetime(2026, 11, 24, 10, 0, tzinfo=tz)
    assert is_open(settings.clinic, tuesday_10am)
    assert "shortly" in staff_reply_eta(settings.clinic, tuesday_10am)
    friday_night = datetime(2026, 11, 27, 22, 0, tzinfo=tz)
    assert staff_reply_eta(settings.clinic, friday_night) == "when we open at 8 am Monday"
    monday_6am = datetime(2026, 11, 30, 6, 0, tzinfo=tz)
    assert staff_reply_eta(settings.clinic, monday_6am) == "when we open at 8 am today"

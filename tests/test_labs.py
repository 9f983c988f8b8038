"""Flagging lab values against their reference ranges, critical limits, and picking the latest collection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.labs import flag_value, is_critical, latest_results
from bot.settings import load_settings
from bot.store import LabResult

CHICAGO = ZoneInfo("America/Chicago")
CRITICAL = {"potassium": {"low": 2.8, "high": 6.2}, "hemoglobin": {"low": 7.0}, "inr": {"high": 5.0}}
DAY = datetime(2026, 11, 18, 14, 30, tzinfo=UTC)  # 8:30 am in Chicago


def row(code: str, value: float, low: float | None, high: float | None, at: datetime = DAY,
        name: str | None = None) -> LabResult:
    return LabResult(patient_id=1, panel="p", test_code=code, test_name=name or code.upper(), value=value,
                     unit="u", ref_low=low, ref_high=high, collected_at=at)


@pytest.mark.parametrize(("value", "expected"), [
    (3.49, "low"), (3.5, "normal"), (4.2, "normal"), (5.1, "normal"), (5.11, "high"),
])
def test_a_value_on_a_reference_bound_is_in_range(value: float, expected: str) -> None:
    assert flag_value(value, 3.5, 5.1) == expected


def test_a_missing_bound_is_no_bound() -> None:
    assert flag_value(162, None, 99) == "high"
    assert flag_value(-50, None, 99) == "normal"
    assert flag_value(10, 40, None) == "low"
    assert flag_value(400, 40, None) == "normal"
    assert flag_value(1e9, None, None) == "normal"


@pytest.mark.parametrize(("code", "value", "expected"), [
    ("potassium", 6.6, True), ("potassium", 6.2, True), ("potassium", 6.19, False),
    ("potassium", 2.8, True), ("potassium", 2.81, False), ("potassium", 2.1, True),
    ("hemoglobin", 7.0, True), ("hemoglobin", 25.0, False),  # only a low limit
    ("inr", 0.1, False), ("inr", 5.0, True),  # only a high limit
    ("ldl", 400, False),  # no critical range for the test at all
])
def test_critical_limits_are_inclusive_and_a_missing_limit_is_no_limit(code: str, value: float,
                                                                       expected: bool) -> None:
    assert is_critical(code, value, CRITICAL) is expected


def test_the_clinic_config_has_the_documented_critical_potassium_limits() -> None:
    critical = load_settings().labs.critical
    assert is_critical("potassium", 6.6, critical) and not is_critical("potassium", 5.5, critical)


def test_only_the_most_recent_collection_day_is_returned_in_the_given_order() -> None:
    old = DAY - timedelta(days=90)
    rows = [
        row("ldl", 190, None, 99, old), row("tsh", 9.0, 0.4, 4.0, old),
        row("ldl", 162, None, 99), row("hdl", 48, 40, None, DAY + timedelta(hours=2)),
        row("potassium", 6.6, 3.5, 5.1, DAY + timedelta(hours=3)),
    ]
    latest = latest_results(rows, CHICAGO, CRITICAL)
    assert latest is not None
    assert latest.collected_on.isoformat() == "2026-11-18"
    assert [(r.test_code, r.value, r.flag, r.critical) for r in latest.results] == [
        ("ldl", 162, "high", False), ("hdl", 48, "normal", False), ("potassium", 6.6, "high", True)]
    assert [r.test_code for r in latest.flagged] == ["ldl"]  # the critical one is not "explained"
    assert [r.test_code for r in latest.critical] == ["potassium"]
    assert [r.test_code for r in latest.normal] == ["hdl"]


def test_the_day_is_the_clinics_day_not_utc() -> None:
    evening = datetime(2026, 11, 19, 3, 0, tzinfo=UTC)  # 9 pm on Nov 18 in Chicago
    morning = datetime(2026, 11, 18, 14, 0, tzinfo=UTC)  # 8 am on Nov 18 in Chicago
    latest = latest_results([row("ldl", 120, None, 99, morning), row("tsh", 5.0, 0.4, 4.0, evening)], CHICAGO, {})
    assert latest is not None and {r.test_code for r in latest.results} == {"ldl", "tsh"}
    utc = latest_results([row("ldl", 120, None, 99, morning), row("tsh", 5.0, 0.4, 4.0, evening)], UTC, {})
    assert utc is not None and [r.test_code for r in utc.results] == ["tsh"]


def test_a_test_drawn_twice_that_day_counts_once_with_the_later_value() -> None:
    rows = [row("glucose", 45, 70, 99), row("glucose", 88, 70, 99, DAY + timedelta(hours=4))]
    latest = latest_results(rows, CHICAGO, {"glucose": {"low": 50}})
    assert latest is not None
    [only] = latest.results
    assert (only.value, only.flag, only.critical) == (88, "normal", False)


def test_no_results_gives_none() -> None:
    assert latest_results([], CHICAGO, CRITICAL) is None

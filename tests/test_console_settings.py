"""The owner's settings page: validated with the config's own models, saved in the clinic database (merged over
config.yml by load_settings() in every process), applied without a restart, and the reminder scheduler told."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from bot import reminders
from bot.engine.client import RasaClient
from bot.runtime.gateway import create_app
from bot.settings import Settings, load_settings, stored
from tests.conftest import FakeRasa
from tests.console_helpers import add_staff, csrf_from, sign_in

PASSWORD = "correct horse battery"


@pytest.fixture
def rescheduled(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    calls: list[Settings] = []
    monkeypatch.setattr(reminders, "reschedule_all", calls.append)
    return calls


@pytest.fixture
def owner(seeded: Settings, fake_rasa: FakeRasa, rescheduled: list[Settings]) -> Iterator[TestClient]:
    add_staff(seeded.database_url, "olga", PASSWORD, role="owner")
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook",
                        transport=httpx.MockTransport(fake_rasa.handler))
    with TestClient(create_app(seeded, engine)) as client:
        sign_in(client, "olga", PASSWORD)
        yield client


def form_of(client: TestClient, **changes: str) -> dict[str, str]:
    page = client.get("/console/settings").text
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    values = {f"hours_{d}": h for d, h in settings.clinic.hours.items()}
    values.update(quiet_start=settings.reminders.quiet_hours.start, quiet_end=settings.reminders.quiet_hours.end,
                  max_per_day=str(settings.reminders.max_per_day), max_per_week=str(settings.reminders.max_per_week),
                  reminders_enabled="on", csrf_token=csrf_from(page),
                  rules=yaml.safe_dump([r.model_dump() for r in settings.reminders.rules]))
    values.update(changes)
    return values


def test_saved_hours_and_rules_apply_now_and_survive_a_restart(
    owner: TestClient, seeded: Settings, rescheduled: list[Settings]
) -> None:
    rules = [{"name": "day_before", "before_hours": 24, "appointment_types": ["annual_physical"],
              "template": "{clinic_name}: visit {when}. Reply STOP to opt out."}]
    response = owner.post("/console/settings", data=form_of(owner, hours_sat="09:00-12:00", quiet_start="09:00",
                                                            rules=yaml.safe_dump(rules)))
    assert response.status_code == 200 and "Saved" in response.text
    assert "Sat 9 am-12 pm" in owner.get("/").text  # the running gateway uses the new hours
    assert rescheduled and rescheduled[-1].reminders.rules[0].name == "day_before"
    saved = stored.read(seeded.database_url)
    assert saved is not None and saved[0] == 1 and saved[1]["clinic"]["hours"]["sat"] == "09:00-12:00"
    reloaded = load_settings()
    assert reloaded.clinic.hours["sat"] == "09:00-12:00"
    assert reloaded.reminders.quiet_hours.start == "09:00"
    assert [r.name for r in reloaded.reminders.rules] == ["day_before"]
    assert reloaded.clinic.name == seeded.clinic.name  # the rest of config.yml is untouched


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("quiet_start", "07:00", "between 08:00 and 21:00"),
    ("hours_mon", "17:00-08:00", "opening time must be before closing time"),
    ("rules", "- name: x\n  before_hours: 2\n  appointment_types: [massage]\n  template: hi", "unknown appointment"),
    ("rules", "- name: [unclosed", "not valid YAML"),
    ("max_per_day", "zero", "max_per_day"),
])
def test_invalid_values_are_explained_and_nothing_is_saved(
    owner: TestClient, seeded: Settings, rescheduled: list[Settings], field: str, value: str, problem: str
) -> None:
    before = seeded.model_dump()
    response = owner.post("/console/settings", data=form_of(owner, **{field: value}))
    assert response.status_code == 422 and problem in response.text
    assert stored.read(seeded.database_url) is None
    assert seeded.model_dump() == before and rescheduled == []

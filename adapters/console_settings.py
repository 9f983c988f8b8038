"""The owner's settings page: clinic hours, reminder quiet hours and limits, reminder rules.

Values are validated with the same pydantic models as ``config.yml`` (the whole ``Settings`` is rebuilt),
saved to ``<data_dir>/settings-overrides.yml`` (which ``load_settings()`` merges over config.yml) and
applied to the running gateway's settings in place.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import yaml
from pydantic import ValidationError

from bot.settings import WEEKDAYS, Settings, describe_validation_error, overrides_path

log = logging.getLogger(__name__)


def form_values(settings: Settings) -> dict[str, str]:
    reminders = settings.reminders
    values = {f"hours_{day}": settings.clinic.hours.get(day, "closed") for day in WEEKDAYS}
    values.update({
        "reminders_enabled": "on" if reminders.enabled else "",
        "quiet_start": reminders.quiet_hours.start,
        "quiet_end": reminders.quiet_hours.end,
        "max_per_day": str(reminders.max_per_day),
        "max_per_week": str(reminders.max_per_week),
        "rules": yaml.safe_dump([r.model_dump() for r in reminders.rules], sort_keys=False, allow_unicode=True)
        if reminders.rules else "",
    })
    return values


def _changes(form: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    try:
        rules = yaml.safe_load(form.get("rules", "")) or []
    except yaml.YAMLError as exc:
        rules = []
        errors.append(f"reminder rules: not valid YAML ({str(exc).splitlines()[0]})")
    if not isinstance(rules, list):
        errors.append("reminder rules: expected a list of rules, each starting with '- name:'")
        rules = []
    changes = {
        "clinic": {"hours": {day: form.get(f"hours_{day}", "closed").strip() or "closed" for day in WEEKDAYS}},
        "reminders": {
            "enabled": form.get("reminders_enabled") == "on",
            "quiet_hours": {"start": form.get("quiet_start", "").strip(), "end": form.get("quiet_end", "").strip()},
            "max_per_day": form.get("max_per_day", "").strip(),
            "max_per_week": form.get("max_per_week", "").strip(),
            "rules": rules,
        },
    }
    return changes, errors


def apply(settings: Settings, form: dict[str, str]) -> list[str]:
    """Validate, save and apply the form; returns the problems (empty when saved)."""
    changes, errors = _changes(form)
    if errors:
        return errors
    current = settings.model_dump()
    candidate_data = {**current, "clinic": {**current["clinic"], **changes["clinic"]},
                      "reminders": changes["reminders"]}
    try:
        candidate = Settings(**candidate_data)
    except ValidationError as exc:
        return describe_validation_error(exc).splitlines()[1:]
    path = overrides_path(settings.data_dir)
    saved: dict[str, Any] = {}
    if path.exists():
        saved = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    saved.setdefault("clinic", {})["hours"] = candidate.clinic.hours
    saved["reminders"] = candidate.reminders.model_dump()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("# Written by the owner's settings page; merged over config.yml.\n"
                   + yaml.safe_dump(saved, sort_keys=False, allow_unicode=True), encoding="utf-8")
    os.replace(tmp, path)
    settings.clinic = candidate.clinic
    settings.reminders = candidate.reminders
    log.info("console.settings_saved rules=%d", len(candidate.reminders.rules))
    return []

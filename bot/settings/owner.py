"""The owner's changes from the settings page: validated with the same models as config.yml, saved to
``<data_dir>/settings-overrides.yml`` (merged over config.yml by every process that loads settings) and applied
to the running process's settings in place."""

from __future__ import annotations

import logging
import os
from typing import Any

import yaml
from pydantic import ValidationError

from bot.settings import Settings, describe_validation_error, overrides_path

log = logging.getLogger(__name__)


def save_owner_changes(settings: Settings, changes: dict[str, Any]) -> list[str]:
    """Validate, save and apply ``{"clinic": {"hours": ...}, "reminders": {...}, "waitlist": {...}}`` (the waitlist
    part may be left out); returns the problems (empty when saved)."""
    current = settings.model_dump()
    candidate_data = {**current, "clinic": {**current["clinic"], **changes["clinic"]},
                      "reminders": changes["reminders"],
                      "waitlist": {**current["waitlist"], **changes.get("waitlist", {})}}
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
    if "waitlist" in changes:
        saved["waitlist"] = candidate.waitlist.model_dump()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("# Written by the owner's settings page; merged over config.yml.\n"
                   + yaml.safe_dump(saved, sort_keys=False, allow_unicode=True), encoding="utf-8")
    os.replace(tmp, path)
    settings.clinic = candidate.clinic
    settings.reminders = candidate.reminders
    settings.waitlist = candidate.waitlist
    log.info("console.settings_saved rules=%d waitlist=%s", len(candidate.reminders.rules), candidate.waitlist.enabled)
    return []

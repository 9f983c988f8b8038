"""The owner's changes from the settings page: validated with the same models as config.yml, saved in the clinic
database as the next version (every process that shares it applies the save within a couple of seconds, see
``bot.settings.refresh_owner_changes``) and applied to the saving process's settings at once."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from bot.settings import Settings, describe_validation_error, stored

log = logging.getLogger(__name__)


def save_owner_changes(settings: Settings, changes: dict[str, Any], by: str = "") -> list[str]:
    """Validate, save and apply ``{"clinic": {"hours": ...}, "reminders": {...}}``; returns the problems (empty
    when saved)."""
    current = settings.model_dump()
    candidate_data = {**current, "clinic": {**current["clinic"], **changes["clinic"]},
                      "reminders": changes["reminders"]}
    try:
        candidate = Settings(**candidate_data)
    except ValidationError as exc:
        return describe_validation_error(exc).splitlines()[1:]
    saved: dict[str, Any] = {"clinic": {"hours": candidate.clinic.hours},
                             "reminders": candidate.reminders.model_dump()}
    version = stored.write(settings.database_url, saved, by)
    settings.clinic = candidate.clinic
    settings.reminders = candidate.reminders
    settings._owner_version = version
    log.info("console.settings_saved version=%d rules=%d", version, len(candidate.reminders.rules))
    return []

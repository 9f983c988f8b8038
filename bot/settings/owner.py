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
    """Validate, save and apply ``{"clinic": {"hours": ...}, "reminders": {...}, "waitlist": {...}}`` (the waitlist
    part may be left out: the last saved one is kept); returns the problems (empty when saved)."""
    current = settings.model_dump()
    candidate_data = {**current, "clinic": {**current["clinic"], **changes["clinic"]},
                      "reminders": changes["reminders"],
                      "waitlist": {**current["waitlist"], **changes.get("waitlist", {})}}
    try:
        candidate = Settings(**candidate_data)
    except ValidationError as exc:
        return describe_validation_error(exc).splitlines()[1:]
    saved: dict[str, Any] = {"clinic": {"hours": candidate.clinic.hours},
                             "reminders": candidate.reminders.model_dump()}
    previous = stored.read(settings.database_url)
    if "waitlist" in changes:
        saved["waitlist"] = candidate.waitlist.model_dump()
    elif previous is not None and "waitlist" in previous[1]:
        saved["waitlist"] = previous[1]["waitlist"]
    version = stored.write(settings.database_url, saved, by)
    settings.clinic = candidate.clinic
    settings.reminders = candidate.reminders
    settings.waitlist = candidate.waitlist
    settings._owner_version = version
    log.info("console.settings_saved version=%d rules=%d waitlist=%s", version, len(candidate.reminders.rules),
             candidate.waitlist.enabled)
    return []

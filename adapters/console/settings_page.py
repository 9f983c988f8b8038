"""The owner's settings page (``/console/settings``): clinic hours, reminder quiet hours and limits, reminder
rules, and the waitlist (on or off, how many patients are offered a freed time at once, when an offer expires).
The form is turned into changes here; ``bot.settings.owner`` validates, saves and applies them."""

from __future__ import annotations

import asyncio
from typing import Any

import yaml
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from adapters.console.render import render
from bot import reminders
from bot.gateway.deps import CheckedForm, OwnerPage, SessionsDep, SettingsDep, form_body
from bot.settings import WEEKDAYS, Settings
from bot.settings.owner import save_owner_changes
from bot.store import audit as audit_trail

router = APIRouter()


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
        "waitlist_enabled": "on" if settings.waitlist.enabled else "",
        "waitlist_offers_at_once": str(settings.waitlist.offers_at_once),
        "waitlist_expiry": str(settings.waitlist.offer_expiry_minutes),
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
    if "waitlist_offers_at_once" in form or "waitlist_expiry" in form:  # the page's waitlist fields were posted
        changes["waitlist"] = {
            "enabled": form.get("waitlist_enabled") == "on",
            "offers_at_once": form.get("waitlist_offers_at_once", "").strip(),
            "offer_expiry_minutes": form.get("waitlist_expiry", "").strip(),
        }
    return changes, errors


def apply(settings: Settings, form: dict[str, str], by: str = "") -> list[str]:
    """Validate, save and apply the form (``by``: the owner saving it); returns the problems (empty when saved)."""
    changes, errors = _changes(form)
    return errors or save_owner_changes(settings, changes, by)


@router.get("/console/settings", response_class=HTMLResponse)
def settings_page(me: OwnerPage, settings: SettingsDep) -> HTMLResponse:
    return render("console_settings.html", me=me, clinic=settings.clinic, form=form_values(settings), errors=[],
                  saved=False)


@router.post("/console/settings", response_class=HTMLResponse, openapi_extra=form_body(
    **{f"hours_{day}": "HH:MM-HH:MM or closed" for day in WEEKDAYS}, reminders_enabled="on to send reminders",
    quiet_start="HH:MM", quiet_end="HH:MM", max_per_day="a number", max_per_week="a number",
    rules="reminder rules, YAML"))
async def save_settings(me: OwnerPage, form: CheckedForm, settings: SettingsDep,
                        sessions: SessionsDep) -> HTMLResponse:
    def work() -> list[str]:
        before = form_values(settings)
        errors = apply(settings, form, me.username)
        if not errors:
            after = form_values(settings)
            changed = {key: [before[key], after[key]] if key != "rules" else "changed"
                       for key in after if before.get(key) != after[key]}
            with sessions() as session:
                audit_trail.record(session, actor_type="staff", actor_id=me.username, patient_id=None,
                                   action="settings_changed",
                                   detail={"sections": ["hours", "reminders", "waitlist"], "changed": changed})
                session.commit()
            reminders.reschedule_all(settings)  # pending reminders follow the new rules at once
        return errors

    errors = await asyncio.to_thread(work)
    return render("console_settings.html", 422 if errors else 200, me=me, clinic=settings.clinic,
                  form=form if errors else form_values(settings), errors=errors, saved=not errors)

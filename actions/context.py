"""Messages that lean on the conversation: the day asked about, a short follow-up to the hours answer ("n
saturday?" after "what time do you close on fri"), after-hours questions, and a short follow-up to an answered
question ("what about 6.7" after "what's a normal a1c"); shared by the clinic actions."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import clinic_vars, settings
from bot.scheduling.hours import days_named, describe_day, describe_hours
from bot.store.models import utcnow

_PLUMBING = {"action_listen", "action_check_scope", "action_session_start", "action_unlikely_intent"}
BOOKING = re.compile(r"\b(book|appt|appointments?|schedul\w*|slots?|visit|see (?:dr|doctor|the)|come in|"
                     r"resched\w*|cancel\w*|move)\b", re.I)
FOLLOW_UP_WORDS = 6  # "n saturday?", "what about sun", "and on fri?": a short message leaning on the last answer
_ANSWERED_FROM_DOCUMENTS = {"action_default_fallback", "action_clinic_info", "action_not_yet_available",
                            "action_show_lab_results"}


def _previous_turn(tracker: Tracker) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The patient's message before the latest one (None at the start of a conversation) and the events that
    answered it, newest first; a re-routed message's first reading is rewound (applied events only)."""
    seen_latest, answered = False, list[dict[str, Any]]()
    for event in reversed(tracker.applied_events()):
        if event.get("event") == "user":
            if seen_latest:
                return event, answered
            seen_latest = True
        elif seen_latest:
            answered.append(event)
    return None, answered


def previous_answer(tracker: Tracker) -> str | None:
    """The action that answered the patient's previous message (None at the start of a conversation)."""
    return next((str(e.get("name")) for e in _previous_turn(tracker)[1]
                 if e.get("event") == "action" and e.get("name") not in _PLUMBING), None)


# A follow-up that leans on the previous question: "what about 6.7", "and for kids?", "n the portal?", "5.9?".
_LEANS = re.compile(r"^\s*(?:&|(?:and|n|also|what about|how about|wbu|what if (?:it'?s|its|mine'?s|mine is))\b)|"
                    r"^\s*[<>]?\d+(?:\.\d+)?\s*%?\s*\??\s*$", re.I)


def previous_question(tracker: Tracker) -> str | None:
    """The patient's message before the latest one (None at the start of a conversation)."""
    question = _previous_turn(tracker)[0]
    if question is None:
        return None
    return str(question.get("text") or "") or None


def leaning_question(tracker: Tracker, text: str) -> str:
    """A short follow-up joined to the question it leans on ("what's a normal a1c" + "what about 6.7"), so the
    documents are searched for both; any other message as it is."""
    if len(text.split()) > FOLLOW_UP_WORDS or not _LEANS.search(text):
        return text
    before = previous_question(tracker)
    return f"{before} {text}" if before and previous_answer(tracker) in _ANSWERED_FROM_DOCUMENTS else text


HOURS_REPLIES = {"utter_clinic_info", "utter_hours_on_day", "utter_after_hours"}


def previous_replies(tracker: Tracker) -> list[str]:
    """The responses (``utter_*``) the assistant sent after the patient's previous message."""
    return [str((e.get("metadata") or {}).get("utter_action") or "") for e in _previous_turn(tracker)[1]
            if e.get("event") == "bot"]


def days_asked(tracker: Tracker) -> list[int]:
    text = str(tracker.latest_message.get("text") or "")
    return days_named(text, utcnow().astimezone(settings().clinic.tz))


def hours_follow_up(tracker: Tracker) -> list[int]:
    """The days a short follow-up to the clinic-information answer asks about ("n saturday?" after "what time
    do you close on friday"), whatever intent the engine gave it; empty when it is not one."""
    text = str(tracker.latest_message.get("text") or "")
    if len(text.split()) > FOLLOW_UP_WORDS:
        return []
    if previous_answer(tracker) != "action_clinic_info" and not HOURS_REPLIES & set(previous_replies(tracker)):
        return []  # "and friday?" after "what about saturday" was answered with Saturday's hours still counts
    return days_asked(tracker)


# After hours, said the ways patients say it ("after hrs", "at night", "when ur closed"): the clinic's own
# after-hours instructions (clinic.after_hours), whatever intent the engine saw.
AFTER_HOURS = re.compile(r"\bafter[- ]?(?:hours?|hrs|dark)\b|\b(?:at|during the|in the) night\b|\bovernight\b|"
                         r"\bnurse line\b|\bwhen (?:you(?:'| a)?re|ur|u r|you are|the (?:office|clinic) is) closed\b",
                         re.I)


def say_after_hours(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """The clinic's after-hours instructions when the latest message asks about after hours."""
    cfg = settings()
    if not cfg.clinic.after_hours or not AFTER_HOURS.search(str(tracker.latest_message.get("text") or "")):
        return False
    dispatcher.utter_message(response="utter_after_hours", after_hours=cfg.clinic.after_hours, **clinic_vars(cfg))
    return True


def answer_hours_follow_up(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Say the days' hours when the latest message is a follow-up to the hours answer (see hours_follow_up)."""
    days = hours_follow_up(tracker)
    if days:
        say_hours_on(dispatcher, days)
    return bool(days)


def say_hours_on(dispatcher: CollectingDispatcher, days: list[int]) -> None:
    cfg = settings()
    dispatcher.utter_message(response="utter_hours_on_day", day_hours=" ".join(describe_day(cfg.clinic, d) for d in days),
                             hours=describe_hours(cfg.clinic), **clinic_vars(cfg))

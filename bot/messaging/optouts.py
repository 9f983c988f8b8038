"""SMS opt-outs as carriers and the law require them: the keywords, the answers, and the opt-out list.

STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE and OPTOUT opt a number out at once; START, UNSTOP and YES
opt it back in; HELP (or INFO) gets the clinic's name and phone. Nothing but the opt-out confirmation is sent
to a number that opted out.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.settings import Settings
from bot.store import Patient, SmsOptOut

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})


def keyword(body: str) -> str | None:
    """The opt-out/opt-in/help keyword a whole message is, if it is one (case and end punctuation ignored)."""
    word = body.strip().rstrip(".!").strip().upper()
    return word if word in STOP_WORDS | START_WORDS | HELP_WORDS else None


def is_opted_out(session: Session, phone: str) -> bool:
    return session.get(SmsOptOut, phone) is not None


def set_opt_out(session: Session, phone: str, opted_out: bool, word: str = "STOP") -> None:
    """Record (or lift) a number's opt-out, on the opt-out list and on the patients with that number."""
    existing = session.get(SmsOptOut, phone)
    if opted_out and existing is None:
        session.add(SmsOptOut(phone=phone, keyword=word[:16]))
    elif not opted_out and existing is not None:
        session.delete(existing)
    session.execute(update(Patient).where(Patient.phone == phone).values(sms_opted_out=opted_out))


def opt_out_text(settings: Settings) -> str:
    return (f"{settings.clinic.name}: you are unsubscribed and will get no more texts from us. "
            f"Reply START to resubscribe. Call {settings.clinic.phone} for help.")


def opt_in_text(settings: Settings) -> str:
    return f"{settings.clinic.name}: you are subscribed to texts again. Reply HELP for help, STOP to opt out."


def help_text(settings: Settings) -> str:
    return (f"{settings.clinic.name}: call {settings.clinic.phone} for help. In an emergency call 911. "
            "Msg&data rates may apply. Reply STOP to opt out.")


def keyword_reply(settings: Settings, word: str, opted_out: bool) -> str | None:
    """What the clinic answers to a keyword (none to HELP from an opted-out number)."""
    if word in STOP_WORDS:
        return opt_out_text(settings)
    if word in START_WORDS:
        return opt_in_text(settings)
    return None if opted_out else help_text(settings)

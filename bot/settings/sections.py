"""The sections of config.yml, each a validated model (the clinic's profile, providers, servers, reminders ...)."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator, model_validator

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS_RE = re.compile(r"^(closed|([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d)$")
_E164_RE = re.compile(r"^\+[1-9]\d{7,14}$")


def parse_hhmm(value: str) -> time:
    """ "08:30" -> 08:30 (validated settings only: the format is checked where the value is read)."""
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class ClinicProfile(BaseModel):
    name: str = Field(min_length=2)
    phone: str = Field(description="E.164, e.g. +15555550123")
    address: str
    timezone: str = "America/Chicago"
    website: str = ""
    email: str = ""
    hours: dict[str, str] = Field(
        default_factory=lambda: {d: ("08:00-17:00" if d not in ("sat", "sun") else "closed") for d in WEEKDAYS}
    )
    cancellation_policy: str = ""
    after_hours: str = ""

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        if not _E164_RE.match(value):
            raise ValueError("expected an E.164 phone number such as +15555550123")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("expected an IANA time zone such as America/Chicago") from exc
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for day, span in value.items():
            key = day.strip().lower()[:3]
            if key not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use mon, tue, wed, thu, fri, sat, sun")
            span = span.strip().lower()
            if not _HOURS_RE.match(span):
                raise ValueError(f"{day}: expected 'HH:MM-HH:MM' or 'closed', got {span!r}")
            if span != "closed":
                start, end = (parse_hhmm(p) for p in span.split("-"))
                if start >= end:
                    raise ValueError(f"{day}: opening time must be before closing time")
            out[key] = span
        for day in WEEKDAYS:
            out.setdefault(day, "closed")
        return out

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def opening_hours(self, day: str) -> tuple[time, time] | None:
        span = self.hours.get(day, "closed")
        if span == "closed":
            return None
        start, end = span.split("-")
        return parse_hhmm(start), parse_hhmm(end)


class ProviderConfig(BaseModel):
    key: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: str
    title: str = "MD"
    specialty: str = "Family medicine"
    # Weekdays this provider sees patients (defaults to the clinic's open days).
    days: list[str] = Field(default_factory=list)


class AppointmentTypeConfig(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    duration_minutes: int = Field(ge=5, le=240)
    description: str = ""


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    gateway_port: int = Field(default=8000, ge=1, le=65535)
    rasa_port: int = Field(default=5005, ge=1, le=65535)
    action_port: int = Field(default=5055, ge=1, le=65535)
    # Where the gateway finds the engine and the engine finds the action server.
    rasa_url: str = ""
    action_url: str = ""
    public_url: str = ""

    @model_validator(mode="after")
    def _urls(self) -> ServerSettings:
        if not self.rasa_url:
            self.rasa_url = f"http://{self.host}:{self.rasa_port}"
        if not self.action_url:
            self.action_url = f"http://{self.host}:{self.action_port}/webhook"
        if not self.public_url:
            self.public_url = f"http://{self.host}:{self.gateway_port}"
        return self


class RasaSettings(BaseModel):
    python: str = ""  # the engine's interpreter; default <project>/.venv-rasa/bin/python
    project_dir: Path = PROJECT_ROOT / "bot" / "assistant"
    fallback_threshold: float = Field(default=0.55, gt=0, lt=1)
    log_level: Literal["ERROR", "WARNING", "INFO"] = "WARNING"
    # the gateway's wait for one engine turn; past it the patient is told staff will answer, and staff are asked
    request_timeout_s: float = Field(default=45.0, gt=0)
    # Tracker store URL; default is SQLite under the data directory.
    tracker_store_url: str = ""
    lock_store_url: str = ""  # e.g. redis://host:6379/0 for several engines
    models_dir: Path | None = None  # trained models; default <data_dir>/models/rasa


class SupervisorSettings(BaseModel):
    restart_backoff_s: float = Field(default=2.0, ge=0)
    max_restarts_per_minute: int = Field(default=5, ge=1)
    healthy_timeout_s: float = Field(default=180.0, gt=0)


class GatewaySettings(BaseModel):
    max_message_chars: int = Field(default=2000, ge=10, le=20000)
    # web chat: a turn not answered in this many seconds gets "give me a moment" and the answer follows
    reply_wait_s: float = Field(default=8.0, gt=0, le=120)
    retry_pending_every_s: float = Field(default=5.0, gt=0)
    retry_after_s: int = Field(default=10, ge=1)
    # several gateways: the one holding the scheduler lease runs reminders and retention, and one at a time holds a
    # conversation's turn; a lease not renewed for this long (its holder died) is taken over by another gateway
    lease_ttl_s: float = Field(default=15.0, ge=1, le=300)


class LLMSettings(BaseModel):
    # none: answers are the best passage's sentences (no generation); local: the 4-bit model + adapter
    backend: Literal["none", "local", "openai", "fake"] = "local"
    base_model: str = ""  # local path or hub id; empty means the SmolLM2 copy prepared under the data dir
    quantization: Literal["nf4", "int8", "none"] = "nf4"
    device: str = "cpu"  # "cpu", "cuda", "auto"
    # merged (CPU, nf4): the 4-bit layers dequantized once at load and the adapter merged in: the same model,
    # drafts about 1.3-1.4x faster here (bitsandbytes' CPU 4-bit kernel is slow), about 0.4 GB more; bf16: merged, in
    # bfloat16 (about 1.5x faster again, half the memory, next to the same function); nf4: packed
    weights: Literal["merged", "bf16", "nf4"] = "merged"
    adapter: str = ""  # path to a peft adapter; empty means <data_dir>/adapter
    max_new_tokens: int = Field(default=120, ge=8, le=1024)
    # prompt lookup decoding: drafts copy the chosen sentences, so the model checks up to this many tokens taken
    # from its prompt in one forward pass instead of one token per pass (the same greedy text, faster); 0: off
    prompt_lookup: int = Field(default=10, ge=0, le=64)
    # copy-constrained decoding (bot/llm/copying.py): of the model's likeliest next tokens, only those that keep each
    # sentence a copy of a chosen one (the answer check's rule) are kept; the model still picks the sentences
    copy_decoding: bool = True
    # the reply budget: a draft not ready in this many seconds is dropped and the checked quote goes out
    draft_budget_s: float = Field(default=4.0, gt=0, le=120)
    # drafts waiting for the model beyond the one being made; more go straight to the quoted answer
    draft_queue: int = Field(default=2, ge=0, le=64)
    openai_base_url: str = "http://127.0.0.1:8001/v1"
    openai_model: str = "clinicbot"
    openai_api_key: str = ""
    # `clinicbot up` tunes an adapter in the background when none exists (local backend only)
    tune_on_first_run: bool = True
    # local backend without a tuned adapter: false quotes the documents (the untuned base rambles);
    # true lets a bigger base model answer on its own
    allow_untuned: bool = False


class TriageSettings(BaseModel):
    """The learned second net under the red-flag rules (bot/triage/model.py); it can only raise a level."""

    model: Literal["local", "none"] = "local"  # none: the rules decide alone
    adapter: str = ""  # empty: <data_dir>/triage-adapter when tuned here, else the adapter shipped in bot/triage
    timeout_s: float = Field(default=2.0, gt=0)  # per message; past it the rules answer alone
    # torch threads in processes where triage is the only model (gateway, `clinicbot triage`); 0: torch's default.
    # One thread: on a busy 2-core machine two threads scored 10-30x slower (they wait on each other).
    threads: int = Field(default=1, ge=0)
    # merged: the 4-bit layers dequantized once at load, the adapter merged in (the same function; about 2x
    # faster on CPU, +0.4 GB); nf4: bitsandbytes' packed 4-bit layers (least memory)
    weights: Literal["merged", "nf4"] = "merged"


class KnowledgeSettings(BaseModel):
    documents_dir: Path = PROJECT_ROOT / "knowledge" / "documents"
    collection: str = "clinic_knowledge"
    chroma_url: str = ""  # http://host:8000 for a Chroma server; empty means persistent under data dir
    top_k: int = Field(default=4, ge=1, le=20)
    min_similarity: float = Field(default=0.35, ge=0, le=1)
    # the learned sentence scorer (knowledge/reranker.py) beside the hand-weighted features; off: the features alone
    reranker: bool = True
    # the learned answer check (knowledge/answerable/, its "none of these answers" at 0): when it scores every chosen
    # sentence below this, the question goes to the front desk. 1.0, chosen on the studied answer sets: none of their
    # right answers lost, 30 more of answers_unknown's 120 handed off (2.0: two lost, 41 more); None: off
    min_answer_score: float | None = 1.0


class PhiSettings(BaseModel):
    allow_list: list[str] = Field(default_factory=list)  # clinic and staff names kept by the scrubber


class LabSettings(BaseModel):
    # Critical ranges by test code: values outside go to staff, not explained by the assistant.
    critical: dict[str, dict[str, float]] = Field(default_factory=dict)


class QuietHours(BaseModel):
    start: str = "08:00"  # earliest send time, patient local
    end: str = "21:00"  # latest send time

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", value):
            raise ValueError("expected HH:MM")
        return value

    @model_validator(mode="after")
    def _within_law(self) -> QuietHours:
        if parse_hhmm(self.start) < time(8, 0) or parse_hhmm(self.end) > time(21, 0):
            raise ValueError("reminders may only go out between 08:00 and 21:00; narrow the window, do not widen it")
        if parse_hhmm(self.start) >= parse_hhmm(self.end):
            raise ValueError("start must be before end")
        return self


class ReminderRule(BaseModel):
    name: str
    before_hours: float = Field(gt=0, le=24 * 14)
    appointment_types: list[str] = Field(default_factory=list)  # empty means all
    template: str


class ReminderSettings(BaseModel):
    enabled: bool = True
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    max_per_day: int = Field(default=1, ge=1)
    max_per_week: int = Field(default=3, ge=1)
    rules: list[ReminderRule] = Field(default_factory=list)


class SmsSettings(BaseModel):
    account_sid: str = ""
    auth_token: str = ""
    phone_number: str = ""
    api_base_url: str = ""  # override for a local fake of Twilio's API in tests
    max_segments: int = Field(default=3, ge=1, le=10)
    send_attempts: int = Field(default=4, ge=1, le=10)  # tries per message on 429/5xx
    retry_backoff_s: float = Field(default=1.0, ge=0)  # doubled after each failed try
    timeout_s: float = Field(default=15.0, gt=0, le=120)  # one request to the provider


class ConsoleSettings(BaseModel):
    """The staff console: sign-in sessions, sign-in throttling, and when an unclaimed handoff escalates."""

    session_idle_minutes: int = Field(default=30, ge=1)
    session_max_hours: float = Field(default=12, gt=0)
    escalate_after_minutes: int = Field(default=15, ge=1)
    # while staff hold a conversation, the patient's messages are acknowledged at most this often
    staff_ack_every_minutes: int = Field(default=30, ge=1)
    # wrong passwords: free tries, then a doubling wait; an account locks after ``lock_after`` in a row until an
    # owner unlocks it (or ``lock_minutes`` pass; 0 = only an owner's unlock)
    login_free_tries: int = Field(default=3, ge=1, le=20)
    login_lock_after: int = Field(default=10, ge=2, le=100)
    login_lock_minutes: int = Field(default=60, ge=0)
    login_address_free_tries: int = Field(default=10, ge=1, le=200)  # one front-desk address, several people



class WaitlistSettings(BaseModel):
    """Waitlist backfill: a freed time is texted to waiting patients in order of request; the first YES books it."""

    enabled: bool = False
    offers_at_once: int = Field(default=1, ge=1, le=10)  # patients texted about one freed time at the same moment
    offer_expiry_minutes: int = Field(default=30, ge=5, le=24 * 60)  # then the next patient in line is offered it
    check_every_s: float = Field(default=20.0, gt=0)  # how often the gateway looks for freed times
    max_window_days: int = Field(default=60, ge=1, le=365)  # how far ahead a patient may ask to wait for


class VerificationSettings(BaseModel):
    """How patients prove who they are before any PHI (``bot.identity``)."""

    # web chat: after name and date of birth, a one-time code is texted to the number on file; true lets name and
    # date of birth alone verify a web chat (weaker: both are often public)
    web_name_and_dob_only: bool = False
    code_minutes: int = Field(default=10, ge=2, le=60)

"""Typed settings: config.yml first, then environment variables prefixed ``CLINICBOT_``.

Nested keys use ``__`` in the environment (``CLINICBOT_SERVERS__GATEWAY_PORT=8080``).
Nothing is read at import time: call :func:`get_settings` (cached) or :func:`load_settings`.
"""

from __future__ import annotations

import os
import re
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config.yml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS_RE = re.compile(r"^(closed|([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d)$")
_E164_RE = re.compile(r"^\+[1-9]\d{7,14}$")


class SettingsError(Exception):
    """A configuration problem, worded for the person who edits config.yml."""


def _parse_hhmm(value: str) -> time:
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
                start, end = (_parse_hhmm(p) for p in span.split("-"))
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
        return _parse_hhmm(start), _parse_hhmm(end)


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
    request_timeout_s: float = Field(default=120.0, gt=0)
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
    retry_pending_every_s: float = Field(default=5.0, gt=0)
    retry_after_s: int = Field(default=10, ge=1)


class LLMSettings(BaseModel):
    # none: answers are the best passage's sentences (no generation); local: the 4-bit model + adapter
    backend: Literal["none", "local", "openai", "fake"] = "local"
    base_model: str = ""  # local path or hub id; empty means the SmolLM2 copy prepared under the data dir
    quantization: Literal["nf4", "int8", "none"] = "nf4"
    device: str = "cpu"  # "cpu", "cuda", "auto"
    adapter: str = ""  # path to a peft adapter; empty means <data_dir>/adapter
    max_new_tokens: int = Field(default=120, ge=8, le=1024)
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


class KnowledgeSettings(BaseModel):
    documents_dir: Path = PROJECT_ROOT / "knowledge" / "documents"
    collection: str = "clinic_knowledge"
    chroma_url: str = ""  # http://host:8000 for a Chroma server; empty means persistent under data dir
    top_k: int = Field(default=3, ge=1, le=20)
    min_similarity: float = Field(default=0.35, ge=0, le=1)


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
        if _parse_hhmm(self.start) < time(8, 0) or _parse_hhmm(self.end) > time(21, 0):
            raise ValueError("reminders may only go out between 08:00 and 21:00; narrow the window, do not widen it")
        if _parse_hhmm(self.start) >= _parse_hhmm(self.end):
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


class ConsoleSettings(BaseModel):
    """The staff console: sign-in sessions and when an unclaimed handoff escalates."""

    session_idle_minutes: int = Field(default=30, ge=1)
    session_max_hours: float = Field(default=12, gt=0)
    escalate_after_minutes: int = Field(default=15, ge=1)


class Settings(BaseSettings):
    """Everything the processes need, validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="CLINICBOT_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""  # any SQLAlchemy URL; default sqlite under data_dir
    secret_key: str = "change-me"
    retention_days: int = Field(default=30, ge=1)

    clinic: ClinicProfile
    providers: list[ProviderConfig] = Field(min_length=1)
    appointment_types: list[AppointmentTypeConfig] = Field(min_length=1)

    servers: ServerSettings = Field(default_factory=ServerSettings)
    rasa: RasaSettings = Field(default_factory=RasaSettings)
    supervisor: SupervisorSettings = Field(default_factory=SupervisorSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    triage: TriageSettings = Field(default_factory=TriageSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    phi: PhiSettings = Field(default_factory=PhiSettings)
    labs: LabSettings = Field(default_factory=LabSettings)
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _derived(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'clinic.db'}"
        if not self.rasa.tracker_store_url:
            self.rasa.tracker_store_url = f"sqlite:///{self.data_dir / 'tracker.db'}"
        if self.environment == "production" and self.secret_key in ("", "change-me"):
            raise ValueError("secret_key: set a long random value (CLINICBOT_SECRET_KEY) in production")
        keys = [p.key for p in self.providers]
        if len(set(keys)) != len(keys):
            raise ValueError("providers: each provider needs a unique key")
        codes = [t.code for t in self.appointment_types]
        for rule in self.reminders.rules:
            unknown = sorted(set(rule.appointment_types) - set(codes))
            if unknown:
                raise ValueError(f"reminders.rules[{rule.name}]: unknown appointment types {unknown}")
        return self

    # Paths under the data directory ------------------------------------------------
    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def rasa_python(self) -> Path:
        return Path(self.rasa.python) if self.rasa.python else PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

    def provider(self, key: str) -> ProviderConfig | None:
        return next((p for p in self.providers if p.key == key), None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls))


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the file named by CLINICBOT_CONFIG (default ./config.yml in the project), then the owner's
    changes from the settings page (``<data_dir>/settings-overrides.yml``) merged over it."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self._data = _read_yaml(config_path())
        data_dir = Path(os.environ.get("CLINICBOT_DATA_DIR") or self._data.get("data_dir") or PROJECT_ROOT / "var")
        overrides = overrides_path(data_dir)
        if overrides.exists():
            self._data = _deep_merge(self._data, _read_yaml(overrides))

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def overrides_path(data_dir: Path) -> Path:
    return Path(data_dir).expanduser() / "settings-overrides.yml"


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def config_path() -> Path:
    return Path(os.environ.get("CLINICBOT_CONFIG", str(DEFAULT_CONFIG))).expanduser()


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise SettingsError(f"config file not found: {path} (set CLINICBOT_CONFIG to its path)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping of settings at the top level")
    return data


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, naming the key as written in config.yml."""
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        given = err.get("input")
        shown = "" if isinstance(given, dict | list) or given is None else f" (got {given!r})"
        lines.append(f"  {key}: {msg}{shown}")
    return "invalid configuration:\n" + "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Build settings now; raises :class:`SettingsError` with a readable message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()

"""Typed settings: config.yml first, then environment variables prefixed ``CLINICBOT_``.

Nested keys use ``__`` in the environment (``CLINICBOT_SERVERS__GATEWAY_PORT=8080``). The owner's changes from
the settings page (hours, reminders) are kept in the clinic database and merged over config.yml (under the
environment); every process picks up a newer save within a couple of seconds (:func:`refresh_owner_changes`).
Nothing is read at import time: call :func:`get_settings` (cached) or :func:`load_settings`.
"""


from __future__ import annotations

import logging
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.settings import stored
from bot.settings.sections import (
    PROJECT_ROOT,
    WEEKDAYS,
    AppointmentTypeConfig,
    ClinicProfile,
    ConsoleSettings,
    GatewaySettings,
    KnowledgeSettings,
    LabSettings,
    LLMSettings,
    PhiSettings,
    ProviderConfig,
    QuietHours,
    RasaSettings,
    ReminderRule,
    ReminderSettings,
    ServerSettings,
    SmsSettings,
    SupervisorSettings,
    TriageSettings,
    VerificationSettings,
    WaitlistSettings,
    parse_hhmm,
)
from bot.settings.sources import (
    DEFAULT_CONFIG,
    SettingsError,
    YamlSource,
    config_path,
    overrides_path,
    owner_changes,
)

__all__ = [
    "DEFAULT_CONFIG",
    "PROJECT_ROOT",
    "WEEKDAYS",
    "AppointmentTypeConfig",
    "ClinicProfile",
    "ConsoleSettings",
    "GatewaySettings",
    "KnowledgeSettings",
    "LLMSettings",
    "LabSettings",
    "PhiSettings",
    "ProviderConfig",
    "QuietHours",
    "RasaSettings",
    "ReminderRule",
    "ReminderSettings",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "SmsSettings",
    "SupervisorSettings",
    "TriageSettings",
    "VerificationSettings",
    "WaitlistSettings",
    "config_path",
    "describe_validation_error",
    "get_settings",
    "load_settings",
    "overrides_path",
    "parse_hhmm",
    "refresh_owner_changes",
]
log = logging.getLogger(__name__)
OWNER_POLL_S = 2.0  # how often a process looks for a newer save of the settings page


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
    waitlist: WaitlistSettings = Field(default_factory=WaitlistSettings)
    verification: VerificationSettings = Field(default_factory=VerificationSettings)

    _owner_version: int = PrivateAttr(default=0)  # the owner's saved changes applied here (0: none)
    _owner_checked: float = PrivateAttr(default=0.0)  # monotonic time of the last look for a newer save

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
        return (init_settings, env_settings, YamlSource(settings_cls))


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


def _build(overrides: dict[str, Any], changes: dict[str, Any] | None) -> Settings:
    with owner_changes(changes):
        try:
            return Settings(**overrides)
        except ValidationError as exc:
            raise SettingsError(describe_validation_error(exc)) from None


def load_settings(**overrides: Any) -> Settings:
    """Build settings now (config.yml, the owner's saved changes, the environment); raises
    :class:`SettingsError` with a readable message."""
    settings = _build(overrides, None)
    saved = stored.read(settings.database_url)
    if saved is not None:
        try:
            settings = _build(overrides, saved[1])
            settings._owner_version = saved[0]
        except SettingsError as exc:  # config.yml changed under them: keep the clinic running on config.yml
            log.error("settings.owner_changes_invalid version=%d problems=%d", saved[0], str(exc).count("\n"))
    settings._owner_checked = time.monotonic()
    return settings


def refresh_owner_changes(settings: Settings, every_s: float = OWNER_POLL_S) -> bool:
    """Apply the owner's changes saved since these settings were built (by any process), in place; looks at
    most every ``every_s`` seconds. True when something changed."""
    now = time.monotonic()
    if now - settings._owner_checked < every_s:
        return False
    settings._owner_checked = now
    version = stored.version(settings.database_url)
    if version is None or version == settings._owner_version:
        return False
    saved = stored.read(settings.database_url)
    if saved is None:
        return False
    try:
        fresh = _build({}, saved[1])
    except SettingsError:
        log.error("settings.owner_changes_invalid version=%d", saved[0])
        settings._owner_version = saved[0]
        return False
    settings.clinic, settings.reminders, settings.waitlist = fresh.clinic, fresh.reminders, fresh.waitlist
    settings._owner_version = saved[0]
    log.info("settings.owner_changes_applied version=%d", saved[0])
    return True


@lru_cache(maxsize=1)
def _cached() -> Settings:
    return load_settings()


class _SettingsGetter:
    """``get_settings()``: this process's settings, built once, with the owner's newer saves applied (a look at
    the database at most every couple of seconds). ``get_settings.cache_clear()`` builds them again."""

    def __call__(self) -> Settings:
        settings = _cached()
        refresh_owner_changes(settings)
        return settings

    def cache_clear(self) -> None:
        _cached.cache_clear()


get_settings = _SettingsGetter()

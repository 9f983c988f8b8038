"""Typed settings: config.yml first, then environment variables prefixed ``CLINICBOT_``.

Nested keys use ``__`` in the environment (``CLINICBOT_SERVERS__GATEWAY_PORT=8080``).
Nothing is read at import time: call :func:`get_settings` (cached) or :func:`load_settings`.
"""


from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

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
from bot.settings.sources import DEFAULT_CONFIG, SettingsError, YamlSource, config_path, overrides_path

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
]


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


def load_settings(**overrides: Any) -> Settings:
    """Build settings now; raises :class:`SettingsError` with a readable message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()

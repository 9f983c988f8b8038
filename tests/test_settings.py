from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings


def test_demo_config_loads_with_the_demo_clinic(settings: Settings) -> None:
    assert settings.clinic.name == "Maple Street Family Medicine"
    assert {p.key for p in settings.providers} == {"patel", "okafor", "nguyen"}
    assert settings.database_url == f"sqlite:///{settings.data_dir / 'clinic.db'}"


def test_environment_overrides_config_and_nests_with_double_underscore(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINICBOT_SERVERS__GATEWAY_PORT", "8123")
    monkeypatch.setenv("CLINICBOT_CLINIC__NAME", "Oak Clinic")
    cfg = load_settings()
    assert cfg.servers.gateway_port == 8123
    assert cfg.servers.public_url.endswith(":8123")
    assert cfg.clinic.name == "Oak Clinic"


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("CLINICBOT_CLINIC__TIMEZONE", "Mars/Olympus", "clinic.timezone"),
        ("CLINICBOT_SERVERS__GATEWAY_PORT", "99999", "servers.gateway_port"),
        ("CLINICBOT_CLINIC__PHONE", "555-0100", "clinic.phone"),
        ("CLINICBOT_REMINDERS__QUIET_HOURS__END", "23:00", "reminders.quiet_hours"),
    ],
)
def test_a_bad_value_names_the_key(settings: Settings, monkeypatch: pytest.MonkeyPatch, env: str, value: str,
                                   named: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert named in str(err.value)


def test_bad_hours_in_config_file_are_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                settings: Settings) -> None:
    text = Path("config.yml").read_text().replace('mon: "08:00-17:00"', 'mon: "5pm-8am"')
    path = tmp_path / "config.yml"
    path.write_text(text)
    monkeypatch.setenv("CLINICBOT_CONFIG", str(path))
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "clinic.hours" in str(err.value) and "HH:MM-HH:MM" in str(err.value)


def test_a_misspelt_key_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    path = tmp_path / "config.yml"
    path.write_text(Path("config.yml").read_text() + "\nretention_dayz: 10\n")
    monkeypatch.setenv("CLINICBOT_CONFIG", str(path))
    with pytest.raises(SettingsError, match="retention_dayz"):
        load_settings()


def test_missing_config_file_is_explained(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("CLINICBOT_CONFIG", "/nonexistent/config.yml")
    with pytest.raises(SettingsError, match="config file not found"):
        load_settings()


def test_production_refuses_the_placeholder_secret(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("CLINICBOT_ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="secret_key"):
        load_settings()
    monkeypatch.setenv("CLINICBOT_SECRET_KEY", "x" * 40)
    assert load_settings().environment == "production"


def test_data_dir_moves_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("CLINICBOT_DATA_DIR", str(tmp_path / "elsewhere"))
    cfg = load_settings()
    assert cfg.data_dir == (tmp_path / "elsewhere").resolve()
    for path in (cfg.logs_dir, cfg.models_dir, cfg.chroma_dir):
        assert path.is_relative_to(cfg.data_dir)
    assert str(cfg.data_dir) in cfg.database_url and str(cfg.data_dir) in cfg.rasa.tracker_store_url

"""`clinicbot up` on first run: the adapter is tuned in the background, then the action server reloads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.runtime.commands import up
from bot.settings import Settings


class RecordingSupervisor:
    def __init__(self) -> None:
        self.restarted: list[str] = []

    def restart(self, name: str) -> None:
        self.restarted.append(name)


def configured(settings: Settings, **llm: Any) -> Settings:
    return settings.model_copy(update={"llm": settings.llm.model_copy(update=llm)})


def first_run(settings: Settings) -> RecordingSupervisor:
    """Start the background tune as `up` does on a first run, wait for it, return what it restarted."""
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    sup = RecordingSupervisor()
    thread = up.train_adapter_in_background(configured(settings, backend="local", tune_on_first_run=True), {},
                                            sup)  # type: ignore[arg-type]
    assert thread is not None
    thread.join(timeout=10)
    return sup


def test_first_run_tunes_in_the_background_then_restarts_the_action_server(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def fake_tune(command: list[str], **kwargs: Any) -> int:
        calls.append(command)
        kwargs["stdout"].write("[tune] step 40/40\n")
        return 0

    monkeypatch.setattr(up.subprocess, "call", fake_tune)
    sup = first_run(settings)
    assert calls and calls[0][-5:] == ["-m", "bot.cli", "tune", "--task", "answers"]  # triage ships tuned
    assert sup.restarted == ["actions"]
    assert "step 40/40" in (settings.logs_dir / "tune.log").read_text()


def test_a_failed_tune_leaves_the_action_server_alone(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(up.subprocess, "call", lambda command, **kwargs: 1)
    assert first_run(settings).restarted == []


@pytest.mark.parametrize("llm", [{"backend": "none"}, {"backend": "local", "tune_on_first_run": False}])
def test_no_tune_when_the_model_is_not_wanted(settings: Settings, llm: dict[str, Any]) -> None:
    assert up.train_adapter_in_background(configured(settings, **llm), {}, RecordingSupervisor()) is None  # type: ignore[arg-type]


def test_no_tune_when_an_adapter_exists(settings: Settings) -> None:
    adapter: Path = settings.data_dir / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text("{}")
    chosen = configured(settings, backend="local", tune_on_first_run=True)
    assert up.train_adapter_in_background(chosen, {}, RecordingSupervisor()) is None  # type: ignore[arg-type]

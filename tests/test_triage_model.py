"""The real triage model: the 4-bit SmolLM2 base with the shipped LoRA adapter, through every caller.

Slow: each test uses the real model (loaded once per session, about 5-30 s). The probe messages were written
for these tests (not taken from the training data, the project's set or the blind set); the first group are
emergencies the rules miss.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.conversations.guard import RedFlagGuard
from bot.engine.client import RasaClient
from bot.llm.prepare import prepare_base_model
from bot.runtime.gateway import create_app
from bot.settings import PROJECT_ROOT, Settings, get_settings
from bot.store import Conversation, Handoff, session_scope
from bot.triage import triage
from bot.triage.combine import assess
from bot.triage.model import PACKAGED_ADAPTER, TriageModel
from bot.triage.net import TriageNet
from tests.conftest import FakeRasa

pytestmark = pytest.mark.slow

# Emergencies the red-flag rules miss (checked in the first test), with what the answer must say.
MISSED = [
    ("I have put my affairs in order and written to my sister, I will not be needing any more appointments", "988"),
    ("my 70 year old mother suddenly does not recognise us and keeps nodding off", "911"),
    ("the pain in my testicle came on suddenly an hour ago and I keep vomiting", "911"),
    ("fever, neck so stiff he cannot look down, and purple spots on his legs", "911"),
    ("blood sugar 520, she is very drowsy and vomiting", "911"),  # a low sugar is the rules' now (vitals floor)
]
ORDINARY = [
    "can I get a refill of my blood pressure tablets",
    "runny nose and a mild cough for two days, no fever",
    "what time do you close on friday",
    "chest is sore where I pulled a muscle lifting boxes, hurts when I press on it",
    "MY SON DANIEL WILL PICK UP THE FORMS ON FRIDAY",  # capitals are how someone types, not an emergency
]
FILLER = ("We got back from the lake on Sunday and the kids have been fine, the dog too. My sister came over "
          "with her new baby and we had a barbecue, and the weather was lovely the whole weekend. ")


@pytest.fixture(scope="session")
def model() -> TriageModel:
    return TriageModel.load(str(prepare_base_model(PROJECT_ROOT / "var" / "models")), PACKAGED_ADAPTER)


@pytest.fixture(scope="session")
def net(model: TriageModel) -> TriageNet:
    loaded = TriageNet(lambda: model, timeout_s=30)
    assert loaded.wait(60)
    return loaded


def test_the_rules_miss_these_and_the_model_raises_them_to_emergencies(net: TriageNet) -> None:
    for text, must_say in MISSED[1:]:
        assert triage(text).urgency != "emergency", text
        result = assess(text, net, clinic_name="Maple Street Family Medicine")
        assert result.model is not None
        assert (result.urgency, result.decided_by) == ("emergency", "model"), (text, result.model.levels)
        assert must_say in result.advice, (text, result.red_flags)


def test_an_indirect_farewell_is_raised_to_an_emergency_with_the_crisis_line(net: TriageNet) -> None:
    text, must_say = MISSED[0]
    result = assess(text, net, clinic_name="Maple Street Family Medicine")
    assert result.urgency == "emergency" and must_say in result.advice


def test_ordinary_messages_are_not_made_emergencies(net: TriageNet) -> None:
    for text in ORDINARY:
        result = assess(text, net)
        assert result.model is not None and result.model.level != "emergency", (text, result.model.levels)
        assert result.urgency != "emergency", text


def test_four_probabilities_in_one_pass_and_a_long_message_is_read_whole(model: TriageModel) -> None:
    short = model.score(MISSED[3][0])
    assert set(short.levels) == {"emergency", "urgent", "routine", "self_care"}
    assert abs(sum(short.levels.values()) - 1) < 1e-4 and short.windows == 1
    alone = model.score(MISSED[4][0])
    long = model.score(FILLER * 3 + MISSED[4][0] + ". " + FILLER * 3)
    # the danger in the middle is read, not cut off or drowned by the chatter around it
    assert long.windows > 1 and long.levels["emergency"] >= 0.8 * alone.levels["emergency"], long.levels
    assert long.level in ("emergency", "urgent") and model.score(FILLER * 6).levels["emergency"] < 0.3


def test_the_merged_weights_score_as_the_packed_4_bit_layers_do(model: TriageModel) -> None:
    """The runtime default dequantizes the 4-bit layers and merges the adapter: the same model, read faster.
    A wrong dequantization or a lost adapter would change the levels (the base alone rates these otherwise)."""
    packed = TriageModel.load(str(prepare_base_model(PROJECT_ROOT / "var" / "models")), PACKAGED_ADAPTER,
                              weights="nf4")
    for text in [t for t, _ in MISSED] + ORDINARY:
        merged, four_bit = model.score(text), packed.score(text)
        assert merged.level == four_bit.level, (text, merged.levels, four_bit.levels)
        assert max(abs(merged.levels[k] - four_bit.levels[k]) for k in merged.levels) < 0.05, text


def test_scoring_a_message_takes_a_fraction_of_a_second(model: TriageModel) -> None:
    seconds = [model.score(text).seconds for text, _ in MISSED] + [model.score(text).seconds for text in ORDINARY]
    assert statistics.median(seconds) < 0.5  # the p95 against the 150 ms target is measured by bench_triage


@pytest.fixture
def client(seeded: Settings, fake_rasa: FakeRasa, net: TriageNet) -> Iterator[TestClient]:
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook",
                        transport=httpx.MockTransport(fake_rasa.handler))
    with TestClient(create_app(seeded, engine, guard=RedFlagGuard(seeded.clinic.name, net))) as test_client:
        yield test_client


def test_the_gateway_answers_an_emergency_the_rules_miss_with_the_engine_down(
        client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.up = False
    response = client.post("/api/chat", json={"sender": "browser-real-model", "message": MISSED[1][0]})
    [reply] = response.json()["messages"]
    assert "911" in reply["text"] and fake_rasa.received == []
    settings = client.app.state.settings  # type: ignore[attr-defined]
    with session_scope(settings.database_url) as session:
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.state == "waiting_staff"
        assert session.scalars(select(Handoff)).one().summary["decided_by"] == "model"


def test_the_intake_form_uses_the_model_and_tells_staff_it_decided(
        seeded: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from actions.triage import ActionIntakeSummary
    from bot.engine.models import merged_domain

    base = seeded.models_dir / "base"
    base.parent.mkdir(parents=True, exist_ok=True)
    base.symlink_to(PROJECT_ROOT / "var" / "models" / "base")  # the prepared base, not a second copy
    monkeypatch.setenv("CLINICBOT_TRIAGE__MODEL", "local")
    get_settings.cache_clear()
    slots: dict[str, Any] = {"intake_who": "my husband, 58", "intake_symptom": MISSED[4][0],
                             "intake_since": "today", "intake_severity": "5"}
    event = {"event": "user", "text": "5", "parse_data": {"text": "5", "intent": {"name": "inform"}, "entities": []}}
    tracker = Tracker("conv-intake-model", slots, event["parse_data"], [event], False, None, {}, "intake_form")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionIntakeSummary().run(dispatcher, tracker, merged_domain(PROJECT_ROOT / "bot" / "assistant")))
    assert "911" in dispatcher.messages[0]["text"]
    with session_scope(seeded.database_url) as session:
        conversation = session.get(Conversation, "conv-intake-model")
        assert conversation is not None
        intake = conversation.flags["intake"]
        handoff = session.scalars(select(Handoff)).one()
    assert intake["urgency"] == "emergency" and intake["decided_by"] == "model"
    assert intake["model"]["emergency"] > 0.5 and handoff.summary["decided_by"] == "model"


def test_clinicbot_triage_explain_shows_rules_model_and_who_decided(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "CLINICBOT_DATA_DIR": str(tmp_path / "data"),
           "HF_HUB_OFFLINE": "1", "CLINICBOT_TRIAGE__MODEL": "local"}
    (tmp_path / "data" / "models").mkdir(parents=True)
    (tmp_path / "data" / "models" / "base").symlink_to(PROJECT_ROOT / "var" / "models" / "base")
    lines = ["crushing chest pain and my left arm is numb", MISSED[2][0], ORDINARY[2]]
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "triage", "--explain"], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["decided_by"] for o in out] == ["rules", "model", "rules"]
    assert [o["urgency"] for o in out[:2]] == ["emergency", "emergency"]
    assert out[0]["rules"]["red_flags"] and out[1]["rules"]["red_flags"] == []
    for o in out:
        assert o["model"]["used"] and set(o["model"]["levels"]) == {"emergency", "urgent", "routine", "self_care"}
    assert out[1]["model"]["emergency_category"] == "testicular_torsion" and out[1]["red_flags"] == ["testicular_torsion"]

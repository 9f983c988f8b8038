"""The action server as rasa-sdk loads it: every action in the domain is registered and answers a
request shaped exactly like the engine's webhook call."""

from __future__ import annotations

import asyncio

from rasa_sdk.executor import ActionExecutor

from bot.engine.models import merged_domain
from bot.settings import PROJECT_ROOT, Settings

ASSISTANT = PROJECT_ROOT / "bot" / "assistant"


def test_every_custom_action_in_the_domain_is_served() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    domain = merged_domain(ASSISTANT)
    custom = {a for a in domain["actions"] if a.startswith("action_") or a.startswith("validate_")}
    assert custom <= set(executor.actions), custom - set(executor.actions)


def test_a_webhook_call_gets_the_clinic_greeting(seeded: Settings) -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    payload = {
        "next_action": "action_greet",
        "sender_id": "conv-abc",
        "version": "3.6.21",
        "domain": merged_domain(ASSISTANT),
        "tracker": {
            "sender_id": "conv-abc", "slots": {}, "latest_message": {"text": "hi", "intent": {"name": "greet"}},
            "events": [], "paused": False, "followup_action": None, "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }
    response = asyncio.run(executor.run(payload))
    assert response is not None
    [message] = response.responses
    assert message["response"] == "utter_greet" and message["clinic_name"] == seeded.clinic.name

"""Schemathesis against the gateway's own OpenAPI document (through the ASGI app, with a fake engine): every
operation, with valid and invalid data generated from the document, signed out and signed in as the owner with the
session's CSRF token. No answer is a 5xx, and every answer's content type is one the document names.

``pytest tests/test_openapi_fuzz.py`` (about a minute: 30 examples per operation and mode);
``FUZZ_EXAMPLES=500`` for a longer run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance

from bot import reminders
from bot.engine.client import RasaClient
from bot.runtime.gateway import create_app
from bot.settings import Settings
from tests.conftest import FakeRasa
from tests.console_helpers import add_staff, csrf_from, sign_in

PASSWORD = "correct horse battery"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
CHECKS = [not_a_server_error, content_type_conformance]
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))


@pytest.fixture
def gateway(seeded: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    """The app with its background work running, and an owner's signed-in cookies and CSRF token."""
    monkeypatch.setattr(reminders, "reschedule_all", lambda settings: None)  # no job store churn per example
    add_staff(seeded.database_url, "olga", PASSWORD, role="owner")
    engine = RasaClient("http://rasa.test", "http://actions.test/webhook",
                        transport=httpx.MockTransport(FakeRasa().handler))
    app = create_app(seeded, engine)
    with TestClient(app) as client:
        assert sign_in(client, "olga", PASSWORD).status_code == 303
        owner = {"cookie": client.cookies.get("clinicbot_staff") or "",
                 "csrf": csrf_from(client.get("/console").text)}
        yield app, owner


def fuzz(app: FastAPI, mode: GenerationMode, owner: dict[str, str] | None = None) -> tuple[int, list[str]]:
    """Run every operation of the document through Hypothesis; returns (operations run, failures)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if owner is not None and operation.path == "/console/logout":
            continue  # it would end the session the rest of the run uses

        @given(case=operation.as_strategy(generation_mode=mode))
        @FUZZ_SETTINGS
        def run(case: Any) -> None:
            kwargs: dict[str, Any] = {}
            if owner is not None:
                if isinstance(case.body, dict) and case.path.startswith("/console"):
                    case.body["csrf_token"] = owner["csrf"]  # past the CSRF check, into the form handling
                kwargs["cookies"] = {"clinicbot_staff": owner["cookie"]}
            case.call_and_validate(checks=CHECKS, **kwargs)

        operations += 1
        try:
            run()
        except Unsatisfiable:  # nothing in this operation can be made invalid (no parameters, any string fits)
            continue
        except Exception as exc:  # each operation's first failure, all reported together
            failures.append(f"{operation.label}: {str(exc).strip()[:1500]}")
    return operations, failures


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_no_input_gets_a_server_error_signed_out(gateway: tuple[FastAPI, dict[str, str]],
                                                  mode: GenerationMode) -> None:
    operations, failures = fuzz(gateway[0], mode)
    assert operations >= 15
    assert failures == [], "\n\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_no_input_gets_a_server_error_signed_in_as_the_owner(gateway: tuple[FastAPI, dict[str, str]],
                                                             mode: GenerationMode) -> None:
    operations, failures = fuzz(gateway[0], mode, owner=gateway[1])
    assert operations >= 15
    assert failures == [], "\n\n".join(failures)

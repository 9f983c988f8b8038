"""Helpers shared by the console and browser tests: an engine that hands off on request, staff sign-in."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import httpx
from fastapi.testclient import TestClient

from bot.conversations.handoffs import request_handoff
from bot.identity.staff import create_user
from bot.store import Conversation, session_scope
from tests.conftest import FakeRasa

HANDOFF_REPLY = "I've asked our front desk to join this conversation."


@dataclass
class HandoffRasa(FakeRasa):
    """A fake engine that, like action_request_human, opens a handoff when the patient asks for a person."""

    database_url: str = ""

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/webhooks/rest/webhook" and self.up:
            body = json.loads(request.content)
            if "person" in body["message"].lower():
                self.received.append(body)
                with session_scope(self.database_url) as session:
                    conversation = session.get(Conversation, body["sender"])
                    assert conversation is not None
                    request_handoff(session, conversation, reason="requested_human")
                return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": HANDOFF_REPLY}])
        return super().handler(request)


def add_staff(database_url: str, username: str, password: str, role: str = "staff") -> None:
    with session_scope(database_url) as session:
        create_user(session, username, password, role=role, display_name=username.title())


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str) -> httpx.Response:
    page = client.get("/console/login")
    return client.post("/console/login", data={"username": username, "password": password,
                                               "csrf_token": csrf_from(page.text)}, follow_redirects=False)

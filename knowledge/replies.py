"""What the answerer says when it does not answer from the documents: a refusal by policy, a hand-off, a critical value.

Each refusal kind that a person should follow up is handed to the care team (``HANDED_OFF``: the hand-off reason the
Rasa action records); the clinic's name and phone come from the settings.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings

HANDED_OFF = {"dose": "medical_question", "medicine": "medical_question", "diagnosis": "medical_question"}
# A draft in which the model passes the question on instead of answering it: the chosen sentences are quoted instead.
DECLINE_RE = re.compile(r"pass (it|this|your question) (on )?to (the|our) (front desk|care team|staff)", re.I)


def phone_for_text(e164: str) -> str:
    """"+15555550123" -> "(555) 555-0123"; anything else as given."""
    return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}" if re.fullmatch(r"\+1\d{10}", e164) else e164


def replies(settings: Settings) -> dict[str, str]:
    """The fixed replies, by kind: dose, medicine, diagnosis, out_of_scope, handoff, critical."""
    phone, clinic = phone_for_text(settings.clinic.phone), settings.clinic.name
    return {
        "dose": f"I can't give advice about medicines or doses. I'm passing your question to our care team; "
        f"you can also call us at {phone}.",
        "medicine": "I can't say which medicine to take, or whether to start, stop or change one; your clinician "
        f"can. I'm passing your question to our care team; you can also call us at {phone}.",
        "diagnosis": "I can't say what a symptom or result means for you; a clinician can. I'm passing your "
        f"question to our care team, or call us at {phone}. In an emergency, call 911.",
        "out_of_scope": f"I can help with questions about {clinic}: visits, hours, billing, lab tests "
        "and our policies.",
        "handoff": "I don't have an answer to that in our clinic information, so I'm passing your question "
        f"to the front desk. You can also call us at {phone}.",
        "critical": "That result needs a clinician's attention. I'm passing your question to our care team now; "
        f"call us at {phone}, or call 911 if you feel very unwell.",
    }

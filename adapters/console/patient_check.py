"""A staff-assisted identity check: a staff member who has checked who the patient is (on the phone, at the
desk) marks the conversation verified by the patient's MRN. The assistant then treats the patient as verified
in that conversation (``bot.identity.verification.staff_check``), whatever locks strangers caused; the check is
audited as the staff member's."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from bot.gateway.deps import CheckedForm, SessionsDep, StaffPage, form_body
from bot.identity import verification
from bot.store import Conversation, Patient
from bot.store.models import utcnow

log = logging.getLogger(__name__)
router = APIRouter()


@router.post("/console/conversations/{conversation_id}/verify", response_class=RedirectResponse, status_code=303,
             openapi_extra=form_body(mrn="the patient's medical record number, as checked by the staff member"))
async def verify_patient(me: StaffPage, form: CheckedForm, sessions: SessionsDep,
                         conversation_id: str) -> RedirectResponse:
    mrn = form.get("mrn", "").strip().upper()[:32]

    def work() -> str:
        with sessions() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                return "no_such_conversation"
            patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).first() if mrn else None
            if patient is None:
                return "no_such_patient"
            verification.staff_check(session, conversation_id, patient.id, me.username, utcnow())
            session.commit()
        log.info("console.patient_checked conversation_id=%s user_id=%s", conversation_id, me.user_id)
        return "patient_checked"

    outcome = await asyncio.to_thread(work)
    if outcome == "no_such_conversation":
        return RedirectResponse("/console", status_code=303)
    return RedirectResponse(f"/console/conversations/{conversation_id}?error={outcome}", status_code=303)

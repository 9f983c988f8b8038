"""SMS through Twilio: the inbound webhook and the delivery-status callback (replies go out through
``bot.messaging.sms_delivery`` and the Twilio sender in ``adapters.twilio_rest``).

``POST /sms/twilio``         Twilio's form post for an inbound text (``X-Twilio-Signature`` checked, 403 if wrong)
``POST /sms/twilio/status``  delivery status of a text we sent (signature checked too)

STOP/START/HELP and their synonyms are answered here, in the TwiML of the same response. Anything else gets
empty TwiML at once (Twilio waits 15 s at most); the assistant's reply goes out through the REST API when
it is ready. Nothing but the opt-out confirmation is sent to a number that opted out.
"""

from __future__ import annotations

import asyncio
import logging
from xml.sax.saxutils import escape

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from adapters.twilio_rest import auth_token, public_url
from bot.conversations import rows
from bot.engine.client import intent_message
from bot.gateway.deps import ServiceDep, SessionsDep, SettingsDep
from bot.messaging.optouts import START_WORDS, STOP_WORDS, is_opted_out, keyword, keyword_reply, set_opt_out
from bot.reminders import ReminderReply, reminder_reply
from bot.settings import Settings
from bot.store import Conversation, InboundReceipt
from bot.store.states import Channel, MessageStatus

log = logging.getLogger(__name__)
router = APIRouter()

DELIVERY_STATES = {"queued", "sending", "sent", "delivered", "undelivered", "failed", "read"}


def twiml(text: str | None = None) -> Response:
    inner = f"<Message>{escape(text)}</Message>" if text else ""
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>',
                    media_type="application/xml")


async def _signed_form(request: Request) -> dict[str, str] | None:
    """The posted form if ``X-Twilio-Signature`` matches it, else None."""
    settings: Settings = request.app.state.settings
    form = await request.form()
    params = {key: str(value) for key, value in form.multi_items()}
    signature = request.headers.get("X-Twilio-Signature", "")
    token = auth_token(settings)
    url = public_url(settings) + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not signature or not token or not RequestValidator(token).validate(url, params, signature):
        log.warning("sms.signature_refused path=%s has_signature=%s token_set=%s",
                    request.url.path, bool(signature), bool(token))
        return None
    return params


def _first_time(session: Session, provider_id: str) -> bool:
    session.add(InboundReceipt(provider_id=provider_id))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


@router.post("/sms/twilio")
async def inbound_sms(request: Request, background: BackgroundTasks, settings: SettingsDep,
                      service: ServiceDep, sessions: SessionsDep) -> Response:
    params = await _signed_form(request)
    if params is None:
        return Response("forbidden", status_code=403, media_type="text/plain")
    sid, phone, body = params.get("MessageSid", ""), params.get("From", ""), params.get("Body", "")
    if not sid or not phone:
        return Response("MessageSid and From are required", status_code=400, media_type="text/plain")
    def first_look() -> tuple[bool, bool, ReminderReply | None]:  # database calls: off the event loop
        with sessions() as session:
            if not _first_time(session, sid):
                return False, False, None
            # "C", "R" or "cancel" right after a reminder means that appointment (a bare "cancel" with no
            # recent reminder stays an opt-out keyword)
            return True, is_opted_out(session, phone), reminder_reply(session, phone, body)

    first, opted_out, answered = await asyncio.to_thread(first_look)
    if not first:
        log.info("sms.inbound.duplicate sid=%s", sid)
        return twiml()
    engine_text = intent_message(answered.intent, appointment_id=str(answered.appointment_id)) if answered else None
    conversation = await asyncio.to_thread(service.open_conversation, Channel.SMS, phone)
    log.info("sms.inbound.received sid=%s conversation_id=%s chars=%d", sid, conversation.id, len(body))
    word = None if engine_text else keyword(body)
    if word is None:
        if not body.strip():
            return twiml()
        background.add_task(service.handle_inbound, conversation, body.strip()[:settings.gateway.max_message_chars],
                            client_message_id=sid, engine_text=engine_text)
        return twiml()
    reply = keyword_reply(settings, word, opted_out)
    def record() -> None:
        if word in STOP_WORDS | START_WORDS:
            with sessions() as session:
                set_opt_out(session, phone, word in STOP_WORDS, word)
                session.commit()
        service.record_keyword(conversation, body.strip(), client_message_id=sid, word=word, reply=reply)

    await asyncio.to_thread(record)
    log.info("sms.keyword conversation_id=%s keyword=%s replied=%s", conversation.id, word, bool(reply))
    return twiml(reply)


@router.post("/sms/twilio/status")
async def delivery_status(request: Request, sessions: SessionsDep) -> Response:
    params = await _signed_form(request)
    if params is None:
        return Response("forbidden", status_code=403, media_type="text/plain")
    sid, state = params.get("MessageSid", ""), params.get("MessageStatus", "").lower()
    if not sid or state not in DELIVERY_STATES:
        return Response("MessageSid and a known MessageStatus are required", status_code=400,
                        media_type="text/plain")
    error = params.get("ErrorCode", "")

    def record() -> bool:
        with sessions() as session:
            message = rows.mark_delivery_by_provider_id(session, sid, MessageStatus(state), error)
            if message is not None and error == "21610":
                conversation = session.get(Conversation, message.conversation_id)
                if conversation is not None:
                    set_opt_out(session, conversation.channel_user, True, "CARRIER")
            session.commit()
            return message is not None

    known = await asyncio.to_thread(record)
    log.info("sms.status sid=%s status=%s error=%s known=%s", sid, state, error or "-", known)
    return Response(status_code=204)

"""SMS through Twilio: the inbound webhook and the delivery-status callback (replies go out through
``bot.messaging.sms_delivery`` and the Twilio sender in ``adapters.twilio_rest``).

``POST /sms/twilio``         Twilio's form post for an inbound text (``X-Twilio-Signature`` checked, 403 if wrong)
``POST /sms/twilio/status``  delivery status of a text we sent (signature checked too)

STOP/START/HELP and their synonyms are answered here, in the TwiML of the same response, read in context: STOP
and its synonyms always opt out, except a bare "cancel" right after a reminder or a question about an
appointment (then it is about the appointment, and the patient is told their texts are still on); START and YES
opt in only a number that opted out (otherwise a "yes" answers the conversation). An emergency answer also goes
in the response's own TwiML. Anything else gets empty TwiML at once (Twilio waits 15 s at most); the assistant's
reply goes out through the REST API when it is ready. Nothing but the opt-out confirmation is sent to a number
that opted out.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from twilio.request_validator import RequestValidator

from adapters.twilio_rest import auth_token, public_url
from bot import waitlist
from bot.conversations import rows
from bot.conversations.service import ConversationService, InboundResult
from bot.engine.client import intent_message
from bot.gateway.deps import ServiceDep, SessionsDep, SettingsDep
from bot.messaging.optouts import START_WORDS, STOP_WORDS, is_opted_out, keyword, keyword_reply, set_opt_out
from bot.reminders import ReminderReply, reminder_reply
from bot.reminders.replies import note_reply
from bot.settings import Settings
from bot.store import Conversation, InboundReceipt
from bot.store.states import Author, Channel, MessageStatus

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


APPOINTMENT_FORMS = frozenset({"check_form", "confirm_form", "cancel_form", "reschedule_form", "book_form"})
STILL_SUBSCRIBED = "Your texts from us are still on; reply STOP to stop them."


async def _cancel_is_about_an_appointment(service: ConversationService, conversation_id: str) -> bool:
    """A bare "cancel" right after a question or an answer about an appointment means the appointment."""
    form, actions = await service.engine.last_turn(conversation_id)
    return form in APPOINTMENT_FORMS or any(
        a.startswith(("action_show_appointments", "action_ask_target", "action_ask_cancel", "action_ask_chosen",
                      "action_book", "action_reschedule", "action_confirm")) for a in actions)


def _receive(sessions: sessionmaker[Session], sid: str, phone: str, body: str
             ) -> tuple[bool, bool, ReminderReply | None]:
    """(first time this MessageSid is seen, the number is opted out, the reminder this text answers)."""
    with sessions() as session:
        if not _first_time(session, sid):
            return False, False, None
        opted_out = is_opted_out(session, phone)
        # "C", "R" or "cancel" right after a reminder means that appointment
        return True, opted_out, reminder_reply(session, phone, body)


def _note_reply(sessions: sessionmaker[Session], answered: ReminderReply, conversation_id: str) -> None:
    with sessions() as session:
        note_reply(session, answered, conversation_id)
        session.commit()


TEXT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "a required Twilio field is missing", "content": {"text/plain": {}}},
    403: {"description": "the X-Twilio-Signature does not match", "content": {"text/plain": {}}},
}


@router.post("/sms/twilio", response_class=Response,
             responses={200: {"description": "TwiML: the fixed answer to a keyword or an emergency, else empty",
                              "content": {"application/xml": {}}}, **TEXT_ERRORS})
async def inbound_sms(request: Request, background: BackgroundTasks, settings: SettingsDep,
                      service: ServiceDep, sessions: SessionsDep) -> Response:
    params = await _signed_form(request)
    if params is None:
        return Response("forbidden", status_code=403, media_type="text/plain")
    sid, phone, body = params.get("MessageSid", ""), params.get("From", ""), params.get("Body", "")
    if not sid or not phone:
        return Response("MessageSid and From are required", status_code=400, media_type="text/plain")
    first, opted_out, answered = await asyncio.to_thread(_receive, sessions, sid, phone, body)
    engine_text = intent_message(answered.intent, appointment_id=str(answered.appointment_id)) if answered else None
    if not first:
        log.info("sms.inbound.duplicate sid=%s", sid)
        return twiml()
    conversation = await asyncio.to_thread(service.open_conversation, Channel.SMS, phone)
    log.info("sms.inbound.received sid=%s conversation_id=%s chars=%d", sid, conversation.id, len(body))
    if answered:
        await asyncio.to_thread(_note_reply, sessions, answered, conversation.id)
    # YES or NO to a waitlist offer texted in the last day is an answer to it (YES is not an opt-in then)
    offer_answer = None if engine_text else await asyncio.to_thread(waitlist.answer, settings, phone, body)
    if offer_answer is not None:
        await asyncio.to_thread(service.record_keyword, conversation, body.strip(), client_message_id=sid,
                                word="WAITLIST", reply=offer_answer.reply)
        return twiml(offer_answer.reply)
    word = None if engine_text else keyword(body)
    in_context = False
    if word in START_WORDS and not opted_out:  # a "yes" from a subscribed number answers the conversation
        word = None
    elif word == "CANCEL" and await _cancel_is_about_an_appointment(service, conversation.id):
        word, in_context = None, True
    if word is None:
        if not body.strip():
            return twiml()
        accepted = await service.accept(conversation, body.strip()[:settings.gateway.max_message_chars],
                                        client_message_id=sid, engine_text=engine_text, answered_inline=True)
        if accepted.status == "answered":  # an emergency answer goes in this very response, not a later one
            return twiml(" ".join(m.text for m in accepted.replies))
        background.add_task(_answer_later, service, accepted, in_context)
        return twiml()
    reply = keyword_reply(settings, word, opted_out)
    if word in STOP_WORDS | START_WORDS:
        await asyncio.to_thread(_set_opt_out, sessions, phone, word in STOP_WORDS, word)
    await asyncio.to_thread(service.record_keyword, conversation, body.strip(), client_message_id=sid, word=word,
                            reply=reply)
    log.info("sms.keyword conversation_id=%s keyword=%s replied=%s", conversation.id, word, bool(reply))
    return twiml(reply)


async def _answer_later(service: ConversationService, accepted: InboundResult, cancel_in_context: bool) -> None:
    result = await service.route(accepted)
    if cancel_in_context and result.status == "answered":  # "cancel" was read as the appointment, not the texts
        await service.post_outbound(accepted.conversation_id, STILL_SUBSCRIBED, author=Author.SYSTEM)


def _set_opt_out(sessions: sessionmaker[Session], phone: str, opted_out: bool, word: str) -> None:
    with sessions() as session:
        set_opt_out(session, phone, opted_out, word)
        session.commit()


@router.post("/sms/twilio/status", response_class=Response, status_code=204,
             responses={204: {"description": "recorded"}, **TEXT_ERRORS})
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

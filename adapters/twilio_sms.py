"""SMS through Twilio: the inbound webhook, the delivery-status callback, and sending replies.

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
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from twilio.request_validator import RequestValidator

from adapters.segments import split_for_sms
from adapters.twilio_rest import auth_token, public_url
from bot.conversations import ConversationService
from bot.outbound import SmsSender, is_opted_out
from bot.reminders import reminder_reply
from bot.settings import Settings
from bot.store import Conversation, InboundReceipt, Message, Patient, SmsOptOut

log = logging.getLogger(__name__)
router = APIRouter()

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
DELIVERY_STATES = {"queued", "sending", "sent", "delivered", "undelivered", "failed", "read"}


def keyword(body: str) -> str | None:
    """The opt-out/opt-in/help keyword a whole message is, if it is one (case and end punctuation ignored)."""
    word = body.strip().rstrip(".!").strip().upper()
    return word if word in STOP_WORDS | START_WORDS | HELP_WORDS else None


def twiml(text: str | None = None) -> Response:
    inner = f"<Message>{escape(text)}</Message>" if text else ""
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>',
                    media_type="application/xml")


def opt_out_text(settings: Settings) -> str:
    return (f"{settings.clinic.name}: you are unsubscribed and will get no more texts from us. "
            f"Reply START to resubscribe. Call {settings.clinic.phone} for help.")


def opt_in_text(settings: Settings) -> str:
    return f"{settings.clinic.name}: you are subscribed to texts again. Reply HELP for help, STOP to opt out."


def help_text(settings: Settings) -> str:
    return (f"{settings.clinic.name}: call {settings.clinic.phone} for help. In an emergency call 911. "
            "Msg&data rates may apply. Reply STOP to opt out.")


def set_opt_out(session: Session, phone: str, opted_out: bool, word: str = "STOP") -> None:
    """Record (or lift) a number's opt-out, on the opt-out list and on the patients with that number."""
    existing = session.get(SmsOptOut, phone)
    if opted_out and existing is None:
        session.add(SmsOptOut(phone=phone, keyword=word[:16]))
    elif not opted_out and existing is not None:
        session.delete(existing)
    session.execute(update(Patient).where(Patient.phone == phone).values(sms_opted_out=opted_out))


class SmsDelivery:
    """Outbound listener: sends what the clinic says in an SMS conversation, split into segments."""

    def __init__(self, sessions: sessionmaker[Session], sender: SmsSender, max_segments: int) -> None:
        self._sessions = sessions
        self.sender = sender
        self._max_segments = max_segments

    async def __call__(self, conversation: Conversation, message: Message) -> None:
        if conversation.channel == "sms":
            await self.deliver(conversation.channel_user, message.id, message.text)

    async def deliver(self, phone: str, message_id: int, text: str) -> str:
        """Send one stored message; returns the status it ends in (sent, outbox, failed, opted_out)."""
        with self._sessions() as session:
            opted_out = is_opted_out(session, phone)
        sids: list[str] = []
        status, error = "opted_out", ""
        if not opted_out:
            status = "sent"
            for part in split_for_sms(text, self._max_segments):
                result = await asyncio.to_thread(self.sender.send, phone, part)
                if result.provider_id:
                    sids.append(result.provider_id)
                if result.status != "sent":
                    status, error = result.status, result.error or ""
                    break
        with self._sessions() as session:
            if status == "opted_out":
                set_opt_out(session, phone, True, word="CARRIER" if not opted_out else "STOP")
            row = session.get(Message, message_id)
            if row is not None:
                row.status = status
                row.provider_id = sids[0] if sids else None
                row.meta = {**row.meta, "sids": sids, **({"error": error} if error else {})}
            session.commit()
        log.info("sms.outbound.done message_id=%s status=%s parts=%d", message_id, status, len(sids))
        return status


def _sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.conversations._sessions


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
async def inbound_sms(request: Request, background: BackgroundTasks) -> Response:
    params = await _signed_form(request)
    if params is None:
        return Response("forbidden", status_code=403, media_type="text/plain")
    settings: Settings = request.app.state.settings
    service: ConversationService = request.app.state.conversations
    sid, phone, body = params.get("MessageSid", ""), params.get("From", ""), params.get("Body", "")
    if not sid or not phone:
        return Response("MessageSid and From are required", status_code=400, media_type="text/plain")
    sessions = _sessions(request)
    with sessions() as session:
        if not _first_time(session, sid):
            log.info("sms.inbound.duplicate sid=%s", sid)
            return twiml()
        opted_out = is_opted_out(session, phone)
        # "C", "R" or "cancel" right after a reminder means that appointment (a bare "cancel" with no
        # recent reminder stays an opt-out keyword)
        engine_text = reminder_reply(session, phone, body)
    conversation = service.open_conversation("sms", phone)
    log.info("sms.inbound.received sid=%s conversation_id=%s chars=%d", sid, conversation.id, len(body))
    word = None if engine_text else keyword(body)
    if word is None:
        if not body.strip():
            return twiml()
        background.add_task(service.handle_inbound, conversation, body.strip()[:settings.gateway.max_message_chars],
                            client_message_id=sid, engine_text=engine_text)
        return twiml()
    if word in STOP_WORDS:
        reply: str | None = opt_out_text(settings)
    elif word in START_WORDS:
        reply = opt_in_text(settings)
    else:
        reply = None if opted_out else help_text(settings)
    with sessions() as session:
        if word in STOP_WORDS | START_WORDS:
            set_opt_out(session, phone, word in STOP_WORDS, word)
        inbound = Message(conversation_id=conversation.id, direction="in", author="patient", text=body.strip(),
                          status="answered", client_message_id=sid, meta={"keyword": word})
        session.add(inbound)
        session.flush()
        if reply:
            session.add(Message(conversation_id=conversation.id, direction="out", author="system", text=reply,
                                status="sent", reply_to_id=inbound.id, meta={"keyword": word}))
        session.commit()
    log.info("sms.keyword conversation_id=%s keyword=%s replied=%s", conversation.id, word, bool(reply))
    return twiml(reply)


@router.post("/sms/twilio/status")
async def delivery_status(request: Request) -> Response:
    params = await _signed_form(request)
    if params is None:
        return Response("forbidden", status_code=403, media_type="text/plain")
    sid, state = params.get("MessageSid", ""), params.get("MessageStatus", "").lower()
    if not sid or state not in DELIVERY_STATES:
        return Response("MessageSid and a known MessageStatus are required", status_code=400,
                        media_type="text/plain")
    error = params.get("ErrorCode", "")
    with _sessions(request)() as session:
        message = session.scalars(select(Message).where(Message.provider_id == sid)).first()
        if message is not None:
            message.status = state
            if error:
                message.meta = {**message.meta, "error": error}
            if error == "21610":
                conversation = session.get(Conversation, message.conversation_id)
                if conversation is not None:
                    set_opt_out(session, conversation.channel_user, True, "CARRIER")
        session.commit()
    log.info("sms.status sid=%s status=%s error=%s known=%s", sid, state, error or "-", message is not None)
    return Response(status_code=204)

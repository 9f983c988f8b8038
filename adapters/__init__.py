"""Channels: web chat, Twilio SMS, staff console, outbound senders."""

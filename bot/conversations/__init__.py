"""Conversations: the only writer of conversation and message rows, and the state a conversation is in.

- ``service``: the gateway's conversation service (store first, red flags first, then the engine)
- ``rows``: find-or-create and every insert or update of a conversation or message row
- ``handoffs``: the state machine bot -> waiting_staff -> staff -> bot, and handoff rows
- ``queue``: the staff console's queue (reasons, scrubbed previews, escalation)
- ``guard``: the red-flag check every inbound message goes through first
- ``notices``: what the clinic says on its own (off-hours notice while staff hold a conversation)
"""

"""Messages that leave the clinic: the SMS sender contract, the one SMS budget, opt-outs, and delivery of what
the clinic says in an SMS conversation.

- ``outbound``: ``SmsSender`` (one text to one number), ``SendResult``, the ``OutboxSender``
- ``sms_budget``: how a text is split for SMS (the channel's rule), used by the answer checks and the sender
- ``optouts``: STOP/START/HELP keywords, their answers, the opt-out list
- ``sms_delivery``: the listener that sends each stored message of an SMS conversation
"""

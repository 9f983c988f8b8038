"""The waitlist: patients waiting for a sooner time, and freed times offered to them by SMS.

- ``entries``: join (after verification, by chat or SMS), leave, the list in order of request
- ``sweep``: the gateway's periodic pass: expiry and hand-on to the next patient, freed times offered in order
  (quiet hours hold an offer, caps and opt-outs pass a patient over), at most N offers per time at once
- ``offers``: the offer's text, texted at most once (marked sent before the provider is called)
- ``replies``: YES books through the booking's compare-and-set (the first YES wins), NO declines
"""

from bot.waitlist.entries import Joined, join, leave, listing
from bot.waitlist.replies import OfferAnswer, answer
from bot.waitlist.sweep import SweepReport, sweep

__all__ = ["Joined", "OfferAnswer", "SweepReport", "answer", "join", "leave", "listing", "sweep"]

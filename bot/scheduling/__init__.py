"""Scheduling: free slots and bookings on the clinic store, the clinic's hours, what a patient's words about
time mean, and the one way times are written.

- ``slots``: offers, booking, moving, cancelling, confirming (compare-and-set on availability blocks)
- ``timeparse``: "next tuesday afternoon" -> a ``Preference`` (days and a time window), combined across turns;
  a date of birth; picking an offered option
- ``grammar``, ``words``, ``days``, ``clock``: the small grammar on top of dateparser that reads time words
- ``hours``: opening hours in words, open now, when staff will reply
- ``timefmt``: '10:00 am', 'Thu, Nov 26'
"""

from bot.scheduling.slots import (
    ACTIVE_STATUSES,
    SEARCH_DAYS,
    OfferSearch,
    SlotOffer,
    SlotTaken,
    appointment_type_by_code,
    asked_windows,
    book,
    cancel,
    confirm,
    describe_appointment,
    describe_offer,
    double_bookings,
    find_offers,
    free_times,
    is_free,
    move,
    patient_appointments,
    provider_by_key,
    upcoming,
)

__all__ = [
    "ACTIVE_STATUSES",
    "SEARCH_DAYS",
    "OfferSearch",
    "SlotOffer",
    "SlotTaken",
    "appointment_type_by_code",
    "asked_windows",
    "book",
    "cancel",
    "confirm",
    "describe_appointment",
    "describe_offer",
    "double_bookings",
    "find_offers",
    "free_times",
    "is_free",
    "move",
    "patient_appointments",
    "provider_by_key",
    "upcoming",
]

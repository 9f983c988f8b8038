"""The owner's dashboard: what the assistant did, as SQL aggregates over the clinic store (counts and rates only).

- ``periods``: the period (whole local days) and a stored UTC time's local day in SQL, across DST
- ``traffic``: conversations and patient messages per day, intents asked, the self-service rate
- ``staff``: handoffs by reason, time to first staff reply (median, 90th percentile), escalations, triage levels
- ``visits``: appointments through the assistant, no-shows by week, reminders, the waitlist
- ``intents``: copies the intents the engine read from Rasa's tracker store into the activity ledger
- ``dashboard``: every table for a period and channel, and the headline figures; ``tables``: the CSV form
"""

from bot.reports.dashboard import CHANNELS, Dashboard, build
from bot.reports.periods import PRESETS, Period, custom, last_days
from bot.reports.tables import Table

__all__ = ["CHANNELS", "PRESETS", "Dashboard", "Period", "Table", "build", "custom", "last_days"]

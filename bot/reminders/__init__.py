"""Appointment reminders: the owner's rules turned into persistent jobs, sent at most once, within quiet hours
and caps; and what a patient's reply to one means.

- ``policy``: when a reminder may go out (quiet hours, caps, the rule's time)
- ``planning``: what would go to whom and when (the preview), and each reminder's text
- ``delivery``: sending one reminder, claimed in the store before the provider is called
- ``scheduler``: the APScheduler jobs (``fire`` runs one), kept in step with the appointments and rules
- ``replies``: "C", "R" or "cancel" in answer to a reminder
"""

from bot.reminders.delivery import Delivery, deliver
from bot.reminders.planning import Planned, plan, render
from bot.reminders.replies import ReminderReply, reminder_reply
from bot.reminders.scheduler import (
    fire,
    job_id,
    reschedule_all,
    start_scheduler,
    stop_scheduler,
    sync_appointment,
)

__all__ = [
    "Delivery",
    "Planned",
    "ReminderReply",
    "deliver",
    "fire",
    "job_id",
    "plan",
    "reminder_reply",
    "render",
    "reschedule_all",
    "start_scheduler",
    "stop_scheduler",
    "sync_appointment",
]

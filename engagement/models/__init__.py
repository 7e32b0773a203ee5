"""Models of engagement, one module per aggregate."""

from engagement.models.audit import AuditEvent
from engagement.models.checkins import CheckIn, Visibility
from engagement.models.commitments import Commitment
from engagement.models.couples import Couple, CoupleStatusChange, Invitation, Membership
from engagement.models.digests import DigestDelivery
from engagement.models.reminders import ReminderDelivery
from engagement.models.reports import ReportReaderState, WeeklyReport
from engagement.models.sessions import Attendance, TherapySession
from engagement.models.sync import IdempotencyRecord, Removal

__all__ = [
    "Attendance",
    "AuditEvent",
    "CheckIn",
    "Commitment",
    "Couple",
    "CoupleStatusChange",
    "DigestDelivery",
    "IdempotencyRecord",
    "Invitation",
    "Membership",
    "ReminderDelivery",
    "Removal",
    "ReportReaderState",
    "TherapySession",
    "Visibility",
    "WeeklyReport",
]

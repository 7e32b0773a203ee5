"""Models of engagement, one module per aggregate."""

from engagement.models.audit import AuditEvent
from engagement.models.away import AwayPeriod
from engagement.models.checkins import CheckIn, Visibility
from engagement.models.commitments import Commitment
from engagement.models.couples import Couple, CoupleStatusChange, Invitation, Membership
from engagement.models.digests import DigestDelivery
from engagement.models.feedback import SessionFeedback
from engagement.models.goals import Goal
from engagement.models.reminders import ReminderDelivery
from engagement.models.reports import ReportReaderState, WeeklyReport
from engagement.models.safety import Consent, SafeContact, SafetyAlert, SafetyAlertDelivery
from engagement.models.sessions import Attendance, TherapySession
from engagement.models.sync import IdempotencyRecord, Removal

__all__ = [
    "Attendance",
    "AuditEvent",
    "AwayPeriod",
    "CheckIn",
    "Commitment",
    "Consent",
    "Couple",
    "CoupleStatusChange",
    "DigestDelivery",
    "Goal",
    "IdempotencyRecord",
    "Invitation",
    "Membership",
    "ReminderDelivery",
    "Removal",
    "ReportReaderState",
    "SafeContact",
    "SafetyAlert",
    "SafetyAlertDelivery",
    "SessionFeedback",
    "TherapySession",
    "Visibility",
    "WeeklyReport",
]

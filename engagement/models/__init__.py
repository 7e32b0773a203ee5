"""Models of engagement, one module per aggregate."""

from engagement.models.audit import AuditEvent
from engagement.models.away import AwayPeriod
from engagement.models.checkins import CheckIn
from engagement.models.checkins import Visibility
from engagement.models.commitments import Commitment
from engagement.models.couples import Couple
from engagement.models.couples import CoupleStatusChange
from engagement.models.couples import Invitation
from engagement.models.couples import Membership
from engagement.models.digests import DigestDelivery
from engagement.models.feedback import SessionFeedback
from engagement.models.goals import Goal
from engagement.models.reminders import ReminderDelivery
from engagement.models.reports import ReportReaderState
from engagement.models.reports import WeeklyReport
from engagement.models.safety import Consent
from engagement.models.safety import SafeContact
from engagement.models.safety import SafetyAlert
from engagement.models.safety import SafetyAlertDelivery
from engagement.models.sessions import Attendance
from engagement.models.sessions import TherapySession
from engagement.models.sync import IdempotencyRecord
from engagement.models.sync import Removal

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

"""Routes of the engagement API: couples, invitations, sessions, commitments, check-ins, reports,
and the caller's own data as a whole (`/me/` with its erasure, `/me/export/`)."""

from __future__ import annotations

from django.urls import URLPattern
from django.urls import URLResolver
from django.urls import path
from rest_framework.routers import SimpleRouter

from engagement.api.away import AwayPeriodViewSet
from engagement.api.checkins import CheckInViewSet
from engagement.api.commitments import CommitmentViewSet
from engagement.api.couples import CoupleViewSet
from engagement.api.feedback import SessionFeedbackView
from engagement.api.goals import CoupleGoalsView
from engagement.api.goals import OwnGoalView
from engagement.api.invitations import InvitationViewSet
from engagement.api.privacy import ExportView
from engagement.api.privacy import MeView
from engagement.api.removals import RemovalViewSet
from engagement.api.reports import CaseloadView
from engagement.api.reports import ReportViewSet
from engagement.api.safety import ConsentView
from engagement.api.safety import SafeContactView
from engagement.api.safety import SafetyAlertViewSet
from engagement.api.sessions import SessionViewSet
from engagement.digests.views import DigestUnsubscribeView

router = SimpleRouter()
router.register("couples", CoupleViewSet, basename="couple")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("sessions", SessionViewSet, basename="session")
router.register("commitments", CommitmentViewSet, basename="commitment")
router.register("checkins", CheckInViewSet, basename="checkin")
router.register("away", AwayPeriodViewSet, basename="away")
router.register("removals", RemovalViewSet, basename="removal")
router.register("safety-alerts", SafetyAlertViewSet, basename="safety-alert")
# reports/current/ and reports/recompute/ are list-level actions: routed before reports/{id}/.
router.register("reports", ReportViewSet, basename="report")

urlpatterns: list[URLPattern | URLResolver] = [
    *router.urls,
    # Issue #17: a partner's own feedback and goal beside the resource they belong to.
    path("sessions/<uuid:id>/feedback/", SessionFeedbackView.as_view(), name="session-feedback"),
    path("couples/<uuid:id>/goal/", OwnGoalView.as_view(), name="couple-goal"),
    path("couples/<uuid:id>/goals/", CoupleGoalsView.as_view(), name="couple-goals"),
    path("digests/unsubscribe/", DigestUnsubscribeView.as_view(), name="digest-unsubscribe"),
    path("caseload/", CaseloadView.as_view(), name="caseload"),
    # `/me/` is accounts' profile view with the erasure added (engagement/api/privacy.py).
    path("me/", MeView.as_view(), name="me"),
    path("me/export/", ExportView.as_view(), name="me-export"),
    path("me/consents/", ConsentView.as_view(), name="me-consents"),
    path("couples/<uuid:pk>/safe-contact/", SafeContactView.as_view(), name="safe-contact"),
]

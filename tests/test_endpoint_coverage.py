"""Every operation of the schema, called by every actor against one world: one table.

`TABLE` is keyed by the (method, path template) of each operation of the OpenAPI schema that
drf-spectacular generates in process. Each entry holds one or more `Case`s: a request built
against the real objects of the world below, and the answer every actor of `ACTORS` must get.
The test fails when the schema has an operation the table lacks, or the table names one the
schema does not have; and every refused write (an answer in the 4xx) must leave the database
as it was: the target rows with their `updated_at`, memberships, invitations, reports and the
removals feed (`_snapshot`).

The world (`CoverageWorld`): couple A has `partner` and `other_partner` since its creation 60
days ago, `therapist`, and `former_therapist` who left yesterday. Its objects were made three
days ago by the partner and the therapist: a joint session, the partner's individual session,
a `couple` and a `therapist` commitment owned by the partner, the partner's `couple` check-in,
a pending therapist invitation sent by the therapist, and the report of a past week. Couple B
has `outsider` (a partner) and `other_therapist`. For the columns `former_partner` and
`later_partner`, the other partner leaves today (and is the former partner) and a new partner
joins in their place (the later partner): SPEC v1.1 section 1, membership periods.

Cells: a status code; for lists, `listed` or `hidden` (200 either way, and whether the case's
object is among the results). A cell wrapped in `pending(...)` is SPEC v1.1 behaviour another
branch of issue #13 builds now: the lead flips it to a plain cell after merging (strict xfail:
it fails as soon as the behaviour arrives, so it cannot be forgotten).

SPEC section 4 is checked against the schema both ways (`test_spec_and_schema_agree`):
endpoints SPEC names that are not built yet are listed in `UNBUILT` with their issue.
"""

# ruff: noqa: E501 - the table below is a table, one line per case, wider than the usual limit

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest
from django.db import models
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.authentication import issue_tokens
from accounts.models import Device
from accounts.models import EmailVerification
from accounts.models import User
from engagement.models import Attendance
from engagement.models import AwayPeriod
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Consent
from engagement.models import Couple
from engagement.models import CoupleStatusChange
from engagement.models import DigestDelivery
from engagement.models import Goal
from engagement.models import Invitation
from engagement.models import Membership
from engagement.models import Removal
from engagement.models import SafeContact
from engagement.models import SafetyAlert
from engagement.models import SessionFeedback
from engagement.models import TherapySession
from engagement.models import WeeklyReport
from tests.engagement.reports.test_reports_api import stored_report
from tests.factories import PASSWORD
from tests.factories import CheckInFactory
from tests.factories import CommitmentFactory
from tests.factories import TherapistFactory
from tests.factories import TherapySessionFactory
from tests.factories import UserFactory
from tests.factories import make_couple
from tests.factories import make_invitation

ROOT = Path(__file__).resolve().parents[1]

ACTORS = (
    "anonymous",
    "outsider",
    "partner",
    "other_partner",
    "former_partner",
    "later_partner",
    "therapist",
    "other_therapist",
    "former_therapist",
)
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# List cells: whether the case's object is among the results (200 either way).
HIDDEN, LISTED = "hidden", "listed"

# --- the world ----------------------------------------------------------------------------------


class CoverageWorld:
    # Made by the cases that need them (`setup`).
    partner_invitation: Invitation
    partner_device: Device
    alert: SafetyAlert
    shared_away: AwayPeriod
    hidden_away: AwayPeriod

    def __init__(self) -> None:
        now = timezone.now()
        self.now = now
        self.couple, self.partner, self.other_partner, therapist = make_couple(
            joined_at=now - dt.timedelta(days=60)
        )
        Couple.objects.filter(pk=self.couple.pk).update(created_at=now - dt.timedelta(days=60))
        assert therapist is not None
        self.therapist = therapist
        self.former_therapist = TherapistFactory.create()
        Membership.objects.create(
            couple=self.couple,
            user=self.former_therapist,
            role="therapist",
            joined_at=now - dt.timedelta(days=60),
            left_at=now - dt.timedelta(days=1),
        )
        self.other_couple, self.outsider, _, other_therapist = make_couple()
        assert other_therapist is not None
        self.other_therapist = other_therapist
        # Someone who will join couple A in the other partner's place (`change_partners`).
        self.newcomer = UserFactory.create()

        earlier = now - dt.timedelta(days=3)
        self.day = timezone.localdate(earlier)
        self.joint = TherapySessionFactory.create(couple=self.couple, starts_at=earlier)
        self.individual = TherapySessionFactory.create(
            couple=self.couple, kind="individual", focus_partner=self.partner, starts_at=earlier
        )
        self.shared = CommitmentFactory.create(
            couple=self.couple, owner=self.partner, created_by=self.partner, due_on=self.day
        )
        self.hidden = CommitmentFactory.create(
            couple=self.couple,
            owner=self.partner,
            created_by=self.therapist,
            due_on=self.day,
            visibility="therapist",
        )
        self.checkin = CheckInFactory.create(
            couple=self.couple, author=self.partner, date=self.day, visibility="couple"
        )
        self.invitation, self.token = make_invitation(
            couple=self.couple, invited_by=self.therapist, role="therapist", email="t@example.com"
        )
        # A past week that lies entirely in the first partnership.
        week = timezone.localdate(now) - dt.timedelta(days=timezone.localdate(now).weekday() + 14)
        self.report = stored_report(self.couple, self.partner, self.other_partner, week=week)
        self.week = week

    def change_partners(self) -> None:
        """The other partner leaves today and the newcomer joins in their place."""
        now = timezone.now()
        Membership.objects.filter(couple=self.couple, user=self.other_partner).update(
            left_at=now, partner_slot=None
        )
        Membership.objects.create(
            couple=self.couple, user=self.newcomer, role="partner", partner_slot=2, joined_at=now
        )

    def without_therapist(self) -> None:
        """The therapist has left: the partners run the couple (SPEC section 1)."""
        Membership.objects.filter(couple=self.couple, user=self.therapist).update(
            left_at=timezone.now()
        )

    def without_therapist_and_a_new_partner_invited_by_the_partner(self) -> None:
        """The therapist has left (the partners run the couple), the other partner too, and
        the partner invited the newcomer, who accepted today (SPEC section 1: the inviter may
        remove them within 7 days)."""
        now = timezone.now()
        Membership.objects.filter(couple=self.couple, user=self.therapist).update(left_at=now)
        if not Membership.objects.filter(couple=self.couple, user=self.newcomer).exists():
            self.change_partners()
        invitation, _ = make_invitation(couple=self.couple, invited_by=self.partner)
        joined = Membership.objects.get(
            couple=self.couple, user=self.newcomer, left_at__isnull=True
        ).joined_at
        Invitation.objects.filter(pk=invitation.pk).update(
            status="accepted", accepted_by=self.newcomer, accepted_at=max(now, joined)
        )

    def actor(self, name: str) -> User | None:
        return {
            "anonymous": None,
            "outsider": self.outsider,
            "partner": self.partner,
            "other_partner": self.other_partner,
            "former_partner": self.other_partner,
            "later_partner": self.newcomer,
            "therapist": self.therapist,
            "other_therapist": self.other_therapist,
            "former_therapist": self.former_therapist,
        }[name]


W = CoverageWorld
Cell = int | str | tuple[int | str, str]


def pending(cell: int | str, why: str = "#13 merge") -> tuple[int | str, str]:
    """A SPEC v1.1 cell that another branch of #13 makes true: a strict xfail until merged."""
    return (cell, why)


@dataclass(frozen=True)
class Case:
    """One request against the world and the answer each actor gets, in the order of ACTORS."""

    method: str
    label: str
    path: str  # formatted with the world as `w`: "/api/v1/sessions/{w.joint.pk}/"
    expect: tuple[Cell, ...]
    body: Callable[[W, User | None], Any] | None = None
    listed: str | None = None  # lists: the id the cells `listed`/`hidden` ask about, as `path`
    results: Callable[[Any], list[dict[str, Any]]] = field(default=lambda data: data["results"])
    setup: Callable[[W], None] | None = None  # a change to the world this case needs first
    then: Callable[[W, User], None] | None = None  # after a 2xx: what the write did


def same(status: int | str, *, anonymous: int | str = 401) -> tuple[Cell, ...]:
    """The same answer for every signed-in actor."""
    return (anonymous, *([status] * (len(ACTORS) - 1)))


def _partners_device(w: W) -> None:
    w.partner_device = Device.objects.create(
        user=w.partner, platform="android", token="partner-fcm-token", token_digest="0" * 64
    )


def _no_device(user: User) -> None:
    assert not Device.objects.filter(user=user).exists()


def _has_device(user: User) -> None:
    assert Device.objects.filter(user=user).count() == 1


def _therapist_invitation_by_the_partner(w: W) -> None:
    w.without_therapist()
    invitation, _ = make_invitation(
        couple=w.couple, invited_by=w.partner, role="therapist", email="dr@example.com"
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        approvals=[], created_at=w.couple.created_at + dt.timedelta(days=1)
    )
    w.partner_invitation = invitation


def _approved_by(w: W, user: User) -> None:
    w.partner_invitation.refresh_from_db()
    assert [entry["partner"] for entry in w.partner_invitation.approvals or []] == [str(user.pk)]


def _exists(model: type[models.Model], **lookup: Any) -> None:
    assert model._default_manager.filter(**lookup).exists(), (model.__name__, lookup)


def _active(w: W, user: User, role: str) -> None:
    assert Membership.objects.get(couple=w.couple, user=user, left_at=None).role == role


def _gone(w: W, user: User) -> None:
    assert not Membership.objects.filter(couple=w.couple, user=user, left_at=None).exists()


def _erased(user: User) -> None:
    assert not User.objects.filter(pk=user.pk, email=user.email).exists()


def _checkin_body(w: W, user: User | None) -> dict[str, Any]:
    return {"couple": str(w.couple.pk), "visibility": "couple", "mood": 2}


def _attendance(w: W, user: User | None) -> dict[str, Any]:
    return {
        "attendance": [
            {"partner": str(w.partner.pk), "status": "attended", "participation": None},
            {"partner": str(w.other_partner.pk), "status": "attended", "participation": None},
        ]
    }


def _own_email(w: W, user: User | None) -> dict[str, Any]:
    return {"email": user.email if user else "nobody@example.com"}


def _partners_alert(w: W) -> None:
    w.alert = SafetyAlert.objects.create(
        couple=w.couple, partner=w.partner, checkin=w.checkin, date=w.day
    )


def _acknowledged_by(w: W, user: User) -> None:
    w.alert.refresh_from_db()
    assert w.alert.acknowledged_by_id == user.pk


def _partners_safe_contact(w: W) -> None:
    SafeContact.objects.create(couple=w.couple, partner=w.partner, phone="+1 555 0199")


def _has_safe_contact(w: W, user: User) -> None:
    assert SafeContact.objects.get(couple=w.couple, partner=user).phone == "+1 555 0100"


def _partners_consent(w: W) -> None:
    Consent.objects.create(user=w.partner, document="data-rules", version="partner-1")


def _has_consented(w: W, user: User) -> None:
    assert Consent.objects.get(user=user).version == "1"


def _both_attended(w: W) -> None:
    """Both first partners attended the joint session, recorded now (issue #17)."""
    for partner in (w.partner, w.other_partner):
        Attendance.objects.create(session=w.joint, partner=partner, status="attended")


def _partners_feedback(w: W) -> None:
    _both_attended(w)
    SessionFeedback.objects.create(
        session=w.joint, partner=w.partner, understood=7, helpful=6, spoke_freely=5, coming_back=8
    )


def _feedback_body(w: W, user: User | None) -> dict[str, Any]:
    return {"understood": 7, "helpful": 6, "spoke_freely": 5, "coming_back": 8}


def _partners_goal(w: W) -> None:
    Goal.objects.create(couple=w.couple, partner=w.partner, goal="work_on_it")


def _partners_away(w: W) -> None:
    """The partner's `couple` and `therapist` away periods, from the world's day (3 days ago)."""
    w.shared_away = AwayPeriod.objects.create(
        couple=w.couple,
        partner=w.partner,
        starts_on=w.day,
        ends_on=w.day + dt.timedelta(days=1),
        visibility="couple",
        shared_at=w.now,
    )
    w.hidden_away = AwayPeriod.objects.create(
        couple=w.couple,
        partner=w.partner,
        starts_on=w.day + dt.timedelta(days=2),
        ends_on=w.day + dt.timedelta(days=2),
        visibility="therapist",
    )


def _away_body(w: W, user: User | None) -> dict[str, Any]:
    start = timezone.localdate(w.now) + dt.timedelta(days=10)
    return {
        "couple": str(w.couple.pk),
        "starts_on": str(start),
        "ends_on": str(start + dt.timedelta(days=2)),
        "reason": "travel",
        "visibility": "couple",
    }


# One line a case (a second one below it where 200 columns are not enough): its method, its label,
# its path (formatted with the world as `w`; the operation it is a case of is read off it,
# `operation`), its cells in the order of ACTORS (anonymous outsider partner other_partner
# former_partner later_partner therapist other_therapist former_therapist), then what else it
# needs: the object a list is asked about (`listed`), a body, a change to the world first
# (`setup`), what a 2xx must have done (`then`).
# fmt: off
CASES: list[Case] = [
    # --- public: sign-up, sign-in, recovery, metadata, unsubscribe -----------------------------
    Case("GET", "metadata", "/api/v1/meta/", same(200, anonymous=200)),
    Case("POST", "register a new address", "/api/v1/auth/register/", same(202, anonymous=202),
         body=lambda w, u: {"email": "new@example.com", "password": "a-long-enough-passphrase-1", "display_name": "New"}),
    Case("POST", "a forged verification token", "/api/v1/auth/verify/", same(400, anonymous=400), body=lambda w, u: {"token": "forged"}),
    Case("POST", "sign in as the partner", "/api/v1/auth/token/", same(200, anonymous=200), body=lambda w, u: {"email": w.partner.email, "password": PASSWORD}),
    Case("POST", "a forged refresh token", "/api/v1/auth/token/refresh/", same(401, anonymous=401), body=lambda w, u: {"refresh": "forged"}),
    Case("POST", "log out the caller's refresh token", "/api/v1/auth/logout/", same(204, anonymous=204), body=lambda w, u: {"refresh": issue_tokens(u or w.partner)["refresh"]}),
    Case("POST", "reset the caller's password", "/api/v1/auth/password/reset/", same(202, anonymous=202), body=_own_email),
    Case("POST", "a forged reset link", "/api/v1/auth/password/reset/confirm/", same(400, anonymous=400),
         body=lambda w, u: {"uid": "forged", "token": "forged", "new_password": "a-long-enough-passphrase-2"}),
    Case("GET", "a forged unsubscribe link", "/api/v1/digests/unsubscribe/?token=forged", same(400, anonymous=400)),
    Case("POST", "a forged unsubscribe link", "/api/v1/digests/unsubscribe/?token=forged", same(400, anonymous=400)),
    # --- the caller's own account -------------------------------------------------------------
    Case("POST", "change the caller's password", "/api/v1/auth/password/change/", same(204), body=lambda w, u: {"old_password": PASSWORD, "new_password": "a-long-enough-passphrase-3"}),
    Case("GET", "own profile", "/api/v1/me/", same(200)),
    Case("PATCH", "own preferences", "/api/v1/me/", same(200), body=lambda w, u: {"digest_hour": 9}),
    Case("DELETE", "erase with a wrong password", "/api/v1/me/", same(400), body=lambda w, u: {"password": "wrong"}),
    Case("DELETE", "erase", "/api/v1/me/", same(204), body=lambda w, u: {"password": PASSWORD}, then=lambda w, u: _erased(u)),
    Case("POST", "change address", "/api/v1/me/email/", same(202), body=lambda w, u: {"email": "moved@example.com", "password": PASSWORD}),
    Case("GET", "own export", "/api/v1/me/export/", same(200)),
    Case("GET", "own removals", "/api/v1/removals/", same(200)),
    # --- devices (SPEC section 2, Device): each user's own ----------------------------------
    Case("GET", "the partner's device in the list", "/api/v1/me/devices/", (401, HIDDEN, LISTED, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
         listed="{w.partner_device.pk}", setup=_partners_device),
    Case("POST", "register a phone", "/api/v1/me/devices/", same(201), body=lambda w, u: {"platform": "android", "token": f"fcm-token-{u.pk if u else 0}"}, then=lambda w, u: _has_device(u)),
    Case("DELETE", "forget the partner's device", "/api/v1/me/devices/{w.partner_device.pk}/", (401, 404, 204, 404, 404, 404, 404, 404, 404), setup=_partners_device, then=lambda w, u: _no_device(u)),
    # --- couples --------------------------------------------------------------------------------
    Case("GET", "couple A in the list", "/api/v1/couples/", (401, HIDDEN, LISTED, LISTED, HIDDEN, LISTED, LISTED, HIDDEN, HIDDEN), listed="{w.couple.pk}"),
    Case("POST", "create a couple", "/api/v1/couples/", same(201), body=lambda w, u: {"name": "New"}),
    Case("GET", "read couple A", "/api/v1/couples/{w.couple.pk}/", (401, 404, 200, 200, 404, 200, 200, 404, 404)),
    Case("PATCH", "settings of couple A", "/api/v1/couples/{w.couple.pk}/", (401, 404, 403, 403, 404, 403, 200, 404, 404), body=lambda w, u: {"checkin_target_per_week": 5}),
    Case("POST", "consent to the balance", "/api/v1/couples/{w.couple.pk}/share-balance/", (401, 404, 200, 200, 404, 200, 403, 404, 404), body=lambda w, u: {"share": True}),
    Case("POST", "leave couple A", "/api/v1/couples/{w.couple.pk}/leave/", (401, 404, 204, 204, 404, 204, 204, 404, 404), then=lambda w, u: _gone(w, u)),
    # The couple has a therapist: only they remove members (SPEC section 4).
    Case("POST", "remove the partner", "/api/v1/couples/{w.couple.pk}/remove-member/", (401, 404, 403, 403, 404, 403, 204, 404, 404),
         body=lambda w, u: {"user": str(w.partner.pk)}, then=lambda w, u: _gone(w, w.partner)),
    # No therapist, and the partner's invitee joined today: the inviter may undo it (SPEC
    # v1.1 section 1). Here the other partner and the therapist have left (404 like the
    # former ones), and the newcomer (later_partner) may not remove themselves this way.
    Case("POST", "the inviter removes their invitee within 7 days", "/api/v1/couples/{w.couple.pk}/remove-member/", (401, 404, 204, 404, 404, 403, 404, 404, 404),
         body=lambda w, u: {"user": str(w.newcomer.pk)}, then=lambda w, u: _gone(w, w.newcomer),
         setup=CoverageWorld.without_therapist_and_a_new_partner_invited_by_the_partner),
    # --- invitations ----------------------------------------------------------------------------
    # SPEC v1.1 section 1: a partner sees the invitations they sent; therapists all.
    Case("GET", "the therapist's invitation in the list", "/api/v1/invitations/", (401, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, LISTED, HIDDEN, HIDDEN), listed="{w.invitation.pk}"),
    # A couple with a therapist: partners invite no one (SPEC section 1).
    Case("POST", "invite a therapist to couple A", "/api/v1/invitations/", (401, 400, 403, 403, 400, 403, 201, 400, 400),
         body=lambda w, u: {"couple": str(w.couple.pk), "email": "x@example.com", "role": "therapist"}),
    Case("GET", "read the therapist's invitation", "/api/v1/invitations/{w.invitation.pk}/", (401, 404, 404, 404, 404, 404, 200, 404, 404)),
    Case("POST", "revoke the therapist's invitation", "/api/v1/invitations/{w.invitation.pk}/revoke/", (401, 404, 404, 404, 404, 404, 200, 404, 404)),
    # No therapist: the partner asked a therapist in three days ago; only the other active
    # partner approves (SPEC section 1). The inviter cannot approve their own (403); nobody
    # outside that partnership reads the invitation (404).
    Case("POST", "approve the partner's therapist invitation", "/api/v1/invitations/{w.partner_invitation.pk}/approve/", (401, 404, 403, 200, 404, 404, 404, 404, 404),
         setup=_therapist_invitation_by_the_partner, then=lambda w, u: _approved_by(w, u)),
    # A therapist invitation: only a user with is_therapist, never a (former) partner of
    # the couple, and not someone already in it (SPEC section 1).
    Case("POST", "accept the therapist invitation", "/api/v1/invitations/accept/", (401, 403, 403, 403, 403, 403, 409, 200, 200),
         body=lambda w, u: {"token": w.token}, then=lambda w, u: _active(w, u, "therapist")),
    # --- sessions -------------------------------------------------------------------------------
    Case("GET", "the joint session in the list", "/api/v1/sessions/", (401, HIDDEN, LISTED, LISTED, HIDDEN, HIDDEN, LISTED, HIDDEN, HIDDEN), listed="{w.joint.pk}"),
    Case("GET", "the partner's individual session in the list", "/api/v1/sessions/", (401, HIDDEN, LISTED, HIDDEN, HIDDEN, HIDDEN, LISTED, HIDDEN, HIDDEN), listed="{w.individual.pk}"),
    Case("POST", "schedule a joint session", "/api/v1/sessions/", (401, 400, 403, 403, 400, 403, 201, 400, 400),
         body=lambda w, u: {"couple": str(w.couple.pk), "kind": "joint", "starts_at": "2026-11-20T18:00:00Z"}),
    Case("GET", "read the joint session", "/api/v1/sessions/{w.joint.pk}/", (401, 404, 200, 200, 404, 404, 200, 404, 404)),
    Case("GET", "read the partner's individual session", "/api/v1/sessions/{w.individual.pk}/", (401, 404, 200, 404, 404, 404, 200, 404, 404)),
    Case("PATCH", "edit the joint session", "/api/v1/sessions/{w.joint.pk}/", (401, 404, 403, 403, 404, 404, 200, 404, 404), body=lambda w, u: {"duration_minutes": 60}),
    Case("PATCH", "edit the partner's individual session", "/api/v1/sessions/{w.individual.pk}/", (401, 404, 403, 404, 404, 404, 200, 404, 404), body=lambda w, u: {"duration_minutes": 60}),
    Case("DELETE", "delete the joint session", "/api/v1/sessions/{w.joint.pk}/", (401, 404, 403, 403, 404, 404, 204, 404, 404)),
    Case("DELETE", "delete the partner's individual session", "/api/v1/sessions/{w.individual.pk}/", (401, 404, 403, 404, 404, 404, 204, 404, 404)),
    Case("PUT", "attendance of the joint session", "/api/v1/sessions/{w.joint.pk}/attendance/", (401, 404, 403, 403, 404, 404, 200, 404, 404), body=_attendance),
    Case("PUT", "attendance of the partner's individual session", "/api/v1/sessions/{w.individual.pk}/attendance/", (401, 404, 403, 404, 404, 404, 200, 404, 404),
         body=lambda w, u: {"attendance": [{"partner": str(w.partner.pk), "status": "attended", "participation": None}]}),
    # --- commitments ----------------------------------------------------------------------------
    Case("GET", "the couple commitment in the list", "/api/v1/commitments/", (401, HIDDEN, LISTED, LISTED, HIDDEN, HIDDEN, LISTED, HIDDEN, HIDDEN), listed="{w.shared.pk}"),
    Case("GET", "the therapist-only commitment in the list", "/api/v1/commitments/", (401, HIDDEN, LISTED, HIDDEN, HIDDEN, HIDDEN, LISTED, HIDDEN, HIDDEN), listed="{w.hidden.pk}"),
    Case("POST", "a commitment for the partner", "/api/v1/commitments/", (401, 400, 201, 403, 400, 403, 201, 400, 400),
         body=lambda w, u: {"couple": str(w.couple.pk), "owner": str(w.partner.pk), "title": "Walk", "due_on": str(w.day), "visibility": "couple"}),
    Case("GET", "read the couple commitment", "/api/v1/commitments/{w.shared.pk}/", (401, 404, 200, 200, 404, 404, 200, 404, 404)),
    Case("GET", "read the therapist-only commitment", "/api/v1/commitments/{w.hidden.pk}/", (401, 404, 200, 404, 404, 404, 200, 404, 404)),
    Case("PATCH", "edit the couple commitment", "/api/v1/commitments/{w.shared.pk}/", (401, 404, 200, 403, 404, 404, 200, 404, 404), body=lambda w, u: {"title": "Walk twice"}),
    Case("PATCH", "edit the therapist-only commitment", "/api/v1/commitments/{w.hidden.pk}/", (401, 404, 200, 404, 404, 404, 200, 404, 404), body=lambda w, u: {"title": "Walk twice"}),
    *[
        case
        for action, ok, body in (
            ("keep", 200, None),
            ("miss", 200, None),
            ("release", 200, None),
            ("renew", 201, lambda w, u: {"due_on": str(w.day + dt.timedelta(days=7))}),
        )
        for case in (
            Case("POST", f"{action} the couple commitment", f"/api/v1/commitments/{{w.shared.pk}}/{action}/", (401, 404, ok, 403, 404, 404, ok, 404, 404),
                 body=body),
            Case("POST", f"{action} the therapist-only commitment", f"/api/v1/commitments/{{w.hidden.pk}}/{action}/", (401, 404, ok, 404, 404, 404, ok, 404, 404),
                 body=body),
        )
    ],
    # --- check-ins ------------------------------------------------------------------------------
    Case("GET", "the partner's couple check-in in the list", "/api/v1/checkins/", (401, HIDDEN, LISTED, LISTED, HIDDEN, HIDDEN, LISTED, HIDDEN, HIDDEN), listed="{w.checkin.pk}"),
    # The by-date route is always the caller's own check-in: nobody else's is there.
    Case("GET", "the partner's check-in by date", "/api/v1/checkins/{w.day}/?couple={w.couple.pk}", (401, 404, 200, 404, 404, 404, 404, 404, 404)),
    # Each partner puts their own; therapists never check in; the couple in the body of
    # someone outside it is a 400 `does_not_exist` (SPEC section 3).
    Case("PUT", "a check-in on the partner's date", "/api/v1/checkins/{w.day}/", (401, 400, 200, 201, 400, 201, 403, 400, 400), body=_checkin_body),
    Case("DELETE", "delete the check-in of the partner's date", "/api/v1/checkins/{w.day}/?couple={w.couple.pk}", (401, 404, 204, 404, 404, 404, 404, 404, 404)),
    # --- session feedback, goals, away periods (issue #17) ---------------------------------------
    # A partner reads their own feedback only: the other partner's GET is a 404 whether or not
    # the partner gave theirs (it learns nothing, not even whether it exists).
    Case("GET", "the partner's feedback on the joint session", "/api/v1/sessions/{w.joint.pk}/feedback/", (401, 404, 200, 404, 404, 404, 200, 404, 404), setup=_partners_feedback),
    Case("PUT", "feedback on the joint session both attended", "/api/v1/sessions/{w.joint.pk}/feedback/", (401, 404, 201, 201, 404, 404, 403, 404, 404),
         body=_feedback_body, setup=_both_attended, then=lambda w, u: _exists(SessionFeedback, session=w.joint, partner=u)),
    Case("PUT", "feedback on the partner's individual session nobody recorded", "/api/v1/sessions/{w.individual.pk}/feedback/", (401, 404, 409, 404, 404, 404, 403, 404, 404), body=_feedback_body),
    Case("GET", "the partner's goal", "/api/v1/couples/{w.couple.pk}/goal/", (401, 404, 200, 404, 404, 404, 404, 404, 404), setup=_partners_goal),
    Case("PUT", "set the caller's goal", "/api/v1/couples/{w.couple.pk}/goal/", (401, 404, 201, 201, 404, 201, 403, 404, 404),
         body=lambda w, u: {"goal": "unsure", "note": "Not sure yet"}, then=lambda w, u: _exists(Goal, couple=w.couple, partner=u, goal="unsure")),
    Case("GET", "the partners' goals and history", "/api/v1/couples/{w.couple.pk}/goals/", (401, 404, 403, 403, 404, 403, 200, 404, 404), setup=_partners_goal),
    # The partner's `couple` away period (shared_away) and `therapist` one (hidden_away).
    Case("GET", "the partner's couple away period in the list", "/api/v1/away/", (401, HIDDEN, LISTED, LISTED, HIDDEN, HIDDEN, LISTED, HIDDEN, HIDDEN),
         listed="{w.shared_away.pk}", setup=_partners_away),
    Case("GET", "the partner's therapist-only away period in the list", "/api/v1/away/", (401, HIDDEN, LISTED, HIDDEN, HIDDEN, HIDDEN, LISTED, HIDDEN, HIDDEN),
         listed="{w.hidden_away.pk}", setup=_partners_away),
    Case("POST", "record an away period", "/api/v1/away/", (401, 400, 201, 201, 400, 201, 403, 400, 400), body=_away_body, then=lambda w, u: _exists(AwayPeriod, couple=w.couple, partner=u)),
    Case("GET", "read the couple away period", "/api/v1/away/{w.shared_away.pk}/", (401, 404, 200, 200, 404, 404, 200, 404, 404), setup=_partners_away),
    Case("GET", "read the therapist-only away period", "/api/v1/away/{w.hidden_away.pk}/", (401, 404, 200, 404, 404, 404, 200, 404, 404), setup=_partners_away),
    Case("PATCH", "edit the couple away period", "/api/v1/away/{w.shared_away.pk}/", (401, 404, 200, 403, 404, 404, 403, 404, 404), setup=_partners_away, body=lambda w, u: {"reason": "illness"}),
    Case("PATCH", "narrow the couple away period", "/api/v1/away/{w.shared_away.pk}/", (401, 404, 200, 403, 404, 404, 403, 404, 404),
         setup=_partners_away, body=lambda w, u: {"visibility": "therapist"},
         then=lambda w, u: _exists(Removal, object_id=w.shared_away.pk, user=w.other_partner)),
    Case("DELETE", "delete the couple away period", "/api/v1/away/{w.shared_away.pk}/", (401, 404, 204, 403, 404, 404, 403, 404, 404),
         setup=_partners_away, then=lambda w, u: _exists(Removal, object_id=w.shared_away.pk, user=w.therapist)),
    # --- reports --------------------------------------------------------------------------------
    Case("GET", "the past week's report in the list", "/api/v1/reports/", (401, HIDDEN, LISTED, LISTED, HIDDEN, HIDDEN, LISTED, HIDDEN, HIDDEN), listed="{w.report.pk}"),
    Case("GET", "read the past week's report", "/api/v1/reports/{w.report.pk}/", (401, 404, 200, 200, 404, 404, 200, 404, 404)),
    # The newcomer joined this week: a week across a change of partners is the therapist's
    # alone (SPEC v1.1 section 1).
    Case("GET", "the week so far", "/api/v1/reports/current/?couple={w.couple.pk}", (401, 404, 200, 200, 404, 404, 200, 404, 404)),
    Case("POST", "recompute the past week", "/api/v1/reports/recompute/", (401, 400, 403, 403, 400, 403, 202, 400, 400), body=lambda w, u: {"couple": str(w.couple.pk), "week_start": str(w.week)}),
    Case("GET", "couple A in the caseload", "/api/v1/caseload/", (401, 403, 403, 403, 403, 403, LISTED, HIDDEN, HIDDEN),
         listed="{w.couple.pk}", results=lambda data: [item["couple"] for item in data["results"]]),
    # --- safety (issue #18): alerts for the therapists, a partner's safe contact, consents -----
    Case("GET", "the partner's alert in the list", "/api/v1/safety-alerts/", (401, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, LISTED, HIDDEN, HIDDEN), listed="{w.alert.pk}", setup=_partners_alert),
    Case("POST", "acknowledge the partner's alert", "/api/v1/safety-alerts/{w.alert.pk}/acknowledge/", (401, 404, 404, 404, 404, 404, 200, 404, 404), setup=_partners_alert, then=_acknowledged_by),
    # Each partner reads their own; a therapist names the partner (400 without).
    Case("GET", "the caller's own safe contact", "/api/v1/couples/{w.couple.pk}/safe-contact/", (401, 404, 200, 200, 404, 200, 400, 404, 404), setup=_partners_safe_contact),
    Case("GET", "the partner's safe contact, named", "/api/v1/couples/{w.couple.pk}/safe-contact/?partner={w.partner.pk}", (401, 404, 200, 404, 404, 404, 200, 404, 404), setup=_partners_safe_contact),
    Case("PUT", "set the caller's safe contact", "/api/v1/couples/{w.couple.pk}/safe-contact/", (401, 404, 201, 201, 404, 201, 403, 404, 404),
         body=lambda w, u: {"phone": "+1 555 0100", "voicemail_ok": False}, then=_has_safe_contact),
    Case("GET", "the partner's consent in their history", "/api/v1/me/consents/", (401, HIDDEN, LISTED, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
         listed="data-rules:partner-1", setup=_partners_consent,
         results=lambda data: [{"id": f"{c['document']}:{c['version']}"} for c in data["results"]]),
    Case("POST", "accept the data rules", "/api/v1/me/consents/", same(201), body=lambda w, u: {"document": "data-rules", "version": "1"}, then=_has_consented),
]
# fmt: on


def operation(case: Case) -> tuple[str, str]:
    """The operation of the schema a case calls: its method, and its path without the query
    with the world's objects as the schema's parameters (`{w.joint.pk}` is `{id}`)."""
    path = re.sub(r"\{w\.day\}", "{date}", case.path.split("?")[0])
    return case.method, re.sub(r"\{w\.\w+\.pk\}", "{id}", path)


def _by_operation(cases: list[Case]) -> dict[tuple[str, str], list[Case]]:
    table: dict[tuple[str, str], list[Case]] = {}
    for case in cases:
        table.setdefault(operation(case), []).append(case)
    return table


TABLE = _by_operation(CASES)


# --- the operations of the schema ---------------------------------------------------------------


def schema_operations() -> set[tuple[str, str]]:
    schema: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }


OPERATIONS = schema_operations()


def test_the_table_names_every_operation_of_the_schema_and_no_other() -> None:
    missing = sorted(OPERATIONS - set(TABLE))
    extra = sorted(set(TABLE) - OPERATIONS)
    assert not missing, f"operations of the schema with no row in TABLE: {missing}"
    assert not extra, f"rows of TABLE for operations the schema does not have: {extra}"


def test_every_case_has_one_cell_per_actor() -> None:
    for operation, cases in TABLE.items():
        assert cases, operation
        for case in cases:
            assert len(case.expect) == len(ACTORS), (operation, case.label)
            for cell in case.expect:
                status = cell[0] if isinstance(cell, tuple) else cell
                if status in ("listed", "hidden"):
                    assert case.listed is not None, (operation, case.label)
                    assert operation[0] == "GET", (operation, case.label)
                else:
                    assert isinstance(status, int), (operation, case.label, cell)


def _params() -> list[Any]:
    params = []
    for (method, path), cases in sorted(TABLE.items()):
        for index, case in enumerate(cases):
            for actor, cell in zip(ACTORS, case.expect, strict=True):
                marks = []
                if isinstance(cell, tuple):
                    cell, why = cell
                    marks.append(pytest.mark.xfail(strict=True, reason=why))
                params.append(
                    pytest.param(
                        method,
                        path,
                        index,
                        actor,
                        cell,
                        marks=marks,
                        id=f"{method} {path} [{case.label}] as {actor}",
                    )
                )
    return params


# --- what a refused write must leave as it was ---------------------------------------------------

SNAPSHOT: tuple[type[models.Model], ...] = (
    User,
    Device,
    EmailVerification,
    Couple,
    CoupleStatusChange,
    Membership,
    Invitation,
    TherapySession,
    Attendance,
    Commitment,
    CheckIn,
    WeeklyReport,
    DigestDelivery,
    Removal,
    SafetyAlert,
    SafeContact,
    Consent,
    SessionFeedback,
    Goal,
    AwayPeriod,
)


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables a write can touch, every field (`updated_at` included);
    `last_login` aside, which signing in moves and no request here does."""
    return {
        model.__name__: [
            {k: v for k, v in row.items() if k != "last_login"}
            for row in model._default_manager.order_by("pk").values()
        ]
        for model in SNAPSHOT
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "index", "actor", "expected"), _params())
def test_every_operation_as_every_actor(
    client_for: Callable[[User | None], APIClient],
    method: str,
    path: str,
    index: int,
    actor: str,
    expected: int | str,
) -> None:
    world = CoverageWorld()
    if actor in ("former_partner", "later_partner"):
        world.change_partners()
    case = TABLE[(method, path)][index]
    if case.setup is not None:
        case.setup(world)
    user = world.actor(actor)
    client = client_for(user)
    body = case.body(world, user) if case.body is not None else None
    before = _snapshot() if method in WRITES else None

    response = client.generic(
        method,
        case.path.format(w=world),
        *(() if body is None else (json.dumps(body), "application/json")),
    )

    if expected in ("listed", "hidden"):
        assert response.status_code == 200, response.content
        assert case.listed is not None
        ids = {
            str(item["id"]) if isinstance(item, dict) else str(item)
            for item in case.results(response.json())
        }
        assert (case.listed.format(w=world) in ids) == (expected == "listed"), ids
        return
    assert response.status_code == expected, response.content
    if expected == 401:
        codes = {"not_authenticated", "authentication_failed"}
        if path != "/api/v1/auth/token/refresh/":
            assert response.json()["errors"][0]["code"] in codes
    if case.then is not None and 200 <= response.status_code < 300:
        assert user is not None
        case.then(world, user)
    if before is not None and 400 <= response.status_code < 500:
        assert _snapshot() == before, "a refused write changed the database"


# --- SPEC section 4 against the schema ------------------------------------------------------------

SPEC_PATHS = (ROOT.parent / "shared" / "SPEC.md", Path("/work/shared/SPEC.md"))

# Endpoints SPEC v1.1 names that are not built yet, with the issue that builds them. When one is
# built it joins the schema: take it out of here and give it its row in TABLE.
UNBUILT: dict[tuple[str, str], str] = {}
# In the schema, not in SPEC's table: documented in docs/architecture.md.
EXTRAS = {("GET", "/api/v1/invitations/{id}/")}
# In SPEC's table, served outside the API and its schema.
OUTSIDE_THE_SCHEMA = {("GET", "/healthz"), ("GET", "/readyz")}

# SPEC section 4 as of v1.1, for a checkout without ../shared beside it (kept in step by
# test_the_copy_of_spec_section_4_is_current wherever SPEC.md is there).
SPEC_ENDPOINTS_COPY = """
GET /api/v1/meta/
POST /api/v1/auth/register/
POST /api/v1/auth/verify/
POST /api/v1/auth/token/
POST /api/v1/auth/token/refresh/
POST /api/v1/auth/logout/
POST /api/v1/auth/password/change/
POST /api/v1/auth/password/reset/
POST /api/v1/auth/password/reset/confirm/
GET PATCH DELETE /api/v1/me/
POST /api/v1/me/email/
GET /api/v1/me/export/
GET POST /api/v1/me/devices/
DELETE /api/v1/me/devices/{id}/
GET POST /api/v1/me/consents/
GET POST /api/v1/couples/
GET PATCH /api/v1/couples/{id}/
POST /api/v1/couples/{id}/share-balance/
POST /api/v1/couples/{id}/leave/
POST /api/v1/couples/{id}/remove-member/
GET PUT /api/v1/couples/{id}/goal/
GET /api/v1/couples/{id}/goals/
GET PUT /api/v1/couples/{id}/safe-contact/
POST /api/v1/invitations/{id}/approve/
GET /api/v1/safety-alerts/
POST /api/v1/safety-alerts/{id}/acknowledge/
GET POST /api/v1/invitations/
POST /api/v1/invitations/accept/
POST /api/v1/invitations/{id}/revoke/
GET POST /api/v1/sessions/
GET PATCH DELETE /api/v1/sessions/{id}/
PUT /api/v1/sessions/{id}/attendance/
GET PUT /api/v1/sessions/{id}/feedback/
GET POST /api/v1/commitments/
GET PATCH /api/v1/commitments/{id}/
POST /api/v1/commitments/{id}/keep/
POST /api/v1/commitments/{id}/miss/
POST /api/v1/commitments/{id}/release/
POST /api/v1/commitments/{id}/renew/
GET /api/v1/checkins/
GET PUT DELETE /api/v1/checkins/{date}/
GET POST /api/v1/away/
GET PATCH DELETE /api/v1/away/{id}/
GET /api/v1/removals/
GET /api/v1/reports/
GET /api/v1/reports/{id}/
GET /api/v1/reports/current/
POST /api/v1/reports/recompute/
GET /api/v1/caseload/
GET POST /api/v1/digests/unsubscribe/
GET /healthz
GET /readyz
"""


def _endpoints_from_copy() -> set[tuple[str, str]]:
    return {
        (method, line.split()[-1])
        for line in SPEC_ENDPOINTS_COPY.strip().splitlines()
        for method in line.split()[:-1]
    }


def _endpoints_from_spec(text: str) -> set[tuple[str, str]]:
    """Every `METHOD[, METHOD] /path` in the first column of SPEC section 4's table; a
    `/keep/, /miss/` continuation is relative to the path before it."""
    section = text.split("## 4. Endpoints", 1)[1].split("\n## ", 1)[0]
    found: set[tuple[str, str]] = set()
    last = ("", "")
    for row in section.splitlines():
        if not row.startswith("| `"):
            continue
        first = row.split("|")[1]
        for chunk in re.findall(r"`([^`]+)`", first):
            methods = re.findall(r"\b(GET|POST|PUT|PATCH|DELETE)\b", chunk)
            target = chunk.split()[-1].split("?")[0]
            if not methods and target.startswith("/") and last[0]:
                # `/miss/` after `POST /api/v1/commitments/{id}/keep/`
                method, previous = last
                target = previous.rsplit("/", 2)[0] + target
                methods = [method]
            for method in methods:
                found.add((method, target))
                last = (method, target)
    return found


def _spec_endpoints() -> tuple[set[tuple[str, str]], str]:
    for path in SPEC_PATHS:
        if path.exists():
            return _endpoints_from_spec(path.read_text()), str(path)
    return _endpoints_from_copy(), "the copy in this test"


def test_the_copy_of_spec_section_4_is_current() -> None:
    for path in SPEC_PATHS:
        if path.exists():
            assert _endpoints_from_spec(path.read_text()) == _endpoints_from_copy(), path
            return
    pytest.skip("no SPEC.md beside the checkout: the copy is what the next test reads")


def test_spec_and_schema_agree() -> None:
    spec, source = _spec_endpoints()
    built = spec - OUTSIDE_THE_SCHEMA
    assert not (set(UNBUILT) - spec), f"UNBUILT names what SPEC ({source}) lacks"
    now_built = sorted(set(UNBUILT) & OPERATIONS)
    assert not now_built, f"built, so out of UNBUILT and into TABLE: {now_built}"
    missing = sorted(built - set(UNBUILT) - OPERATIONS)
    assert not missing, f"SPEC ({source}) names endpoints the schema lacks: {missing}"
    undocumented = sorted(OPERATIONS - built - EXTRAS)
    assert not undocumented, f"the schema has endpoints SPEC ({source}) lacks: {undocumented}"


@pytest.mark.django_db
def test_the_snapshot_sees_a_moved_updated_at_and_a_new_removal() -> None:
    """The refused-write check has teeth: it notices the smallest change a write could make."""
    world = CoverageWorld()
    before = _snapshot()
    Commitment.objects.filter(pk=world.shared.pk).update(
        updated_at=world.shared.updated_at + dt.timedelta(microseconds=1)
    )
    assert _snapshot() != before
    before = _snapshot()
    Removal.objects.create(user=world.other_partner, type="checkin", object_id=world.checkin.pk)
    assert _snapshot() != before

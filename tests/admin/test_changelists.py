"""Every admin list renders, and costs the same number of queries for 5 rows as for 60."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.models import CHANGE
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Device
from accounts.models import EmailVerification
from accounts.models import RefreshRotation
from accounts.models import User
from engagement.models import Attendance
from engagement.models import AuditEvent
from engagement.models import AwayPeriod
from engagement.models import CheckIn
from engagement.models import Commitment
from engagement.models import Consent
from engagement.models import Couple
from engagement.models import CoupleStatusChange
from engagement.models import DigestDelivery
from engagement.models import Goal
from engagement.models import IdempotencyRecord
from engagement.models import Invitation
from engagement.models import Membership
from engagement.models import ReminderDelivery
from engagement.models import Removal
from engagement.models import ReportReaderState
from engagement.models import SafeContact
from engagement.models import SafetyAlert
from engagement.models import SafetyAlertDelivery
from engagement.models import SessionFeedback
from engagement.models import TherapySession
from engagement.models import WeeklyReport
from tests.admin.report_rows import MONDAY
from tests.admin.report_rows import partner_entry

pytestmark = pytest.mark.django_db

ROWS = 60  # at least this many rows of every model
SMALL_PAGE, LARGE_PAGE = 5, ROWS
QUERY_BUDGET = 12


def populate(n: int) -> None:
    """n couples with two partners and a therapist each, and n or more rows of every model
    the admin lists, written in bulk."""
    now = timezone.now()
    users = User.objects.bulk_create(
        User(email=f"user{i}@example.com", display_name=f"User {i}", password="!")
        for i in range(3 * n)
    )
    couples = Couple.objects.bulk_create(Couple(name=f"Couple {i}") for i in range(n))
    CoupleStatusChange.objects.bulk_create(
        CoupleStatusChange(couple=c, status="active") for c in couples
    )
    memberships = []
    for i, couple in enumerate(couples):
        p1, p2, therapist = users[3 * i : 3 * i + 3]
        memberships += [
            Membership(couple=couple, user=p1, role="partner", partner_slot=1),
            Membership(couple=couple, user=p2, role="partner", partner_slot=2),
            Membership(couple=couple, user=therapist, role="therapist"),
        ]
    Membership.objects.bulk_create(memberships)
    partners = [(users[3 * i], users[3 * i + 1], users[3 * i + 2]) for i in range(n)]
    teams = list(zip(couples, partners, strict=True))  # (couple, (partner, partner, therapist))
    today = now.date()
    Invitation.objects.bulk_create(
        Invitation(
            couple=couple,
            email=f"invitee{i}@example.com",
            role="partner",
            invited_by=partners[i][2],
            token_hash=hashlib.sha256(str(i).encode()).hexdigest(),
            expires_at=now + dt.timedelta(days=7),
        )
        for i, couple in enumerate(couples)
    )
    sessions = TherapySession.objects.bulk_create(
        TherapySession(
            couple=couple, kind="joint", starts_at=now, status="completed", therapist_notes="n"
        )
        for couple in couples
    )
    Attendance.objects.bulk_create(
        Attendance(session=session, partner=partner, status="attended", participation=2)
        for session, team in zip(sessions, partners, strict=True)
        for partner in team[:2]
    )
    Commitment.objects.bulk_create(
        Commitment(
            couple=c, owner=p1, created_by=t, title="Walk", due_on=today, visibility="couple"
        )
        for c, (p1, _, t) in teams
    )
    CheckIn.objects.bulk_create(
        CheckIn(couple=c, author=partner, date=today, mood=3, visibility="private", note="x")
        for c, team in teams
        for partner in team[:2]
    )
    # Issue #17: feedback on each session, each partner's goal, an away period each.
    SessionFeedback.objects.bulk_create(
        SessionFeedback(
            session=session,
            partner=partner,
            understood=7,
            helpful=6,
            spoke_freely=5,
            coming_back=8,
            comment="c",
        )
        for session, team in zip(sessions, partners, strict=True)
        for partner in team[:2]
    )
    Goal.objects.bulk_create(
        Goal(couple=c, partner=partner, goal="work_on_it", note="n")
        for c, team in teams
        for partner in team[:2]
    )
    AwayPeriod.objects.bulk_create(
        AwayPeriod(couple=c, partner=p1, starts_on=today, ends_on=today, visibility="therapist")
        for c, (p1, _, _) in teams
    )
    WeeklyReport.objects.bulk_create(
        WeeklyReport(
            couple=c,
            week_start=MONDAY,
            balance="one_sided",
            gap=50.0,
            less_engaged_partner=partners[i][1],
            partners=[partner_entry(partners[i][0], 90.0), partner_entry(partners[i][1], 40.0)],
            flags=[
                {"code": "engagement_gap_streak", "partner": str(partners[i][1].pk), "evidence": {}}
            ],
        )
        for i, c in enumerate(couples)
    )
    ReportReaderState.objects.bulk_create(
        ReportReaderState(report=report, reader_key=key, view_hash="0" * 64)
        for report in WeeklyReport.objects.all()
        for key in ("therapists", str(report.less_engaged_partner_id))
    )
    DigestDelivery.objects.bulk_create(
        DigestDelivery(user=u, kind="partner", week_start=MONDAY, status="failed", error="refused")
        for u in users[:n]
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=u,
            channel="api",
            action="report.retrieve",
            object_type="report",
            object_ids=[],
            couple_id=couples[0].pk,
        )
        for u in users[:n]
    )
    Removal.objects.bulk_create(
        Removal(user=u, type="checkin", object_id=couples[0].pk) for u in users[:n]
    )
    IdempotencyRecord.objects.bulk_create(
        IdempotencyRecord(
            user=u,
            method="POST",
            path="/api/v1/couples/",
            key=str(i),
            request_fingerprint="f",
            response_status=201,
            response_body={},
        )
        for i, u in enumerate(users[:n])
    )
    EmailVerification.objects.bulk_create(
        EmailVerification(user=u, email=u.email, purpose="register", expires_at=now)
        for u in users[:n]
    )
    RefreshRotation.objects.bulk_create(
        RefreshRotation(
            jti=f"jti-{i}", user=u, rotated_at=now, replacement_jti=f"next-{i}", expires_at=now
        )
        for i, u in enumerate(users[:n])
    )
    Device.objects.bulk_create(
        Device(user=u, platform="android", token=f"t{i}", token_digest=f"d{i}")
        for i, u in enumerate(users[:n])
    )
    ReminderDelivery.objects.bulk_create(
        ReminderDelivery(user=u, local_date=now.date(), channel="push", status="sent")
        for u in users[:n]
    )
    alerts = SafetyAlert.objects.bulk_create(
        SafetyAlert(couple=c, partner=partners[i][0], date=now.date())
        for i, c in enumerate(couples)
    )
    SafetyAlertDelivery.objects.bulk_create(
        SafetyAlertDelivery(alert=a, recipient=partners[i][2], status="failed", error="refused")
        for i, a in enumerate(alerts)
    )
    SafeContact.objects.bulk_create(
        SafeContact(couple=c, partner=partners[i][0], phone="+34 600 000 000")
        for i, c in enumerate(couples)
    )
    Consent.objects.bulk_create(
        Consent(user=u, document="data-rules", version=str(i)) for i, u in enumerate(users[:n])
    )
    LogEntry.objects.log_actions(
        user_id=users[0].pk, queryset=couples, action_flag=CHANGE, change_message="Changed."
    )


def _registered() -> list[type[Model]]:
    """Our models' admins and the admin log (auth's and the JWT blacklist's are their own)."""
    ours = [
        model
        for model in admin.site._registry
        if model._meta.app_label in ("accounts", "engagement") or model is LogEntry
    ]
    return sorted(ours, key=lambda model: model._meta.label)


def _url(model: type[Model]) -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/"


@pytest.fixture
def crowded(staff: User) -> None:
    populate(ROWS)


def test_every_model_has_an_admin() -> None:
    from django.apps import apps

    ours = [m for m in apps.get_models() if m._meta.app_label in ("accounts", "engagement")]
    assert set(ours) <= set(admin.site._registry)


@pytest.mark.parametrize("model", _registered(), ids=lambda m: m._meta.label)
def test_a_list_costs_the_same_queries_whatever_its_page_size(
    crowded: None,
    staff_client: Client,
    model: type[Model],
    monkeypatch: pytest.MonkeyPatch,
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    model_admin = admin.site._registry[model]
    monkeypatch.setattr(model_admin, "list_per_page", SMALL_PAGE)
    with CaptureQueriesContext(connection) as small:
        response = staff_client.get(_url(model))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == SMALL_PAGE

    monkeypatch.setattr(model_admin, "list_per_page", LARGE_PAGE)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = staff_client.get(_url(model))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == LARGE_PAGE
    assert len(small.captured_queries) <= QUERY_BUDGET


def _searched_values(model: type[Model], pk: Any) -> list[str]:
    """What the admin's search looks at for one row: each search field's value(s), lowercase."""
    fields = [field.lstrip("^=@") for field in admin.site._registry[model].search_fields]
    rows = model._default_manager.filter(pk=pk).values(*fields)
    return [str(value).lower() for row in rows for value in row.values() if value is not None]


@pytest.mark.parametrize("model", _registered(), ids=lambda m: m._meta.label)
def test_searching_a_list_finds_the_row_asked_for_and_only_matching_rows(
    crowded: None, staff_client: Client, model: type[Model]
) -> None:
    target = model._default_manager.order_by("pk")[7]
    # The most telling value the search may look for: the one fewest rows share.
    values = [v for v in _searched_values(model, target.pk) if v]
    everyone = [
        _searched_values(model, pk) for pk in model._default_manager.values_list("pk", flat=True)
    ]
    term = min(values, key=lambda v: (sum(v in row for row in everyone), -len(v)))

    response = staff_client.get(_url(model), {"q": term})

    assert response.status_code == 200
    changelist = response.context["cl"]
    found = list(changelist.result_list)
    assert target.pk in {row.pk for row in found}, f"searching {term!r} missed the row"
    # Django matches every word of the query in some search field of each row found.
    for row in found:
        searched = _searched_values(model, row.pk)
        for word in term.split():
            assert any(word in value for value in searched), (term, row.pk, searched)
    assert changelist.result_count < changelist.full_result_count, f"{term!r} narrowed nothing"

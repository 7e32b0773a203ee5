"""`GET /me/export/`: everything stored about the caller, and nothing anyone else keeps private."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from accounts.models import User
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import WeeklyReport
from engagement.selectors.reports import report_for_viewer
from tests.accounts.client import CommittingAPIClient
from tests.accounts.conftest import SignedIn
from tests.factories import AttendanceFactory
from tests.factories import CheckInFactory
from tests.factories import CommitmentFactory
from tests.factories import TherapySessionFactory
from tests.factories import make_couple

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/me/export/"
TODAY = dt.date.today()
WEEK = TODAY - dt.timedelta(days=TODAY.weekday() + 7)

FIGURES = {
    "engagement_score": 80.0,
    "attendance_rate": 1.0,
    "participation": 0.33,
    "checkin_rate": 0.75,
    "follow_through": 0.5,
    "checkin_days": 3,
    "resentment_avg": 2.0,
}
OTHER_FIGURES = {**FIGURES, "engagement_score": 12.5, "resentment_avg": 4.75}

SECRETS = (
    "OTHER-PRIVATE-7f3a",
    "OTHER-THERAPIST-91b2",
    "OTHER-COUPLE-5c1d",
    "THERAPIST-NOTES-22aa",
    "INDIVIDUAL-NOTES-0b0e",
    "OTHER-COMMITMENT-e4d0",
    "OUTSIDER-CHECKIN-a9a9",
    "FLAG-EVIDENCE-4242",
)


class Scene:
    """A couple where the caller, their partner and the therapist each left something."""

    def __init__(self) -> None:
        # Created (and joined) before the reported week: a partner reads weeks before the
        # creation week only from the earliest one holding a record they may read (SPEC 5).
        long_ago = timezone.now() - dt.timedelta(weeks=8)
        self.couple, self.me, self.other, therapist = make_couple(
            created_at=long_ago, joined_at=long_ago
        )
        assert therapist is not None
        self.therapist = therapist
        couple, me, other = self.couple, self.me, self.other
        yesterday = TODAY - dt.timedelta(days=1)
        self.own_private = CheckInFactory.create(
            couple=couple, author=me, visibility="private", note="OWN-PRIVATE-NOTE"
        )
        CheckInFactory.create(
            couple=couple, author=me, date=yesterday, visibility="couple", note="OWN-SHARED-NOTE"
        )
        CheckInFactory.create(couple=couple, author=other, visibility="private", note=SECRETS[0])
        CheckInFactory.create(
            couple=couple, author=other, date=yesterday, visibility="therapist", note=SECRETS[1]
        )
        CheckInFactory.create(
            couple=couple,
            author=other,
            date=yesterday - dt.timedelta(days=1),
            visibility="couple",
            note=SECRETS[2],
        )
        self.joint = TherapySessionFactory.create(
            couple=couple, status="completed", therapist_notes=SECRETS[3]
        )
        AttendanceFactory.create(session=self.joint, partner=me, participation=1)
        AttendanceFactory.create(session=self.joint, partner=other, participation=3)
        self.individual = TherapySessionFactory.create(
            couple=couple, kind="individual", focus_partner=other, therapist_notes=SECRETS[4]
        )
        CommitmentFactory.create(couple=couple, owner=me, created_by=me, title="OWN-PROMISE")
        CommitmentFactory.create(
            couple=couple,
            owner=me,
            created_by=therapist,
            title="OWN-HOMEWORK",
            visibility="therapist",
        )
        CommitmentFactory.create(
            couple=couple,
            owner=other,
            created_by=therapist,
            visibility="therapist",
            title=SECRETS[5],
        )
        elsewhere, outsider, _, _ = make_couple()
        CheckInFactory.create(couple=elsewhere, author=outsider, note=SECRETS[6])
        self.report = WeeklyReport.objects.create(
            couple=couple,
            week_start=WEEK,
            balance="one_sided",
            gap=67.5,
            gap_trend="widening",
            less_engaged_partner=other,
            partners=[
                {"partner": str(me.id), **FIGURES},
                {"partner": str(other.id), **OTHER_FIGURES},
            ],
            flags=[
                {
                    "code": "low_engagement_streak",
                    "partner": str(other.id),
                    "evidence": {"note": SECRETS[7]},
                }
            ],
            recommendations=[{"code": "assess_commitment", "partner": str(other.id)}],
            methodology="v1.1",
            shared_balance="leaning",
            shared_gap=22.5,
            shared_gap_trend="stable",
            partner_views=[
                {
                    "partner": str(me.id),
                    "engagement_score_without_participation": 85.0,
                    "shared_engagement_score": 60.0,
                },
                {
                    "partner": str(other.id),
                    "engagement_score_without_participation": 11.5,
                    "shared_engagement_score": 37.5,
                },
            ],
        )

    def share_balance(self) -> None:
        Couple.objects.filter(pk=self.couple.pk).update(partners_see_balance=True)
        Membership.objects.filter(couple=self.couple, role="partner").update(shares_balance=True)
        self.couple.refresh_from_db()


@pytest.fixture
def scene() -> Scene:
    return Scene()


def export(signed_in: SignedIn, user: User) -> dict[str, Any]:
    client, _ = signed_in(user)
    response = client.get(EXPORT)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_export_contains_the_callers_own_data(scene: Scene, signed_in: SignedIn) -> None:
    body = export(signed_in, scene.me)

    assert (body["format"], body["version"]) == ("duet-export", 1)
    assert body["exported_at"].endswith("Z")
    assert body["user"]["id"] == str(scene.me.id)
    assert body["user"]["email"] == scene.me.email
    assert [c["id"] for c in body["couples"]] == [str(scene.couple.id)]
    assert body["couples"][0]["role"] == "partner"
    assert {c["note"] for c in body["checkins"]} == {"OWN-PRIVATE-NOTE", "OWN-SHARED-NOTE"}
    assert {c["title"] for c in body["commitments"]} == {"OWN-PROMISE", "OWN-HOMEWORK"}
    assert [s["id"] for s in body["sessions"]] == [str(scene.joint.id)]
    assert body["sessions"][0]["attendance"] == {"status": "attended"}
    assert [r["id"] for r in body["reports"]] == [str(scene.report.id)]


def test_export_never_contains_what_others_keep_private(scene: Scene, signed_in: SignedIn) -> None:
    body = export(signed_in, scene.me)
    text = json.dumps(body)

    for secret in SECRETS:
        assert secret not in text
    assert str(scene.individual.id) not in text
    assert "therapist_notes" not in text
    # No participation rating, the other partner's (3) nor the caller's own (1): SPEC 1 and 4.
    assert all("participation" not in s["attendance"] for s in body["sessions"] if s["attendance"])
    assert '"participation": 3' not in text
    assert '"participation": 1' not in text
    # As numbers, not digits inside a timestamp ("21:30:04.753Z" holds "4.75").
    numbers = re.findall(r"(?<![\d.:])\d+\.\d+(?![\d])", text)
    assert str(OTHER_FIGURES["engagement_score"]) not in numbers
    assert str(OTHER_FIGURES["resentment_avg"]) not in numbers


def test_export_shows_reports_in_the_partner_view(scene: Scene, signed_in: SignedIn) -> None:
    report = export(signed_in, scene.me)["reports"][0]

    assert report["view"] == "partner"
    own, others = sorted(report["partners"], key=lambda p: p["partner"] != str(scene.me.id))
    # Own figures without participation, and the own score computed without it (SPEC 4).
    assert own == {
        "partner": str(scene.me.id),
        **FIGURES,
        "participation": None,
        "engagement_score": 85.0,
    }
    assert others == {"partner": str(scene.other.id), **dict.fromkeys(OTHER_FIGURES)}
    assert report["flags"] == report["recommendations"] == []
    assert report["less_engaged_partner"] is None
    # Not shared: partners_see_balance is off and nobody consented.
    assert (report["balance"], report["gap"], report["gap_trend"]) == (None, None, None)


def test_export_shows_the_balance_once_both_partners_share_it(
    scene: Scene, signed_in: SignedIn
) -> None:
    scene.share_balance()

    body = export(signed_in, scene.me)
    report = body["reports"][0]

    # The shared balance (SPEC 5.6), never the full one.
    assert (report["balance"], report["gap"], report["gap_trend"]) == (
        "leaning",
        22.5,
        "stable",
    )
    assert report["flags"] == []
    assert "67.5" not in json.dumps(body)
    assert "one_sided" not in json.dumps(body)


def test_a_safety_hold_changes_nothing_in_the_partner_view(scene: Scene) -> None:
    scene.share_balance()
    before = report_for_viewer(scene.report, scene.me)
    Couple.objects.filter(pk=scene.couple.pk).update(safety_hold=True)
    scene.report.refresh_from_db()

    assert report_for_viewer(scene.report, scene.me) == before
    assert before["balance"] == "leaning"


def test_one_partners_consent_is_not_enough_to_show_the_balance(scene: Scene) -> None:
    Couple.objects.filter(pk=scene.couple.pk).update(partners_see_balance=True)
    Membership.objects.filter(user=scene.me, couple=scene.couple).update(shares_balance=True)
    scene.report.refresh_from_db()

    assert report_for_viewer(scene.report, scene.me)["balance"] is None


def test_report_for_viewer_gives_therapists_the_full_view(scene: Scene) -> None:
    shaped = report_for_viewer(scene.report, scene.therapist)

    assert shaped["view"] == "full"
    assert shaped["less_engaged_partner"] == str(scene.other.id)
    assert shaped["flags"][0]["evidence"] == {"note": SECRETS[7]}
    assert {"partner": str(scene.other.id), **OTHER_FIGURES} in shaped["partners"]
    assert shaped["computed_at"].endswith("Z")


def test_report_for_viewer_fails_closed_for_someone_outside_the_couple(scene: Scene) -> None:
    _, outsider, _, _ = make_couple()

    shaped = report_for_viewer(scene.report, outsider)

    assert shaped["view"] == "partner"
    assert all(v is None for p in shaped["partners"] for k, v in p.items() if k != "partner")
    assert shaped["balance"] is None


def test_a_therapist_export_holds_their_memberships_not_their_clients_records(
    scene: Scene, signed_in: SignedIn
) -> None:
    body = export(signed_in, scene.therapist)

    assert [c["role"] for c in body["couples"]] == ["therapist"]
    assert body["sessions"] == body["checkins"] == body["commitments"] == body["reports"] == []


def test_export_keeps_own_check_ins_of_a_couple_left_since(
    scene: Scene, signed_in: SignedIn
) -> None:
    Membership.objects.filter(user=scene.me).update(left_at=timezone.now(), partner_slot=None)

    body = export(signed_in, scene.me)

    assert {c["note"] for c in body["checkins"]} == {"OWN-PRIVATE-NOTE", "OWN-SHARED-NOTE"}
    assert body["couples"][0]["left_at"] is not None
    assert body["sessions"] == body["reports"] == []
    assert SECRETS[2] not in json.dumps(body)


@time_machine.travel(dt.datetime(2026, 11, 25, 12, 30, tzinfo=dt.UTC), tick=False)
def test_export_is_throttled_per_user(scene: Scene, signed_in: SignedIn, settings: Any) -> None:
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "export": "2/hour"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client, _ = signed_in(scene.me)

    answers = [client.get(EXPORT).status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    assert int(client.get(EXPORT).headers["Retry-After"]) >= 1
    other_client, _ = signed_in(scene.other)
    assert other_client.get(EXPORT).status_code == 200


def test_export_needs_sign_in(api: CommittingAPIClient) -> None:
    assert api.get(EXPORT).status_code == 401


def test_export_holds_ones_own_check_ins_and_commitments_as_the_api_shows_them(
    scene: Scene, signed_in: SignedIn
) -> None:
    # One field list per resource: a field the API adds reaches the export without being
    # declared again; the export leaves out only what it names (engagement/privacy/export.py).
    client, _ = signed_in(scene.me)
    body = export(signed_in, scene.me)
    api_checkins = client.get("/api/v1/checkins/", {"author": str(scene.me.id)}).json()["results"]
    api_commitments = client.get("/api/v1/commitments/", {"owner": str(scene.me.id)}).json()

    # Beside them, the one field only the export reads: the caller's own safety answer.
    assert all("afraid_or_hurt" in c for c in body["checkins"])
    assert sorted(
        ({k: v for k, v in c.items() if k != "afraid_or_hurt"} for c in body["checkins"]),
        key=lambda c: c["id"],
    ) == sorted(
        ({k: v for k, v in c.items() if k != "author"} for c in api_checkins),
        key=lambda c: c["id"],
    )
    assert sorted(body["commitments"], key=lambda c: c["id"]) == sorted(
        (
            {k: v for k, v in c.items() if k not in ("owner", "created_by")}
            for c in api_commitments["results"]
        ),
        key=lambda c: c["id"],
    )

"""The other partner as the adversary, against reports, digests and the export (SPEC 1, 5.6).

Partner A reads everything the app shows and tries to infer what partner B kept from them. B
and the therapist do what A must not observe; A's every view must stay byte-identical.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from engagement.models import Attendance
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import TherapySession
from engagement.models import WeeklyReport
from engagement.reports.pipeline import compute_reports
from engagement.reports.staleness import mark_stale
from tests.conftest import ClientFor
from tests.engagement.reports.builders import away
from tests.engagement.reports.builders import checkin
from tests.engagement.reports.builders import commitment
from tests.engagement.reports.builders import feedback
from tests.engagement.reports.builders import goal
from tests.engagement.reports.builders import safety_alert
from tests.engagement.reports.builders import session
from tests.factories import make_couple

pytestmark = pytest.mark.django_db

UTC = dt.UTC
W = dt.date(2026, 11, 16)  # a Monday
COMPUTED = dt.datetime(2026, 11, 23, 12, tzinfo=UTC)  # the Monday after W
LATER = dt.datetime(2026, 11, 25, 20, tzinfo=UTC)  # within the backfill window of W
FRIDAY = dt.datetime(2026, 11, 20, 12, tzinfo=UTC)  # Friday of W
CURRENT = "/api/v1/reports/current/"
SINCE = (COMPUTED + dt.timedelta(hours=1)).isoformat()  # a sync cursor after the computation
LONG_AGO = dt.datetime(2026, 6, 1, tzinfo=UTC)


def at(day: dt.date, hour: int = 18) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=UTC)


class Scene:
    """A couple sharing its balance: A and B, their therapist, a week W with some of each."""

    def __init__(self) -> None:
        self.couple, self.a, self.b, therapist = make_couple(
            created_at=LONG_AGO, joined_at=LONG_AGO, partners_see_balance=True
        )
        assert therapist is not None
        self.therapist = therapist
        Membership.objects.filter(couple=self.couple, role="partner").update(shares_balance=True)
        self.joint = session(
            self.couple,
            at(W + dt.timedelta(days=1)),
            {self.a: ("attended", 2), self.b: ("attended", 1)},
        )
        checkin(self.couple, self.a, W, "couple")
        checkin(self.couple, self.b, W + dt.timedelta(days=1), "couple")
        commitment(self.couple, self.b, W + dt.timedelta(days=2), "kept")

    def compute(self, now: dt.datetime) -> None:
        with time_machine.travel(now, tick=False):
            compute_reports({self.couple.pk: [W]}, now=now)

    def computed_report(self) -> WeeklyReport:
        """The report of week W, computed at COMPUTED."""
        self.compute(COMPUTED)
        return WeeklyReport.objects.get(couple=self.couple, week_start=W)

    def hidden_acts_of_b_and_the_therapist(self, week: dt.date) -> None:
        """Everything A may not observe, in week ``week``."""
        checkin(self.couple, self.b, week + dt.timedelta(days=2), "private", wellbeing=1)
        checkin(self.couple, self.b, week + dt.timedelta(days=3), "therapist", resentment=5)
        session(
            self.couple,
            at(week + dt.timedelta(days=3)),
            {self.b: ("attended", 3)},
            focus_partner=self.b,
        )
        commitment(self.couple, self.b, week + dt.timedelta(days=4), "kept", visibility="therapist")
        Attendance.objects.filter(session=self.joint, partner=self.b).update(participation=3)
        TherapySession.objects.filter(pk=self.joint.pk).update(therapist_notes="B is afraid")


@pytest.fixture
def scene() -> Scene:
    return Scene()


def read(client: APIClient, path: str, **params: Any) -> tuple[bytes, str | None]:
    response = client.get(path, params)
    assert response.status_code == 200, response.content
    return response.content, response.headers.get("ETag")


def week_so_far(client: APIClient, scene: Scene) -> tuple[bytes, str | None]:
    """The scene's couple's week so far as the client reads it, with its ETag."""
    return read(client, CURRENT, couple=str(scene.couple.pk))


def test_the_other_partners_hidden_records_never_move_my_week_so_far(
    scene: Scene, client_for: ClientFor
) -> None:
    # Finding 1 of issue 13: A reads /reports/current/, B saves a private check-in, A's gap
    # moved by 100/target at once. The shared balance counts shared records only.
    with time_machine.travel(FRIDAY, tick=False):
        a = client_for(scene.a)
        before = week_so_far(a, scene)
        body = a.get(CURRENT, {"couple": str(scene.couple.pk)}).json()
        assert body["balance"] is not None  # the balance is shared: the attack has a target

        scene.hidden_acts_of_b_and_the_therapist(W)

        assert week_so_far(a, scene) == before
        # The therapist's full view did move.
        therapist = client_for(scene.therapist).get(CURRENT, {"couple": str(scene.couple.pk)})
        b_entry = therapist.json()["partners"][1]
        assert b_entry["checkin_days"] == 3


def test_a_backfilled_private_checkin_recomputed_leaves_my_report_untouched(
    scene: Scene, client_for: ClientFor
) -> None:
    # Finding 2: a recomputation caused by what A cannot read moves nothing A can observe:
    # the report's bytes, its ETag, its revision, computed_at, updated_at and the sync feed.
    report = scene.computed_report()
    detail = f"/api/v1/reports/{report.pk}/"
    with time_machine.travel(COMPUTED + dt.timedelta(hours=2), tick=False):
        a = client_for(scene.a)
        before = read(a, detail)
        feed_before = a.get("/api/v1/reports/", {"updated_since": SINCE}).json()["results"]
    assert feed_before == []

    with time_machine.travel(LATER, tick=False):
        scene.hidden_acts_of_b_and_the_therapist(W)
    scene.compute(LATER + dt.timedelta(minutes=5))

    with time_machine.travel(LATER + dt.timedelta(hours=1), tick=False):
        a = client_for(scene.a)
        assert read(a, detail) == before
        body = a.get(detail).json()
        assert (body["revision"], body["computed_at"], body["updated_at"]) == (
            1,
            "2026-11-23T12:00:00.000Z",
            "2026-11-23T12:00:00.000Z",
        )
        assert a.get("/api/v1/reports/", {"updated_since": SINCE}).json()["results"] == []
        # The therapist's view changed: their values moved, and the feed shows it.
        therapist = client_for(scene.therapist)
        full = therapist.get(detail).json()
        assert full["revision"] == 2
        assert full["updated_at"] == "2026-11-25T20:05:00.000Z"
        feed = therapist.get("/api/v1/reports/", {"updated_since": SINCE}).json()["results"]
        assert [r["id"] for r in feed] == [str(report.pk)]


def test_a_safety_hold_changes_nothing_in_my_reports(scene: Scene, client_for: ClientFor) -> None:
    # Finding 4: under a hold A saw `balance: null` with both consents true.
    report = scene.computed_report()
    with time_machine.travel(COMPUTED + dt.timedelta(hours=1), tick=False):
        a = client_for(scene.a)
        before = read(a, f"/api/v1/reports/{report.pk}/")
        listed = read(a, "/api/v1/reports/")
        Couple.objects.filter(pk=scene.couple.pk).update(safety_hold=True)
        assert read(a, f"/api/v1/reports/{report.pk}/") == before
        assert read(a, "/api/v1/reports/") == listed


def test_withdrawn_consent_moves_my_report_into_my_feed(
    scene: Scene, client_for: ClientFor
) -> None:
    # The converse (SPEC 1): what A may read changed, so A's values move and the feed shows it.
    report = scene.computed_report()
    with time_machine.travel(COMPUTED + dt.timedelta(hours=2), tick=False):
        response = client_for(scene.b).post(
            f"/api/v1/couples/{scene.couple.pk}/share-balance/", {"share": False}, format="json"
        )
        assert response.status_code == 200
    with time_machine.travel(COMPUTED + dt.timedelta(hours=3), tick=False):
        a = client_for(scene.a)
        feed = a.get("/api/v1/reports/", {"updated_since": SINCE}).json()["results"]
        assert [r["id"] for r in feed] == [str(report.pk)]
        assert (feed[0]["revision"], feed[0]["balance"]) == (2, None)
        assert feed[0]["updated_at"] == "2026-11-23T14:00:00.000Z"
        # The therapist's full view did not change: their values stay.
        full = client_for(scene.therapist).get(f"/api/v1/reports/{report.pk}/").json()
        assert full["revision"] == 1


def test_the_shared_balance_is_what_a_could_count_themselves(
    scene: Scene, client_for: ClientFor
) -> None:
    # A's own score minus the gap was B's exact score. Now the gap is that of the shared
    # balance, from records A can read: B's private and therapist-only days do not count.
    with time_machine.travel(LATER, tick=False):
        scene.hidden_acts_of_b_and_the_therapist(W)
    scene.compute(LATER + dt.timedelta(minutes=5))
    report = WeeklyReport.objects.get(couple=scene.couple, week_start=W)
    with time_machine.travel(LATER + dt.timedelta(hours=1), tick=False):
        body = client_for(scene.a).get(f"/api/v1/reports/{report.pk}/").json()
    # A: joint session attended, 1 `couple` day of 4: 100 x (0.35 + 0.20 x 0.25) / 0.55 = 72.7.
    # B: attended, 1 `couple` day, the `couple` promise kept:
    # 100 x (0.35 + 0.05 + 0.30) / 0.85 = 82.4. Gap 9.7.
    assert (body["balance"], body["gap"]) == ("balanced", 9.7)
    # A's own score leaves participation out, and never shows it.
    assert body["partners"][0]["participation"] is None
    assert body["partners"][0]["engagement_score"] == 72.7
    assert set(body["partners"][1].values()) == {str(scene.b.pk), None}


def _a_digest(scene: Scene, now: dt.datetime) -> tuple[str, str]:
    from engagement.digests import compose
    from engagement.digests.sources import DigestSources

    with time_machine.travel(now, tick=False):
        sources = DigestSources.load(user_ids=[scene.a.id], weeks=[W], now=now)
        [seat] = sources.seats(scene.a.id, Membership.Role.PARTNER)
        section = compose.partner_section(sources, seat, W)
        assert section is not None
        digest = compose.partner_digest(scene.a, [section], W, "https://api.duet.test/unsub")
    return digest.text, digest.html


def test_my_digest_tells_nothing_of_what_b_and_the_therapist_keep_from_me(scene: Scene) -> None:
    # An inbox may be shared (SPEC 7): the digest holds only what the other partner could
    # read in the app. Everything hidden, a recomputation and a safety hold: not a byte moves.
    scene.compute(COMPUTED)
    before = _a_digest(scene, LATER)
    assert "Leaning" in before[0] or "Balanced" in before[0]  # the shared balance is there

    with time_machine.travel(LATER, tick=False):
        scene.hidden_acts_of_b_and_the_therapist(W)
        # B's individual session next week, and a therapist-only commitment of A's due then.
        TherapySession.objects.create(
            couple=scene.couple,
            kind=TherapySession.Kind.INDIVIDUAL,
            focus_partner=scene.b,
            starts_at=LATER + dt.timedelta(days=1),
        )
    scene.compute(LATER + dt.timedelta(minutes=5))
    Couple.objects.filter(pk=scene.couple.pk).update(safety_hold=True)

    assert _a_digest(scene, LATER) == before


def test_a_report_appearing_to_me_when_b_shares_a_record_shows_in_my_feed(
    client_for: ClientFor,
) -> None:
    # B's private check-in two weeks before the couple's creation makes that week reported
    # (the therapist's), unseen by A. B then shares it: the week is A's to read from then on,
    # and it reaches A's sync feed with A's values of that moment (SPEC 1).
    created = dt.datetime(2026, 11, 18, 10, tzinfo=UTC)
    couple, a, b, _ = make_couple(created_at=created, joined_at=created)
    hidden = checkin(couple, b, dt.date(2026, 11, 10), "private")
    weeks = [dt.date(2026, 11, 9), dt.date(2026, 11, 16)]
    first_run = dt.datetime(2026, 11, 23, 12, tzinfo=UTC)
    with time_machine.travel(first_run, tick=False):
        compute_reports({couple.pk: weeks}, now=first_run)
        assert [
            r["week_start"] for r in client_for(a).get("/api/v1/reports/").json()["results"]
        ] == ["2026-11-16"]

    shared_at = first_run + dt.timedelta(hours=3)
    with time_machine.travel(shared_at, tick=False):
        type(hidden).objects.filter(pk=hidden.pk).update(visibility="couple")
        compute_reports({couple.pk: weeks}, now=shared_at)

    with time_machine.travel(shared_at + dt.timedelta(hours=1), tick=False):
        since = (first_run + dt.timedelta(hours=1)).isoformat()
        feed = client_for(a).get("/api/v1/reports/", {"updated_since": since}).json()["results"]
    assert [(r["week_start"], r["updated_at"]) for r in feed] == [
        ("2026-11-09", "2026-11-23T15:00:00.000Z")
    ]


def test_leaving_tells_me_of_no_report_i_never_could_read(client_for: ClientFor) -> None:
    # B's private check-in before the couple's creation makes a week reported that A never
    # reads; when A leaves, /removals/ must not hand A that report's id (it would reveal that
    # B recorded something then).
    created = dt.datetime(2026, 11, 18, 10, tzinfo=UTC)
    couple, a, b, _ = make_couple(created_at=created, joined_at=created)
    checkin(couple, b, dt.date(2026, 11, 10), "private")
    run = dt.datetime(2026, 11, 23, 12, tzinfo=UTC)
    with time_machine.travel(run, tick=False):
        compute_reports({couple.pk: [dt.date(2026, 11, 9), dt.date(2026, 11, 16)]}, now=run)
        readable = WeeklyReport.objects.get(week_start=dt.date(2026, 11, 16))
        client = client_for(a)
        assert client.post(f"/api/v1/couples/{couple.pk}/leave/").status_code == 204
        removals = client.get("/api/v1/removals/", {"since": "2026-01-01T00:00:00Z"}).json()
    reports = [r["id"] for r in removals["results"] if r["type"] == "report"]
    assert reports == [str(readable.pk)]


# --- v1.1: feedback, goals, away periods and safety alerts (SPEC 1, 5.6) -----------------------


def _v11_act(scene: Scene, act: str) -> None:
    """One thing A does that B may never observe, in week W."""
    if act == "feedback":
        feedback(scene.joint, scene.a, (1, 0, 0, 2))
    elif act == "goal":
        goal(scene.couple, scene.a, "separate_well", at(W + dt.timedelta(days=2)))
    elif act == "therapist_away":
        away(scene.couple, scene.a, W, W + dt.timedelta(days=6), "therapist")
    elif act == "safety_alert":
        safety_alert(scene.couple, scene.a, W + dt.timedelta(days=3), retracted=True)
    mark_stale(couple_id=scene.couple.pk, dates=[W])


@pytest.mark.parametrize("act", ["feedback", "goal", "therapist_away", "safety_alert"])
def test_my_report_is_byte_identical_whatever_the_other_partner_tells_the_therapist(
    scene: Scene, client_for: ClientFor, act: str
) -> None:
    """B reads the reports; A gives feedback, sets a goal, logs a therapist-only away period or
    answers the safety question. After a recomputation, B's bytes, ETag, revision and feed
    are as they were; the therapist's view moved."""
    # A goal of B's beside A's: a goal mismatch is then something the therapist alone learns.
    goal(scene.couple, scene.b, "work_on_it", at(W - dt.timedelta(days=3)))
    report = scene.computed_report()
    detail = f"/api/v1/reports/{report.pk}/"
    with time_machine.travel(COMPUTED + dt.timedelta(hours=2), tick=False):
        b = client_for(scene.b)
        before = read(b, detail)
        listed = read(b, "/api/v1/reports/")
        therapist_before = client_for(scene.therapist).get(detail).json()

    with time_machine.travel(LATER, tick=False):
        _v11_act(scene, act)
    scene.compute(LATER + dt.timedelta(minutes=5))

    with time_machine.travel(LATER + dt.timedelta(hours=1), tick=False):
        b = client_for(scene.b)
        assert read(b, detail) == before
        assert read(b, "/api/v1/reports/") == listed
        assert b.get("/api/v1/reports/", {"updated_since": SINCE}).json()["results"] == []
        full = client_for(scene.therapist).get(detail).json()
    assert full != therapist_before
    assert full["revision"] == 2


@pytest.mark.parametrize("act", ["feedback", "goal", "therapist_away", "safety_alert"])
def test_my_week_so_far_never_moves_with_the_other_partners_v11_records(
    scene: Scene, client_for: ClientFor, act: str
) -> None:
    with time_machine.travel(FRIDAY, tick=False):
        b = client_for(scene.b)
        before = week_so_far(b, scene)
        _v11_act(scene, act)
        assert week_so_far(b, scene) == before


def test_my_own_safety_answer_never_reads_back_to_me(scene: Scene, client_for: ClientFor) -> None:
    """Whoever holds A's phone must not learn that A answered (SPEC 1): A's own unsafe_days
    is null, and A's view has no flag or recommendation."""
    safety_alert(scene.couple, scene.a, W + dt.timedelta(days=3))
    report = scene.computed_report()
    with time_machine.travel(COMPUTED + dt.timedelta(hours=1), tick=False):
        mine = client_for(scene.a).get(f"/api/v1/reports/{report.pk}/").json()
        full = client_for(scene.therapist).get(f"/api/v1/reports/{report.pk}/").json()
    assert mine["partners"][0]["unsafe_days"] is None
    assert (mine["flags"], mine["recommendations"]) == ([], [])
    assert full["partners"][0]["unsafe_days"] == 1
    assert [f["code"] for f in full["flags"]] == ["safety_concern"]

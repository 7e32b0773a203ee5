"""The differential test: what partner A can read through the API, before and after everything
A must not observe, is byte for byte the same (SPEC v1.1 section 1).

Partner B and the therapist do what is theirs alone: B's private and therapist-only check-ins
and backfills, an individual session for B with notes and a rating, notes and ratings on a
joint session, a therapist-only commitment, the safety hold on and off. A's every list (plainly,
paged, and as a sync feed), every detail, every ETag and /me/ stay identical. Then the opposite:
what A should see (B's `couple` check-in, B widening one) does show up.

More of A's surface joins the snapshot by listing it in `PARTNER_SURFACE`. The weekly reports
(list, details, `updated_since`) are computed before and recomputed after (B's backfills make
them stale); `/reports/current/` and the export are compared without the moments they were
computed at (they are computed on request), and A's digest has its own differential test in
`test_reports_and_digests.py`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import ClientFor
from tests.factories import TherapistFactory
from tests.factories import UserFactory
from tests.factories import make_invitation

pytestmark = pytest.mark.django_db

API = "/api/v1"
# Monday 23 November 2026, 12:00 UTC: 13:00 in Berlin (the couple), already Tuesday 01:00 in
# Auckland (partner A's own profile): the two calendars disagree on the date.
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)  # the couple's local date
EPOCH = "2000-01-01T00:00:00Z"


@dataclass(frozen=True)
class Feed:
    """A list A can read, and (optionally) the detail URL of each of its rows."""

    path: str
    detail: Callable[[dict[str, Any]], str] | None = None
    params: dict[str, str] = field(default_factory=dict)
    sync: bool = True  # also read as an `updated_since` feed


@dataclass(frozen=True)
class Page:
    """A single URL A can read; `volatile` keys (the moment a figure computed on request was
    computed) are left out of the comparison, and so is its ETag, which hashes them."""

    path: str
    volatile: tuple[str, ...] = ()


def _without(body: bytes, keys: tuple[str, ...]) -> bytes:
    data = json.loads(body)
    for key in keys:
        data.pop(key, None)
    return json.dumps(data, sort_keys=True).encode()


def _checkin_detail(row: dict[str, Any]) -> str:
    # `/checkins/{date}/` is the caller's own check-in that day, whoever's row led there.
    return f"{API}/checkins/{row['date']}/?couple={row['couple']}"


PARTNER_SURFACE: list[Feed | Page] = [
    Page(f"{API}/me/"),
    Feed(f"{API}/couples/", lambda row: f"{API}/couples/{row['id']}/"),
    Feed(f"{API}/sessions/", lambda row: f"{API}/sessions/{row['id']}/"),
    Feed(f"{API}/commitments/", lambda row: f"{API}/commitments/{row['id']}/"),
    Feed(f"{API}/checkins/", _checkin_detail),
    Feed(f"{API}/invitations/", lambda row: f"{API}/invitations/{row['id']}/"),
    Feed(f"{API}/removals/", params={"since": EPOCH}, sync=False),
    Feed(f"{API}/reports/", lambda row: f"{API}/reports/{row['id']}/"),
    # Issue #17: away periods, and A's own feedback on every session A reads.
    Feed(f"{API}/away/", lambda row: f"{API}/away/{row['id']}/"),
    Feed(f"{API}/sessions/", lambda row: f"{API}/sessions/{row['id']}/feedback/", sync=False),
    Page(f"{API}/me/export/", volatile=("exported_at",)),
]


def surface_of(world: Couple) -> list[Feed | Page]:
    """A's whole surface in this world: the lists and pages above, and the week so far."""
    current = Page(f"{API}/reports/current/?couple={world.id}", ("computed_at", "updated_at"))
    goal = Page(f"{API}/couples/{world.id}/goal/")  # A's own goal
    return [*PARTNER_SURFACE, current, goal]


Snapshot = dict[str, tuple[int, str | None, bytes]]


def _read(client: APIClient, url: str, params: dict[str, str] | None = None) -> Any:
    response = client.get(url, params or {})
    return response


def snapshot(client: APIClient, surface: list[Feed | Page] = PARTNER_SURFACE) -> Snapshot:
    """Every answer of the surface: status, ETag and body bytes, keyed by the URL asked."""
    taken: Snapshot = {}

    def keep(key: str, response: Any) -> None:
        taken[key] = (response.status_code, response.get("ETag"), response.content)

    for item in surface:
        if isinstance(item, Page):
            response = _read(client, item.path)
            if item.volatile:
                assert response.status_code == 200, response.content
                taken[item.path] = (200, None, _without(response.content, item.volatile))
            else:
                keep(item.path, response)
            continue
        variants = [dict(item.params)]
        if item.sync:
            variants.append({**item.params, "updated_since": EPOCH})
        for params in variants:
            rows: list[dict[str, Any]] = []
            # Small pages: the cursors (which encode positions) are part of what A reads.
            url: str | None = item.path
            query: dict[str, str] | None = {**params, "page_size": "3"}
            while url:
                response = _read(client, url, query)
                keep(f"{url}?{sorted((query or {}).items())}", response)
                assert response.status_code == 200, response.content
                body = response.json()
                rows.extend(body["results"])
                url, query = body["next"], None
            if item.detail is not None:
                for row in rows:
                    detail = item.detail(row)
                    keep(detail, _read(client, detail))
                    etag = taken[detail][1]
                    if etag:
                        revalidated = client.get(detail, HTTP_IF_NONE_MATCH=etag)
                        assert revalidated.status_code == 304
    return taken


def _ok(response: Any, code: int = 200) -> Any:
    assert response.status_code == code, response.content
    return response.json() if response.content else None


@dataclass
class Couple:
    id: str
    a: User
    b: User
    therapist: User
    joint_session: str


def _checkin(client: APIClient, couple: str, day: dt.date, visibility: str, **fields: Any) -> Any:
    body = {"couple": couple, "visibility": visibility, "mood": 3, "effort": 4, **fields}
    response = client.put(f"{API}/checkins/{day.isoformat()}/", body, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _build(client_for: ClientFor, clock: time_machine.Traveller) -> Couple:
    """A couple created today by its therapist, with past weeks of history logged."""
    therapist = TherapistFactory.create(display_name="Dr T")
    a = UserFactory.create(display_name="A", timezone="Pacific/Auckland")
    b = UserFactory.create(display_name="B", timezone="Europe/Berlin")
    doctor = client_for(therapist)
    couple = _ok(
        doctor.post(
            f"{API}/couples/", {"name": "A & B", "timezone": "Europe/Berlin"}, format="json"
        ),
        201,
    )["id"]
    for partner in (a, b):
        _, token = make_invitation(
            couple=_couple(couple), invited_by=therapist, email=partner.email
        )
        _ok(client_for(partner).post(f"{API}/invitations/accept/", {"token": token}, format="json"))
    # Past weeks: joint sessions with attendance and ratings, homework, and daily check-ins.
    sessions = []
    for weeks_ago in (3, 2, 1):
        start = NOW - dt.timedelta(weeks=weeks_ago, hours=2)
        session = _ok(
            doctor.post(
                f"{API}/sessions/",
                {
                    "couple": couple,
                    "kind": "joint",
                    "starts_at": start.isoformat(),
                    "therapist_notes": f"Week -{weeks_ago}",
                },
                format="json",
            ),
            201,
        )["id"]
        _ok(
            doctor.put(
                f"{API}/sessions/{session}/attendance/",
                [
                    {"partner": str(a.pk), "status": "attended", "participation": 2},
                    {"partner": str(b.pk), "status": "late", "participation": 1},
                ],
                format="json",
            )
        )
        sessions.append(session)
        for owner in (a, b):
            commitment = _ok(
                doctor.post(
                    f"{API}/commitments/",
                    {
                        "couple": couple,
                        "owner": str(owner.pk),
                        "title": f"Walk together, week -{weeks_ago}",
                        "due_on": (
                            TODAY - dt.timedelta(weeks=weeks_ago) + dt.timedelta(3)
                        ).isoformat(),
                        "visibility": "couple",
                    },
                    format="json",
                ),
                201,
            )["id"]
            _ok(client_for(owner).post(f"{API}/commitments/{commitment}/keep/"))
    for days_ago in range(13, 0, -1):
        day = TODAY - dt.timedelta(days=days_ago)
        _checkin(client_for(a), couple, day, ("couple", "therapist", "private")[days_ago % 3])
        _checkin(client_for(b), couple, day, ("private", "couple", "therapist")[days_ago % 3])
    _checkin(client_for(a), couple, TODAY, "couple", note="A today")
    _ok(
        client_for(a).post(
            f"{API}/commitments/",
            {"couple": couple, "title": "Call mum", "due_on": "2026-11-27", "visibility": "couple"},
            format="json",
        ),
        201,
    )
    # A's own feedback and goal, and an away period of each partner shared with the couple.
    feedback = {"understood": 8, "helpful": 7, "spoke_freely": 6, "coming_back": 9}
    _ok(
        client_for(a).put(f"{API}/sessions/{sessions[-1]}/feedback/", feedback, format="json"),
        201,
    )
    _ok(
        client_for(a).put(f"{API}/couples/{couple}/goal/", {"goal": "work_on_it"}, format="json"),
        201,
    )
    for partner, days in ((a, 10), (b, 8)):
        _away(client_for(partner), couple, TODAY - dt.timedelta(days=days), "couple")
    clock.shift(dt.timedelta(hours=1))
    call_command("compute_reports", stdout=io.StringIO())
    return Couple(couple, a, b, therapist, sessions[-1])


def _away(client: APIClient, couple: str, first: dt.date, visibility: str, days: int = 2) -> Any:
    body = {
        "couple": couple,
        "starts_on": first.isoformat(),
        "ends_on": (first + dt.timedelta(days=days - 1)).isoformat(),
        "visibility": visibility,
    }
    return _ok(client.post(f"{API}/away/", body, format="json"), 201)


def _couple(couple_id: str) -> Any:
    from engagement.models import Couple as CoupleModel

    return CoupleModel.objects.get(pk=couple_id)


def _what_a_must_not_observe(
    world: Couple, client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    b, doctor = client_for(world.b), client_for(world.therapist)
    couple = world.id
    # B's private and therapist-only check-ins, and backfills, edited and deleted.
    _checkin(b, couple, TODAY, "private", note="I can't keep doing this")
    # (B's check-ins of 3, 6, 9 and 12 days ago were private.)
    _checkin(b, couple, TODAY - dt.timedelta(days=12), "therapist", wellbeing=1)
    _checkin(b, couple, TODAY - dt.timedelta(days=9), "private", note="backfilled")
    clock.shift(dt.timedelta(minutes=2))
    _checkin(b, couple, TODAY, "private", note="edited, still mine")
    backfill = (TODAY - dt.timedelta(days=9)).isoformat()
    _ok(b.delete(f"{API}/checkins/{backfill}/?couple={couple}"), 204)
    # B widens a private check-in to the therapist: A never read it either way.
    hidden = TODAY - dt.timedelta(days=6)
    _checkin(b, couple, hidden, "therapist")
    # An individual session for B, with notes and a rating.
    individual = _ok(
        doctor.post(
            f"{API}/sessions/",
            {
                "couple": couple,
                "kind": "individual",
                "focus_partner": str(world.b.pk),
                "starts_at": (NOW - dt.timedelta(hours=3)).isoformat(),
                "therapist_notes": "Screening alone.",
            },
            format="json",
        ),
        201,
    )["id"]
    _ok(
        doctor.put(
            f"{API}/sessions/{individual}/attendance/",
            [{"partner": str(world.b.pk), "status": "attended", "participation": 1}],
            format="json",
        )
    )
    clock.shift(dt.timedelta(minutes=2))
    # Therapist notes and ratings on a joint session A attended.
    joint = f"{API}/sessions/{world.joint_session}/"
    _ok(doctor.patch(joint, {"therapist_notes": "A talked over B twice."}, format="json"))
    _ok(
        doctor.put(
            f"{joint}attendance/",
            [
                {"partner": str(world.a.pk), "status": "attended", "participation": 3},
                {"partner": str(world.b.pk), "status": "late", "participation": 0},
            ],
            format="json",
        )
    )
    # A therapist-only commitment for B, kept, renewed.
    secret = _ok(
        doctor.post(
            f"{API}/commitments/",
            {
                "couple": couple,
                "owner": str(world.b.pk),
                "title": "Write down what happened",
                "due_on": TODAY.isoformat(),
                "visibility": "therapist",
            },
            format="json",
        ),
        201,
    )["id"]
    _ok(b.post(f"{API}/commitments/{secret}/keep/"))
    _ok(b.post(f"{API}/commitments/{secret}/renew/", {"due_on": "2026-11-30"}, format="json"), 201)
    clock.shift(dt.timedelta(minutes=2))
    # Issue #17: B's feedback on the joint session A attended, B's goal set and changed, B's
    # therapist-only away periods recorded, moved and deleted, and a shared one narrowed.
    feedback = {"understood": 2, "helpful": 1, "spoke_freely": 0, "coming_back": 3}
    _ok(b.put(f"{joint}feedback/", feedback, format="json"), 201)
    _ok(b.put(f"{joint}feedback/", {**feedback, "comment": "I can't say it there"}, format="json"))
    _ok(b.put(f"{API}/couples/{couple}/goal/", {"goal": "unsure"}, format="json"), 201)
    clock.shift(dt.timedelta(seconds=30))
    _ok(b.put(f"{API}/couples/{couple}/goal/", {"goal": "separate_well"}, format="json"))
    hidden_away = _away(b, couple, TODAY - dt.timedelta(days=4), "therapist")
    _ok(b.patch(f"{API}/away/{hidden_away['id']}/", {"reason": "illness"}, format="json"))
    gone = _away(b, couple, TODAY + dt.timedelta(days=3), "therapist", days=5)
    _ok(b.delete(f"{API}/away/{gone['id']}/"), 204)
    _away(b, couple, TODAY, "therapist", days=1)
    clock.shift(dt.timedelta(seconds=30))
    # The safety hold, on and off.
    _ok(doctor.patch(f"{API}/couples/{couple}/", {"safety_hold": True}, format="json"))
    clock.shift(dt.timedelta(minutes=2))
    _ok(doctor.patch(f"{API}/couples/{couple}/", {"safety_hold": False}, format="json"))
    clock.shift(dt.timedelta(minutes=2))
    # The weekly run recomputes what B's backfills made stale (the therapist's view moves).
    call_command("compute_reports", stdout=io.StringIO())
    clock.shift(dt.timedelta(minutes=2))


def test_nothing_b_or_the_therapist_keep_from_a_moves_anything_a_reads(
    client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    world = _build(client_for, clock)
    therapist = client_for(world.therapist)
    reports_before = therapist.get(f"{API}/reports/", {"couple": world.id}).json()["results"]
    before = snapshot(client_for(world.a), surface_of(world))
    assert len(before) > 30  # the surface is not trivially small
    assert any(url.startswith(f"{API}/reports/") and "current" not in url for url in before)
    _what_a_must_not_observe(world, client_for, clock)
    after = snapshot(client_for(world.a), surface_of(world))
    reports_after = therapist.get(f"{API}/reports/", {"couple": world.id}).json()["results"]
    # The hidden records did reach the therapist's reports: the comparison is not vacuous.
    assert reports_after != reports_before
    assert after.keys() == before.keys()
    changed = [url for url in before if before[url] != after[url]]
    assert changed == []


def test_what_b_shares_with_a_does_show_up(
    client_for: ClientFor, clock: time_machine.Traveller
) -> None:
    world = _build(client_for, clock)
    _what_a_must_not_observe(world, client_for, clock)
    before = snapshot(client_for(world.a))
    since = NOW + dt.timedelta(hours=2)
    clock.move_to(since)
    b = client_for(world.b)
    shared = _checkin(b, world.id, TODAY, "couple", note="Thank you for tonight")
    clock.shift(dt.timedelta(minutes=5))
    # B widens a check-in A could not read: A reads it as created now.
    widened_day = TODAY - dt.timedelta(days=6)
    widened = _checkin(b, world.id, widened_day, "couple")
    after = snapshot(client_for(world.a))
    assert after != before
    a = client_for(world.a)
    feed = _ok(a.get(f"{API}/checkins/", {"updated_since": since.isoformat()}))["results"]
    assert [row["id"] for row in feed] == [shared["id"], widened["id"]]
    assert feed[0]["note"] == "Thank you for tonight"
    created = dt.datetime.fromisoformat(feed[1]["created_at"])
    assert created == since + dt.timedelta(minutes=5)
    # B's away period shared with the couple reaches A's sync feed.
    away = _away(b, world.id, TODAY + dt.timedelta(days=10), "couple")
    synced = _ok(a.get(f"{API}/away/", {"updated_since": since.isoformat()}))["results"]
    assert [row["id"] for row in synced] == [away["id"]]
    # B still reads when they wrote it; A reads when they gained access.
    assert dt.datetime.fromisoformat(widened["created_at"]) < since


# --- safety answers (issue #18): B answers `afraid_or_hurt`, and A observes nothing -----------


def _a_outside_the_app(world: Couple) -> tuple[Any, ...]:
    """What reaches A outside the API: their digest of the last week, and their reminder plan."""
    from django.utils import timezone

    from engagement.digests import compose
    from engagement.digests.sources import DigestSources
    from engagement.models import Membership
    from engagement.reminders.planner import plan
    from engagement.reports.weeks import last_completed_week

    now = timezone.now()
    week = last_completed_week("Europe/Berlin", now)
    sources = DigestSources.load(user_ids=[world.a.id], weeks=[week], now=now)

    [seat] = sources.seats(world.a.id, Membership.Role.PARTNER)
    section = compose.partner_section(sources, seat, week)
    digest = (
        None
        if section is None
        else compose.partner_digest(world.a, [section], week, "https://api.duet.test/unsub")
    )
    world.a.refresh_from_db()
    reminders = [(p.channel, p.local_date) for p in plan([world.a], now=now)]
    return (digest.text, digest.html) if digest else None, reminders


def test_b_answering_the_safety_question_moves_nothing_a_observes(
    client_for: ClientFor,
    clock: time_machine.Traveller,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from django.core import mail

    from engagement.models import SafetyAlert
    from engagement.safety.tasks import sweep_safety_alerts

    world = _build(client_for, clock)
    # Created a month ago, so that A's digest may speak of last week (digests never speak of
    # weeks before the couple's creation).
    _couple(world.id).__class__.objects.filter(pk=world.id).update(
        created_at=NOW - dt.timedelta(days=30)
    )
    b, doctor, couple = client_for(world.b), client_for(world.therapist), world.id
    before = snapshot(client_for(world.a), surface_of(world))
    outside_before = _a_outside_the_app(world)
    assert outside_before[0] is not None  # A has a digest of last week to compare
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        # Only the answer changes, on a check-in of each visibility (1 day ago B's was `couple`,
        # 2 days ago `therapist`, 3 days ago `private`), and on a new private one today.
        for days_ago, visibility in ((1, "couple"), (2, "therapist"), (3, "private")):
            day = TODAY - dt.timedelta(days=days_ago)
            _checkin(b, couple, day, visibility, afraid_or_hurt=True)
            clock.shift(dt.timedelta(minutes=1))
        answered = _checkin(b, couple, TODAY, "private", afraid_or_hurt=True)
        assert answered["safety_resources"]
    assert SafetyAlert.objects.count() == 4
    # The therapist acknowledges one; B gives a safe contact, takes one answer back and
    # deletes the private check-in of today.
    alerts = _ok(doctor.get(f"{API}/safety-alerts/"))["results"]
    _ok(doctor.post(f"{API}/safety-alerts/{alerts[0]['id']}/acknowledge/"))
    _ok(
        b.put(
            f"{API}/couples/{couple}/safe-contact/",
            {"phone": "+49 30 0000000", "times": "weekday mornings"},
            format="json",
        ),
        201,
    )
    clock.shift(dt.timedelta(minutes=1))
    _checkin(b, couple, TODAY - dt.timedelta(days=2), "therapist", afraid_or_hurt=False)
    _ok(b.delete(f"{API}/checkins/{TODAY.isoformat()}/?couple={couple}"), 204)
    # A day later the unacknowledged ones are sent again; the weekly run recomputes.
    with time_machine.travel(NOW + dt.timedelta(hours=26), tick=False):
        sweep_safety_alerts.delay()
    call_command("compute_reports", stdout=io.StringIO())
    clock.shift(dt.timedelta(minutes=2))

    after = snapshot(client_for(world.a), surface_of(world))
    assert after.keys() == before.keys()
    assert [url for url in before if before[url] != after[url]] == []
    assert _a_outside_the_app(world) == outside_before
    # Alerts went, to the therapist only: the comparison is not vacuous.
    recipients = {address for message in mail.outbox for address in message.to}
    assert recipients == {world.therapist.email}
    assert world.a.email not in recipients
    # B's own reads show no answer either.
    for row in _ok(b.get(f"{API}/checkins/"))["results"]:
        assert "afraid_or_hurt" not in row

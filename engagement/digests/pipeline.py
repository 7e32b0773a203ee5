"""Digests of a chunk of users: who is due, ledger rows, waiting for reports, compose, send."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import make_msgid
from functools import cache
from functools import partial
from uuid import UUID

from django.core.mail import EmailMultiAlternatives
from django.utils import translation

from accounts.models import User
from engagement.digests import compose
from engagement.digests import delivery
from engagement.digests import schedule
from engagement.digests.delivery import DeliveryKey
from engagement.digests.delivery import Outgoing
from engagement.digests.sources import DigestSources
from engagement.digests.unsubscribe import unsubscribe_url
from engagement.models import Couple
from engagement.models import DigestDelivery
from engagement.models import Membership

Kind = DigestDelivery.Kind
Status = DigestDelivery.Status

CHUNK_SIZE = 200
ROLE_OF_KIND = {Kind.PARTNER: Membership.Role.PARTNER, Kind.THERAPIST: Membership.Role.THERAPIST}


@dataclass(frozen=True)
class Plan:
    """One digest a user is owed: its key, when it was meant to go, and what it covers."""

    user: User
    key: DeliveryKey
    send_at: dt.datetime
    deadline: dt.datetime
    seats: list[Membership]  # the user's memberships it summarises

    @property
    def expected_reports(self) -> list[Couple]:
        """Couples whose report of the week the digest waits for: the active ones (a paused
        couple has no report)."""
        return [s.couple for s in self.seats if s.couple.status == Couple.Status.ACTIVE]


def _plans(users: Sequence[User], sources: DigestSources, weeks: dict[UUID, dt.date]) -> list[Plan]:
    plans = []
    for user in users:
        week = weeks[user.id]
        send_at = schedule.send_time(week, user)
        for kind, role in ROLE_OF_KIND.items():
            seats = sources.seats(user.id, role)
            active = [s for s in seats if s.couple.status == Couple.Status.ACTIVE]
            if not active:
                continue  # in no active couple: no digest of this kind (SPEC section 6)
            if kind == Kind.PARTNER:
                seats = active  # a paused couple: nothing to say to its partners
            deadline = schedule.report_deadline(send_at, week, {s.couple.timezone for s in active})
            plans.append(Plan(user, DeliveryKey(user.id, kind, week), send_at, deadline, seats))
    return plans


def _compose(plan: Plan, sources: DigestSources, row: DigestDelivery) -> Outgoing | None:
    """The recipient's digest, every word of it in their language (SPEC 7)."""
    with translation.override(plan.user.language):
        return _compose_in_language(plan, sources, row)


def _compose_in_language(
    plan: Plan, sources: DigestSources, row: DigestDelivery
) -> Outgoing | None:
    """What the digest says, decided now (None: nothing to say); its templates are rendered
    later, a step while the server answers about the messages before (`delivery._Ahead`)."""
    user, week = plan.user, plan.key.week_start
    link = unsubscribe_url(user.id)
    message_id = row.message_id or make_msgid(domain=delivery.message_id_domain())
    digest: Callable[[], compose.RenderedDigest]
    if plan.key.kind == Kind.PARTNER:
        sections = [
            section
            for seat in plan.seats
            if (section := compose.partner_section(sources, seat, week)) is not None
        ]
        if not sections:
            return None
        digest = partial(compose.partner_digest, user, sections, week, link)
    else:
        rows = compose.caseload_rows(sources, plan.seats, week)
        digest = partial(compose.therapist_digest, user, rows, week, link)

    templates = cache(digest)  # in the user's language: `compose.user_digest` sees to it

    def render() -> EmailMultiAlternatives:
        with translation.override(user.language):
            return compose.email_message(
                templates(), to=user.email, message_id=message_id, unsubscribe_url=link
            )

    return Outgoing(row, render, message_id, prepare=(templates,))


def send_digests(
    users: Sequence[User],
    *,
    now: dt.datetime,
    week: dt.date | None = None,
    on_schedule: bool = True,
) -> Counter[str]:
    """Send the digests these users are owed; safe to run twice, or in two workers at once.

    ``on_schedule``: only digests whose send time has passed, each the latest week whose send
    time has; rows are created only until the report deadline. Otherwise (the management
    command) ``week``, or each user's last completed week, whatever the send times.
    """
    counts: Counter[str] = Counter()
    weeks = {
        user.id: schedule.digest_week(now, user, week, on_schedule=on_schedule) for user in users
    }
    sources = DigestSources.load(user_ids=weeks.keys(), weeks=set(weeks.values()), now=now)
    plans = _plans(users, sources, weeks)
    # Past its deadline a digest is no longer owed on schedule; an existing row is still settled.
    rows = delivery.ledger(
        [plan.key for plan in plans],
        create=[plan.key for plan in plans if not on_schedule or now < plan.deadline],
    )
    outgoing: list[Outgoing] = []
    skipped: dict[UUID, str] = {}
    for plan in plans:
        row = rows.get(plan.key)
        if row is None:
            continue
        if not delivery.is_claimable(row, now=now, respect_backoff=on_schedule):
            backing_off = row.status == Status.FAILED and row.next_attempt_at is not None
            counts["backing_off" if backing_off else "done"] += 1
            continue
        missing = [
            c for c in plan.expected_reports if sources.report(c.id, plan.key.week_start) is None
        ]
        # The report is late: try again on the next run. Only the schedule gives up on it; an
        # operator sending by hand may be about to compute it.
        if missing and (now < plan.deadline or not on_schedule):
            counts["waiting"] += 1
            continue
        if missing and plan.key.kind == Kind.PARTNER:
            reason = "no report of week {} for couple {} by {:%Y-%m-%d %H:%M} UTC".format(
                plan.key.week_start,
                ", ".join(str(c.id) for c in missing),
                plan.deadline.astimezone(dt.UTC),
            )
            skipped[row.id] = reason
            continue
        # A therapist's digest goes without the missing report: the rest of the caseload
        # matters more than one late couple, which it lists as having no report.
        item = _compose(plan, sources, row)
        if item is None:
            skipped[row.id] = "nothing of this week to summarise"
            continue
        outgoing.append(item)
    if skipped:  # one statement for the chunk's skips, whatever their number (issue 20)
        counts["skipped"] += delivery.mark_skipped(skipped)
    counts.update(delivery.deliver(outgoing, respect_backoff=on_schedule))
    return counts


def due_user_ids(*, now: dt.datetime, chunk_size: int = CHUNK_SIZE) -> Iterator[list[str]]:
    """Pages of users who may be owed a digest on schedule now, two queries a page: those
    within reach of their send window whose rows are not all settled."""
    for page in schedule.user_pages(chunk_size):
        weeks = {user.id: schedule.scheduled_week(now, user) for user in page}
        within = [
            user
            for user in page
            if now < schedule.send_time(weeks[user.id], user) + schedule.LATEST_DEADLINE
        ]
        rows = DigestDelivery.objects.filter(
            user_id__in=[user.id for user in within], week_start__in=set(weeks.values())
        ).only("user_id", "kind", "week_start", "status", "next_attempt_at")
        settled = {
            (row.user_id, row.kind)
            for row in rows
            if row.week_start == weeks[row.user_id]
            and not delivery.is_claimable(row, now=now, respect_backoff=True)
        }
        due = [
            str(user.id)
            for user in within
            if (user.is_partner_somewhere and (user.id, Kind.PARTNER) not in settled)  # type: ignore[attr-defined]
            or (user.is_therapist_somewhere and (user.id, Kind.THERAPIST) not in settled)  # type: ignore[attr-defined]
        ]
        if due:
            yield due

"""Who is owed a check-in reminder now, for a chunk of users in a fixed number of queries.

SPEC section 6: once `reminder_hour` has passed in the user's timezone, a user with
`checkin_reminder` on who is an active partner in an active couple, and has not checked in
today in one of those couples (that couple's local date), gets one reminder: a push to their
devices, or an email when they have none and `reminder_email` is on.

A user away today in that couple (an away period covering the couple's local date) is not
reminded for it, as if checked in.

What decides a reminder must not reveal a hidden check-in or away period to whoever shares the
phone or the inbox. A push counts any check-in and any away period of the user; an email counts
only their check-ins and away periods with visibility `couple`, and so does its back-off: after
BACKOFF_AFTER reminders in a row that no such check-in (or day away) followed, only one every
BACKOFF_INTERVAL until they check in again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Exists
from django.db.models import Max
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import QuerySet

from accounts.models import Device
from accounts.models import User
from engagement import chunks
from engagement.models import AwayPeriod
from engagement.models import CheckIn
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import ReminderDelivery
from engagement.models import Visibility

Channel = ReminderDelivery.Channel
Status = ReminderDelivery.Status

CHUNK_SIZE = 500
BACKOFF_AFTER = 3
BACKOFF_INTERVAL = dt.timedelta(days=7)
# Far enough back to hold the last BACKOFF_AFTER reminders of someone reminded weekly.
LEDGER_LOOKBACK = dt.timedelta(days=60)
USER_FIELDS = (
    "id",
    "email",
    "email_verified_at",
    "timezone",
    "reminder_hour",
    "reminder_email",
    "language",
)


@dataclass
class Planned:
    """One reminder owed now: to whom, for which of their local dates, by which channel."""

    user: User
    local_date: dt.date
    channel: str
    devices: list[Device] = field(default_factory=list)


def local_now(now: dt.datetime, tz_name: str) -> dt.datetime:
    return now.astimezone(ZoneInfo(tz_name))


def is_past_reminder_hour(now: dt.datetime, user: User) -> bool:
    return local_now(now, user.timezone).hour >= user.reminder_hour


def _active_partner_seat() -> QuerySet[Membership]:
    return Membership.objects.filter(
        user=OuterRef("pk"),
        role=Membership.Role.PARTNER,
        left_at__isnull=True,
        couple__status=Couple.Status.ACTIVE,
    )


def candidates() -> QuerySet[User]:
    """Who may ever get a reminder: reminders on, an account in use, an active partner seat."""
    return (
        User.objects.filter(is_active=True, erased_at__isnull=True, checkin_reminder=True)
        .filter(Exists(_active_partner_seat()))
        .only(*USER_FIELDS)
        .order_by("id")
    )


def user_pages(
    chunk_size: int = CHUNK_SIZE, user_ids: Sequence[UUID | str] | None = None
) -> Iterator[list[User]]:
    """Candidates in pages of ``chunk_size``, by id (keyset: one query per page)."""
    return chunks.user_pages(candidates(), chunk_size, user_ids)


def due_user_ids(*, now: dt.datetime, chunk_size: int = CHUNK_SIZE) -> Iterator[list[str]]:
    """Pages of users whose hour has passed and whose reminder of today is not settled yet:
    two queries a page. The chunk task then plans each page in full."""
    for page in user_pages(chunk_size):
        within = [user for user in page if is_past_reminder_hour(now, user)]
        if not within:
            continue
        today = {user.id: local_now(now, user.timezone).date() for user in within}
        settled = {
            (user_id, local_date)
            for user_id, local_date in ReminderDelivery.objects.filter(
                user_id__in=list(today), local_date__in=set(today.values())
            )
            .exclude(status=Status.PENDING)
            .values_list("user_id", "local_date")
        }
        due = [str(user.id) for user in within if (user.id, today[user.id]) not in settled]
        if due:
            yield due


@dataclass
class _Facts:
    """What the planner reads of a chunk, in six queries. A day away counts as a check-in of
    the same visibility class: in `checked_in` and `last_any` always, in `checked_in_shared` and
    `last_shared` only when the period's visibility is `couple`."""

    seats: dict[UUID, list[tuple[UUID, dt.date]]]  # user -> [(couple, couple's today)]
    checked_in: set[tuple[UUID, UUID, dt.date]]  # (user, couple, date), any visibility
    checked_in_shared: set[tuple[UUID, UUID, dt.date]]  # the same, visibility `couple` only
    last_any: dict[UUID, dt.date]
    last_shared: dict[UUID, dt.date]
    ledger: dict[UUID, list[tuple[dt.date, str]]]  # user -> [(local date, status)]
    devices: dict[UUID, list[Device]]


def _facts(users: Sequence[User], now: dt.datetime) -> _Facts:
    ids = [user.id for user in users]
    seats: dict[UUID, list[tuple[UUID, dt.date]]] = defaultdict(list)
    for user_id, couple_id, tz_name in Membership.objects.filter(
        user_id__in=ids,
        role=Membership.Role.PARTNER,
        left_at__isnull=True,
        couple__status=Couple.Status.ACTIVE,
    ).values_list("user_id", "couple_id", "couple__timezone"):
        seats[user_id].append((couple_id, local_now(now, tz_name).date()))
    dates = {today for entries in seats.values() for _, today in entries}
    checked_in: set[tuple[UUID, UUID, dt.date]] = set()
    checked_in_shared: set[tuple[UUID, UUID, dt.date]] = set()
    for author_id, couple_id, date, visibility in CheckIn.objects.filter(
        author_id__in=ids, date__in=dates
    ).values_list("author_id", "couple_id", "date", "visibility"):
        checked_in.add((author_id, couple_id, date))
        if visibility == Visibility.COUPLE:
            checked_in_shared.add((author_id, couple_id, date))
    last_any: dict[UUID, dt.date] = {}
    last_shared: dict[UUID, dt.date] = {}
    for row in (
        CheckIn.objects.filter(author_id__in=ids)
        .values("author_id")
        .annotate(last_any=Max("date"), last_shared=Max("date", filter=Q(visibility="couple")))
        .order_by()
    ):
        last_any[row["author_id"]] = row["last_any"]
        if row["last_shared"] is not None:
            last_shared[row["author_id"]] = row["last_shared"]
    since = min(local_now(now, user.timezone).date() for user in users) - LEDGER_LOOKBACK
    _count_days_away(ids, seats, since, checked_in, checked_in_shared, last_any, last_shared)
    ledger: dict[UUID, list[tuple[dt.date, str]]] = defaultdict(list)
    for user_id, local_date, status in ReminderDelivery.objects.filter(
        user_id__in=ids, local_date__gte=since
    ).values_list("user_id", "local_date", "status"):
        ledger[user_id].append((local_date, status))
    devices: dict[UUID, list[Device]] = defaultdict(list)
    for device in Device.objects.filter(user_id__in=ids).order_by("created_at", "id"):
        devices[device.user_id].append(device)
    return _Facts(seats, checked_in, checked_in_shared, last_any, last_shared, ledger, devices)


def _count_days_away(
    ids: list[UUID],
    seats: dict[UUID, list[tuple[UUID, dt.date]]],
    since: dt.date,
    checked_in: set[tuple[UUID, UUID, dt.date]],
    checked_in_shared: set[tuple[UUID, UUID, dt.date]],
    last_any: dict[UUID, dt.date],
    last_shared: dict[UUID, dt.date],
) -> None:
    """Add the users' days away (up to each couple's today) to the facts, in one query. Older
    periods than the ledger's reach change no back-off: every reminder it holds is later."""
    today_of = {(user_id, couple): today for user_id, s in seats.items() for couple, today in s}
    latest = max((today for _, today in today_of.items()), default=None)
    if latest is None:
        return
    for partner_id, couple_id, starts_on, ends_on, visibility in AwayPeriod.objects.filter(
        partner_id__in=ids, ends_on__gte=since, starts_on__lte=latest
    ).values_list("partner_id", "couple_id", "starts_on", "ends_on", "visibility"):
        today = today_of.get((partner_id, couple_id))
        if today is None or starts_on > today:
            continue
        shared = visibility == AwayPeriod.Visibility.COUPLE
        if ends_on >= today:
            checked_in.add((partner_id, couple_id, today))
            if shared:
                checked_in_shared.add((partner_id, couple_id, today))
        last_day = min(ends_on, today)
        for last, counts in ((last_any, True), (last_shared, shared)):
            if counts and (partner_id not in last or last[partner_id] < last_day):
                last[partner_id] = last_day


def backed_off(
    today: dt.date, reminders: list[tuple[dt.date, str]], last_checkin: dt.date | None
) -> bool:
    """After BACKOFF_AFTER sent reminders in a row that no check-in followed (none dated on or
    after them), only one every BACKOFF_INTERVAL until the user checks in again."""
    unheeded = sorted(
        (
            local_date
            for local_date, status in reminders
            if status == Status.SENT and (last_checkin is None or local_date > last_checkin)
        ),
        reverse=True,
    )
    if len(unheeded) < BACKOFF_AFTER:
        return False
    return today - unheeded[0] < BACKOFF_INTERVAL


def plan(users: Sequence[User], *, now: dt.datetime) -> list[Planned]:
    """The reminders these users are owed now. Six queries, however many users."""
    users = [user for user in users if is_past_reminder_hour(now, user)]
    if not users:
        return []
    facts = _facts(users, now)
    planned = []
    for user in users:
        today = local_now(now, user.timezone).date()
        if any(
            local_date == today and status != Status.PENDING
            for local_date, status in facts.ledger[user.id]
        ):
            continue  # today's reminder is sent, settled or on its way
        devices = facts.devices[user.id]
        if devices:
            channel, checked_in, last = Channel.PUSH, facts.checked_in, facts.last_any
        elif user.reminder_email and user.email_verified_at is not None:
            # The inbox may be shared: only what the other partner could read counts.
            channel, checked_in, last = Channel.EMAIL, facts.checked_in_shared, facts.last_shared
        else:
            continue
        missing = [
            couple_id
            for couple_id, couple_today in facts.seats[user.id]
            if (user.id, couple_id, couple_today) not in checked_in
        ]
        if not missing:
            continue
        if backed_off(today, facts.ledger[user.id], last.get(user.id)):
            continue
        planned.append(Planned(user, today, channel, devices))
    return planned

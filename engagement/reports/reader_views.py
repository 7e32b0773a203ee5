"""Each reader's revision, computed_at and updated_at of a report (SPEC 1, "Derived changes stay
invisible"): they move only when what that reader sees of the report moves.

Readers are the couple's therapists (one set of values for the full view) and each partner of
the report (their partner view). After a recomputation, and after a change of what partners
may read (consent given or withdrawn, `partners_see_balance` switched, a partner leaving),
each reader's view is rendered, hashed and compared with the hash stored for that reader; only
readers whose view changed get a new revision and timestamps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Sequence
from datetime import date
from uuid import UUID

from django.db.models import Q
from django.utils import timezone

from engagement.models import Couple
from engagement.models import ReportReaderState
from engagement.models import WeeklyReport
from engagement.selectors.partnerships import partnerships_by_couple
from engagement.selectors.reports import THERAPISTS
from engagement.selectors.reports import ReadableWeeks
from engagement.selectors.reports import Sharing
from engagement.selectors.reports import readable_weeks
from engagement.selectors.reports import reader_bodies
from engagement.selectors.reports import sharings_by_couple
from engagement.selectors.reports import view_hash

# What a partner "sees" of a report they may not read: nothing. When they gain or lose read
# access (a record widened to `couple` before the creation week), their values move, so the
# report shows up in their `updated_since` feed (SPEC 1).
UNREADABLE = "unreadable"
NOTHING = ReadableWeeks((), date.max)


def refresh_reader_states(
    reports: Sequence[WeeklyReport],
    *,
    computed_at: dt.datetime | None = None,
    sharings: dict[UUID, Sharing] | None = None,
) -> int:
    """Bring every reader's values of these reports up to date, in at most nine queries;
    returns how many readers' values moved.

    ``computed_at`` is the run's time for a recomputation (it becomes the changed readers'
    `computed_at`); without it (a change of consent), `computed_at` stays as it was.
    """
    if not reports:
        return 0
    couple_ids = {report.couple_id for report in reports}
    if sharings is None:
        sharings = sharings_by_couple(couple_ids)
    couples = {
        couple_id: (timezone_name, created_at)
        for couple_id, timezone_name, created_at in Couple.objects.filter(
            id__in=couple_ids
        ).values_list("id", "timezone", "created_at")
    }
    readable = readable_weeks(couples, partnerships_by_couple(couple_ids))
    states = {
        (state.report_id, state.reader_key): state
        for state in ReportReaderState.objects.filter(report__in=[r.pk for r in reports])
    }
    now = timezone.now()
    changed: list[ReportReaderState] = []
    for report in reports:
        for key, body in reader_bodies(report, sharings[report.couple_id]).items():
            digest = view_hash(body)
            if key != THERAPISTS and report.week_start not in readable.get(
                (report.couple_id, UUID(key)), NOTHING
            ):
                digest = UNREADABLE
            state = states.get((report.pk, key))
            if state is None:
                # A new reader, or a report from before reader values existed: it starts
                # where the report's own values stood (what the reader was shown until now).
                changed.append(
                    ReportReaderState(
                        report=report,
                        reader_key=key,
                        revision=report.revision,
                        computed_at=computed_at or report.computed_at,
                        updated_at=now,
                        view_hash=digest,
                    )
                )
            elif state.view_hash != digest:
                state.revision += 1
                state.computed_at = computed_at or state.computed_at
                state.updated_at = now
                state.view_hash = digest
                state.id = None  # written by (report, reader_key), as the new ones
                changed.append(state)
    if changed:
        ReportReaderState.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["report", "reader_key"],
            update_fields=["revision", "computed_at", "updated_at", "view_hash"],
        )
    return len(changed)


def report_views_refresh(*, couple_ids: Iterable[UUID]) -> int:
    """After a change of what partners may read of these couples' reports (consent, sharing,
    membership): move the values of every reader whose view of a report changed."""
    reports = list(WeeklyReport.objects.filter(Q(couple_id__in=list(couple_ids))))
    return refresh_reader_states(reports)

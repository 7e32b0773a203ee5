"""The partner digest (SPEC section 7).

A partner reads their own week as the other partner could read it in the app (an inbox may be
shared): joint sessions, `couple` commitments and `couple` check-in days; what is coming (joint
sessions, their own `couple` commitments); encouragement; a chart of the same counts over their
last eight weeks; the couple's shared balance only when shared (the partner view of
engagement/selectors/reports.py decides). Never individual sessions, private or therapist-only
records or participation; nothing of the other partner but their display name. A safety hold
changes nothing in it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from engagement.digests.compose.common import BALANCE_FOR_PARTNERS
from engagement.digests.compose.common import CELL_DONE
from engagement.digests.compose.common import CELL_EMPTY
from engagement.digests.compose.common import CELL_TARGET
from engagement.digests.compose.common import TREND_FOR_PARTNERS
from engagement.digests.compose.common import WELLBEING_LINES
from engagement.digests.compose.common import RenderedDigest
from engagement.digests.compose.common import Role
from engagement.digests.compose.common import _day
from engagement.digests.compose.common import _join
from engagement.digests.compose.common import _known
from engagement.digests.compose.common import _short_date
from engagement.digests.compose.common import report_url
from engagement.digests.compose.common import user_digest
from engagement.digests.compose.common import week_url
from engagement.digests.sources import CHART_WEEKS
from engagement.digests.sources import DigestSources
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import WeeklyReport
from engagement.reports.weeks import WEEK
from engagement.selectors.partnerships import week_readable
from engagement.selectors.reports import report_for_viewer
from engagement.selectors.reports import sharing_of

# --- the partner digest -------------------------------------------------------------------


@dataclass(frozen=True)
class WeekFigures:
    """The recipient's own figures of the week, from their entry in the partner view."""

    sessions_expected: int
    sessions_attended: int
    commitments_kept: int
    commitments_missed: int
    commitments_unreported: int
    checkin_days: int
    checkin_target: int
    # Days of the week in the recipient's own `couple` away periods (never therapist-only ones).
    away_days: int = 0

    @classmethod
    def of(cls, counts: dict[str, Any], checkin_target: int) -> WeekFigures:
        """From the recipient's shared counts (the report's `partner_views`): joint sessions,
        `couple` commitments, `couple` check-in days and `couple` away days only."""

        def count(key: str) -> int:
            return int(counts.get(key) or 0)

        return cls(
            sessions_expected=count("joint_sessions_expected"),
            sessions_attended=count("joint_sessions_attended"),
            commitments_kept=count("shared_commitments_kept"),
            commitments_missed=count("shared_commitments_missed"),
            commitments_unreported=count("shared_commitments_unreported"),
            checkin_days=count("shared_checkin_days"),
            checkin_target=checkin_target,
            away_days=count("shared_away_days"),
        )

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) rows of 'your week', worded for both parts of the email."""
        if self.sessions_expected:
            sessions = _("you attended %(attended)s of %(expected)s") % {
                "attended": self.sessions_attended,
                "expected": self.sessions_expected,
            }
        else:
            sessions = _("none this week")
        resolved = [
            _("%(count)s kept") % {"count": self.commitments_kept},
            _("%(count)s missed") % {"count": self.commitments_missed},
        ]
        if self.commitments_unreported:
            resolved.append(
                _("%(count)s waiting for your answer") % {"count": self.commitments_unreported}
            )
        commitments = (
            ", ".join(resolved)
            if any((self.commitments_kept, self.commitments_missed, self.commitments_unreported))
            else _("none were due")
        )
        checkins = ngettext("%(count)s day", "%(count)s days", self.checkin_days) % {
            "count": self.checkin_days
        }
        if self.checkin_target:
            checkins += _(" (your target: %(target)s a week)") % {"target": self.checkin_target}
        lines = [
            (_("Sessions"), sessions),
            (_("Commitments"), commitments),
            (_("Check-ins"), checkins),
        ]
        if self.away_days:
            # Their own `couple` away days, which the other partner can read too (SPEC 7).
            days = ngettext("%(count)s day", "%(count)s days", self.away_days)
            lines.append((_("Days away"), days % {"count": self.away_days}))
        return lines


def encouragement(figures: WeekFigures, week_start: dt.date) -> list[str]:
    """Plain, warm words about the recipient's own week: never a comparison, never blame."""
    done: list[str] = []
    if days := figures.checkin_days:
        done.append(
            ngettext("checked in on %(count)s day", "checked in on %(count)s days", days)
            % {"count": days}
        )
    if sessions := figures.sessions_attended:
        done.append(
            ngettext("came to %(count)s session", "came to %(count)s sessions", sessions)
            % {"count": sessions}
        )
    if kept := figures.commitments_kept:
        done.append(
            ngettext("kept %(count)s commitment", "kept %(count)s commitments", kept)
            % {"count": kept}
        )
    if done:
        lines = [
            _("You %(done)s. That counts, whatever the week felt like.") % {"done": _join(done)}
        ]
    else:
        lines = [
            _(
                "This week was a quiet one here, and that is all right. When you are ready, a "
                "short check-in is an easy way back in; there is nothing to catch up on."
            )
        ]
    waiting = figures.commitments_unreported
    if waiting:
        lines.append(
            ngettext(
                "%(count)s commitment of yours is still waiting for your answer. Marking one "
                "kept or missed takes a moment, and a missed one is not a failure: it is "
                "something to talk about.",
                "%(count)s commitments of yours are still waiting for your answer. Marking one "
                "kept or missed takes a moment, and a missed one is not a failure: it is "
                "something to talk about.",
                waiting,
            )
            % {"count": waiting}
        )
    lines.append(_(WELLBEING_LINES[week_start.toordinal() // 7 % len(WELLBEING_LINES)]))
    return lines


@dataclass(frozen=True)
class ChartColumn:
    label: str
    days: int | None  # None: no report that week (paused, or before the couple began)


@dataclass(frozen=True)
class Chart:
    """Check-in days of the last eight weeks, drawn as a grid of table cells (no images)."""

    target: int
    columns: list[ChartColumn]
    # Top row first; one colour per column: HTML tables are laid out row by row.
    rows: list[list[str]]

    @classmethod
    def of(cls, days_by_week: Sequence[tuple[dt.date, int | None]], target: int) -> Chart:
        columns = [ChartColumn(_short_date(week), days) for week, days in days_by_week]
        height = max([target, 1, *(c.days or 0 for c in columns)])
        rows = [
            [
                CELL_DONE
                if (c.days or 0) >= level
                else CELL_TARGET
                if c.days is not None and level <= target
                else CELL_EMPTY
                for c in columns
            ]
            for level in range(height, 0, -1)
        ]
        return cls(target, columns, rows)

    @property
    def html_rows(self) -> list[SafeString]:
        """The rows of cells for the HTML part."""
        return [_chart_row_html(tuple(row)) for row in self.rows]

    def text_lines(self) -> list[str]:
        """The same chart for the plain-text part: '#' a day checked in, '.' one to go."""
        lines = []
        for column in self.columns:
            if column.days is None:
                lines.append(f"{column.label:>7}  -")
                continue
            bar = "#" * column.days + "." * max(0, self.target - column.days)
            lines.append(f"{column.label:>7}  {bar:<7}  {column.days}")
        return lines


@functools.lru_cache(maxsize=1024)
def _chart_row_html(colours: tuple[str, ...]) -> SafeString:
    """One row of the chart's cells, rendered once per process: eight cells of three colours
    make few distinct rows, and rendering the cells for every digest cost a fifth of the
    instructions of a partner digest's HTML part (docs/benchmarks.md, issue 20)."""
    return render_to_string("emails/partner-digest-chart-row.html", {"row": colours})


@dataclass(frozen=True)
class UpcomingItem:
    when: str
    what: str


@dataclass(frozen=True)
class PartnerSection:
    couple_name: str
    other_partner_name: str  # empty when there is none
    figures: WeekFigures
    balance: list[str]  # empty unless the couple's balance is shared (SPEC 5.6)
    chart: Chart
    upcoming: list[UpcomingItem]
    encouragement: list[str]
    url: str


def _shared_counts(report: WeeklyReport, user_id: UUID) -> dict[str, Any] | None:
    """The recipient's shared counts of the week, None when the report has none of them."""
    return next(
        (v for v in report.partner_views or [] if str(v.get("partner")) == str(user_id)), None
    )


def _creation_week(couple: Couple) -> dt.date:
    local = couple.created_at.astimezone(ZoneInfo(couple.timezone)).date()
    return local - dt.timedelta(days=local.weekday())


def _readable(sources: DigestSources, couple: Couple, user: User, week: dt.date) -> bool:
    """Weeks the digest may speak of: lying entirely in a partnership of the recipient (SPEC
    1), and not before the couple's creation week (whether a report of such a week exists can
    depend on records the recipient may not read; the app shows them, a mail does not)."""
    return week >= _creation_week(couple) and week_readable(
        sources.partnerships_of(couple.id), user.id, week, couple.timezone
    )


def _chart_days(sources: DigestSources, couple: Couple, user: User, week: dt.date) -> int | None:
    report = sources.report(couple.id, week)
    if report is None or not _readable(sources, couple, user, week):
        return None
    counts = _shared_counts(report, user.id)
    return None if counts is None else int(counts.get("shared_checkin_days") or 0)


def _upcoming(sources: DigestSources, couple: Couple, user: User) -> list[UpcomingItem]:
    zone = ZoneInfo(user.timezone)
    items = []
    for session in sources.upcoming_joint_sessions(couple.id):
        starts = session.starts_at.astimezone(zone)
        items.append(UpcomingItem(f"{_day(starts)}, {starts:%H:%M}", _("Joint session")))
    for commitment in sources.upcoming_commitments(couple, user.id):
        when = _("by %(day)s") % {"day": _day(commitment.due_on)}
        items.append(UpcomingItem(when, commitment.title))
    return items


def partner_section(
    sources: DigestSources, seat: Membership, week_start: dt.date
) -> PartnerSection | None:
    """One couple's part of a partner digest, or None when the week has no report the
    recipient may read. The safety hold plays no part (SPEC 1, "Safety hold")."""
    couple, user = seat.couple, seat.user
    report = sources.report(couple.id, week_start)
    if report is None or not _readable(sources, couple, user, week_start):
        return None
    counts = _shared_counts(report, user.id)
    if counts is None:
        return None
    figures = WeekFigures.of(counts, couple.checkin_target_per_week)
    # The partner view decides whether the shared balance is shown (SPEC 5.6).
    view = report_for_viewer(report, user, role=Role.PARTNER, sharing=sharing_of(couple))
    balance: list[str] = []
    if view["balance"] is not None:
        balance.append(_known(BALANCE_FOR_PARTNERS, view["balance"]))
        if view["gap_trend"] is not None:
            balance.append(_known(TREND_FOR_PARTNERS, view["gap_trend"]))
    others = sources.other_partners(couple.id, user.id)
    weeks = [week_start - n * WEEK for n in range(CHART_WEEKS - 1, -1, -1)]
    chart = Chart.of(
        [(week, _chart_days(sources, couple, user, week)) for week in weeks],
        couple.checkin_target_per_week,
    )
    return PartnerSection(
        couple_name=str(couple),
        other_partner_name=others[0].user.display_name if others else "",
        figures=figures,
        balance=[line for line in balance if line],
        chart=chart,
        upcoming=_upcoming(sources, couple, user),
        encouragement=encouragement(figures, week_start),
        url=report_url(couple.id, week_start),
    )


def partner_digest(
    user: User, sections: Sequence[PartnerSection], week_start: dt.date, unsubscribe_url: str
) -> RenderedDigest:
    return user_digest(
        user,
        "partner-digest",
        week_start,
        url=week_url(week_start),
        unsubscribe_url=unsubscribe_url,
        context=lambda: {"sections": sections},
    )

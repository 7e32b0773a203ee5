"""The therapist digest (SPEC section 7): one line per couple of the caseload, its name,
balance and number of new flags, most urgent first, with no scores, evidence or notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import ngettext

from accounts.models import User
from engagement.digests.compose.common import BALANCE_FOR_THERAPISTS
from engagement.digests.compose.common import RenderedDigest
from engagement.digests.compose.common import _known
from engagement.digests.compose.common import caseload_url
from engagement.digests.compose.common import report_url
from engagement.digests.compose.common import user_digest
from engagement.digests.sources import DigestSources
from engagement.models import Couple
from engagement.models import Membership
from engagement.models import WeeklyReport
from engagement.reports.scoring import urgency_key
from engagement.reports.weeks import WEEK

# --- the therapist digest -----------------------------------------------------------------


@dataclass(frozen=True)
class CaseloadRow:
    couple_name: str
    safety_hold: bool
    paused: bool
    balance: str  # empty when the week has no report
    new_flags: int
    url: str
    # A safety signal in the week's report (safety_concern): counted in the email, never named.
    safety_signal: bool = False


def _flag_keys(report: WeeklyReport | None, therapist: User) -> set[tuple[str, str]]:
    if report is None:
        return set()
    # Therapists read every flag of a report (the full view copies them as stored).
    return {(str(f.get("code")), str(f.get("partner"))) for f in report.flags}


# Flags that are a safety signal: the digest counts the couples with one, naming none.
SAFETY_FLAGS = frozenset({"safety_concern"})


def _safety_line(count: int) -> str:
    """How many couples have a safety signal this week; which, and why, only in the app."""
    if not count:
        return ""
    return ngettext(
        "%(count)s couple with a safety signal this week: the details are in the app, not in "
        "this email.",
        "%(count)s couples with a safety signal this week: the details are in the app, not in "
        "this email.",
        count,
    ) % {"count": count}


def caseload_rows(
    sources: DigestSources, seats: Sequence[Membership], week_start: dt.date
) -> list[CaseloadRow]:
    """The therapist's couples, most urgent first (SPEC 5.8, scoring.urgency_key).

    A flag is new when last week's report did not hold the same code about the same partner.
    """
    keyed = []
    for seat in seats:
        couple, therapist = seat.couple, seat.user
        report = sources.report(couple.id, week_start)
        flags = _flag_keys(report, therapist)
        new_flags = flags - _flag_keys(sources.report(couple.id, week_start - WEEK), therapist)
        key = urgency_key(
            safety_hold=couple.safety_hold,
            report_flags=None if report is None else [code for code, _ in flags],
            gap=None if report is None else report.gap,
        )
        row = CaseloadRow(
            couple_name=str(couple),
            safety_hold=couple.safety_hold,
            paused=couple.status == Couple.Status.PAUSED,
            balance="" if report is None else _known(BALANCE_FOR_THERAPISTS, report.balance),
            new_flags=len(new_flags) if report is not None else 0,
            url=report_url(couple.id, week_start),
            safety_signal=any(code in SAFETY_FLAGS for code, _ in flags),
        )
        keyed.append(((*key, str(couple.id)), row))
    return [row for _, row in sorted(keyed, key=lambda pair: pair[0])]


def therapist_digest(
    user: User, rows: Sequence[CaseloadRow], week_start: dt.date, unsubscribe_url: str
) -> RenderedDigest:
    return user_digest(
        user,
        "therapist-digest",
        week_start,
        url=caseload_url(),
        unsubscribe_url=unsubscribe_url,
        context=lambda: {
            "rows": rows,
            "with_new_flags": sum(1 for row in rows if row.new_flags),
            "safety_line": _safety_line(sum(1 for row in rows if row.safety_signal)),
            "caseload_url": caseload_url(),
        },
    )

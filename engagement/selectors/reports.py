"""How a stored weekly report reads for a given viewer: full for therapists, partner view else.

SPEC 5.6, in one place so the reports API, digests and the account export shape reports the
same way: a partner reads their own figures in full; the other partner's entry with every
figure null; no less engaged partner, flags or recommendations; and the couple's balance, gap
and trend only when the balance is shared.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from accounts.models import User
from config.api.fields import utc_timestamp
from engagement.models import Couple, Membership, WeeklyReport
from engagement.selectors.visibility import role_in_couple

FULL = "full"
PARTNER = "partner"


def _utc(value: dt.datetime) -> str:
    return str(utc_timestamp(value))


def balance_shared_with_partners(couple: Couple) -> bool:
    """Partners see the balance only when the couple allows it, both active partners consent,
    and there is no safety hold (SPEC 5.6 and section 1)."""
    if not couple.partners_see_balance or couple.safety_hold:
        return False
    # Lists prefetch the couple's memberships, so a page of reports costs no query per couple.
    prefetched = getattr(couple, "_prefetched_objects_cache", {}).get("memberships")
    if prefetched is not None:
        consents = [
            m.shares_balance
            for m in prefetched
            if m.role == Membership.Role.PARTNER and m.left_at is None
        ]
    else:
        consents = list(
            Membership.objects.filter(
                couple=couple, role=Membership.Role.PARTNER, left_at__isnull=True
            ).values_list("shares_balance", flat=True)
        )
    return len(consents) == 2 and all(consents)


def _blank_figures(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: (value if key == "partner" else None) for key, value in entry.items()}


def report_for_viewer(
    report: WeeklyReport,
    viewer: User,
    *,
    role: str | None = None,
    balance_shared: bool | None = None,
) -> dict[str, Any]:
    """The report as `viewer` may read it.

    `role` (the viewer's active role in the couple) and `balance_shared` may be passed in when
    the caller already knows them, to spare two queries per report in lists. Anyone who is not
    a therapist of the couple gets the partner view, so a mistake fails closed.
    """
    if role is None:
        role = role_in_couple(viewer, report.couple_id)
    full = role == Membership.Role.THERAPIST
    shaped: dict[str, Any] = {
        # None for the week so far, computed on request and never stored (SPEC section 4).
        "id": None if report.id is None else str(report.id),
        "couple": str(report.couple_id),
        "week_start": report.week_start.isoformat(),
        "methodology": report.methodology,
        "view": FULL if full else PARTNER,
        "revision": report.revision,
        "computed_at": _utc(report.computed_at),
        "balance": report.balance,
        "gap": report.gap,
        "gap_trend": report.gap_trend,
        "less_engaged_partner": (
            str(report.less_engaged_partner_id) if report.less_engaged_partner_id else None
        ),
        "partners": [dict(entry) for entry in report.partners],
        "flags": list(report.flags),
        "recommendations": list(report.recommendations),
    }
    if full:
        return shaped
    own_id = str(viewer.pk)
    shaped["partners"] = [
        dict(entry) if str(entry.get("partner")) == own_id else _blank_figures(entry)
        for entry in report.partners
    ]
    # Flags and recommendations are clinical signals for the therapist, whoever they name.
    shaped["less_engaged_partner"] = None
    shaped["flags"] = []
    shaped["recommendations"] = []
    if balance_shared is None:
        balance_shared = balance_shared_with_partners(report.couple)
    if not balance_shared:
        shaped["balance"] = None
        shaped["gap"] = None
        shaped["gap_trend"] = None
    return shaped

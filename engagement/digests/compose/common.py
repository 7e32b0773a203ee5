"""What every digest shares: links, wording helpers, the balance words and rendering."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.core.mail import EmailMultiAlternatives
from django.utils import dateformat
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from config import emails
from config.emails import frontend_url
from engagement.models import Membership
from engagement.models import WeeklyReport

Role = Membership.Role

EN_DASH = "\N{EN DASH}"

# Chart cells: a day checked in, a day of the target not (yet) reached, nothing.
CELL_DONE = "#3b5bdb"
CELL_TARGET = "#dbe4ff"
CELL_EMPTY = "transparent"

BALANCE_FOR_PARTNERS: dict[str, str] = {
    WeeklyReport.Balance.BALANCED: gettext_noop(
        "Balanced: this week the work was shared about evenly."
    ),
    WeeklyReport.Balance.LEANING: gettext_noop(
        "Leaning: this week the work leaned a little to one side."
    ),
    WeeklyReport.Balance.ONE_SIDED: gettext_noop(
        "One-sided: this week most of the work fell on one side."
    ),
    WeeklyReport.Balance.INSUFFICIENT_DATA: gettext_noop(
        "There was not enough this week to tell a balance."
    ),
}
TREND_FOR_PARTNERS: dict[str, str] = {
    WeeklyReport.GapTrend.NARROWING: gettext_noop(
        "Over the last few weeks the gap has been narrowing."
    ),
    WeeklyReport.GapTrend.STABLE: gettext_noop("Over the last few weeks it has held steady."),
    WeeklyReport.GapTrend.WIDENING: gettext_noop(
        "Over the last few weeks the gap has been growing."
    ),
}
BALANCE_FOR_THERAPISTS: dict[str, str] = {
    WeeklyReport.Balance.BALANCED: gettext_noop("Balanced"),
    WeeklyReport.Balance.LEANING: gettext_noop("Leaning"),
    WeeklyReport.Balance.ONE_SIDED: gettext_noop("One-sided"),
    WeeklyReport.Balance.INSUFFICIENT_DATA: gettext_noop("Not enough data"),
}
# The willing partner's well-being is not a footnote (the essay Duet grew from). One line a
# week, in turn, so the email does not repeat itself. Translated when used (gettext_noop marks
# them for the catalogue).
WELLBEING_LINES = (
    gettext_noop(
        "Your own well-being matters here too, not only the work you do together. "
        "Make a little room for yourself this week."
    ),
    gettext_noop(
        "This work takes energy. If you are carrying a lot right now, it is worth saying so, "
        "to your therapist or to someone you trust."
    ),
    gettext_noop(
        "Change is rarely a straight line. Be as patient with yourself as you try to be "
        "with the people you love."
    ),
    gettext_noop(
        "Looking after yourself is part of the work, not a break from it. Some people find "
        "that time of their own, or a session of their own, helps."
    ),
)


# --- links -------------------------------------------------------------------------------
# Deep links into the apps (docs/operations.md lists them); the API serves none of these.


def report_url(couple_id: UUID, week_start: dt.date) -> str:
    return frontend_url(f"/couples/{couple_id}/reports/{week_start.isoformat()}")


def week_url(week_start: dt.date) -> str:
    return frontend_url(f"/reports/{week_start.isoformat()}")


def caseload_url() -> str:
    return frontend_url("/caseload")


def preferences_url() -> str:
    return frontend_url("/settings/notifications")


# --- wording ----------------------------------------------------------------------------


def _known(words: dict[str, str], key: str) -> str:
    """The translated wording of a known value, empty for an unknown one (gettext("") would
    be the catalogue's header)."""
    text = words.get(key, "")
    return _(text) if text else ""


def _join(parts: Sequence[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return _("%(first)s and %(last)s") % {"first": ", ".join(parts[:-1]), "last": parts[-1]}


def _date_format(day: dt.date, format_string: str) -> str:
    """Django's ``dateformat.format`` of a calendar date (a datetime's own date: the formats
    used here name no time) in the active language, worked out once per date, format and
    language: a chunk's digests name the same few weeks thousands of times (issue 20)."""
    return _date_format_in(
        dt.date(day.year, day.month, day.day), format_string, translation.get_language()
    )


@functools.lru_cache(maxsize=4096)
def _date_format_in(day: dt.date, format_string: str, language: str | None) -> str:
    # ``language`` is the active one: it is passed to key the cache, dateformat reads it.
    return dateformat.format(day, format_string)


def _month_year(day: dt.date) -> str:
    """'January 2026', in the active language (Django's month names, not the C locale's)."""
    return _date_format(day, "F Y")


def week_label(week_start: dt.date) -> str:
    """'5-11 January 2026', or across months '29 December 2025 - 4 January 2026' (en dashes);
    month names in the active language."""
    end = week_start + dt.timedelta(days=6)
    if week_start.month == end.month:
        return f"{week_start.day}{EN_DASH}{end.day} {_month_year(end)}"
    if week_start.year == end.year:
        month = _date_format(week_start, "F")
        return f"{week_start.day} {month} {EN_DASH} {end.day} {_month_year(end)}"
    return f"{week_start.day} {_month_year(week_start)} {EN_DASH} {end.day} {_month_year(end)}"


def _short_date(day: dt.date) -> str:
    return f"{day.day} {_date_format(day, 'M')}"


def _day(day: dt.date) -> str:
    """'Tue 10 Feb' (in the active language)."""
    return f"{_date_format(day, 'D')} {_short_date(day)}"


# --- rendering ------------------------------------------------------------------------------


RenderedDigest = emails.Rendered


def render(template: str, context: dict[str, Any]) -> RenderedDigest:
    """The three parts of ``emails/<template>-*``, with the link to the preferences."""
    return emails.render(template, {**context, "preferences_url": preferences_url()})


def minimal_digest(url: str, unsubscribe_url: str) -> RenderedDigest:
    """`digest_detail: minimal`: only that the summary is ready, and the link (SPEC 7)."""
    return render("minimal-digest", {"url": url, "unsubscribe_url": unsubscribe_url})


def user_digest(
    user: User,
    template: str,
    week_start: dt.date,
    *,
    url: str,
    unsubscribe_url: str,
    context: Callable[[], dict[str, Any]],
) -> RenderedDigest:
    """The user's digest in their language: ``template`` with their name, the week and
    ``context()`` (built in that language), or the minimal one linking to ``url``."""
    with translation.override(user.language):
        if user.digest_detail == User.DigestDetail.MINIMAL:
            return minimal_digest(url, unsubscribe_url)
        return render(
            template,
            {
                "name": user.display_name,
                "week_label": week_label(week_start),
                **context(),
                "unsubscribe_url": unsubscribe_url,
            },
        )


def email_message(
    digest: RenderedDigest, *, to: str, message_id: str, unsubscribe_url: str
) -> EmailMultiAlternatives:
    """Both parts, the Message-ID known before sending, and one-click unsubscribe (RFC 8058)."""
    return emails.message(
        digest,
        to=to,
        message_id=message_id,
        unsubscribe_url=unsubscribe_url,
        headers={"Auto-Submitted": "auto-generated"},
    )

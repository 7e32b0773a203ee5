"""What a digest says (SPEC section 7), rendered as a subject, a plain-text and an HTML part.

- common.py: links, wording helpers, balance words, rendering and the email message;
- partner.py: the partner digest (their own week as the other partner could read it);
- therapist.py: the therapist digest (one line per couple, most urgent first).

`from engagement.digests import compose` keeps working: every public name is here.
"""

from engagement.digests.compose.common import (
    BALANCE_FOR_PARTNERS,
    BALANCE_FOR_THERAPISTS,
    CELL_DONE,
    CELL_EMPTY,
    CELL_TARGET,
    EN_DASH,
    TREND_FOR_PARTNERS,
    WELLBEING_LINES,
    RenderedDigest,
    caseload_url,
    email_message,
    minimal_digest,
    preferences_url,
    render,
    report_url,
    week_label,
    week_url,
)
from engagement.digests.compose.partner import (
    Chart,
    ChartColumn,
    PartnerSection,
    UpcomingItem,
    WeekFigures,
    encouragement,
    partner_digest,
    partner_section,
)
from engagement.digests.compose.therapist import CaseloadRow, caseload_rows, therapist_digest

__all__ = [
    "BALANCE_FOR_PARTNERS",
    "BALANCE_FOR_THERAPISTS",
    "CELL_DONE",
    "CELL_EMPTY",
    "CELL_TARGET",
    "EN_DASH",
    "TREND_FOR_PARTNERS",
    "WELLBEING_LINES",
    "CaseloadRow",
    "Chart",
    "ChartColumn",
    "PartnerSection",
    "RenderedDigest",
    "UpcomingItem",
    "WeekFigures",
    "caseload_rows",
    "caseload_url",
    "email_message",
    "encouragement",
    "minimal_digest",
    "partner_digest",
    "partner_section",
    "preferences_url",
    "render",
    "report_url",
    "therapist_digest",
    "week_label",
    "week_url",
]

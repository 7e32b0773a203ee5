"""What a digest says (SPEC section 7), rendered as a subject, a plain-text and an HTML part.

- common.py: links, wording helpers, balance words, rendering and the email message;
- partner.py: the partner digest (their own week as the other partner could read it);
- therapist.py: the therapist digest (one line per couple, most urgent first).

`from engagement.digests import compose` keeps working: every public name is here.
"""

from engagement.digests.compose.common import BALANCE_FOR_PARTNERS
from engagement.digests.compose.common import BALANCE_FOR_THERAPISTS
from engagement.digests.compose.common import CELL_DONE
from engagement.digests.compose.common import CELL_EMPTY
from engagement.digests.compose.common import CELL_TARGET
from engagement.digests.compose.common import EN_DASH
from engagement.digests.compose.common import TREND_FOR_PARTNERS
from engagement.digests.compose.common import WELLBEING_LINES
from engagement.digests.compose.common import RenderedDigest
from engagement.digests.compose.common import caseload_url
from engagement.digests.compose.common import email_message
from engagement.digests.compose.common import minimal_digest
from engagement.digests.compose.common import preferences_url
from engagement.digests.compose.common import render
from engagement.digests.compose.common import report_url
from engagement.digests.compose.common import week_label
from engagement.digests.compose.common import week_url
from engagement.digests.compose.partner import Chart
from engagement.digests.compose.partner import ChartColumn
from engagement.digests.compose.partner import PartnerSection
from engagement.digests.compose.partner import UpcomingItem
from engagement.digests.compose.partner import WeekFigures
from engagement.digests.compose.partner import encouragement
from engagement.digests.compose.partner import partner_digest
from engagement.digests.compose.partner import partner_section
from engagement.digests.compose.therapist import CaseloadRow
from engagement.digests.compose.therapist import caseload_rows
from engagement.digests.compose.therapist import therapist_digest

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

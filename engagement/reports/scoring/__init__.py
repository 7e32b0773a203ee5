"""Weekly report methodology v1.1 (SPEC section 5) as pure functions over plain data.

No Django, no clock, no settings: the aggregation layer turns rows into the inputs below, and
everything here is decided from those inputs alone, so a report can be recomputed, tested and
explained number by number. The methodology, in words a therapist can check, lives in
docs/reports.md.

Arithmetic is exact (integers, or fractions.Fraction) until a figure is shown: a rule such as
"gap of 15 or more" or "slope from +5" must not fall on the wrong side of its threshold because
of binary floating point. Shown figures are rounded half up (away from zero), as
decimal.ROUND_HALF_UP does; see docs/reports.md, "Rounding".

- inputs.py: what scoring reads (a couple's week, each partner's counts and tallies, away and
  unsafe days, session feedback, and each partner's goal at the week's end);
- figures.py: per-partner figures (SPEC 5.2), balance and its trend (SPEC 5.3, 5.6);
- flags.py: flags (SPEC 5.4) with their recommendations (SPEC 5.5), and their code lists;
- report.py: the weekly report of a couple put together (SPEC 5);
- urgency.py: a couple's place in a therapist's caseload (SPEC 5.8).
"""

from engagement.reports.scoring.figures import ATTENDANCE_WEIGHT
from engagement.reports.scoring.figures import AVERAGE_PLACES
from engagement.reports.scoring.figures import CHECKIN_WEIGHT
from engagement.reports.scoring.figures import FOLLOW_THROUGH_WEIGHT
from engagement.reports.scoring.figures import LEANING_FROM
from engagement.reports.scoring.figures import ONE_SIDED_FROM
from engagement.reports.scoring.figures import PARTICIPATION_WEIGHT
from engagement.reports.scoring.figures import RATIO_PLACES
from engagement.reports.scoring.figures import SCORE_PLACES
from engagement.reports.scoring.figures import TREND_MIN_GAPS
from engagement.reports.scoring.figures import TREND_SLOPE
from engagement.reports.scoring.figures import TREND_WEEKS
from engagement.reports.scoring.figures import Balance
from engagement.reports.scoring.figures import BalanceResult
from engagement.reports.scoring.figures import GapTrend
from engagement.reports.scoring.figures import PartnerFigures
from engagement.reports.scoring.figures import compute_balance
from engagement.reports.scoring.figures import compute_partner_figures
from engagement.reports.scoring.figures import gap_trend
from engagement.reports.scoring.flags import FLAG_CODES
from engagement.reports.scoring.flags import LOOKBACK_WEEKS
from engagement.reports.scoring.flags import LOW_ALLIANCE_BELOW
from engagement.reports.scoring.flags import LOW_ALLIANCE_SESSIONS
from engagement.reports.scoring.flags import LOW_ENGAGEMENT_BELOW
from engagement.reports.scoring.flags import RECOMMENDATION_CODES
from engagement.reports.scoring.flags import RESENTMENT_HIGH
from engagement.reports.scoring.flags import RESENTMENT_MIN_RATINGS
from engagement.reports.scoring.flags import RESENTMENT_RISE
from engagement.reports.scoring.flags import SAFETY_RECOMMENDATIONS
from engagement.reports.scoring.flags import SPLIT_GAP
from engagement.reports.scoring.flags import SPLIT_MIN_SESSIONS
from engagement.reports.scoring.flags import SPLIT_SESSIONS
from engagement.reports.scoring.flags import STREAK_WEEKS
from engagement.reports.scoring.flags import UNKEPT_FOLLOW_THROUGH_BELOW
from engagement.reports.scoring.flags import UNKEPT_MIN_MISSED
from engagement.reports.scoring.flags import UNKEPT_WEEKS
from engagement.reports.scoring.flags import WELLBEING_DROP
from engagement.reports.scoring.flags import WELLBEING_LOW
from engagement.reports.scoring.flags import WELLBEING_MIN_EARLIER_WEEKS
from engagement.reports.scoring.flags import WELLBEING_WEEKS
from engagement.reports.scoring.flags import Flag
from engagement.reports.scoring.flags import FlagCode
from engagement.reports.scoring.flags import Recommendation
from engagement.reports.scoring.flags import RecommendationCode
from engagement.reports.scoring.inputs import FEEDBACK_POINTS
from engagement.reports.scoring.inputs import SELF_REPORT_VISIBILITIES
from engagement.reports.scoring.inputs import CheckinRatings
from engagement.reports.scoring.inputs import CoupleWeekInput
from engagement.reports.scoring.inputs import GoalAtEnd
from engagement.reports.scoring.inputs import JsonValue
from engagement.reports.scoring.inputs import PartnerId
from engagement.reports.scoring.inputs import PartnerWeekInput
from engagement.reports.scoring.inputs import RatingTally
from engagement.reports.scoring.inputs import SelfReportRatings
from engagement.reports.scoring.inputs import SessionFeedbackScore
from engagement.reports.scoring.inputs import self_report_ratings
from engagement.reports.scoring.report import METHODOLOGY
from engagement.reports.scoring.report import PartnerViewScores
from engagement.reports.scoring.report import WeekReport
from engagement.reports.scoring.report import compute_week_report
from engagement.reports.scoring.urgency import URGENCY_LEVELS
from engagement.reports.scoring.urgency import urgency_key

__all__ = [
    "ATTENDANCE_WEIGHT",
    "AVERAGE_PLACES",
    "CHECKIN_WEIGHT",
    "FEEDBACK_POINTS",
    "FLAG_CODES",
    "FOLLOW_THROUGH_WEIGHT",
    "LEANING_FROM",
    "LOOKBACK_WEEKS",
    "LOW_ALLIANCE_BELOW",
    "LOW_ALLIANCE_SESSIONS",
    "LOW_ENGAGEMENT_BELOW",
    "METHODOLOGY",
    "ONE_SIDED_FROM",
    "PARTICIPATION_WEIGHT",
    "RATIO_PLACES",
    "RECOMMENDATION_CODES",
    "RESENTMENT_HIGH",
    "RESENTMENT_MIN_RATINGS",
    "RESENTMENT_RISE",
    "SAFETY_RECOMMENDATIONS",
    "SCORE_PLACES",
    "SELF_REPORT_VISIBILITIES",
    "SPLIT_GAP",
    "SPLIT_MIN_SESSIONS",
    "SPLIT_SESSIONS",
    "STREAK_WEEKS",
    "TREND_MIN_GAPS",
    "TREND_SLOPE",
    "TREND_WEEKS",
    "UNKEPT_FOLLOW_THROUGH_BELOW",
    "UNKEPT_MIN_MISSED",
    "UNKEPT_WEEKS",
    "URGENCY_LEVELS",
    "WELLBEING_DROP",
    "WELLBEING_LOW",
    "WELLBEING_MIN_EARLIER_WEEKS",
    "WELLBEING_WEEKS",
    "Balance",
    "BalanceResult",
    "CheckinRatings",
    "CoupleWeekInput",
    "Flag",
    "FlagCode",
    "GapTrend",
    "GoalAtEnd",
    "JsonValue",
    "PartnerFigures",
    "PartnerId",
    "PartnerViewScores",
    "PartnerWeekInput",
    "RatingTally",
    "Recommendation",
    "RecommendationCode",
    "SelfReportRatings",
    "SessionFeedbackScore",
    "WeekReport",
    "compute_balance",
    "compute_partner_figures",
    "compute_week_report",
    "gap_trend",
    "self_report_ratings",
    "urgency_key",
]

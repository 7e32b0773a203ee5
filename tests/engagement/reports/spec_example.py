"""SPEC 5.2's example weekly report, which the scoring tests and the six weeks through the API
both reproduce: written once, here."""

from __future__ import annotations

import json
from typing import Any

# The ids as SPEC 5.2 abbreviates them.
REPORT_ID = "6f1c…"
COUPLE_ID = "0b9e…"
ENGAGED = "93c2…"
RELUCTANT = "a41d…"

# SPEC 5.2's example, line breaks aside.
SPEC_EXAMPLE = """
{
  "id": "6f1c…", "couple": "0b9e…", "week_start": "2026-11-16",
  "methodology": "v1.1", "view": "full", "revision": 1, "computed_at": "2026-11-23T12:00:03.000Z",
  "updated_at": "2026-11-23T12:00:03.000Z",
  "balance": "one_sided", "gap": 100.0, "gap_trend": "widening", "less_engaged_partner": "a41d…",
  "partners": [
    {"partner": "93c2…", "engagement_score": 100.0,
     "attendance_rate": 1.0, "participation": 1.0, "checkin_rate": 1.0, "follow_through": 1.0,
     "sessions_expected": 1, "sessions_attended": 1, "checkin_days": 5,
     "commitments_due": 1, "commitments_kept": 1, "commitments_missed": 0,
     "commitments_unreported": 0,
     "mood_avg": null, "effort_avg": 5.0, "connection_avg": null,
     "resentment_avg": 4.0, "wellbeing_avg": 2.0},
    {"partner": "a41d…", "engagement_score": 0.0,
     "attendance_rate": 0.0, "participation": null, "checkin_rate": null, "follow_through": 0.0,
     "sessions_expected": 1, "sessions_attended": 0, "checkin_days": 0,
     "commitments_due": 1, "commitments_kept": 0, "commitments_missed": 1,
     "commitments_unreported": 0,
     "mood_avg": null, "effort_avg": null, "connection_avg": null,
     "resentment_avg": null, "wellbeing_avg": null}
  ],
  "flags": [{"code": "engagement_gap_streak", "partner": "a41d…",
             "evidence": {"weeks": ["2026-11-02", "2026-11-09", "2026-11-16"],
                          "gaps": [55.0, 100.0, 100.0]}}],
  "recommendations": [{"code": "assess_commitment", "partner": "a41d…"},
                      {"code": "consider_individual_sessions", "partner": "a41d…"},
                      {"code": "support_engaged_partner", "partner": "93c2…"}],
  "shared_balance": "one_sided", "shared_gap": 88.2, "shared_gap_trend": "widening"
}
"""


def spec_example(**ids: str) -> dict[str, Any]:
    """The example as a body, its abbreviated ids (``report``, ``couple``, ``engaged``,
    ``reluctant``) replaced by the given ones."""
    text = SPEC_EXAMPLE
    for name, abbreviated in (
        ("report", REPORT_ID),
        ("couple", COUPLE_ID),
        ("engaged", ENGAGED),
        ("reluctant", RELUCTANT),
    ):
        if name in ids:
            text = text.replace(abbreviated, ids.pop(name))
    assert not ids, f"no such id in the example: {sorted(ids)}"
    result: dict[str, Any] = json.loads(text)
    return result

"""The floor of `reports_10k`: one hand-written SQL statement that computes every per-partner
input the reports need for weeks w-4 .. w, writing nothing (PostgreSQL)."""

from __future__ import annotations

from datetime import date

from django.db import connection

SCALES = ("mood", "effort", "connection", "resentment", "wellbeing")

_SCALE_AGGREGATES = ",\n".join(
    f"sum({s}) FILTER (WHERE visibility <> 'private') AS {s}_total, "
    f"count({s}) FILTER (WHERE visibility <> 'private') AS {s}_count"
    for s in SCALES
)

# Built from constants only: no input ever reaches the SQL text.
FLOOR_SQL = f"""
WITH couple_weeks AS (
    SELECT c.id AS couple_id, c.timezone, gs::date AS week_start
    FROM engagement_couple c,
         generate_series(%(w)s::date - 28, %(w)s::date, interval '7 days') AS gs
),
partners AS (
    SELECT couple_id, user_id, joined_at FROM engagement_membership
    WHERE role = 'partner' AND left_at IS NULL
),
att AS (
    SELECT s.couple_id, a.partner_id,
           date_trunc('week', s.starts_at AT TIME ZONE c.timezone)::date AS week_start,
           count(*) FILTER (WHERE a.status IN ('attended', 'late')) AS attended,
           count(*) FILTER (WHERE a.status = 'absent') AS missed,
           sum(a.participation) FILTER (WHERE a.status IN ('attended', 'late')) AS rating_total,
           count(a.participation) FILTER (WHERE a.status IN ('attended', 'late')) AS rating_count
    FROM engagement_attendance a
    JOIN engagement_therapysession s ON s.id = a.session_id
    JOIN engagement_couple c ON c.id = s.couple_id
    WHERE s.status = 'completed'
      AND s.starts_at >= (%(w)s::date - 29)::timestamptz
      AND s.starts_at < (%(w)s::date + 8)::timestamptz
    GROUP BY 1, 2, 3
),
ci AS (
    SELECT couple_id, author_id, date_trunc('week', date)::date AS week_start,
           count(*) AS days,
           {_SCALE_AGGREGATES}
    FROM engagement_checkin
    WHERE date >= %(w)s::date - 28 AND date < %(w)s::date + 7
    GROUP BY 1, 2, 3
),
cm AS (
    SELECT c.couple_id, c.owner_id, date_trunc('week', c.due_on)::date AS week_start,
           count(*) FILTER (WHERE c.status = 'kept') AS kept,
           count(*) FILTER (WHERE c.status = 'missed') AS missed,
           count(*) FILTER (WHERE c.status = 'open') AS unreported,
           count(*) FILTER (WHERE c.status = 'missed' AND r.status = 'missed') AS renewals_of_missed
    FROM engagement_commitment c
    LEFT JOIN engagement_commitment r ON r.id = c.renewed_from_id
    WHERE c.due_on >= %(w)s::date - 28 AND c.due_on < %(w)s::date + 7
      AND c.status <> 'released'
    GROUP BY 1, 2, 3
)
SELECT cw.couple_id, p.user_id, cw.week_start, p.joined_at,
       att.attended, att.missed, att.rating_total, att.rating_count,
       ci.days, {", ".join(f"ci.{s}_total, ci.{s}_count" for s in SCALES)},
       cm.kept, cm.missed, cm.unreported, cm.renewals_of_missed
FROM couple_weeks cw
JOIN partners p ON p.couple_id = cw.couple_id
LEFT JOIN att ON att.couple_id = cw.couple_id AND att.partner_id = p.user_id
             AND att.week_start = cw.week_start
LEFT JOIN ci ON ci.couple_id = cw.couple_id AND ci.author_id = p.user_id
            AND ci.week_start = cw.week_start
LEFT JOIN cm ON cm.couple_id = cw.couple_id AND cm.owner_id = p.user_id
            AND cm.week_start = cw.week_start
"""  # noqa: S608


def run_floor(week_start: date) -> int:
    """Run the statement and fetch every row; returns the number of (partner, week) rows."""
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, {"w": week_start})
        return len(cursor.fetchall())

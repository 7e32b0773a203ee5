"""The floor of `reports_10k`: one hand-written SQL statement that computes every per-partner
input methodology v1.1 reads for weeks w-5 .. w (the history of a report of week w), writing
nothing (PostgreSQL).

Per partner and week, as `engagement/reports/aggregates.py` hands them to scoring: sessions
attended and missed (joint ones apart) and the participation ratings' sum and count, in the
local week the session started in; check-in days (`couple` ones apart) and each scale's sum and
count over the check-ins a therapist may read; commitments kept, missed and still open (shared
ones apart) and missed renewals of missed ones; away days (shared ones apart); unsafe days;
each session feedback's points, session and local day, oldest first; the latest goal set
before the week's local end, with its local date. Not here: what only decides whether a week
is reported at all (status changes, former partners, the first record of a couple), which the
run reads with a few cheap queries per chunk.
"""

from __future__ import annotations

from datetime import date

from django.db import connection

SCALES = ("mood", "effort", "connection", "resentment", "wellbeing")
# SELF_REPORT_VISIBILITIES of engagement/reports/scoring, the allow-list of averages.
READABLE = "visibility IN ('therapist', 'couple')"
WEEKS = 6  # w-5 .. w (LOOKBACK_WEEKS + 1)

_SCALE_AGGREGATES = ",\n".join(
    f"sum({s}) FILTER (WHERE {READABLE}) AS {s}_total, "
    f"count({s}) FILTER (WHERE {READABLE}) AS {s}_count"
    for s in SCALES
)

# Sessions in the UTC envelope of the weeks, a day wider on each side than any local week.
SESSIONS_IN_WEEKS = (
    f"s.starts_at >= (%(w)s::date - {7 * (WEEKS - 1) + 1})::timestamptz "
    "AND s.starts_at < (%(w)s::date + 8)::timestamptz"
)

# Each per-partner aggregate, by the column naming its partner, joined to the partner's week.
_PER_PARTNER_WEEK = "\n".join(
    f"LEFT JOIN {name} ON {name}.couple_id = cw.couple_id AND {name}.{partner} = p.user_id "
    f"AND {name}.week_start = cw.week_start"
    for name, partner in (
        ("att", "partner_id"),
        ("ci", "author_id"),
        ("cm", "owner_id"),
        ("away", "partner_id"),
        ("unsafe", "partner_id"),
        ("fb", "partner_id"),
        ("goal", "partner_id"),
    )
)

# Built from constants only: no input ever reaches the SQL text.
FLOOR_SQL = f"""
WITH couple_weeks AS (
    SELECT c.id AS couple_id, c.timezone, gs::date AS week_start,
           ((gs::date + 7)::timestamp AT TIME ZONE c.timezone) AS week_end
    FROM engagement_couple c,
         generate_series(%(w)s::date - {7 * (WEEKS - 1)}, %(w)s::date, interval '7 days') AS gs
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
           count(*) FILTER (WHERE a.status IN ('attended', 'late') AND s.kind = 'joint')
               AS joint_attended,
           count(*) FILTER (WHERE a.status = 'absent' AND s.kind = 'joint') AS joint_missed,
           sum(a.participation) FILTER (WHERE a.status IN ('attended', 'late')) AS rating_total,
           count(a.participation) FILTER (WHERE a.status IN ('attended', 'late')) AS rating_count
    FROM engagement_attendance a
    JOIN engagement_therapysession s ON s.id = a.session_id
    JOIN engagement_couple c ON c.id = s.couple_id
    WHERE s.status = 'completed' AND {SESSIONS_IN_WEEKS}
    GROUP BY 1, 2, 3
),
fb AS (
    SELECT s.couple_id, f.partner_id, date_trunc('week', s.day)::date AS week_start,
           array_agg(f.points ORDER BY s.starts_at, s.id) AS feedback_points,
           array_agg(s.id ORDER BY s.starts_at, s.id) AS feedback_sessions,
           array_agg(s.day ORDER BY s.starts_at, s.id) AS feedback_days
    FROM (
        SELECT f.session_id, f.partner_id,
               f.understood + f.helpful + f.spoke_freely + f.coming_back AS points
        FROM engagement_sessionfeedback f
    ) f
    JOIN (
        SELECT s.id, s.couple_id, s.starts_at, (s.starts_at AT TIME ZONE c.timezone)::date AS day
        FROM engagement_therapysession s
        JOIN engagement_couple c ON c.id = s.couple_id
        WHERE {SESSIONS_IN_WEEKS}
    ) s ON s.id = f.session_id
    GROUP BY 1, 2, 3
),
ci AS (
    SELECT couple_id, author_id, date_trunc('week', date)::date AS week_start,
           count(*) AS days,
           count(*) FILTER (WHERE visibility = 'couple') AS shared_days,
           {_SCALE_AGGREGATES}
    FROM engagement_checkin
    WHERE date >= %(w)s::date - {7 * (WEEKS - 1)} AND date < %(w)s::date + 7
    GROUP BY 1, 2, 3
),
cm AS (
    SELECT c.couple_id, c.owner_id, date_trunc('week', c.due_on)::date AS week_start,
           count(*) FILTER (WHERE c.status = 'kept') AS kept,
           count(*) FILTER (WHERE c.status = 'missed') AS missed,
           count(*) FILTER (WHERE c.status = 'open') AS unreported,
           count(*) FILTER (WHERE c.status = 'kept' AND c.visibility = 'couple') AS shared_kept,
           count(*) FILTER (WHERE c.status = 'missed' AND c.visibility = 'couple')
               AS shared_missed,
           count(*) FILTER (WHERE c.status = 'open' AND c.visibility = 'couple')
               AS shared_unreported,
           count(*) FILTER (WHERE c.status = 'missed' AND r.status = 'missed') AS renewals_of_missed
    FROM engagement_commitment c
    LEFT JOIN engagement_commitment r ON r.id = c.renewed_from_id
    WHERE c.due_on >= %(w)s::date - {7 * (WEEKS - 1)} AND c.due_on < %(w)s::date + 7
      AND c.status <> 'released'
    GROUP BY 1, 2, 3
),
away AS (
    SELECT a.couple_id, a.partner_id, date_trunc('week', d)::date AS week_start,
           count(DISTINCT d) AS away_days,
           count(DISTINCT d) FILTER (WHERE a.visibility = 'couple') AS shared_away_days
    FROM engagement_awayperiod a,
         generate_series(greatest(a.starts_on, %(w)s::date - {7 * (WEEKS - 1)}),
                         least(a.ends_on, %(w)s::date + 6), interval '1 day') AS d
    WHERE a.starts_on < %(w)s::date + 7 AND a.ends_on >= %(w)s::date - {7 * (WEEKS - 1)}
    GROUP BY 1, 2, 3
),
unsafe AS (
    SELECT couple_id, partner_id, date_trunc('week', date)::date AS week_start,
           array_agg(DISTINCT date ORDER BY date) AS unsafe_dates
    FROM engagement_safetyalert
    WHERE date >= %(w)s::date - {7 * (WEEKS - 1)} AND date < %(w)s::date + 7
    GROUP BY 1, 2, 3
),
goal AS (
    SELECT DISTINCT ON (cw.couple_id, g.partner_id, cw.week_start)
           cw.couple_id, g.partner_id, cw.week_start, g.goal,
           (g.set_at AT TIME ZONE cw.timezone)::date AS set_on
    FROM engagement_goal g
    JOIN couple_weeks cw ON cw.couple_id = g.couple_id AND g.set_at < cw.week_end
    WHERE g.set_at < (%(w)s::date + 8)::timestamptz
    ORDER BY cw.couple_id, g.partner_id, cw.week_start, g.set_at DESC, g.id DESC
)
SELECT cw.couple_id, p.user_id, cw.week_start, p.joined_at,
       att.attended, att.missed AS sessions_missed, att.joint_attended, att.joint_missed,
       att.rating_total, att.rating_count,
       ci.days, ci.shared_days, {", ".join(f"ci.{s}_total, ci.{s}_count" for s in SCALES)},
       cm.kept, cm.missed AS commitments_missed, cm.unreported, cm.shared_kept, cm.shared_missed,
       cm.shared_unreported, cm.renewals_of_missed,
       away.away_days, away.shared_away_days, unsafe.unsafe_dates,
       fb.feedback_points, fb.feedback_sessions, fb.feedback_days,
       goal.goal, goal.set_on AS goal_set_on
FROM couple_weeks cw
JOIN partners p ON p.couple_id = cw.couple_id
{_PER_PARTNER_WEEK}
"""  # noqa: S608


def run_floor(week_start: date) -> int:
    """Run the statement and fetch every row; returns the number of (partner, week) rows."""
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, {"w": week_start})
        return len(cursor.fetchall())

"""The report pages: read-only for everyone, figures, flags and a chart; recomputed on demand."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from accounts.models import User
from engagement.models import Attendance
from engagement.models import AuditEvent
from engagement.models import TherapySession
from engagement.models import WeeklyReport
from engagement.reports.pipeline import compute_reports
from engagement.reports.weeks import last_completed_week
from tests.admin.report_rows import MONDAY
from tests.admin.report_rows import store_report
from tests.factories import UserFactory
from tests.factories import make_couple

pytestmark = pytest.mark.django_db

GAP_FLAG = {
    "code": "engagement_gap_streak",
    "evidence": {"weeks": ["2026-11-02", "2026-11-09", "2026-11-16"], "gaps": [55.0, 100.0, 100.0]},
}


def _chart(page: str) -> str:
    start = page.index('<svg xmlns="http://www.w3.org/2000/svg" class="duet-engagement-chart"')
    return page[start : page.index("</svg>", start)]


def _url(report: WeeklyReport, view: str = "change") -> str:
    return f"/admin/engagement/weeklyreport/{report.pk}/{view}/"


@pytest.fixture
def one_sided() -> WeeklyReport:
    couple, engaged, reluctant, _ = make_couple(name="R & S")
    engaged.display_name, reluctant.display_name = "Robin", "Sasha"
    User.objects.bulk_update([engaged, reluctant], ["display_name"])
    for weeks_back, (a, b) in enumerate([(100.0, 0.0), (100.0, 37.5), (90.0, None)]):
        store_report(
            couple,
            MONDAY - dt.timedelta(weeks=weeks_back),
            [(engaged, a), (reluctant, b)],
            balance="one_sided",
            gap=100.0,
            gap_trend="widening",
            less_engaged_partner=reluctant,
            flags=[{**GAP_FLAG, "partner": str(reluctant.pk)}],
            recommendations=[
                {"code": "assess_commitment", "partner": str(reluctant.pk)},
                {"code": "support_engaged_partner", "partner": str(engaged.pk)},
            ],
        )
    return WeeklyReport.objects.get(couple=couple, week_start=MONDAY)


def test_the_report_page_shows_each_partners_figures(
    staff_client: Client, one_sided: WeeklyReport
) -> None:
    page = staff_client.get(_url(one_sided)).content.decode()

    table = page[page.index("duet-figures") :]
    assert "Robin" in table
    assert "Sasha (less engaged)" in table
    assert re.search(r"Engagement score</th><td>100.0</td><td>0.0</td>", table)
    assert re.search(r"Attendance</th><td>100%</td>", table)
    assert re.search(r"Mood \(avg\)</th><td>—</td>", table)


def test_the_report_page_shows_flags_with_their_evidence_and_recommendations(
    staff_client: Client, one_sided: WeeklyReport
) -> None:
    page = staff_client.get(_url(one_sided)).content.decode()

    assert "engagement_gap_streak" in page
    assert "weeks: 2026-11-02, 2026-11-09, 2026-11-16" in page
    assert "gaps: 55.0, 100.0, 100.0" in page
    assert "<strong>assess_commitment</strong> for Sasha" in page
    assert "<strong>support_engaged_partner</strong> for Robin" in page


def test_the_report_page_charts_the_couples_recent_weeks(
    staff_client: Client, one_sided: WeeklyReport
) -> None:
    page = staff_client.get(_url(one_sided)).content.decode()

    chart = _chart(page)
    # Three weeks; Robin has three scores, Sasha two (a null score is a gap, not a zero).
    assert chart.count("<circle") == 5
    assert "Sasha, week of 2026-11-16: 0.0" in chart
    assert "Robin, week of 2026-11-02: 90.0" in chart
    assert "<script" not in chart


def test_the_chart_covers_at_most_twelve_weeks(staff_client: Client) -> None:
    couple, p1, p2, _ = make_couple()
    for weeks_back in range(15):
        store_report(couple, MONDAY - dt.timedelta(weeks=weeks_back), [(p1, 80.0), (p2, 60.0)])
    report = WeeklyReport.objects.get(couple=couple, week_start=MONDAY)

    page = staff_client.get(_url(report)).content.decode()

    chart = _chart(page)
    assert chart.count("<circle") == 2 * 12
    assert "week of 2026-08-31" in chart  # MONDAY - 11 weeks
    assert "week of 2026-08-24" not in chart


def test_names_on_the_report_page_are_escaped(staff_client: Client) -> None:
    couple, p1, p2, _ = make_couple()
    p1.display_name = '<script>alert("x")</script>'
    p1.save()
    report = store_report(couple, MONDAY, [(p1, 50.0), (p2, 70.0)])

    page = staff_client.get(_url(report)).content.decode()

    assert '<script>alert("x")' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_reports_are_read_only_for_everyone(staff_client: Client, one_sided: WeeklyReport) -> None:
    page = staff_client.get(_url(one_sided)).content.decode()

    assert 'name="_save"' not in page
    assert staff_client.get("/admin/engagement/weeklyreport/add/").status_code == 403
    assert staff_client.get(_url(one_sided, "delete")).status_code == 403
    assert staff_client.post(_url(one_sided), {"gap": "1"}).status_code == 403
    one_sided.refresh_from_db()
    assert one_sided.gap == 100.0


def test_opening_a_report_is_audited(
    staff: User, staff_client: Client, one_sided: WeeklyReport
) -> None:
    staff_client.get(_url(one_sided))

    event = AuditEvent.objects.get(action="report.view")
    assert (event.channel, event.actor, event.object_type) == ("admin", staff, "report")
    assert event.object_ids == [str(one_sided.pk)]
    assert event.couple_id == one_sided.couple_id


def _computed_report() -> WeeklyReport:
    """A report computed from real rows: one partner attended last week's session, one not."""
    week = last_completed_week("UTC", timezone.now())
    couple, present, absent, therapist = make_couple(
        created_at=timezone.now() - dt.timedelta(weeks=3)
    )
    session = TherapySession.objects.create(
        couple=couple,
        kind="joint",
        starts_at=dt.datetime.combine(week, dt.time(10), tzinfo=dt.UTC) + dt.timedelta(days=1),
        status="completed",
        created_by=therapist,
    )
    Attendance.objects.create(session=session, partner=present, status="attended", participation=3)
    Attendance.objects.create(session=session, partner=absent, status="absent")
    compute_reports({couple.pk: [week]})
    return WeeklyReport.objects.get(couple=couple, week_start=week)


def _recompute(client: Client, *reports: WeeklyReport) -> str:
    response = client.post(
        "/admin/engagement/weeklyreport/",
        {"action": "recompute", "_selected_action": [str(r.pk) for r in reports]},
        follow=True,
    )
    assert response.status_code == 200
    return " ".join(str(m) for m in response.context["messages"])


def test_recomputing_restores_a_reports_results_with_a_new_revision(
    staff_client: Client,
) -> None:
    report = _computed_report()
    expected = (report.balance, report.gap, report.partners)
    WeeklyReport.objects.filter(pk=report.pk).update(balance="balanced", gap=None, partners=[])

    message = _recompute(staff_client, report)

    report.refresh_from_db()
    assert (report.balance, report.gap, report.partners) == expected
    assert report.revision == 2
    assert not report.stale
    assert "1 report(s) recomputed: 1 with changed results" in message
    assert LogEntry.objects.filter(object_id=str(report.pk)).exists()


def test_recomputing_an_unchanged_report_keeps_its_revision(staff_client: Client) -> None:
    report = _computed_report()

    message = _recompute(staff_client, report)

    report.refresh_from_db()
    assert report.revision == 1
    assert "1 report(s) recomputed: 0 with changed results (new revision), 1 unchanged" in message


def test_staff_who_may_only_view_reports_cannot_recompute_them(
    one_sided: WeeklyReport,
) -> None:
    viewer = UserFactory.create(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_weeklyreport"))
    client = Client()
    client.force_login(viewer)

    page = client.get("/admin/engagement/weeklyreport/").content.decode()
    assert client.get(_url(one_sided)).status_code == 200
    assert 'value="recompute"' not in page
    before = one_sided.revision
    _recompute(client, one_sided)
    one_sided.refresh_from_db()
    assert one_sided.revision == before

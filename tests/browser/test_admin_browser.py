"""The admin in a real browser (Debian's Chromium through Playwright): staff sign in, read a
couple, a report and its chart, the digest ledger and a private check-in; screenshots for docs."""

# No browser is downloaded: Playwright drives the system's /usr/bin/chromium (CI installs the
# Debian package). Playwright's sync API runs an event loop in this thread, where Django
# refuses ORM calls as async-unsafe (and would open a connection of its own that nothing
# closes): the data is written before the browser starts and checked after it is closed.

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from engagement.admin.checkins import PRIVATE_NOTE_SHOWN_AS
from engagement.digests.delivery import OUTCOME_UNKNOWN
from engagement.models import AuditEvent
from engagement.models import CheckIn
from engagement.models import Couple
from engagement.models import DigestDelivery
from engagement.models import WeeklyReport
from tests.factories import CheckInFactory

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Found on PATH (Debian installs it as /usr/bin/chromium), so CI can prove a missing browser fails.
CHROMIUM = Path(shutil.which("chromium") or "/nonexistent/chromium")
# Screenshots go to var/screenshots, so a test run leaves the tree clean; `make screenshots`
# points this at docs/screenshots to refresh the pictures the README shows.
SCREENSHOTS = Path(
    os.environ.get(
        "DUET_SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "var" / "screenshots"
    )
)
STAFF_EMAIL, STAFF_PASSWORD = "staff@example.com", "staff-long-passphrase"
PRIVATE_NOTE = "Only mine: thinking about the lease and whether to sign it, 5521"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium on PATH (apt-get install chromium)",
    ),
]


class Seen:
    """What the test planted before the browser started."""

    def __init__(self) -> None:
        call_command("seed_demo", stdout=io.StringIO())
        User.objects.create_superuser(STAFF_EMAIL, STAFF_PASSWORD, display_name="Sam Staff")
        reports = WeeklyReport.objects.order_by("-week_start", "couple__name")
        report = reports.filter(balance="one_sided").first() or reports.first()
        assert report is not None, "seed_demo wrote no report"
        self.report: WeeklyReport = report
        self.couple: Couple = report.couple
        partner = self.couple.memberships.filter(role="partner").select_related("user").first()
        assert partner is not None
        self.partner_name = partner.user.display_name
        self.private: CheckIn = CheckInFactory.create(
            couple=self.couple,
            author=partner.user,
            date=timezone.now().date() + dt.timedelta(days=1),
            visibility="private",
            note=PRIVATE_NOTE,
        )
        self._digests(self.report.week_start)

    def _digests(self, week: dt.date) -> None:
        now = timezone.now()
        demo = User.objects.filter(email__endswith="@demo.duet.local").order_by("email")
        users = [*demo.filter(is_therapist=False)[:5], *demo.filter(is_therapist=True)[:1]]
        for n, user in enumerate(users):
            status = ("sent", "sent", "failed", "pending", "failed", "skipped")[n]
            DigestDelivery.objects.create(
                user=user,
                kind="therapist" if user.is_therapist else "partner",
                week_start=week,
                status=status,
                attempts=0 if status in ("pending", "skipped") else (1 if n != 4 else 5),
                sent_at=now if status == "sent" else None,
                message_id=f"<digest-{n}@demo.duet.local>",
                error={
                    2: OUTCOME_UNKNOWN.format(reason="ConnectionResetError(104)"),
                    4: "refused (550): mailbox unavailable",
                    5: f"no report of week {week}",
                }.get(n, ""),
            )


@pytest.fixture
def seen(transactional_db: None) -> Seen:
    return Seen()


@contextmanager
def chromium_page() -> Iterator[Page]:
    """A page in Debian's Chromium, driven by Playwright, closed on leaving."""
    sync_api = pytest.importorskip("playwright.sync_api")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()
    finally:
        playwright.stop()


def _screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_staff_read_the_admin_in_a_browser(live_server: Any, seen: Seen) -> None:
    base = live_server.url
    with chromium_page() as page:
        stylesheets: list[tuple[str, int]] = []
        page.on(
            "response",
            lambda r: stylesheets.append((r.url, r.status)) if r.url.endswith(".css") else None,
        )

        page.goto(f"{base}/admin/login/?next=/admin/")
        page.fill("#id_username", STAFF_EMAIL)
        page.fill("#id_password", STAFF_PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{base}/admin/")
        assert page.locator("#site-name").is_visible()
        # The admin's own stylesheets, served by the live server: the page is styled.
        assert any(
            url.endswith("/admin/css/base.css") and status == 200 for url, status in stylesheets
        )
        header = page.eval_on_selector("#header", "e => getComputedStyle(e).backgroundColor")
        assert header not in ("", "rgba(0, 0, 0, 0)")

        page.goto(f"{base}/admin/engagement/couple/{seen.couple.pk}/change/")
        # The navigation sidebar folded away (the admin remembers it), for roomier screenshots.
        page.click("#toggle-nav-sidebar")
        members = page.locator("#memberships-group")
        assert members.is_visible()
        assert seen.partner_name in members.inner_text()
        _screenshot(page, "admin-couple.png")

        page.goto(f"{base}/admin/engagement/weeklyreport/{seen.report.pk}/change/")
        chart = page.locator("svg.duet-engagement-chart")
        assert chart.is_visible()
        box = chart.bounding_box()
        assert box is not None
        assert box["width"] > 400
        assert chart.locator("circle").count() > 0
        assert page.locator("table.duet-figures").is_visible()
        _screenshot(page, "admin-report.png")

        page.goto(f"{base}/admin/engagement/digestdelivery/")
        assert page.locator("#result_list tbody tr").count() == 6
        _screenshot(page, "admin-digests.png")

        page.goto(f"{base}/admin/engagement/checkin/{seen.private.pk}/change/")
        assert page.get_by_text(PRIVATE_NOTE_SHOWN_AS).is_visible()
        assert PRIVATE_NOTE not in page.content()
        assert "lease" not in page.content()

    # Checked once the browser is gone: the ORM is not called while Playwright's loop runs.
    assert AuditEvent.objects.filter(channel="admin", action="report.view").exists()
    assert AuditEvent.objects.filter(channel="admin", action="checkin.view").exists()

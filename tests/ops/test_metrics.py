"""`/metrics`: refused without the token, and the domain counters move when the work happens."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from engagement.digests import delivery
from engagement.digests.delivery import DeliveryKey
from engagement.digests.tasks import send_due_digests
from engagement.models import Couple
from tests.engagement.digests.builders import NEXT_MONDAY
from tests.engagement.digests.builders import WEEK
from tests.engagement.digests.builders import local
from tests.engagement.digests.builders import reported_couple
from tests.engagement.digests.conftest import RefusingMailbox
from tests.engagement.digests.conftest import mailbox  # noqa: F401
from tests.ops.metrics_text import names
from tests.ops.metrics_text import now
from tests.ops.metrics_text import total

pytestmark = pytest.mark.django_db

TOKEN = "metrics-test-token-0123456789abcdef"
SEND = local(NEXT_MONDAY, 8)


@pytest.fixture
def failures_do_not_propagate() -> Iterator[None]:
    """Eager tasks that fail as a worker's do: recorded (and signalled), not raised."""
    from config.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


@pytest.fixture
def metrics_token(settings: SettingsWrapper) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client: APIClient) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.content.decode()


# --- The attacker's side first: nobody without the token reads the metrics -----------------
def test_without_a_configured_token_metrics_do_not_exist(
    api_client: APIClient, settings: SettingsWrapper
) -> None:
    settings.METRICS_TOKEN = ""
    headers: list[dict[str, Any]] = [
        {},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": "Bearer x"},
    ]
    for header in headers:
        response = api_client.get("/metrics", **header)
        assert response.status_code == 404
        assert b"duet_" not in response.content


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer wrong-token",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        TOKEN,
    ],
)
def test_a_wrong_or_missing_token_is_refused(
    api_client: APIClient, metrics_token: str, authorization: str | None
) -> None:
    headers: dict[str, Any] = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = api_client.get("/metrics", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"duet_" not in response.content
    assert b"django_http" not in response.content


def test_a_signed_in_user_even_staff_cannot_read_the_metrics(
    client_for: Callable[[User | None], APIClient], metrics_token: str
) -> None:
    from tests.factories import UserFactory

    staff = UserFactory.create(is_staff=True, is_superuser=True)
    response = client_for(staff).get("/metrics")
    assert response.status_code == 401


def test_the_token_opens_the_metrics_in_the_prometheus_text_format(
    api_client: APIClient, metrics_token: str
) -> None:
    name = "django_http_responses_total_by_status_view_method_total"
    meta = {"view": "meta", "method": "GET", "status": "200"}
    before = now(name, **meta)  # the suite's other tests counted too
    for _ in range(3):
        assert api_client.get("/api/v1/meta/").status_code == 200
    text = scrape(api_client)
    # django-prometheus: HTTP, database; the domain's own, read at scrape time.
    assert total(text, name, **meta) == before + 3
    assert "django_db_execute_total" in names(text)
    assert {"duet_beat_heartbeat_age_seconds", "duet_celery_queue_depth", "duet_broker_up"} <= (
        names(text)
    )
    assert total(text, "duet_broker_up") == 1
    queues = {
        sample.labels["queue"]
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "duet_celery_queue_depth"
    }
    assert queues == {"default", "reports", "email"}


def test_a_broker_that_does_not_answer_is_a_sample_not_an_error(
    api_client: APIClient, metrics_token: str
) -> None:
    with mock.patch("config.observability.metrics.queue_depths", return_value=None):
        text = scrape(api_client)
    assert total(text, "duet_broker_up") == 0
    assert "duet_celery_queue_depth" not in names(text)


def test_the_heartbeat_age_is_read_from_the_last_heartbeat(
    api_client: APIClient, metrics_token: str
) -> None:
    from config.tasks import heartbeat

    text = scrape(api_client)
    assert total(text, "duet_beat_heartbeat_age_seconds") == float("inf")  # none on record
    with time_machine.travel("2026-12-01T10:00:00+00:00", tick=False):
        heartbeat()
    with time_machine.travel("2026-12-01T10:01:40+00:00", tick=False):
        text = scrape(api_client)
    assert total(text, "duet_beat_heartbeat_age_seconds") == 100.0
    assert total(text, "duet_beat_heartbeat_period_seconds") == 60.0


# --- Domain counters ---------------------------------------------------------------------
def run_at(at: dt.datetime) -> None:
    with time_machine.travel(at, tick=False):
        send_due_digests()


def digests(kind: str, outcome: str) -> float:
    return now("duet_messages_total", stream="digest", kind=kind, outcome=outcome)


def test_digests_sent_are_counted_by_kind(mailbox: RefusingMailbox) -> None:  # noqa: F811
    before = {(k, o): digests(k, o) for k in ("partner", "therapist") for o in ("sent", "failed")}
    reported_couple()
    reported_couple(therapist=False)
    run_at(SEND)
    assert len(mailbox.messages) == 5
    assert digests("partner", "sent") - before["partner", "sent"] == 4
    assert digests("therapist", "sent") - before["therapist", "sent"] == 1
    assert digests("partner", "failed") == before["partner", "failed"]


def only_a() -> User:
    _, a, b, _ = reported_couple(therapist=False)
    User.objects.filter(pk=b.pk).update(weekly_digest=False)
    return a


def test_refused_digests_count_as_retrying_then_failed(mailbox: RefusingMailbox) -> None:  # noqa: F811
    only_a()
    retrying, failed = digests("partner", "retrying"), digests("partner", "failed")
    mailbox.refusals.append("451 4.3.0 Try again later")
    run_at(SEND)
    assert digests("partner", "retrying") - retrying == 1
    mailbox.refusals.append("550 5.1.1 Mailbox unavailable")
    run_at(SEND + dt.timedelta(minutes=15))
    assert digests("partner", "failed") - failed == 1
    assert digests("partner", "retrying") - retrying == 1


def test_a_connection_dropped_mid_send_counts_as_outcome_unknown(
    mailbox: RefusingMailbox,  # noqa: F811
) -> None:
    only_a()
    unknown = digests("partner", "unknown")
    mailbox.hang_ups = 1  # the server reads the message, then the connection is gone
    run_at(SEND)
    assert digests("partner", "unknown") - unknown == 1


def test_an_abandoned_claim_counts_as_outcome_unknown_once(
    mailbox: RefusingMailbox,  # noqa: F811
) -> None:
    a = only_a()
    unknown = digests("partner", "unknown")
    key = DeliveryKey(a.id, "partner", WEEK)
    with time_machine.travel(SEND, tick=False):
        row = delivery.ledger([key], create=[key])[key]
        assert delivery.claim(row.id, message_id=row.message_id) is not None
    run_at(SEND + dt.timedelta(minutes=15))  # a live claim: nothing yet
    assert digests("partner", "unknown") == unknown
    run_at(SEND + delivery.CLAIM_TIMEOUT + dt.timedelta(minutes=1))
    run_at(SEND + dt.timedelta(hours=3))
    assert digests("partner", "unknown") - unknown == 1


def test_weekly_reports_computed_by_a_chunk_are_counted(db: None) -> None:
    from engagement.reports.tasks import compute_report_chunk
    from tests.engagement.digests.builders import WEEK

    couples = [reported_couple()[0] for _ in range(2)]
    Couple.objects.filter(pk__in=[c.pk for c in couples])  # their stored reports exist
    outcomes = ("created", "updated", "unchanged", "skipped", "pending", "failed")
    before = {o: now("duet_reports_total", outcome=o) for o in outcomes}
    succeeded = now(
        "duet_celery_tasks_total",
        task="engagement.reports.tasks.compute_report_chunk",
        outcome="succeeded",
    )
    summary = compute_report_chunk.delay([str(c.pk) for c in couples], WEEK.isoformat()).get()
    computed = sum(summary[k] for k in ("created", "updated", "unchanged"))
    for outcome, count in summary.items():
        if count:
            assert now("duet_reports_total", outcome=outcome) - before[outcome] == count
    assert computed + summary["skipped"] + summary["pending"] == 2
    assert (
        now(
            "duet_celery_tasks_total",
            task="engagement.reports.tasks.compute_report_chunk",
            outcome="succeeded",
        )
        - succeeded
        == 1
    )
    assert now("duet_reports_total", outcome="failed") == before["failed"]


@pytest.mark.usefixtures("failures_do_not_propagate")
def test_a_report_chunk_that_raises_counts_its_couples_as_failed(db: None) -> None:
    from engagement.reports.tasks import compute_report_chunk

    failed = now("duet_reports_total", outcome="failed")
    with (
        mock.patch(
            "engagement.reports.pipeline.compute_reports_for_chunk",
            side_effect=RuntimeError("boom"),
        ),
    ):
        compute_report_chunk.delay(
            ["00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"],
            WEEK.isoformat(),
        )
    assert now("duet_reports_total", outcome="failed") - failed == 2


def test_the_planner_records_its_run(db: None) -> None:
    from engagement.reports.tasks import schedule_weekly_reports

    schedule_weekly_reports.delay()
    assert now("duet_report_planner_last_run_timestamp_seconds") > 0


def test_account_emails_are_counted(
    api_client: APIClient, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    sent = now("duet_messages_total", stream="account", kind="verification", outcome="sent")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/auth/register/",
            {"email": "new.person@example.com", "password": "a long pass 42!", "display_name": "N"},
            format="json",
        )
    assert response.status_code in (201, 202), response.content
    assert (
        now("duet_messages_total", stream="account", kind="verification", outcome="sent") - sent
        == 1
    )


@pytest.mark.usefixtures("failures_do_not_propagate")
def test_a_mail_task_that_fails_for_good_counts_as_failed(db: None) -> None:
    from accounts.tasks import send_password_reset_email
    from tests.factories import UserFactory

    user = UserFactory.create()
    failed = now("duet_messages_total", stream="account", kind="password_reset", outcome="failed")
    with mock.patch("accounts.emails.password_reset_message", side_effect=ValueError("bad")):
        send_password_reset_email.delay(str(user.pk))
    assert (
        now("duet_messages_total", stream="account", kind="password_reset", outcome="failed")
        - failed
        == 1
    )


def test_no_label_names_a_user_a_couple_or_an_email(
    api_client: APIClient,
    metrics_token: str,
    mailbox: RefusingMailbox,  # noqa: F811
) -> None:
    couple, a, b, therapist = reported_couple()
    assert therapist is not None
    run_at(SEND)
    api_client.get(f"/api/v1/couples/{couple.pk}/")
    text = scrape(api_client)
    for person in (a, b, therapist):
        assert str(person.pk) not in text
        assert person.email not in text
        assert person.email.split("@")[0] not in text
    assert str(couple.pk) not in text
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-", text)
    assert "@" not in text

"""The operator's files: alert rules equal to the documented ones, naming only real metrics;
the example Prometheus configuration scraping web and worker with the token."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[2]


def documented_rules() -> str:
    doc = (ROOT / "docs" / "operations.md").read_text()
    found = re.search(r"### Alert rules\n.*?```yaml\n(.*?)```", doc, re.S)
    assert found, "docs/operations.md has no YAML block of alert rules"
    return found.group(1)


def test_deploy_alerts_are_the_documented_rules() -> None:
    shipped = (ROOT / "deploy" / "alerts.yml").read_text()
    assert yaml.safe_load(shipped) == yaml.safe_load(documented_rules())
    names = {rule["alert"] for rule in yaml.safe_load(shipped)["groups"][0]["rules"]}
    # What the issue asks an operator to be told about.
    assert {
        "DuetBeatSilent",
        "DuetDigestFailures",
        "DuetWeeklyRunLate",
        "DuetOutcomeUnknownSends",
        "DuetQueueBacklog",
    } <= names


@pytest.mark.django_db
def test_every_metric_an_alert_names_is_exported(
    api_client: APIClient, settings: SettingsWrapper
) -> None:
    settings.METRICS_TOKEN = "t" * 32
    text = api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + "t" * 32).content.decode()
    exported = set()
    for family in text_string_to_metric_families(text):
        exported |= {family.name, f"{family.name}_total"}
    used = set(re.findall(r"\b(?:duet|django)_[a-z_]+\b", documented_rules()))
    assert used
    assert used <= exported, used - exported


def test_the_example_prometheus_scrapes_web_and_worker_with_the_token() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"duet-web", "duet-worker"}
    for job in jobs.values():
        assert job["authorization"]["type"] == "Bearer"
        assert job["metrics_path"] == "/metrics"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["worker"]["environment"]["WORKER_METRICS_BIND"] == "0.0.0.0:9808"
    assert "web" in compose["x-app"]["environment"]["ALLOWED_HOSTS"]
    assert "prometheus" in compose["services"]

"""The schema types every key of a flag's evidence that scoring writes (SPEC 5.4, issue 16).

`seed_demo` makes a couple for each pattern; every flag its reports raise must carry only
evidence keys the API's `FlagEvidence` component declares, so a generated client's types hold.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from engagement.api.serializers.reports import FlagEvidenceSerializer
from engagement.models import WeeklyReport

pytestmark = pytest.mark.django_db


def test_every_evidence_key_of_the_demo_reports_is_in_the_schema() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    flags = [flag for report in WeeklyReport.objects.all() for flag in report.flags]
    codes = {flag["code"] for flag in flags}
    keys = {key for flag in flags for key in flag["evidence"]}

    # The demo shows the patterns (not a vacuous check), and the schema names every key.
    assert {"engagement_gap_streak", "commitments_unkept", "rising_resentment"} <= codes, codes
    assert keys <= set(FlagEvidenceSerializer().fields)

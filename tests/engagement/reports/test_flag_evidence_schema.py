"""The schema types every key of a flag's evidence that scoring writes (SPEC 5.4, issue 16).

`seed_demo` makes a couple for each pattern; every flag its reports raise must carry only
evidence keys the API's `FlagEvidence` component declares, so a generated client's types hold;
and that component requires none of them, since which keys appear depends on the flag.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from engagement.api.serializers.reports import FlagEvidenceSerializer
from engagement.models import WeeklyReport

pytestmark = pytest.mark.django_db


def test_every_evidence_key_of_the_demo_reports_is_in_the_schema() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    flags = [flag for report in WeeklyReport.objects.all() for flag in report.flags]
    codes = {flag["code"] for flag in flags}
    keys = {key for flag in flags for key in flag["evidence"]}

    # The demo shows the patterns (not a vacuous check), and the schema names every key.
    assert {
        "engagement_gap_streak",
        "commitments_unkept",
        "rising_resentment",
        "split_alliance",
        "goal_mismatch",
    } <= codes, codes
    assert keys <= set(FlagEvidenceSerializer().fields)


def test_the_evidence_component_types_each_key_and_requires_none() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    evidence = schema["components"]["schemas"]["FlagEvidence"]
    flag = schema["components"]["schemas"]["Flag"]

    assert "required" not in evidence
    assert set(evidence["properties"]) == set(FlagEvidenceSerializer().fields)
    assert evidence["properties"]["dates"]["items"]["format"] == "date"
    assert flag["properties"]["evidence"]["allOf"][0]["$ref"].endswith("/FlagEvidence")
    assert set(flag["required"]) == {"code", "partner", "evidence"}

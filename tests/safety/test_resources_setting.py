"""SAFETY_RESOURCES is validated when the settings load, with a message naming what is wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from config.safety_resources import DEFAULT_SAFETY_RESOURCES
from config.safety_resources import SafetyResourcesError
from config.safety_resources import parse_safety_resources
from config.safety_resources import resources_for

LANGUAGES = ["en", "es"]


def test_the_default_has_a_generic_entry_in_each_language() -> None:
    assert parse_safety_resources("", languages=LANGUAGES) == DEFAULT_SAFETY_RESOURCES
    assert set(DEFAULT_SAFETY_RESOURCES) == set(LANGUAGES)


def test_a_configured_list_is_kept_and_other_languages_fall_back_to_it() -> None:
    raw = json.dumps({"es": [{"name": "016", "phone": "016", "url": "https://example.org"}]})
    parsed = parse_safety_resources(raw, languages=LANGUAGES)
    assert resources_for(parsed, "en") == [
        {"name": "016", "phone": "016", "url": "https://example.org"}
    ]


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "non-empty JSON object"),
        ('{"fr": [{"name": "x"}]}', "'fr'"),
        ('{"en": []}', "non-empty list"),
        ('{"en": [{"phone": "112"}]}', "needs a name"),
        ('{"en": [{"name": "x", "fax": "1"}]}', "fax"),
        ('{"en": [{"name": "x", "url": "javascript:alert(1)"}]}', "url"),
        ('{"en": [{"name": 3}]}', "name must be a non-empty string"),
    ],
)
def test_a_malformed_value_is_refused_naming_the_problem(raw: str, names: str) -> None:
    with pytest.raises(SafetyResourcesError, match=names):
        parse_safety_resources(raw, languages=LANGUAGES)


def test_the_process_refuses_to_start_with_a_malformed_value() -> None:
    env = {**os.environ, "SAFETY_RESOURCES": '{"en": [{"phone": "112"}]}'}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SAFETY_RESOURCES['en'][0] needs a name" in result.stderr

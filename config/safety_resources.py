"""SAFETY_RESOURCES (SPEC section 8): the services shown beside the safety question, by language.

Parsed and validated when the settings load, so a malformed value stops the process at start-up
with a message naming what is wrong, never a 500 on the day someone needs the list. Imports
nothing of Django's apps: the settings call it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

Resource = dict[str, str]

# The generic default, in each language the API speaks: the one thing true everywhere.
DEFAULT_SAFETY_RESOURCES: dict[str, list[Resource]] = {
    "en": [
        {
            "name": "Emergency services",
            "text": "If you are in danger now, call your local emergency number.",
        }
    ],
    "es": [
        {
            "name": "Servicios de emergencia",
            "text": "Si estás en peligro ahora, llama al número de emergencias de tu zona.",
        }
    ],
}

_KEYS = {"name", "phone", "url", "text"}
_MAX_LENGTH = {"name": 120, "phone": 40, "url": 500, "text": 500}


class SafetyResourcesError(ValueError):
    """SAFETY_RESOURCES is not a JSON object by language of lists of {name, phone?, url?, text?}."""


def _resource(language: str, index: int, item: Any) -> Resource:
    where = f"SAFETY_RESOURCES[{language!r}][{index}]"
    if not isinstance(item, dict):
        raise SafetyResourcesError(f"{where} must be an object {{name, phone?, url?, text?}}.")
    unknown = set(item) - _KEYS
    if unknown:
        raise SafetyResourcesError(f"{where} has unknown keys: {', '.join(sorted(unknown))}.")
    for key, value in item.items():
        if not isinstance(value, str) or not value.strip():
            raise SafetyResourcesError(f"{where}.{key} must be a non-empty string.")
        if len(value) > _MAX_LENGTH[key]:
            raise SafetyResourcesError(f"{where}.{key} is longer than {_MAX_LENGTH[key]}.")
    if "name" not in item:
        raise SafetyResourcesError(f"{where} needs a name.")
    if "url" in item and urlparse(item["url"]).scheme not in ("http", "https", "tel"):
        raise SafetyResourcesError(f"{where}.url must be an http, https or tel address.")
    return {key: item[key].strip() for key in ("name", "phone", "url", "text") if key in item}


def parse_safety_resources(raw: str, *, languages: list[str]) -> dict[str, list[Resource]]:
    """The resources by language from the environment's JSON; the default when ``raw`` is empty.

    Every key must be one of ``languages``; a language the value leaves out falls back to the
    first language it gives (`resources_for`), so a configured hotline is never replaced by the
    generic default.
    """
    if not raw.strip():
        return DEFAULT_SAFETY_RESOURCES
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SafetyResourcesError(f"SAFETY_RESOURCES is not valid JSON: {exc}.") from None
    if not isinstance(value, dict) or not value:
        raise SafetyResourcesError(
            "SAFETY_RESOURCES must be a non-empty JSON object by language, such as "
            '{"en": [{"name": "...", "phone": "..."}]}.'
        )
    parsed: dict[str, list[Resource]] = {}
    for language, items in value.items():
        if language not in languages:
            raise SafetyResourcesError(
                f"SAFETY_RESOURCES names the language {language!r}; the API speaks "
                f"{', '.join(languages)}."
            )
        if not isinstance(items, list) or not items:
            raise SafetyResourcesError(
                f"SAFETY_RESOURCES[{language!r}] must be a non-empty list of resources."
            )
        parsed[language] = [_resource(language, i, item) for i, item in enumerate(items)]
    return parsed


def resources_for(resources: dict[str, list[Resource]], language: str) -> list[Resource]:
    """The list in ``language``; else in English; else the first language configured."""
    for candidate in (language, language.split("-")[0], "en"):
        if candidate in resources:
            return resources[candidate]
    return next(iter(resources.values()))

"""`{% load i18n %}` loads config/i18n_tags.py: a constant `{% translate %}` is looked up once
per language and then kept (issue 20); everything else renders as Django's tags do."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import engines
from django.utils import translation
from django.utils.translation import trans_real

from config.i18n_tags import ConstantTranslateNode


def template(source: str) -> Any:
    return engines["django"].from_string("{% load i18n %}" + source)


def test_a_constant_translation_follows_the_active_language_on_every_render() -> None:
    page = template('{% translate "Your week" %}|{% trans "Unsubscribe" %}')

    rendered = []
    for language in ("en", "es", "en", "es"):
        with translation.override(language):
            rendered.append(page.render({}))

    assert rendered == [
        "Your week|Unsubscribe",
        "Tu semana|Darme de baja",
        "Your week|Unsubscribe",
        "Tu semana|Darme de baja",
    ]


def test_a_constant_translation_is_looked_up_once_per_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = template('{% translate "Your week" %}')
    looked_up: list[str] = []

    def counting(message: str) -> str:
        looked_up.append(message)
        return trans_real.gettext(message)

    monkeypatch.setattr("django.utils.translation._trans.gettext", counting)
    for _ in range(3):
        for language in ("en", "es"):
            with translation.override(language):
                page.render({})

    assert looked_up == ["Your week", "Your week"]


def test_only_constant_translations_are_kept() -> None:
    source = (
        '{% translate "Your week" %}'
        "|{% translate greeting %}"
        '|{% translate "Your week" as kept %}{{ kept }}'
        '|{% translate "Your week"|upper %}'
        "|{% blocktranslate %}Hello {{ name }},{% endblocktranslate %}"
    )
    page = template(source)
    nodes = page.template.nodelist
    assert [type(n).__name__ for n in nodes.get_nodes_by_type(ConstantTranslateNode)] == [
        "ConstantTranslateNode"
    ]

    with translation.override("es"):
        first = page.render({"greeting": "Unsubscribe", "name": "Arvessa"})
        second = page.render({"greeting": "Your week", "name": "Quillon"})

    assert first.split("|")[:4] == ["Tu semana", "Darme de baja", "Tu semana", "TU SEMANA"]
    assert second.split("|")[1] == "Tu semana"
    assert "Arvessa" in first
    assert "Quillon" in second
    assert "Arvessa" not in second


def test_nothing_is_kept_while_translation_is_deactivated() -> None:
    # deactivate_all() makes a new catalog at every call: keyed by it, a long-lived worker
    # would keep one more text per call, without end.
    page = template('{% translate "Your week" %}')
    [node] = page.template.nodelist.get_nodes_by_type(ConstantTranslateNode)

    for _ in range(3):
        with translation.override(None):
            assert page.render({}) == "Your week"

    assert node.rendered == {}
    with translation.override("es"):
        assert page.render({}) == "Tu semana"
    assert len(node.rendered) == 1

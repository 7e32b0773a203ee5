"""Django's `i18n` tag library, with its constant translations rendered once per language:
what `{% load i18n %}` loads with this module's template backend (TEMPLATES' ``BACKEND``).

A `{% translate "literal" %}` (no filter, no ``as``, a literal ``context`` if any) renders to
a text that depends only on the active translation catalog and the context's autoescaping;
Django looks it up again at every render (with the `{% blocktranslate %}` tags, about 40 % of a
digest's template time: issue 20, docs/benchmarks.md, "Session 5"). Here such a node keeps
what it rendered for each (catalog, autoescape) it has seen: the same text, computed by Django's
own code the first time. The tags are Django's, so `makemessages` extracts them as before;
every other tag and node is Django's, unchanged (every `{% blocktranslate %}` of the emails
has a variable).
A catalog is a translation object of Django's; when Django rebuilds its catalogs (a change of
LANGUAGES or LOCALE_PATHS in tests) the new objects are new keys.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template import Library
from django.template.backends import django as django_backend
from django.template.base import FilterExpression
from django.template.base import Parser
from django.template.base import Token
from django.template.base import Variable
from django.template.context import Context
from django.templatetags import i18n as django_i18n
from django.utils.translation import trans_real

register = Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)


def _catalog() -> object | None:
    """The active translation catalog; None when translation is off or deactivated (nothing is
    kept). Only Django's catalogs of a language are keys: Django keeps one per language, so the
    texts kept stay a few per tag; `deactivate_all()` makes a new catalog at each call, which
    would grow them without end in a long-lived worker."""
    if not settings.USE_I18N:
        return None
    catalog = trans_real.catalog()
    return catalog if isinstance(catalog, trans_real.DjangoTranslation) else None


def _literal(expression: FilterExpression | None) -> bool:
    """A string written in the template, with no filter (or no expression at all)."""
    if expression is None:
        return True
    var = expression.var
    return (
        not expression.filters
        and isinstance(var, Variable)
        and var.literal is not None
        and var.lookups is None
    )


class ConstantTranslateNode(django_i18n.TranslateNode):
    """`{% translate "literal" %}`: rendered once per catalog and autoescaping."""

    rendered: dict[tuple[object, bool], str]

    def render(self, context: Context) -> str:
        catalog = _catalog()
        key = (catalog, context.autoescape)
        text = self.rendered.get(key) if catalog is not None else None
        if text is None:
            text = super().render(context)
            if catalog is not None:
                self.rendered[key] = text
        return text


def _translate_tag(parser: Parser, token: Token) -> Any:
    node = django_i18n.do_translate(parser, token)
    if (
        isinstance(node, django_i18n.TranslateNode)
        and node.asvar is None
        and _literal(node.filter_expression)
        and _literal(node.message_context)
    ):
        node.__class__ = ConstantTranslateNode
        node.rendered = {}  # type: ignore[attr-defined]
    return node


register.tag("translate", _translate_tag)
register.tag("trans", _translate_tag)


class DjangoTemplates(django_backend.DjangoTemplates):
    """Django's template backend, `{% load i18n %}` loading the library above. Set on the
    engine rather than in the ``libraries`` option, where Django's check warns of two modules
    for one library name (templates.W003)."""

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.engine.template_libraries["i18n"] = register

"""Free text staff read only on a row's own page (a check-in's or a goal's note, a session
feedback's comment): never loaded for a list, never matched by a filter."""

from __future__ import annotations

from typing import ClassVar
from typing import TypeVar

from django.contrib import admin
from django.db.models import Model
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest

_ModelT = TypeVar("_ModelT", bound=Model)


class OwnPageTextAdmin(admin.ModelAdmin[_ModelT]):
    """The admin's querysets leave `own_page_text` unread (`defer`), and a lookup on it in the
    URL (`?note__icontains=...`, which Django would otherwise allow on a local field) is
    refused: which rows it matched would tell what they say."""

    own_page_text: ClassVar[str]

    def get_queryset(self, request: HttpRequest) -> QuerySet[_ModelT]:
        return super().get_queryset(request).defer(self.own_page_text)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if self.own_page_text in lookup.split(LOOKUP_SEP):
            return False
        return super().lookup_allowed(lookup, value, request)

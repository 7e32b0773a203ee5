"""Admin pages staff may read but not change: rows written by the system or through services.

Shared by the admin of accounts and of engagement, so neither app imports the other for it."""

from __future__ import annotations

from typing import Any
from typing import TypeVar

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

_ModelT = TypeVar("_ModelT", bound=Model)
_ParentT = TypeVar("_ParentT", bound=Model)


class ViewOnlyAdmin(admin.ModelAdmin[_ModelT]):
    """No add, change or delete, for anyone: editing these rows by hand would bypass the rules
    their writers keep (stale marks, removals for sync, the exactly-once ledger, the audit)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _ModelT | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _ModelT | None = None) -> bool:
        return False


class ViewOnlyTabularInline(admin.TabularInline[_ModelT, _ParentT]):
    """Related rows shown on their parent's page, changed only through the app's services."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: _ParentT | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def person_search_fields(path: str) -> tuple[str, str]:
    """How staff find rows by a person in the admin's search: the address or the name of the
    user at `path` (`"partner"`, `"session__couple__..."`)."""
    return (f"{path}__email", f"{path}__display_name")

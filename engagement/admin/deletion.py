"""Staff delete a check-in or a session one at a time, through its service (removals for every
device that synced it, stale reports), never in bulk; an ended couple's rows are read-only."""

from __future__ import annotations

from abc import ABCMeta
from abc import abstractmethod
from typing import Any
from typing import TypeVar

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from config.admin_base import ViewOnlyAdmin
from engagement.models import Couple

_ModelT = TypeVar("_ModelT", bound=Model)


class _AbstractAdminMeta(ABCMeta, forms.MediaDefiningClass):
    """A ModelAdmin's metaclass (Django's, for its media) that also enforces abstract methods:
    an admin missing its service hook fails when it is registered, not when staff delete."""


class DeletedThroughServiceAdmin(ViewOnlyAdmin[_ModelT], metaclass=_AbstractAdminMeta):
    @abstractmethod
    def delete_through_service(self, obj: _ModelT) -> None:
        """Delete `obj` through its service (removals, stale reports), never a bare delete."""

    def has_delete_permission(self, request: HttpRequest, obj: _ModelT | None = None) -> bool:
        if obj is not None and obj.couple.status == Couple.Status.ENDED:  # type: ignore[attr-defined]
            return False
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, each through the service
        return actions

    def delete_model(self, request: HttpRequest, obj: _ModelT) -> None:
        self.delete_through_service(obj)

"""Per-reader `updated_at` (SPEC section 1, "Derived changes stay invisible").

A model whose partners read less of it than its therapists keeps two clocks: `updated_at`, the
therapists' value, and `partner_updated_at`, the partners' value. A save moves the therapists'
clock whenever it writes `updated_at`, and the partners' clock too unless every field it changed
is one partners never read (`PARTNER_HIDDEN_FIELDS`): a therapist's note or the safety hold
moves nothing a partner can observe.
"""

from __future__ import annotations

from typing import Any
from typing import ClassVar

from django.db import models
from django.utils import timezone


def updated_at_field() -> models.DateTimeField:
    # Set by `PerReaderTimestamps.save`, not by auto_now, so that both clocks share one instant.
    return models.DateTimeField(default=timezone.now, editable=False, db_index=True)


class PerReaderTimestamps(models.Model):
    """`updated_at` for therapists, `partner_updated_at` for partners."""

    PARTNER_HIDDEN_FIELDS: ClassVar[frozenset[str]] = frozenset()

    updated_at = updated_at_field()
    partner_updated_at = updated_at_field()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        fields = kwargs.get("update_fields")
        if fields is None or "updated_at" in fields:
            now = timezone.now()
            self.updated_at = now
            if fields is None:
                partners_see_it = self._partner_view_changed()
            else:
                changed = set(fields) - {"updated_at", "partner_updated_at"}
                partners_see_it = not changed or not changed <= self.PARTNER_HIDDEN_FIELDS
            if partners_see_it:
                self.partner_updated_at = now
                if fields is not None and "partner_updated_at" not in fields:
                    kwargs["update_fields"] = [*fields, "partner_updated_at"]
        super().save(*args, **kwargs)

    def _partner_view_changed(self) -> bool:
        """A whole-row save (a creation, the admin's form): whether any field partners read
        differs from the stored row, so that the admin switching the hold moves nothing either."""
        if self._state.adding:
            return True
        names = [
            field.attname
            for field in self._meta.concrete_fields
            if field.name not in self.PARTNER_HIDDEN_FIELDS
            and field.name not in ("updated_at", "partner_updated_at")
        ]
        stored = type(self)._default_manager.filter(pk=self.pk).values(*names).first()
        return stored is None or any(stored[name] != getattr(self, name) for name in names)

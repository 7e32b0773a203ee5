"""Filters of the API's lists: couples, invitations, sessions, commitments, check-ins, away
periods, reports, removals and safety alerts.

Range filters are inclusive (`*_after` is ≥, `*_before` is ≤, `updated_since` and `since` are ≥).
Datetimes must carry an offset, as everywhere in the API. An id the caller cannot see filters the
caller's own visible rows, so it simply yields an empty list. `updated_since` compares the caller's
own `updated_at` (`reader_updated_at`, annotated by the selectors: SPEC section 1); an
invitation's is the same for every reader.
"""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import Q
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from engagement.models import Commitment
from engagement.models import Couple
from engagement.models import Invitation
from engagement.models import Membership
from engagement.models import TherapySession
from engagement.selectors.visibility import active_memberships

# `?updated_since=2026-11-23T10:00:00+01:00` sent without encoding the `+` arrives with a space
# in its place; mobile clients get this wrong often enough to read it as meant.
_UNENCODED_PLUS = re.compile(r"(T[\d:.]+) (\d{2}(?::?\d{2})?)$")


class AwareDateTimeFormField(forms.Field):
    """ISO 8601 with a UTC offset, or 400 naming the filter."""

    default_error_messages = {
        "invalid": "Enter an ISO 8601 datetime with an offset, e.g. 2026-11-23T18:00:00Z.",
        "naive": "Datetime must include a UTC offset, e.g. 2026-11-23T18:00:00Z.",
    }

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        text = _UNENCODED_PLUS.sub(r"\1+\2", str(value).strip())
        try:
            parsed = parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if timezone.is_naive(parsed):
            raise forms.ValidationError(self.error_messages["naive"], code="naive")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class AwareDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = AwareDateTimeFormField


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet with its validating form class built once per FilterSet
    class, not once per request (issue 20: building it, a field and a label per filter, cost
    the check-in list more than validating the query). No filter here depends on the request.

    No `Meta`: every filter is declared, none generated from a model's fields, and each works
    on the model of the queryset it is given."""

    _form_classes: dict[type, type[forms.Form]] = {}

    def get_form_class(self) -> type[forms.Form]:
        cls = type(self)
        form_class = FilterSet._form_classes.get(cls)
        if form_class is None:
            form_class = FilterSet._form_classes[cls] = super().get_form_class()
        return form_class


# With `updated_since`, lists of per-reader rows sort by the caller's clock (SPEC section 3).
READER_SYNC_ORDERING = ("reader_updated_at", "id")


def inclusive_range(
    filter_class: type[django_filters.Filter], field_name: str
) -> tuple[django_filters.Filter, django_filters.Filter]:
    """`*_after` and `*_before` on one field: ≥ and ≤, as every range filter here."""
    return (
        filter_class(field_name=field_name, lookup_expr="gte"),
        filter_class(field_name=field_name, lookup_expr="lte"),
    )


def reader_updated_since() -> AwareDateTimeFilter:
    """`updated_since` on the caller's own `updated_at` (SPEC section 1)."""
    return AwareDateTimeFilter(field_name="reader_updated_at", lookup_expr="gte")


class CoupleRowFilter(FilterSet):
    """Rows of couples: `couple` narrows them to one, the first filter of every list."""

    couple = django_filters.UUIDFilter(field_name="couple_id")


class CoupleFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=Couple.Status.choices)
    role = django_filters.ChoiceFilter(
        choices=Membership.Role.choices,
        method="filter_role",
        label="The caller's own role in the couple.",
    )
    updated_since = reader_updated_since()

    def filter_role(self, queryset: QuerySet[Couple], name: str, value: str) -> QuerySet[Couple]:
        mine = active_memberships(self.request.user).filter(role=value).values("couple_id")
        return queryset.filter(id__in=mine)


class InvitationFilter(CoupleRowFilter):
    role = django_filters.ChoiceFilter(choices=Membership.Role.choices)
    status = django_filters.ChoiceFilter(
        choices=Invitation.Status.choices, method="filter_status", label="Effective status."
    )
    updated_since = AwareDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    def filter_status(
        self, queryset: QuerySet[Invitation], name: str, value: str
    ) -> QuerySet[Invitation]:
        # `expired` is not stored: it is a pending invitation past its expiry.
        now = timezone.now()
        pending = Q(status=Invitation.Status.PENDING)
        if value == Invitation.Status.PENDING:
            return queryset.filter(pending, expires_at__gt=now)
        if value == Invitation.Status.EXPIRED:
            return queryset.filter(pending, expires_at__lte=now)
        return queryset.filter(status=value)


class SessionFilter(CoupleRowFilter):
    status = django_filters.ChoiceFilter(choices=TherapySession.Status.choices)
    starts_after, starts_before = inclusive_range(AwareDateTimeFilter, "starts_at")
    updated_since = reader_updated_since()


class CommitmentFilter(CoupleRowFilter):
    owner = django_filters.UUIDFilter(field_name="owner_id")
    status = django_filters.ChoiceFilter(choices=Commitment.Status.choices)
    due_after, due_before = inclusive_range(django_filters.DateFilter, "due_on")
    updated_since = reader_updated_since()


class CheckInFilter(CoupleRowFilter):
    author = django_filters.UUIDFilter(field_name="author_id")
    date_after, date_before = inclusive_range(django_filters.DateFilter, "date")
    updated_since = reader_updated_since()


class AwayPeriodFilter(CoupleRowFilter):
    partner = django_filters.UUIDFilter(field_name="partner_id")
    updated_since = reader_updated_since()


class ReportFilter(CoupleRowFilter):
    week_start = django_filters.DateFilter()
    week_after, week_before = inclusive_range(django_filters.DateFilter, "week_start")
    # The caller's own updated_at (SPEC 1, "Derived changes stay invisible").
    updated_since = reader_updated_since()


class RemovalFilter(FilterSet):
    since = AwareDateTimeFilter(field_name="removed_at", lookup_expr="gte")


class StrictBooleanFormField(forms.Field):
    """`true` or `false`, as the schema's boolean is written in a query string; anything else is
    a 400 naming the parameter (django-filter's own reads an unknown word as "no filter")."""

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return bool(value == "true")
        raise forms.ValidationError("Must be true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanFormField


class SafetyAlertFilter(CoupleRowFilter):
    acknowledged = StrictBooleanFilter(
        field_name="acknowledged_at", lookup_expr="isnull", exclude=True
    )

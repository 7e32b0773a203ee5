"""Filtering for every list: django-filter, with filters that say what they were given."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, except that a filter given empty (`?couple=`) or twice
    (`?couple=a&couple=b`) answers 400 naming it. django-filter would ignore the empty one and
    keep the last of the two, so the list would not be what the client asked for; and a value
    the schema refuses must be refused (SPEC section 3: 400 for bad input)."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: APIView) -> Any:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            errors: dict[str, list[serializers.ErrorDetail]] = {}
            for name in filterset_class.base_filters:
                values = request.query_params.getlist(name)
                if len(values) > 1:
                    errors[name] = [
                        serializers.ErrorDetail("Give this filter once.", code="multiple_values")
                    ]
                elif values == [""]:
                    errors[name] = [
                        serializers.ErrorDetail(
                            "This filter may not be blank; leave it out to not filter.",
                            code="blank",
                        )
                    ]
            if errors:
                raise ValidationError(errors)
        return super().filter_queryset(request, queryset, view)

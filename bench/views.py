"""The baseline of `api_read`: the same rows as GET /api/v1/checkins/?couple=, bare Django."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest
from django.http import JsonResponse

from engagement.models import CheckIn

FIELDS = (
    "id",
    "couple_id",
    "author_id",
    "date",
    "mood",
    "effort",
    "connection",
    "resentment",
    "wellbeing",
    "note",
    "visibility",
    "created_at",
    "updated_at",
)


def bare_checkins(request: HttpRequest) -> JsonResponse:
    """No auth, no serializer, no pagination class: `.values()` and JsonResponse."""
    couple_id = request.GET["couple"]
    viewer = request.GET["viewer"]
    rows = list(
        CheckIn.objects.filter(couple_id=couple_id)
        .filter(Q(author_id=viewer) | Q(visibility="couple"))
        .order_by("-date", "id")
        .values(*FIELDS)[:50]
    )
    return JsonResponse({"results": rows})

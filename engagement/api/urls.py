"""Routes of the engagement API: couples, invitations, sessions, commitments, check-ins, reports."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]

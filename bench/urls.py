"""The project's URLs plus the bare-Django baseline the API is measured against."""

from __future__ import annotations

from django.urls import URLPattern
from django.urls import URLResolver
from django.urls import path

from bench.views import bare_checkins
from config.urls import urlpatterns as project_urlpatterns

urlpatterns: list[URLPattern | URLResolver] = [
    *project_urlpatterns,
    path("bench/bare-checkins/", bare_checkins),
]

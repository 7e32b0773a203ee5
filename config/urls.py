"""Top-level URLs: the versioned API, its schema and docs, health checks and the admin."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern
from django.urls import URLResolver
from django.urls import include
from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from drf_spectacular.views import SpectacularRedocView
from drf_spectacular.views import SpectacularSwaggerView

from config.api import views
from config.observability.metrics import metrics_view

api_v1: list[URLPattern | URLResolver] = [
    path("meta/", views.MetaView.as_view(), name="meta"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html"),
        name="redoc",
    ),
    path("", include("accounts.api.urls")),
    path("", include("engagement.api.urls")),
]

# Under /api/, a URL no route matches answers JSON like every other API error.
handler404 = "config.api.views.not_found"

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
]

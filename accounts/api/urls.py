"""Routes of the accounts API: /auth/* and /me/* (`/me/` itself and `/me/export/` are routed by
engagement/api/urls.py: erasing and exporting reach the couples)."""

from __future__ import annotations

from django.urls import URLPattern
from django.urls import URLResolver
from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import views

devices = SimpleRouter()
devices.register("me/devices", views.DeviceViewSet, basename="device")

urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/verify/", views.VerifyEmailView.as_view(), name="auth-verify"),
    path("auth/token/", views.TokenObtainView.as_view(), name="auth-token"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/password/change/", views.PasswordChangeView.as_view(), name="auth-password-change"),
    path("auth/password/reset/", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path(
        "auth/password/reset/confirm/",
        views.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("me/email/", views.EmailChangeView.as_view(), name="me-email"),
    *devices.urls,
]

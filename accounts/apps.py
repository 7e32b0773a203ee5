"""App configuration for accounts."""

from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The authentication cache's invalidation hangs on the user's signals.
        from accounts import auth_cache  # noqa: F401

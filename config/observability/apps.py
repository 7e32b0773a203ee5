"""Connects the Celery signals of the metrics in every process that loads Django."""

from __future__ import annotations

from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "config.observability"
    label = "observability"
    verbose_name = "Observability"

    def ready(self) -> None:
        from config.observability import celery_hooks

        celery_hooks.connect()

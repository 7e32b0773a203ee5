"""Operating Duet: Prometheus metrics, Sentry error reports and liveness of background work.

`metrics` holds every domain metric and the `/metrics` view, `processes` the multi-process
bookkeeping of gunicorn and the Celery prefork pool, `sentry` the error reporting and its
redaction (docs/operations.md, "Metrics and alerts").
"""

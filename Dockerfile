# Production image: the runtime lock only (no test or lint tools: those are in
# requirements-dev.lock), collected static files, a non-root user.
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.prod
WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY . .
RUN SECRET_KEY=build-only-secret-key-not-used-at-runtime-0123456789abcdef \
    JWT_SIGNING_KEY=build-only-jwt-key-not-used-at-runtime-0123456789abcdef \
    REDIS_URL=redis://build-only:6379/0 ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --no-input \
 && useradd --system --uid 10001 duet && chown -R duet /app/var
USER duet
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--config", "config/gunicorn.conf.py"]

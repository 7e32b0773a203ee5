"""Django's own Redis cache, counted like django-prometheus counts its caches.

django-prometheus's Redis backends import django-redis, which Duet does not use; this is its
`NativeRedisCache` without that import: gets, hits, misses and failures by backend.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django_prometheus.cache.metrics import django_cache_get_fail_total
from django_prometheus.cache.metrics import django_cache_get_total
from django_prometheus.cache.metrics import django_cache_hits_total
from django_prometheus.cache.metrics import django_cache_misses_total


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, keeping one `redis.Redis` per connection pool instead of
    building one per cache call: building one sets up some 170 response callbacks, which
    cost more CPU than the round trip it was for (issue 20; docs/benchmarks.md). A
    `redis.Redis` is safe to share between threads (each command takes a connection from the
    pool), and its pool notices a fork."""

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        clients: dict[int, Any] = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class CountedRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        django_cache_get_total.labels(backend="redis").inc()
        try:
            result = super().get(key, default=None, version=version)
        except Exception:
            django_cache_get_fail_total.labels(backend="redis").inc()
            raise
        if result is None:
            django_cache_misses_total.labels(backend="redis").inc()
            return default
        django_cache_hits_total.labels(backend="redis").inc()
        return result

"""What bearer authentication needs of a user, cached in the shared cache (issue 20).

Every API request used to read the user's whole row to check that the account may still sign
in and that the token's generation is current. The cache keeps, per user who may sign in
(active, not erased, verified), only `(token_generation, is_therapist)` under `auth:user:<id>`:
no name, no address, nothing another reader of the cache could learn a person from. A user who
may not sign in is never cached (the row is read, and the request refused, every time).

Revocation stays immediate (SPEC section 3): every change to a user row invalidates its entry,
whatever made it. `post_save`/`post_delete` cover saves (password change and reset, erasure,
deactivation in the admin or a service, `create_therapist`), and `UserQuerySet.update` covers
bulk updates (the generation bump of a logout-all or theft detection, the admin's therapist
grant and withdrawal). There is no TTL-only expiry; the TTL below is a backstop.

Race safety. Invalidation writes a tombstone, not a delete, both at once (inside the writer's
transaction) and again once it commits (`transaction.on_commit`). A reader fills the entry with
`add` (Redis `SET NX`), which never replaces a tombstone: a request that read the row before
the change committed cannot put the old generation back. While the tombstone lives, that
user's requests read the row (as before this cache). The tombstone outlives any request by far
(`TOMBSTONE_SECONDS` against gunicorn's 30 s timeout), so no stale fill can land after it.

Only a cache every process shares may hold these entries (Redis in production, the file cache
of `make run`); an in-process cache (`LocMemCache`, as in `make fuzz` with several gunicorn
workers) would miss other processes' invalidations, so there it is off unless
`AUTH_USER_CACHE` is set (the test settings set it: one process).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete
from django.db.models.signals import post_save
from django.dispatch import receiver
from rest_framework.request import Request

from accounts.models import User
from accounts.throttling import NOT_READ
from accounts.throttling import read_and_count

VALUE_SECONDS = 60 * 60
TOMBSTONE_SECONDS = 2 * 60
_TOMBSTONE = "x"
_LOCAL_BACKENDS = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def enabled() -> bool:
    explicit = getattr(settings, "AUTH_USER_CACHE", None)
    if explicit is not None:
        return bool(explicit)
    return settings.CACHES["default"]["BACKEND"] not in _LOCAL_BACKENDS


def key(user_id: UUID | str) -> str:
    return f"auth:user:{user_id}"


def _from_cache(user_id: UUID | str, value: Any) -> User | None:
    if not (isinstance(value, tuple | list) and len(value) == 2):
        return None
    generation, is_therapist = value
    # A user instance with only these fields loaded; any other field loads the rest of the row
    # in one query on first use (User.refresh_from_db).
    known = {
        "id": UUID(str(user_id)),
        "token_generation": int(generation),
        "is_therapist": bool(is_therapist),
        "is_active": True,
        "erased_at": None,
    }
    # from_db takes the values in the model's field order.
    names = [f.attname for f in User._meta.concrete_fields if f.attname in known]
    return User.from_db("default", names, [known[name] for name in names])


def user_for_token(
    user_id: UUID | str, *, request: Request | None = None, generation: object = None
) -> tuple[User | None, bool]:
    """The user a token names and whether they came from the cache (then they may sign in:
    only such users are cached); else their row, cached if they may sign in. (None, False)
    when there is no such user.

    Given the request and the token's generation, the cache is read in the round trip that
    also counts the request against the default throttle when the entry lets it in
    (accounts/throttling.py `read_and_count`): one round trip to Redis per request."""
    if not enabled():
        return User.objects.filter(pk=user_id).first(), False
    entry = key(user_id)
    cached = _read(entry, user_id, request, generation)
    if cached is not None and cached != _TOMBSTONE:
        user = _from_cache(user_id, cached)
        if user is not None:
            return user, True
    user = User.objects.filter(pk=user_id).first()
    if user is not None and cached is None and _may_sign_in(user):
        cache.add(entry, (user.token_generation, user.is_therapist), VALUE_SECONDS)
    return user, False


def _read(entry: str, user_id: UUID | str, request: Request | None, generation: object) -> Any:
    if request is not None and type(generation) is int:
        # The values with which the token is current (accounts/authentication.py), whatever
        # the user's therapist flag: with these, the request is let in.
        admitting = [(generation, True), (generation, False)]
        # The throttle's identity is the user's id as `request.user.pk` will write it.
        value = read_and_count(request, str(UUID(str(user_id))), entry, admitting)
        if value is not NOT_READ:
            return value
    return cache.get(entry)


def _may_sign_in(user: User) -> bool:
    return user.is_active and user.erased_at is None and user.email_verified_at is not None


def invalidate(user_ids: Iterable[UUID | str]) -> None:
    """Tombstone the entries now and again when the current transaction commits."""
    if not enabled():
        return
    keys = [key(pk) for pk in user_ids]
    if not keys:
        return

    def tombstone() -> None:
        cache.set_many(dict.fromkeys(keys, _TOMBSTONE), TOMBSTONE_SECONDS)

    tombstone()
    transaction.on_commit(tombstone)


@receiver(post_save, sender=User, dispatch_uid="auth_cache_user_saved")
@receiver(post_delete, sender=User, dispatch_uid="auth_cache_user_deleted")
def _user_changed(sender: type[User], instance: User, **kwargs: Any) -> None:
    if kwargs.get("created"):
        return  # a new row: no token names it yet, nothing can be cached
    invalidate([instance.pk])

"""Sending to users chunk by chunk, as the digests and the reminders do: users walked in pages,
one Celery task queued per page by a planner, and the options those tasks share."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any
from typing import Final
from typing import NamedTuple
from uuid import UUID

from celery import Task
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from config.celery_retry import BULK_MAIL_RETRY
from config.celery_retry import PLANNER_RETRY

# Beat's planners (they read who is due and queue the chunks): nothing reads their result.
PLANNER_TASK_OPTIONS: Final[dict[str, Any]] = {"ignore_result": True, **PLANNER_RETRY}

# Only a failure to reach the mail server escapes a chunk, before any row is claimed; each
# message's own failures are kept on its ledger row and retried from there. The ledger makes a
# second run harmless (claimed or sent rows are skipped), so a chunk whose worker died goes back
# to the queue at once instead of waiting for the next quarter-hour.
CHUNK_TASK_OPTIONS: Final[dict[str, Any]] = {
    "ignore_result": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    **BULK_MAIL_RETRY,
}


class Queued(NamedTuple):
    users: int
    tasks: int


def user_pages(
    users: QuerySet[User], chunk_size: int, user_ids: Sequence[UUID | str] | None = None
) -> Iterator[list[User]]:
    """``users`` (only ``user_ids`` when given) in pages of ``chunk_size``, by id (keyset: one
    query per page)."""
    if user_ids is not None:
        users = users.filter(id__in=list(user_ids))
    after: UUID | None = None
    while True:
        page = list((users if after is None else users.filter(id__gt=after))[:chunk_size])
        if not page:
            return
        yield page
        if len(page) < chunk_size:
            return
        after = page[-1].id


def queue_chunks(pages: Iterable[list[str]], chunk_task: Task, *args: Any) -> Queued:
    """Queue ``chunk_task`` once per page of user ids, with ``args`` after the ids."""
    users = tasks = 0
    for user_ids in pages:
        chunk_task.delay(user_ids, *args)
        users += len(user_ids)
        tasks += 1
    return Queued(users, tasks)


def queue_due(
    release_abandoned_claims: Callable[..., Any],
    due_user_ids: Callable[..., Iterable[list[str]]],
    chunk_task: Task,
) -> int:
    """A planner's run: give up the claims of workers that died (their rows' outcome is
    unknown, for an operator), then queue ``chunk_task`` per page of the users due now; the
    number of users queued."""
    now = timezone.now()
    release_abandoned_claims(now=now)
    return queue_chunks(due_user_ids(now=now), chunk_task).users

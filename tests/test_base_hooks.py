"""The bases that leave one hook to their subclasses refuse to be built without it: a view,
throttle or admin missing it fails when it is made, not on the first request that reaches it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin

from accounts.throttling import CountingThrottle
from engagement.admin.deletion import DeletedThroughServiceAdmin
from engagement.api.base import CallerViewMixin
from engagement.models import CheckIn


def test_a_counting_throttle_needs_what_it_counts_by() -> None:
    class Forgetful(CountingThrottle):
        scope = "forgetful"

    class ByPath(CountingThrottle):
        scope = "by_path"

        def identity(self, request: Any, view: Any) -> str | None:
            return str(request.path)

    with pytest.raises(TypeError, match="identity"):
        Forgetful()  # type: ignore[abstract]
    assert ByPath().scope == "by_path"


def test_a_callers_view_needs_its_visibility_rule() -> None:
    class Unruled(CallerViewMixin):
        pass

    class Ruled(CallerViewMixin):
        def visible_to(self, user: Any) -> Any:
            return CheckIn.objects.none()

    with pytest.raises(TypeError, match="visible_to"):
        Unruled()  # type: ignore[abstract]
    assert Ruled().visible_to(None).model is CheckIn


def test_an_admin_deleting_through_a_service_needs_the_service() -> None:
    class Bare(DeletedThroughServiceAdmin[CheckIn]):
        pass

    class Served(DeletedThroughServiceAdmin[CheckIn]):
        def delete_through_service(self, obj: CheckIn) -> None:
            pass

    with pytest.raises(TypeError, match="delete_through_service"):
        Bare(CheckIn, admin.site)  # type: ignore[abstract]
    assert Served(CheckIn, admin.site).model is CheckIn

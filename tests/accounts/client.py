"""API clients and answer readers shared by the accounts tests."""

from __future__ import annotations

from typing import Any

from django.test import TestCase
from rest_framework.test import APIClient

PASSWORD_NEW = "a-brand-new-long-passphrase"


class CommittingAPIClient(APIClient):
    """Each test runs inside a transaction that never commits, so `transaction.on_commit`
    callbacks would never fire; run them when each request returns, as production does."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(*args, **kwargs)


def bearer(access: str) -> CommittingAPIClient:
    client = CommittingAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def error_attrs(body: dict[str, Any]) -> set[str | None]:
    return {error["attr"] for error in body["errors"]}


def error_codes(body: dict[str, Any]) -> set[str]:
    return {error["code"] for error in body["errors"]}

"""Reminder candidates in bulk, for the reminders benchmark (bench/reminders.py) and the
planner's query tests: users seated as partners two by two, every other one with a device."""

from __future__ import annotations

from collections.abc import Sequence

from accounts.models import Device
from accounts.models import User
from engagement.models import Couple
from engagement.models import Membership


def seat_partners(users: Sequence[User], couples: Sequence[Couple]) -> None:
    """Users 2i and 2i+1 become the two partners of couple i."""
    Membership.objects.bulk_create(
        Membership(couple=c, user=users[2 * i + slot], role="partner", partner_slot=slot + 1)
        for i, c in enumerate(couples)
        for slot in (0, 1)
    )


def give_devices(users: Sequence[User], *, first: int = 0) -> None:
    """A push device for every other user (the odd ones): the rest are reminded by email.
    ``first`` numbers the users, so that devices of several batches never clash."""
    Device.objects.bulk_create(
        Device(user=u, platform="android", token=f"t{i}", token_digest=f"{first + i:064d}")
        for i, u in enumerate(users)
        if i % 2
    )

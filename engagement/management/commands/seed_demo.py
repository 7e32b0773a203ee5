"""`manage.py seed_demo`: a therapist and couples that show each pattern; idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from engagement.models import Couple, CoupleStatusChange, Membership

DEMO_PASSWORD = "duet-demo-password"  # noqa: S105 - printed on purpose: demo accounts only


@dataclass(frozen=True)
class DemoCouple:
    name: str
    pattern: str
    timezone: str
    partners: tuple[tuple[str, str], tuple[str, str]]


DEMO_COUPLES = (
    DemoCouple("A & B", "balanced", "Europe/Berlin", (("ana", "Ana"), ("ben", "Ben"))),
    DemoCouple("C & D", "leaning", "America/Chicago", (("cleo", "Cleo"), ("dev", "Dev"))),
    DemoCouple("E & F", "one_sided", "Asia/Tokyo", (("emi", "Emi"), ("finn", "Finn"))),
    DemoCouple("G & H", "rising_resentment", "UTC", (("gil", "Gil"), ("hana", "Hana"))),
    DemoCouple("I & J", "broken_promises", "America/Los_Angeles", (("ivy", "Ivy"), ("jay", "Jay"))),
)


def _demo_user(handle: str, name: str, *, therapist: bool = False) -> User:
    email = f"{handle}@demo.duet.local"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email,
            DEMO_PASSWORD,
            display_name=name,
            is_therapist=therapist,
            email_verified_at=timezone.now(),
        )
    return user


class Command(BaseCommand):
    help = "Load demo accounts and couples (safe to run again)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        therapist = _demo_user("therapist", "Dr. Rivera", therapist=True)
        rows = [("therapist", therapist.email, "all couples")]
        for demo in DEMO_COUPLES:
            couple = Couple.objects.filter(name=demo.name, memberships__user=therapist).first()
            if couple is None:
                couple = Couple.objects.create(
                    name=demo.name, timezone=demo.timezone, partners_see_balance=False
                )
                CoupleStatusChange.objects.create(couple=couple, status=couple.status)
                Membership.objects.create(couple=couple, user=therapist, role="therapist")
            for slot, (handle, name) in enumerate(demo.partners, start=1):
                partner = _demo_user(handle, name)
                Membership.objects.get_or_create(
                    couple=couple,
                    user=partner,
                    left_at=None,
                    defaults={"role": "partner", "partner_slot": slot},
                )
                rows.append(("partner", partner.email, f"{demo.name} ({demo.pattern})"))
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        for role, email, where in rows:
            self.stdout.write(f"  {role:<9} {email:<32} {where}")

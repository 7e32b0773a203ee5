"""`manage.py create_therapist`: a verified therapist account, for operators and scripts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.core.management.base import CommandParser
from django.db import transaction

from accounts.models import User
from accounts.models import normalize_email
from accounts.services import therapist_create_or_promote
from accounts.validators import validate_name


class Command(BaseCommand):
    help = "Create (or promote) a verified therapist account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", required=True, help="Display name (1-80 characters).")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        email = normalize_email(options["email"])
        name = options["name"].strip()
        if not 1 <= len(name) <= 80:
            raise CommandError("--name must be 1 to 80 characters.")
        try:
            validate_name(name)
        except ValidationError as exc:
            raise CommandError(f"--name: {'; '.join(exc.messages)}") from exc
        user = User.objects.filter(email=email).first()
        try:
            validate_password(options["password"], user=user)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        user, created = therapist_create_or_promote(
            email=email, password=options["password"], display_name=name
        )
        verb = "Created" if created else "Updated (earlier sign-ins ended)"
        self.stdout.write(f"{verb} therapist {user.email} ({user.id}).")

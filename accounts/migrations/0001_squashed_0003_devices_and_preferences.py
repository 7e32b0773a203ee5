"""The accounts app's schema in one migration: 0001_initial to 0003_devices_and_preferences.

Squashed: a new database is created from this file alone. A database migrated by the previous
release (to 0003_devices_and_preferences) has every name in `replaces` on record, so Django
counts this migration as applied there and runs nothing (docs/operations.md, "Upgrading").
Fields added by later migrations stand last in their model, where those migrations put the
columns, so a new database's tables are column for column those of an upgraded one.
"""

import uuid

import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import accounts.models


class Migration(migrations.Migration):
    replaces = [
        ("accounts", "0001_initial"),
        ("accounts", "0002_verification_and_rotation"),
        ("accounts", "0003_devices_and_preferences"),
    ]

    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.CreateModel(
            name="User",
            fields=[
                ("password", models.CharField(max_length=128, verbose_name="password")),
                ("last_login", models.DateTimeField(blank=True, null=True, verbose_name="last login")),
                ("is_superuser", models.BooleanField(default=False, help_text="Designates that this user has all permissions without explicitly assigning them.", verbose_name="superuser status")),
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("email", models.EmailField(max_length=254, unique=True)),
                ("display_name", models.CharField(max_length=80)),
                ("timezone", models.CharField(default="UTC", max_length=64, validators=[accounts.models.validate_timezone])),
                ("is_therapist", models.BooleanField(default=False)),
                ("weekly_digest", models.BooleanField(default=True)),
                ("digest_detail", models.CharField(choices=[("full", "Full"), ("minimal", "Minimal")], default="full", max_length=8)),
                ("digest_weekday", models.PositiveSmallIntegerField(default=0, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(6)])),
                ("digest_hour", models.PositiveSmallIntegerField(default=8, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(23)])),
                ("email_verified_at", models.DateTimeField(blank=True, null=True)),
                ("token_generation", models.PositiveIntegerField(default=0)),
                ("erased_at", models.DateTimeField(blank=True, null=True)),
                ("is_active", models.BooleanField(default=True)),
                ("is_staff", models.BooleanField(default=False)),
                ("date_joined", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("groups", models.ManyToManyField(blank=True, help_text="The groups this user belongs to. A user will get all permissions granted to each of their groups.", related_name="user_set", related_query_name="user", to="auth.group", verbose_name="groups")),
                ("user_permissions", models.ManyToManyField(blank=True, help_text="Specific permissions for this user.", related_name="user_set", related_query_name="user", to="auth.permission", verbose_name="user permissions")),
                ("checkin_reminder", models.BooleanField(default=True)),
                ("language", models.CharField(choices=[("en", "English"), ("es", "Español")], default="en", max_length=2)),
                ("reminder_email", models.BooleanField(default=False)),
                ("reminder_hour", models.PositiveSmallIntegerField(default=20, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(23)])),
            ],
            options={
                "ordering": ("date_joined", "id"),
                "constraints": [models.UniqueConstraint(django.db.models.functions.text.Lower("email"), name="user_email_ci_unique"), models.CheckConstraint(condition=models.Q(("digest_weekday__gte", 0), ("digest_weekday__lte", 6)), name="user_digest_weekday_range"), models.CheckConstraint(condition=models.Q(("digest_hour__gte", 0), ("digest_hour__lte", 23)), name="user_digest_hour_range"), models.CheckConstraint(condition=models.Q(("reminder_hour__gte", 0), ("reminder_hour__lte", 23)), name="user_reminder_hour_range")],
            },
            managers=[
                ("objects", accounts.models.UserManager()),
            ],
        ),
        migrations.CreateModel(
            name="RefreshRotation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("jti", models.CharField(max_length=255, unique=True)),
                ("rotated_at", models.DateTimeField()),
                ("replacement_jti", models.CharField(max_length=255)),
                ("expires_at", models.DateTimeField(db_index=True)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="refresh_rotations", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ("rotated_at", "id"),
            },
        ),
        migrations.CreateModel(
            name="EmailVerification",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("email", models.EmailField(max_length=254)),
                ("purpose", models.CharField(choices=[("register", "Registration"), ("email_change", "Email change")], max_length=12)),
                ("password_hash", models.CharField(blank=True, default="", max_length=128)),
                ("token_hash", models.CharField(blank=True, max_length=64, null=True, unique=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("expires_at", models.DateTimeField(db_index=True)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="email_verifications", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ("created_at", "id"),
                "indexes": [models.Index(fields=["user", "purpose"], name="accounts_em_user_id_d6180c_idx")],
            },
        ),
        migrations.CreateModel(
            name="Device",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("platform", models.CharField(choices=[("ios", "iOS"), ("android", "Android"), ("web", "Web")], max_length=7)),
                ("token", models.TextField()),
                ("token_digest", models.CharField(max_length=64, unique=True)),
                ("name", models.CharField(blank=True, default="", max_length=80)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("last_seen_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="devices", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ("created_at", "id"),
                "indexes": [models.Index(fields=["user", "last_seen_at"], name="accounts_de_user_id_39c7d1_idx")],
            },
        ),
    ]

"""The engagement app's schema in one migration: 0001_initial to 0012_checkin_statistics.

Squashed: a new database is created from this file alone. A database migrated by the previous
release (to 0012_checkin_statistics) has every name in `replaces` on record, so Django counts
this migration as applied there and runs nothing (docs/operations.md, "Upgrading").
Fields added by later migrations stand last in their model, where those migrations put the
columns, so a new PostgreSQL database's tables are column for column those of an upgraded one.
(On SQLite, 0006's change to `updated_at` rebuilt the couple and session tables with that
column last; a new SQLite database has it before `partner_updated_at`, which no query sees.)

Left out: the data migrations, which only rewrote existing rows and do nothing on an empty
database (every database that had rows ran them before this squash): 0006 copied
`updated_at` into the new `partner_updated_at` and dated `shared_at` of what the couple
already saw; 0007 and 0011 marked every stored report stale, so that the next run recomputed
it with methodology v1.1 (docs/reports.md).

Written as makemigrations writes a squash, but for one helper: the models on UUIDModel are
created through `uuid_model`, which holds their key's definition once.

Kept: 0012's extended statistics for the weekly run's check-in aggregate (issue 20,
PostgreSQL only). The aggregate groups a chunk's check-ins by (couple, author, week).
PostgreSQL multiplies the distinct counts of couple_id and author_id as if they were
independent, and at 50k couples expected some 41,000 groups per chunk where there are 5,700:
it then sorted the rows instead of hashing them, a cost that grows faster than the data
(docs/benchmarks.md). An author belongs to one or two couples, which `ndistinct` statistics on
the pair tell the planner. SQLite has no such statistics and skips this.
"""

from __future__ import annotations

import uuid

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

import accounts.models

STATISTICS = "engagement_checkin_couple_author_stats"


def create_statistics(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} (ndistinct) "
            "ON couple_id, author_id FROM engagement_checkin"
        )
        schema_editor.execute("ANALYZE engagement_checkin")


def drop_statistics(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


def uuid_model(
    name: str, fields: list[tuple[str, models.Field]], **options: object
) -> migrations.CreateModel:
    """The CreateModel of a model built on config.model_base.UUIDModel: its random UUID key
    first, as makemigrations writes it, then `fields`; `options` are the CreateModel's."""
    key = models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)
    return migrations.CreateModel(name=name, fields=[("id", key), *fields], options=options)


class Migration(migrations.Migration):
    replaces = [
        ("engagement", "0001_initial"),
        ("engagement", "0002_digests_and_audit"),
        ("engagement", "0003_digest_deliveries_name"),
        ("engagement", "0004_invitation_approvals"),
        ("engagement", "0005_reminders"),
        ("engagement", "0006_per_reader_timestamps"),
        ("engagement", "0007_report_views"),
        ("engagement", "0008_checkin_safety_feedback_goals_away"),
        ("engagement", "0009_safety"),
        ("engagement", "0010_away_removals"),
        ("engagement", "0011_v11_reports_stale"),
        ("engagement", "0012_checkin_statistics"),
    ]

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        uuid_model(
            "Couple",
            [
                ("name", models.CharField(blank=True, default="", max_length=80)),
                ("timezone", models.CharField(default="UTC", max_length=64, validators=[accounts.models.validate_timezone])),
                ("checkin_target_per_week", models.PositiveSmallIntegerField(default=4, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(7)])),
                ("partners_see_balance", models.BooleanField(default=True)),
                ("safety_hold", models.BooleanField(default=False)),
                ("status", models.CharField(choices=[("active", "Active"), ("paused", "Paused"), ("ended", "Ended")], default="active", max_length=8)),
                ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False)),
                ("partner_updated_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False)),
            ],
            ordering=("-created_at", "id"),
            constraints=[models.CheckConstraint(condition=models.Q(("checkin_target_per_week__lte", 7)), name="couple_checkin_target_range")],
        ),
        uuid_model(
            "TherapySession",
            [
                ("kind", models.CharField(choices=[("joint", "Joint"), ("individual", "Individual")], max_length=10)),
                ("starts_at", models.DateTimeField()),
                ("duration_minutes", models.PositiveSmallIntegerField(default=50, validators=[django.core.validators.MinValueValidator(15), django.core.validators.MaxValueValidator(240)])),
                ("status", models.CharField(choices=[("scheduled", "Scheduled"), ("completed", "Completed"), ("cancelled", "Cancelled")], default="scheduled", max_length=9)),
                ("therapist_notes", models.TextField(blank=True, default="", max_length=10000)),
                ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False)),
                ("couple", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="sessions", to="engagement.couple")),
                ("created_by", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("focus_partner", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="individual_sessions", to=settings.AUTH_USER_MODEL)),
                ("partner_updated_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False)),
            ],
            ordering=("starts_at", "id"),
            indexes=[models.Index(fields=["couple", "starts_at"], name="engagement__couple__f84f71_idx")],
            constraints=[models.CheckConstraint(condition=models.Q(models.Q(("kind", "joint"), ("focus_partner__isnull", True)), models.Q(("kind", "individual"), ("focus_partner__isnull", False)), _connector="OR"), name="session_focus_partner_iff_individual"), models.CheckConstraint(condition=models.Q(("duration_minutes__gte", 15), ("duration_minutes__lte", 240)), name="session_duration_range")],
        ),
        uuid_model(
            "Attendance",
            [
                ("status", models.CharField(choices=[("attended", "Attended"), ("late", "Late"), ("absent", "Absent"), ("excused", "Excused")], max_length=8)),
                ("participation", models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MaxValueValidator(3)])),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("partner", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="attendance", to=settings.AUTH_USER_MODEL)),
                ("session", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="attendance", to="engagement.therapysession")),
            ],
            ordering=("session", "partner"),
            constraints=[models.UniqueConstraint(fields=("session", "partner"), name="attendance_once_per_partner"), models.CheckConstraint(condition=models.Q(("participation__isnull", True), ("participation__lte", 3), _connector="OR"), name="attendance_participation_range")],
        ),
        uuid_model(
            "WeeklyReport",
            [
                ("week_start", models.DateField()),
                ("methodology", models.CharField(default="v1", max_length=8)),
                ("computed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("revision", models.PositiveIntegerField(default=1)),
                ("stale", models.BooleanField(db_index=True, default=False)),
                ("balance", models.CharField(choices=[("balanced", "Balanced"), ("leaning", "Leaning"), ("one_sided", "One-sided"), ("insufficient_data", "Insufficient data")], max_length=17)),
                ("gap", models.FloatField(blank=True, null=True)),
                ("gap_trend", models.CharField(blank=True, choices=[("widening", "Widening"), ("stable", "Stable"), ("narrowing", "Narrowing")], max_length=9, null=True)),
                ("partners", models.JSONField(default=list)),
                ("flags", models.JSONField(default=list)),
                ("recommendations", models.JSONField(default=list)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True, db_index=True)),
                ("couple", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="reports", to="engagement.couple")),
                ("less_engaged_partner", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("partner_views", models.JSONField(default=list)),
                ("shared_balance", models.CharField(choices=[("balanced", "Balanced"), ("leaning", "Leaning"), ("one_sided", "One-sided"), ("insufficient_data", "Insufficient data")], default="insufficient_data", max_length=17)),
                ("shared_gap", models.FloatField(blank=True, null=True)),
                ("shared_gap_trend", models.CharField(blank=True, choices=[("widening", "Widening"), ("stable", "Stable"), ("narrowing", "Narrowing")], max_length=9, null=True)),
            ],
            ordering=("-week_start", "id"),
            constraints=[models.UniqueConstraint(fields=("couple", "week_start"), name="report_one_per_week")],
        ),
        uuid_model(
            "Commitment",
            [
                ("title", models.CharField(max_length=200)),
                ("details", models.TextField(blank=True, default="", max_length=2000)),
                ("due_on", models.DateField()),
                ("status", models.CharField(choices=[("open", "Open"), ("kept", "Kept"), ("missed", "Missed"), ("released", "Released")], default="open", max_length=8)),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                ("visibility", models.CharField(choices=[("couple", "Couple"), ("therapist", "Therapist")], max_length=9)),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("updated_at", models.DateTimeField(auto_now=True, db_index=True)),
                ("created_by", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("owner", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="commitments", to=settings.AUTH_USER_MODEL)),
                ("renewed_from", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="renewals", to="engagement.commitment")),
                ("couple", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="commitments", to="engagement.couple")),
                ("shared_at", models.DateTimeField(blank=True, null=True)),
            ],
            ordering=("due_on", "id"),
            indexes=[models.Index(fields=["couple", "due_on"], name="engagement__couple__ab378d_idx"), models.Index(fields=["owner", "due_on"], name="engagement__owner_i_bfe6c9_idx")],
        ),
        uuid_model(
            "CheckIn",
            [
                ("date", models.DateField()),
                ("mood", models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(5)])),
                ("effort", models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(5)])),
                ("connection", models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(5)])),
                ("resentment", models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(5)])),
                ("wellbeing", models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(5)])),
                ("note", models.TextField(blank=True, default="", max_length=2000)),
                ("visibility", models.CharField(choices=[("private", "Private"), ("therapist", "Therapist"), ("couple", "Couple")], max_length=9)),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("updated_at", models.DateTimeField(auto_now=True, db_index=True)),
                ("author", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="checkins", to=settings.AUTH_USER_MODEL)),
                ("couple", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="checkins", to="engagement.couple")),
                ("shared_at", models.DateTimeField(blank=True, null=True)),
                ("afraid_or_hurt", models.BooleanField(blank=True, null=True)),
            ],
            ordering=("-date", "id"),
            indexes=[models.Index(fields=["couple", "date"], name="engagement__couple__a90b61_idx"), models.Index(fields=["author", "date"], name="engagement__author__140631_idx")],
            constraints=[models.UniqueConstraint(fields=("couple", "author", "date"), name="checkin_one_per_partner_and_day"), models.CheckConstraint(condition=models.Q(("mood__isnull", False), ("effort__isnull", False), ("connection__isnull", False), ("resentment__isnull", False), ("wellbeing__isnull", False), _connector="OR"), name="checkin_at_least_one_rating"), models.CheckConstraint(condition=models.Q(("mood__isnull", True), models.Q(("mood__gte", 1), ("mood__lte", 5)), _connector="OR"), name="checkin_mood_range"), models.CheckConstraint(condition=models.Q(("effort__isnull", True), models.Q(("effort__gte", 1), ("effort__lte", 5)), _connector="OR"), name="checkin_effort_range"), models.CheckConstraint(condition=models.Q(("connection__isnull", True), models.Q(("connection__gte", 1), ("connection__lte", 5)), _connector="OR"), name="checkin_connection_range"), models.CheckConstraint(condition=models.Q(("resentment__isnull", True), models.Q(("resentment__gte", 1), ("resentment__lte", 5)), _connector="OR"), name="checkin_resentment_range"), models.CheckConstraint(condition=models.Q(("wellbeing__isnull", True), models.Q(("wellbeing__gte", 1), ("wellbeing__lte", 5)), _connector="OR"), name="checkin_wellbeing_range")],
        ),
        migrations.CreateModel(
            name="CoupleStatusChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("status", models.CharField(choices=[("active", "Active"), ("paused", "Paused"), ("ended", "Ended")], max_length=8)),
                ("changed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("couple", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="status_changes", to="engagement.couple")),
            ],
            options={
                "ordering": ("changed_at", "id"),
                "indexes": [models.Index(fields=["couple", "changed_at"], name="engagement__couple__97836e_idx")],
            },
        ),
        migrations.CreateModel(
            name="IdempotencyRecord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("method", models.CharField(max_length=8)),
                ("path", models.CharField(max_length=512)),
                ("key", models.CharField(max_length=255)),
                ("request_fingerprint", models.CharField(max_length=64)),
                ("response_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("response_body", models.JSONField(blank=True, null=True)),
                ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="idempotency_records", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("user", "method", "path", "key"), name="idempotency_key_unique")],
            },
        ),
        uuid_model(
            "Invitation",
            [
                ("email", models.EmailField(max_length=254)),
                ("role", models.CharField(choices=[("partner", "Partner"), ("therapist", "Therapist")], max_length=9)),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("status", models.CharField(choices=[("pending", "Pending"), ("accepted", "Accepted"), ("revoked", "Revoked"), ("expired", "Expired")], default="pending", max_length=8)),
                ("expires_at", models.DateTimeField()),
                ("accepted_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True, db_index=True)),
                ("accepted_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="invitations_accepted", to=settings.AUTH_USER_MODEL)),
                ("couple", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="invitations", to="engagement.couple")),
                ("invited_by", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="invitations_sent", to=settings.AUTH_USER_MODEL)),
                ("approvals", models.JSONField(blank=True, default=None, null=True)),
            ],
            ordering=("-created_at", "id"),
            indexes=[models.Index(fields=["couple", "status"], name="engagement__couple__1fbae6_idx"), models.Index(fields=["couple", "invited_by", "status"], name="engagement__couple__f0447f_idx")],
        ),
        uuid_model(
            "Membership",
            [
                ("role", models.CharField(choices=[("partner", "Partner"), ("therapist", "Therapist")], max_length=9)),
                ("partner_slot", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("shares_balance", models.BooleanField(default=False)),
                ("joined_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("left_at", models.DateTimeField(blank=True, null=True)),
                ("couple", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="memberships", to="engagement.couple")),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="memberships", to=settings.AUTH_USER_MODEL)),
            ],
            ordering=("joined_at", "id"),
            indexes=[models.Index(fields=["user", "left_at"], name="engagement__user_id_17808e_idx")],
            constraints=[models.UniqueConstraint(condition=models.Q(("left_at__isnull", True)), fields=("couple", "user"), name="membership_one_active_per_user"), models.UniqueConstraint(condition=models.Q(("left_at__isnull", True), ("partner_slot__isnull", False)), fields=("couple", "partner_slot"), name="membership_two_partner_slots"), models.CheckConstraint(condition=models.Q(("partner_slot__isnull", True), ("partner_slot__in", [1, 2]), _connector="OR"), name="membership_partner_slot_values"), models.CheckConstraint(condition=models.Q(("role", "partner"), ("partner_slot__isnull", True), _connector="OR"), name="membership_slot_only_for_partners"), models.CheckConstraint(condition=models.Q(models.Q(("role", "partner"), _negated=True), ("left_at__isnull", False), ("partner_slot__isnull", False), _connector="OR"), name="membership_active_partner_has_slot")],
        ),
        migrations.CreateModel(
            name="Removal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("type", models.CharField(choices=[("couple", "Couple"), ("invitation", "Invitation"), ("session", "Session"), ("commitment", "Commitment"), ("checkin", "Check-in"), ("report", "Report"), ("away", "Away period")], max_length=10)),
                ("object_id", models.UUIDField()),
                ("removed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="removals", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ("removed_at", "id"),
                "indexes": [models.Index(fields=["user", "removed_at"], name="engagement__user_id_e9dc94_idx")],
            },
        ),
        uuid_model(
            "AuditEvent",
            [
                ("channel", models.CharField(choices=[("api", "API"), ("admin", "Admin")], max_length=5)),
                ("action", models.CharField(max_length=32)),
                ("object_type", models.CharField(max_length=16)),
                ("object_ids", models.JSONField(default=list)),
                ("couple_id", models.UUIDField(blank=True, null=True)),
                ("request_id", models.CharField(blank=True, default="", max_length=64)),
                ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("actor", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            ordering=("-at", "id"),
            indexes=[models.Index(fields=["actor", "at"], name="engagement__actor_i_91c5b0_idx"), models.Index(fields=["couple_id", "at"], name="engagement__couple__249786_idx")],
        ),
        uuid_model(
            "DigestDelivery",
            [
                ("kind", models.CharField(choices=[("partner", "Partner"), ("therapist", "Therapist")], max_length=9)),
                ("week_start", models.DateField()),
                ("status", models.CharField(choices=[("pending", "Pending"), ("claimed", "Claimed"), ("sent", "Sent"), ("failed", "Failed"), ("skipped", "Skipped")], default="pending", max_length=7)),
                ("claim_token", models.UUIDField(blank=True, null=True)),
                ("claimed_at", models.DateTimeField(blank=True, null=True)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("message_id", models.CharField(blank=True, default="", max_length=255)),
                ("error", models.TextField(blank=True, default="")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="digest_deliveries", to=settings.AUTH_USER_MODEL)),
            ],
            ordering=("-week_start", "user_id"),
            indexes=[models.Index(fields=["status", "next_attempt_at"], name="engagement__status_768a82_idx")],
            constraints=[models.UniqueConstraint(fields=("user", "kind", "week_start"), name="digest_once_per_user_kind_week")],
            verbose_name_plural="digest deliveries",
        ),
        uuid_model(
            "ReminderDelivery",
            [
                ("local_date", models.DateField()),
                ("channel", models.CharField(choices=[("push", "Push"), ("email", "Email")], max_length=5)),
                ("status", models.CharField(choices=[("pending", "Pending"), ("claimed", "Claimed"), ("sent", "Sent"), ("failed", "Failed"), ("skipped", "Skipped")], default="pending", max_length=7)),
                ("claim_token", models.UUIDField(blank=True, null=True)),
                ("claimed_at", models.DateTimeField(blank=True, null=True)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("error", models.TextField(blank=True, default="")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="reminder_deliveries", to=settings.AUTH_USER_MODEL)),
            ],
            verbose_name_plural="reminder deliveries",
            ordering=("-local_date", "user_id"),
            indexes=[models.Index(fields=["status", "claimed_at"], name="engagement__status_455d08_idx")],
            constraints=[models.UniqueConstraint(fields=("user", "local_date"), name="reminder_once_per_user_and_date")],
        ),
        migrations.CreateModel(
            name="ReportReaderState",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("reader_key", models.CharField(max_length=36)),
                ("revision", models.PositiveIntegerField(default=1)),
                ("computed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("view_hash", models.CharField(max_length=64)),
                ("report", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="reader_states", to="engagement.weeklyreport")),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("report", "reader_key"), name="report_reader_once")],
            },
        ),
        uuid_model(
            "AwayPeriod",
            [
                ("starts_on", models.DateField()),
                ("ends_on", models.DateField()),
                ("reason", models.CharField(blank=True, choices=[("travel", "Travel"), ("illness", "Illness"), ("other", "Other")], default="", max_length=7)),
                ("visibility", models.CharField(choices=[("couple", "Couple"), ("therapist", "Therapist")], max_length=9)),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("updated_at", models.DateTimeField(auto_now=True, db_index=True)),
                ("shared_at", models.DateTimeField(blank=True, null=True)),
                ("couple", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="away_periods", to="engagement.couple")),
                ("partner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="away_periods", to=settings.AUTH_USER_MODEL)),
            ],
            ordering=("-starts_on", "id"),
            indexes=[models.Index(fields=["couple", "starts_on"], name="engagement__couple__263e1f_idx"), models.Index(fields=["partner", "starts_on"], name="engagement__partner_054512_idx")],
            constraints=[models.CheckConstraint(condition=models.Q(("ends_on__gte", models.F("starts_on"))), name="away_ends_after_it_starts")],
        ),
        uuid_model(
            "Goal",
            [
                ("goal", models.CharField(choices=[("work_on_it", "Work on it"), ("decide", "Decide"), ("separate_well", "Separate well"), ("unsure", "Unsure")], max_length=13)),
                ("note", models.TextField(blank=True, default="", max_length=1000)),
                ("set_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("couple", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="goals", to="engagement.couple")),
                ("partner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="goals", to=settings.AUTH_USER_MODEL)),
            ],
            ordering=("couple", "partner", "set_at", "id"),
            indexes=[models.Index(fields=["couple", "partner", "set_at"], name="engagement__couple__d8dabc_idx")],
        ),
        uuid_model(
            "SafetyAlert",
            [
                ("date", models.DateField()),
                ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("retracted_at", models.DateTimeField(blank=True, null=True)),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                ("acknowledged_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("checkin", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="safety_alerts", to="engagement.checkin")),
                ("couple", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="safety_alerts", to="engagement.couple")),
                ("partner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="safety_alerts", to=settings.AUTH_USER_MODEL)),
            ],
            ordering=("-created_at", "id"),
            indexes=[models.Index(fields=["couple", "created_at"], name="engagement__couple__07c0f4_idx"), models.Index(condition=models.Q(("acknowledged_at__isnull", True)), fields=["couple"], name="safety_alert_unacknowledged")],
        ),
        uuid_model(
            "SessionFeedback",
            [
                ("understood", models.PositiveSmallIntegerField(validators=[django.core.validators.MaxValueValidator(10)])),
                ("helpful", models.PositiveSmallIntegerField(validators=[django.core.validators.MaxValueValidator(10)])),
                ("spoke_freely", models.PositiveSmallIntegerField(validators=[django.core.validators.MaxValueValidator(10)])),
                ("coming_back", models.PositiveSmallIntegerField(validators=[django.core.validators.MaxValueValidator(10)])),
                ("comment", models.TextField(blank=True, default="", max_length=1000)),
                ("submitted_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True, db_index=True)),
                ("partner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="session_feedback", to=settings.AUTH_USER_MODEL)),
                ("session", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="feedback", to="engagement.therapysession")),
            ],
            ordering=("session", "partner"),
            constraints=[models.UniqueConstraint(fields=("session", "partner"), name="feedback_once_per_partner_and_session"), models.CheckConstraint(condition=models.Q(("understood__lte", 10)), name="feedback_understood_range"), models.CheckConstraint(condition=models.Q(("helpful__lte", 10)), name="feedback_helpful_range"), models.CheckConstraint(condition=models.Q(("spoke_freely__lte", 10)), name="feedback_spoke_freely_range"), models.CheckConstraint(condition=models.Q(("coming_back__lte", 10)), name="feedback_coming_back_range")],
        ),
        uuid_model(
            "Consent",
            [
                ("document", models.SlugField(max_length=64)),
                ("version", models.CharField(max_length=32)),
                ("accepted_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="consents", to=settings.AUTH_USER_MODEL)),
            ],
            ordering=("-accepted_at", "id"),
            indexes=[models.Index(fields=["user", "accepted_at"], name="engagement__user_id_f17a33_idx")],
        ),
        uuid_model(
            "SafeContact",
            [
                ("phone", models.CharField(blank=True, default="", max_length=32)),
                ("email", models.EmailField(blank=True, default="", max_length=254)),
                ("times", models.CharField(blank=True, default="", max_length=200)),
                ("voicemail_ok", models.BooleanField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("couple", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="safe_contacts", to="engagement.couple")),
                ("partner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="safe_contacts", to=settings.AUTH_USER_MODEL)),
            ],
            constraints=[models.UniqueConstraint(fields=("couple", "partner"), name="safe_contact_one_per_partner")],
        ),
        uuid_model(
            "SafetyAlertDelivery",
            [
                ("round", models.PositiveSmallIntegerField(default=1)),
                ("address", models.EmailField(blank=True, default="", max_length=254)),
                ("status", models.CharField(choices=[("pending", "Pending"), ("claimed", "Claimed"), ("sent", "Sent"), ("failed", "Failed")], default="pending", max_length=7)),
                ("claim_token", models.UUIDField(blank=True, null=True)),
                ("claimed_at", models.DateTimeField(blank=True, null=True)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("message_id", models.CharField(blank=True, default="", max_length=255)),
                ("push_outcome", models.CharField(blank=True, default="", max_length=200)),
                ("error", models.TextField(blank=True, default="")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("alert", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="deliveries", to="engagement.safetyalert")),
                ("recipient", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="safety_alert_deliveries", to=settings.AUTH_USER_MODEL)),
            ],
            verbose_name_plural="safety alert deliveries",
            ordering=("-created_at", "id"),
            indexes=[models.Index(fields=["status", "claimed_at"], name="engagement__status_5c185e_idx")],
            constraints=[models.UniqueConstraint(condition=models.Q(("recipient__isnull", False)), fields=("alert", "round", "recipient"), name="safety_delivery_once_per_recipient_and_round"), models.UniqueConstraint(condition=models.Q(("recipient__isnull", True)), fields=("alert", "round"), name="safety_delivery_one_escalation_per_round")],
        ),
        migrations.RunPython(create_statistics, drop_statistics, elidable=False),
    ]

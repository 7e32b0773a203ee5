"""Each app's schema is one squashed migration, which a database of the previous release takes as
applied (docs/operations.md, "Upgrading")."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

# The migrations the previous release's databases have on record, which the squash replaces.
PREVIOUS_RELEASE = {
    "accounts": [
        "0001_initial",
        "0002_verification_and_rotation",
        "0003_devices_and_preferences",
    ],
    "engagement": [
        "0001_initial",
        "0002_digests_and_audit",
        "0003_digest_deliveries_name",
        "0004_invitation_approvals",
        "0005_reminders",
        "0006_per_reader_timestamps",
        "0007_report_views",
        "0008_checkin_safety_feedback_goals_away",
        "0009_safety",
        "0010_away_removals",
        "0011_v11_reports_stale",
        "0012_checkin_statistics",
    ],
}
SQUASHED = {
    "accounts": "0001_squashed_0003_devices_and_preferences",
    "engagement": "0001_squashed_0012_checkin_statistics",
}


@pytest.mark.parametrize("app", sorted(SQUASHED))
def test_each_app_has_one_migration_that_replaces_the_previous_releases(app: str) -> None:
    disk = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    assert [key for key in disk if key[0] == app] == [(app, SQUASHED[app])]
    assert disk[app, SQUASHED[app]].replaces == [(app, name) for name in PREVIOUS_RELEASE[app]]


@pytest.mark.django_db
def test_a_database_of_the_previous_release_has_nothing_to_migrate() -> None:
    recorded = MigrationRecorder.Migration.objects.filter(app__in=SQUASHED)
    recorded.delete()
    MigrationRecorder.Migration.objects.bulk_create(
        MigrationRecorder.Migration(app=app, name=name)
        for app, names in PREVIOUS_RELEASE.items()
        for name in names
    )
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    assert set(SQUASHED.items()) <= set(executor.loader.applied_migrations)


@pytest.mark.django_db
def test_the_migrations_describe_the_models() -> None:
    """What `make check-migrations` checks: no model change waits for a migration."""
    call_command("makemigrations", "--check", "--dry-run", stdout=io.StringIO())

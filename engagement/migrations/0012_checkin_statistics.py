"""Extended statistics for the weekly run's check-in aggregate (issue 20, PostgreSQL only).

The aggregate groups a chunk's check-ins by (couple, author, week). PostgreSQL multiplies the
distinct counts of couple_id and author_id as if they were independent, and at 50k couples
expected some 41,000 groups per chunk where there are 5,700: it then sorted the rows instead of
hashing them, a cost that grows faster than the data (docs/benchmarks.md). An author belongs to
one or two couples, which `ndistinct` statistics on the pair tell the planner. No table or index
changes; SQLite has no such statistics and skips this.
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

NAME = "engagement_checkin_couple_author_stats"


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {NAME} (ndistinct) "
            "ON couple_id, author_id FROM engagement_checkin"
        )
        schema_editor.execute("ANALYZE engagement_checkin")


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("engagement", "0011_v11_reports_stale")]

    operations = [migrations.RunPython(create, drop, elidable=False)]

from django.db import migrations


def mark_every_report_stale(apps, schema_editor):
    """Methodology v1.1's new inputs (away days, session feedback, goals, safety alerts; SPEC
    5.1-5.5): every stored report is recomputed by the next run, so each one shows
    `away_days`, `unsafe_days`, `alliance` and the new flags (docs/reports.md, "Late data")."""
    apps.get_model("engagement", "WeeklyReport").objects.update(stale=True)


class Migration(migrations.Migration):
    dependencies = [
        ("engagement", "0010_away_removals"),
    ]

    operations = [
        migrations.RunPython(mark_every_report_stale, migrations.RunPython.noop),
    ]

"""Bulk row writers: COPY on PostgreSQL, executemany elsewhere, columns taken from the models."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.db import models
from django.utils import timezone


def _concrete_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    # Auto-incremented keys are left to the database.
    return [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]


def _value(field: models.Field[Any, Any], row: Mapping[str, Any], now: Any) -> Any:
    if field.attname in row:
        return row[field.attname]
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    return field.get_default()


def write_rows(model: type[models.Model], rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert plain dict rows (keyed by attname) into the model's table; returns the count.

    Fields a row leaves out get their model default, so a new column with a default never
    breaks the generator.
    """
    fields = _concrete_fields(model)
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    now = timezone.now()
    count = 0
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        json_fields = {i for i, f in enumerate(fields) if isinstance(f, models.JSONField)}
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg 3 cursor underneath Django's wrapper
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    values = [_value(f, row, now) for f in fields]
                    for i in json_fields:
                        values[i] = Jsonb(values[i])
                    copy.write_row(values)
                    count += 1
        return count
    placeholders = ", ".join(["%s"] * len(fields))
    # Table and column names come from the models, never from input.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
    batch: list[list[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append([f.get_db_prep_save(_value(f, row, now), connection) for f in fields])
            if len(batch) >= 5000:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count

"""Reads whose SQL is the same whatever ids they are given, compiled once per process.

Building and compiling a queryset costs Django far more than the database takes to answer a
small read (issue 20: the caller's reach, read by every engagement request, took 1 ms of Python
to build and compile and 0.4 ms to run). A `CompiledRead` is built by the same ORM code as
before, compiled once with ids no row has, and then run with each call's ids in their places;
its rows pass Django's own converters, so they are exactly what the queryset would give.

Only for reads whose other parameters never change: a date or a time among them (a "now", a
"today") would be frozen at the first compile for the life of the process, so one is refused.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Sequence
from typing import Any
from uuid import UUID
from uuid import uuid4

from django.db import connections
from django.db.models import QuerySet

# How a backend sends a UUID or a date: as itself (PostgreSQL) or as text (SQLite).
_FORMS: dict[type, tuple[Callable[[Any], Any], ...]] = {
    UUID: (lambda value: value, lambda value: value.hex),
    dt.date: (lambda value: value, lambda value: value.isoformat()),
}


def _probes(kinds: tuple[type, ...]) -> list[Any]:
    """Values no row has, one of each kind, all different: new UUIDs, dates of the 11th to 19th
    centuries."""
    days = random.sample(range(365 * 800), len(kinds))
    return [
        uuid4() if kind is UUID else dt.date(1000, 1, 1) + dt.timedelta(days=day)
        for kind, day in zip(kinds, days, strict=True)
    ]


class _Compiled:
    def __init__(self, build: Callable[..., QuerySet[Any]], kinds: tuple[type, ...]) -> None:
        probes = _probes(kinds)
        queryset = build(*probes)
        self.using = queryset.db
        compiler = queryset.query.get_compiler(using=self.using)
        self.sql, params = compiler.as_sql()
        # Django's converters of each selected column (none for most on PostgreSQL).
        self.converters = compiler.get_converters(
            [column for column, _, _ in compiler.select[: compiler.col_count]]
        )
        # Each parameter is a constant of the query or one of the values, in the backend's form.
        self.slots: list[tuple[int, Callable[[Any], Any]] | tuple[None, Any]] = []
        if _holds_a_clock(queryset.query.where, probes):
            # A clock compiled once would stay at its first value: membership bounds and
            # windows would be judged on a day long gone.
            raise ValueError("A read compiled once may not hold a date or a time.")
        for param in params:
            self.slots.append(_slot(param, probes))
        # The SQL must not depend on the values: others compile to the same statement with the
        # same parameters in the same places, or nothing is compiled once.
        others = _probes(kinds)
        sql, params = build(*others).query.get_compiler(using=self.using).as_sql()
        if sql != self.sql or list(params) != self.params(others):
            raise ValueError("The query's SQL depends on the values of its ids.")

    def params(self, values: Sequence[Any]) -> list[Any]:
        return [form(values[index]) if index is not None else form for index, form in self.slots]

    def rows(self, values: Sequence[Any]) -> list[tuple[Any, ...]]:
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.sql, self.params(values))
            fetched = cursor.fetchall()
        if not self.converters:
            return fetched
        connection = connections[self.using]
        rows = []
        for fetched_row in fetched:
            row = list(fetched_row)
            for position, (converters, expression) in self.converters.items():
                value = row[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[position] = value
            rows.append(tuple(row))
        return rows


def _holds_a_clock(node: Any, probes: list[Any]) -> bool:
    """Whether a filter, or one of its subqueries', compares with a date or a time (the values
    as given, before a backend turns them into text) other than one of the probes."""
    for child in getattr(node, "children", ()):
        if _holds_a_clock(child, probes):
            return True
    rhs = getattr(node, "rhs", None)
    values = rhs if isinstance(rhs, list | tuple | set) else [rhs]
    for value in values:
        if isinstance(value, dt.date | dt.time) and value not in probes:
            return True
        query: Any = getattr(value, "query", value)
        if hasattr(query, "where") and _holds_a_clock(query.where, probes):
            return True
    return False


def _slot(param: Any, probes: list[Any]) -> tuple[int, Callable[[Any], Any]] | tuple[None, Any]:
    for index, probe in enumerate(probes):
        for form in _FORMS[type(probe)]:
            if param == form(probe):
                return index, form
    return None, param


class CompiledRead:
    """`build(*ids)` returns the queryset (a `values_list`); `rows(*ids)` its rows, as tuples."""

    def __init__(self, build: Callable[..., QuerySet[Any]], arity: int = 1) -> None:
        self._build = build
        self._kinds = (UUID,) * arity
        self._compiled: _Compiled | None = None

    def rows(self, *ids: UUID) -> list[tuple[Any, ...]]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = _Compiled(self._build, self._kinds)
        return compiled.rows(ids)


class CompiledShapes:
    """Reads whose SQL depends on a shape and not on the values of its ids and dates: one
    compiled read per shape. `build(shape)` returns the function that builds the queryset of
    that shape from its values (a `values_list`); `rows(shape, values)` its rows, as tuples.

    The shape must decide everything the SQL's text depends on (how many values of each kind,
    which terms the query holds); a value that would change the SQL is caught when the shape is
    compiled, as by CompiledRead."""

    def __init__(self, build: Callable[[Hashable], Callable[..., QuerySet[Any]]]) -> None:
        self._build = build
        self._compiled: dict[tuple[Hashable, tuple[type, ...]], _Compiled] = {}

    def rows(self, shape: Hashable, values: Sequence[UUID | dt.date]) -> list[tuple[Any, ...]]:
        kinds = tuple(UUID if isinstance(value, UUID) else dt.date for value in values)
        key = (shape, kinds)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self._build(shape), kinds)
        return compiled.rows(values)

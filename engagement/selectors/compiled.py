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
from collections.abc import Callable
from typing import Any
from uuid import UUID
from uuid import uuid4

from django.db import connections
from django.db.models import QuerySet

# How a backend sends a UUID: as itself (PostgreSQL) or as its hex digits (SQLite).
_FORMS: tuple[Callable[[UUID], Any], ...] = (lambda value: value, lambda value: value.hex)


class _Compiled:
    def __init__(self, build: Callable[..., QuerySet[Any]], arity: int) -> None:
        probes = [uuid4() for _ in range(arity)]
        queryset = build(*probes)
        self.using = queryset.db
        compiler = queryset.query.get_compiler(using=self.using)
        self.sql, params = compiler.as_sql()
        # Django's converters of each selected column (none for most on PostgreSQL).
        self.converters = compiler.get_converters(
            [column for column, _, _ in compiler.select[: compiler.col_count]]
        )
        # Each parameter is a constant of the query or one of the ids, in the backend's form.
        self.slots: list[tuple[int, Callable[[UUID], Any]] | tuple[None, Any]] = []
        if _holds_a_clock(queryset.query.where):
            # A clock compiled once would stay at its first value: membership bounds and
            # windows would be judged on a day long gone.
            raise ValueError("A read compiled once may not hold a date or a time.")
        for param in params:
            self.slots.append(_slot(param, probes))
        # The SQL must not depend on the ids' values: other ids compile to the same statement
        # with the same parameters in the same places, or nothing is compiled once.
        others = [uuid4() for _ in range(arity)]
        sql, params = build(*others).query.get_compiler(using=self.using).as_sql()
        if sql != self.sql or list(params) != self.params(others):
            raise ValueError("The query's SQL depends on the values of its ids.")

    def params(self, ids: list[UUID] | tuple[UUID, ...]) -> list[Any]:
        return [form(ids[index]) if index is not None else form for index, form in self.slots]


def _holds_a_clock(node: Any) -> bool:
    """Whether a filter, or one of its subqueries', compares with a date or a time (the values
    as given, before a backend turns them into text)."""
    for child in getattr(node, "children", ()):
        if _holds_a_clock(child):
            return True
    rhs = getattr(node, "rhs", None)
    values = rhs if isinstance(rhs, list | tuple | set) else [rhs]
    for value in values:
        if isinstance(value, dt.date | dt.time):
            return True
        query: Any = getattr(value, "query", value)
        if hasattr(query, "where") and _holds_a_clock(query.where):
            return True
    return False


def _slot(param: Any, probes: list[UUID]) -> tuple[int, Callable[[UUID], Any]] | tuple[None, Any]:
    for index, probe in enumerate(probes):
        for form in _FORMS:
            if param == form(probe):
                return index, form
    return None, param


class CompiledRead:
    """`build(*ids)` returns the queryset (a `values_list`); `rows(*ids)` its rows, as tuples."""

    def __init__(self, build: Callable[..., QuerySet[Any]], arity: int = 1) -> None:
        self._build = build
        self._arity = arity
        self._compiled: _Compiled | None = None

    def rows(self, *ids: UUID) -> list[tuple[Any, ...]]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = _Compiled(self._build, self._arity)
        with connections[compiled.using].cursor() as cursor:
            cursor.execute(compiled.sql, compiled.params(ids))
            fetched = cursor.fetchall()
        if not compiled.converters:
            return fetched
        connection = connections[compiled.using]
        rows = []
        for fetched_row in fetched:
            row = list(fetched_row)
            for position, (converters, expression) in compiled.converters.items():
                value = row[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[position] = value
            rows.append(tuple(row))
        return rows

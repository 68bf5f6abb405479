"""Reads compiled once per process: `CompiledRead` and the cursors it runs on.

Big `values()` reads (a dozen subqueries) cost more to build and compile in the ORM than to
run; these keep the compiled SQL and rerun it with each request's values. Used by the
article reads (`frontend_api.views.content`) and the service list
(`frontend_api.views.services`).
"""

import threading
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any

import psycopg
from django.db.models import QuerySet

SENTINEL_TIME = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)


class CompiledRead:
    """A `values()` read whose SQL is built and compiled once per process (and thread) for
    each `shape`, then run with fresh `values` (the current time, the id asked for …).

    The article reads carry a dozen subqueries: building and compiling them in the ORM costs
    about 10 ms of Python a request, running them about 1 ms. `build(**shape, **values)`
    must return the queryset; each value must reach the SQL as one whole parameter (a
    datetime, an int or a str compared as it is, not inside a LIKE pattern)."""

    max_shapes = 256

    def __init__(self, build: Callable[..., QuerySet], *, prepare: bool = True) -> None:
        self.build = build
        self.prepare = prepare
        self.local = threading.local()

    def rows(self, *, shape: dict[str, Hashable], **values: Any) -> list[dict[str, Any]]:
        compiled = self._compiled(shape, values)
        sql, params, positions, compiler, names = compiled
        params = list(params)
        for index, name in positions:
            params[index] = _adapted(compiler.connection, values[name])
        with _server_binding_cursor(compiler.connection, prepare=self.prepare) as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        return [dict(zip(names, row, strict=True)) for row in compiler.results_iter([fetched])]

    def _compiled(self, shape: dict[str, Hashable], values: dict[str, Any]) -> tuple:
        cache = getattr(self.local, "cache", None)
        if cache is None or len(cache) > self.max_shapes:
            cache = self.local.cache = {}
        key = (tuple(sorted(shape.items())), tuple(sorted(values)))
        if key not in cache:
            sentinels = {name: _sentinel(name, value) for name, value in values.items()}
            queryset = self.build(**shape, **sentinels)
            compiler = queryset.query.get_compiler(using=queryset.db)
            sql, params = compiler.as_sql()
            adapted = {
                name: _adapted(compiler.connection, sentinel)
                for name, sentinel in sentinels.items()
            }
            positions = [
                (index, name)
                for index, param in enumerate(params)
                for name, sentinel in adapted.items()
                if type(param) is type(sentinel) and param == sentinel
            ]
            missing = set(sentinels) - {name for _, name in positions}
            if missing:
                raise ValueError(f"{sorted(missing)} did not reach the SQL as parameters.")
            query = queryset.query
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
            cache[key] = (sql, tuple(params), positions, compiler, names)
        return cache[key]


def _server_binding_cursor(connection: Any, *, prepare: bool) -> Any:
    """A cursor that sends the parameters apart from the SQL (server-side binding).

    Django's psycopg cursors bind parameters on the client: each run quotes them into the
    (long) SQL text and PostgreSQL plans it anew. With `prepare`, psycopg prepares a
    statement after its `prepare_threshold` (5) runs on a connection and PostgreSQL keeps the
    plan: right for reads that look rows up by id or page through one ordered list, where a
    generic plan is as good as a custom one (planning the article reads cost 2–6 ms against
    1–3 ms of running them). Without it every run is planned for its own values: the
    service list's filters vary too much in selectivity for a generic plan (PERFORMANCE.md).
    Wrapped like any Django cursor, so query logging and counting still see it."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    raw = (psycopg.Cursor if prepare else _UnpreparedCursor)(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


class _UnpreparedCursor(psycopg.Cursor):
    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        return super().execute(query, params, prepare=False)


def _adapted(connection: Any, value: Any) -> Any:
    """A value as the compiler passes it to the database (SQLite takes datetimes as text)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _sentinel(name: str, value: Any) -> Any:
    """A value of the same type that no real argument has, to find the parameter again."""
    if isinstance(value, datetime):
        return SENTINEL_TIME
    if isinstance(value, int):
        return -2_000_000_000 - sum(map(ord, name))
    if isinstance(value, str):
        return f"\u27e6pesa sentinel {name}\u27e7"
    if isinstance(value, list):  # a whole array parameter (e.g. `keys && %s`)
        return [f"\u27e6pesa sentinel {name}\u27e7"]
    raise TypeError(f"No sentinel for {name}={value!r}")

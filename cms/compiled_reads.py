"""Reads compiled once per process: `CompiledRead` and the cursors it runs on.

Big `values()` reads (a dozen subqueries) cost more to build and compile in the ORM than to
run; these keep the compiled SQL and rerun it with each request's values. Used by the
article reads (`frontend_api.views.content`) and the service list
(`frontend_api.views.services`).
"""

import re
import threading
import zlib
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any

import psycopg
from django.db.models import QuerySet

SENTINEL_TIME = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
ONLY_WHEN_ASKED = 2**62  # a psycopg prepare_threshold no query's run count reaches


class CompiledRead:
    """A `values()` read whose SQL is built and compiled once per process (and thread) for
    each `shape`, then run with fresh `values` (the current time, the id asked for …).

    The article reads carry a dozen subqueries: building and compiling them in the ORM costs
    about 10 ms of Python a request, running them about 1 ms. `build(**shape, **values)`
    must return the queryset; each value must reach the SQL as one whole parameter (a
    datetime, an int or a str compared as it is, not inside a LIKE pattern). An int may also
    reach it as a literal, as a slice's `LIMIT`/`OFFSET` does: it is made a parameter, so one
    compiled (and prepared) statement serves every page of a list."""

    max_shapes = 256

    def __init__(self, build: Callable[..., QuerySet], *, prepare: bool = True) -> None:
        self.build = build
        self.prepare = prepare
        self.local = threading.local()

    def rows(self, *, shape: dict[str, Hashable], **values: Any) -> list[dict[str, Any]]:
        compiled = self._compiled(shape, values)
        sql, _params, _positions, compiler, names = compiled
        with server_binding_cursor(compiler.connection, prepare=self.prepare) as cursor:
            cursor.execute(sql, _bound_params(compiled, values))
            fetched = cursor.fetchall()
        return [dict(zip(names, row, strict=True)) for row in compiler.results_iter([fetched])]

    def bound(self, *, shape: dict[str, Hashable], **values: Any) -> tuple[str, list[Any]]:
        """The SQL compiled for `shape` and its parameters for `values`, for a caller that
        runs it as a part of a statement of its own (rows come back unconverted then)."""
        compiled = self._compiled(shape, values)
        return compiled[0], _bound_params(compiled, values)

    def _compiled(self, shape: dict[str, Hashable], values: dict[str, Any]) -> tuple:
        cache = getattr(self.local, "cache", None)
        if cache is None or len(cache) > self.max_shapes:
            cache = self.local.cache = {}
        key = (tuple(sorted(shape.items())), tuple(sorted(values)))
        if key not in cache:
            sentinels = {name: _sentinel(name, value) for name, value in values.items()}
            built = self.build(**shape, **sentinels)
            queryset = built.queryset if isinstance(built, WithQueries) else built
            compiler = queryset.query.get_compiler(using=queryset.db)
            sql, params = compiler.as_sql()
            if isinstance(built, WithQueries):
                sql, params = built.prefixed(sql, params)
            sql, params = _literals_as_parameters(sql, params, sentinels)
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


def _bound_params(compiled: tuple, values: dict[str, Any]) -> list[Any]:
    """The compiled read's parameters with `values` in place of its sentinels."""
    _sql, params, positions, compiler, _names = compiled
    params = list(params)
    for index, name in positions:
        params[index] = _adapted(compiler.connection, values[name])
    return params


class WithQueries:
    """What a `CompiledRead` build may return instead of a queryset: `queryset` preceded by
    named common table expressions (`WITH name (columns) AS (…)`), which it may read by name
    in `RawSQL`. The rows and their conversion are `queryset`'s."""

    def __init__(self, queryset: QuerySet, **named: tuple[tuple[str, ...], QuerySet]) -> None:
        self.queryset = queryset
        self.named = named

    def prefixed(self, sql: str, params: tuple | list) -> tuple[str, tuple]:
        parts, prefix_params = [], []
        for name, (columns, query) in self.named.items():
            named_sql, named_params = query.query.get_compiler(using=query.db).as_sql()
            parts.append(f"{name} ({', '.join(columns)}) AS ({named_sql})")
            prefix_params.extend(named_params)
        return f"WITH {', '.join(parts)} {sql}", (*prefix_params, *params)


def server_binding_cursor(connection: Any, *, prepare: bool) -> Any:
    """A cursor that sends the parameters apart from the SQL (server-side binding).

    Django's psycopg cursors bind parameters on the client: each run quotes them into the
    (long) SQL text and PostgreSQL plans it anew. With `prepare`, the statement is prepared
    on its first run on a connection (explicitly: Django turns psycopg's automatic
    preparation off, `prepare_threshold=None`, for connection poolers) and PostgreSQL keeps
    the plan and the parsed SQL: right for reads that look rows up by id or page through one
    ordered list, where a generic plan is as good as a custom one (planning the article reads
    cost more than running them). Without it every run is planned for its own values: the
    service list's filters vary too much in selectivity for a generic plan (PERFORMANCE.md).
    Wrapped like any Django cursor, so query logging and counting still see it."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    if prepare and connection.connection.prepare_threshold is None:
        # psycopg ignores `prepare=True` while automatic preparation is off: a threshold no
        # query reaches turns explicit preparation on and leaves every other query unprepared.
        connection.connection.prepare_threshold = ONLY_WHEN_ASKED
    raw = (_PreparedCursor if prepare else _UnpreparedCursor)(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


class _PreparedCursor(psycopg.Cursor):
    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        return super().execute(query, params, prepare=True)


class _UnpreparedCursor(psycopg.Cursor):
    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        return super().execute(query, params, prepare=False)


def _adapted(connection: Any, value: Any) -> Any:
    """A value as the compiler passes it to the database (SQLite takes datetimes as text)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _literals_as_parameters(
    sql: str, params: tuple | list, sentinels: dict[str, Any]
) -> tuple[str, list]:
    """`sql` with each int sentinel written into it as a literal (`LIMIT 2000123456`) turned
    into a placeholder, its value inserted among `params` where that placeholder falls."""
    literals = {
        str(value): value
        for value in sentinels.values()
        if isinstance(value, int) and str(value) in sql
    }
    if not literals:
        return sql, list(params)
    alternatives = "|".join(map(re.escape, literals))
    token = re.compile(rf"%%|%s|(?<![\w.$])({alternatives})(?![\w.])")
    remaining = iter(params)
    out: list[Any] = []

    def replace(match: re.Match) -> str:
        if match.group(0) == "%%":
            return "%%"
        if match.group(1) is None:
            out.append(next(remaining))
            return "%s"
        out.append(literals[match.group(1)])
        return "%s"

    sql = token.sub(replace, sql)
    out.extend(remaining)
    return sql, out


def _sentinel(name: str, value: Any) -> Any:
    """A value of the same type that no real argument has, to find the parameter again.
    Ints are positive (a slice bound must be) and far beyond any id or page offset."""
    if isinstance(value, datetime):
        return SENTINEL_TIME
    if isinstance(value, int):
        return 2_000_000_000 + zlib.crc32(name.encode()) % 100_000_000
    if isinstance(value, str):
        return f"\u27e6pesa sentinel {name}\u27e7"
    if isinstance(value, list):  # a whole array parameter (e.g. `keys && %s`)
        return [f"\u27e6pesa sentinel {name}\u27e7"]
    raise TypeError(f"No sentinel for {name}={value!r}")

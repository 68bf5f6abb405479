"""Bulk writes: new rows by COPY, rewrites of existing rows staged by COPY and applied by one
UPDATE, in chunks. Values are given by field attname."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import orjson
from django.db import connection, models

from federation.models import Source

BATCH_SIZE = 500


def chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def insert_records(
    *, model: type[models.Model], source: Source, rows: list[dict[str, Any]]
) -> dict[str, int]:
    """Inserts new record rows and returns {origin_id: pk}."""
    if not rows:
        return {}
    if connection.vendor == "postgresql":
        # Ids drawn from the table's own sequence first, so the rows need no lookup after
        # the COPY (at 200k that lookup was an index probe per row on a cold index).
        ids = _next_ids(model, len(rows))
        rows = [{**row, "id": pk} for row, pk in zip(rows, ids, strict=True)]
        insert_rows(model, rows)
        return {row["origin_id"]: row["id"] for row in rows}
    insert_rows(model, rows)
    return dict(
        model.objects.filter(
            source=source, origin_id__in=[row["origin_id"] for row in rows]
        ).values_list("origin_id", "pk")
    )


def _next_ids(model: type[models.Model], count: int) -> list[int]:
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def insert_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """New rows (values by field attname; missing ones take the field's default; the pk
    only when every row has one) with one COPY on PostgreSQL: Django's bulk INSERT there
    binds UNNEST arrays client-side and escapes every JSON text of them with a regex, which
    was most of a full sync's time."""
    if not rows:
        return
    with_ids = "id" in rows[0]
    fields = [f for f in model._meta.concrete_fields if with_ids or not f.primary_key]
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH_SIZE)
        return
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    defaults = {f.attname: f.get_default() for f in fields}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            values = []
            for name, default in defaults.items():
                value = row.get(name, default)
                if name in json_fields and value is not None:
                    value = orjson.dumps(value).decode()
                values.append(value)
            copy.write_row(values)


def _copy_value(value: Any, *, json: bool) -> Any:
    return orjson.dumps(value).decode() if json and value is not None else value


def update_rows(model: type[models.Model], rows: list[dict[str, Any]], names: list[str]) -> None:
    """Rewrites the fields `names` of existing rows (values by attname, "id" included). On
    PostgreSQL: COPY into a temporary table, then one UPDATE … FROM (Django's bulk_update
    builds a CASE per field and row: seconds for a few hundred rows)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update([model(**row) for row in rows], names, batch_size=BATCH_SIZE)
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    table = quote(model._meta.db_table)
    # One staging table per model and set of columns (a withdrawal rewrites one column).
    columns_key = zlib.crc32(",".join(names).encode())
    staging = quote(f"pesa_sync_{model._meta.db_table}_{columns_key:08x}")
    columns = [quote(f.column) for f in fields]
    with connection.cursor() as cursor:
        # Dropped when the run's transaction ends; emptied for each batch.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT id, {', '.join(columns)} FROM {table} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {staging}")
        with cursor.cursor.copy(f"COPY {staging} (id, {', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        row["id"],
                        *(
                            _copy_value(
                                row.get(f.attname, f.get_default()),
                                json=isinstance(f, models.JSONField),
                            )
                            for f in fields
                        ),
                    ]
                )
        assignments = ", ".join(f"{column} = s.{column}" for column in columns)
        cursor.execute(
            f"UPDATE {table} t SET {assignments} FROM {staging} s WHERE t.id = s.id"  # noqa: S608
        )

"""Planner statistics after a sync that rewrote a large share of a table.

PostgreSQL plans every read from the statistics ANALYZE gathers. Autovacuum refreshes them
in time, but right after a run that rewrote much of a table they describe another table.
After a first sync into an empty database there are no column statistics at all. The
planner then took each 500-id `origin_id IN (…)` lookup of the next incremental sync for
"every row": a sequential scan of 200k services, ~0.2 s each, 1.2 s of a 3.5 s run. The
service list's estimated counts (`federation.selectors.list_key_statistics`) read these
statistics too. So a run refreshes what it made stale, after its commit; it costs seconds
only when the run itself wrote a large share of the table.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import connection, models

from federation.models import (
    Channel,
    Organization,
    Service,
    ServiceArea,
    ServiceChannel,
    ServiceCode,
)

logger = logging.getLogger(__name__)

# A run that wrote more rows of a table than this share of what the planner believes it
# holds (or wrote any into a table it believes empty) refreshes that table's statistics.
STALE_SHARE = 0.1
# Rows written alongside a record's: a service's areas and codes, and both sides' links.
CHILD_MODELS: dict[type[models.Model], tuple[type[models.Model], ...]] = {
    Service: (ServiceArea, ServiceCode, ServiceChannel),
    Channel: (ServiceChannel,),
    Organization: (),
}


def stale_tables(written: Mapping[type[models.Model], int]) -> list[str]:
    """The tables a run that wrote `written` rows per record model has made stale: the
    model's table and its children's, where the rows written exceed `STALE_SHARE` of the
    table's `reltuples` (-1 when never analysed, 0 when analysed empty)."""
    tables: dict[str, type[models.Model]] = {
        model._meta.db_table: model for model, rows in written.items() if rows > 0
    }
    if not tables:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r'",
            [list(tables)],
        )
        believed = dict(cursor.fetchall())
    stale: list[str] = []
    for table, model in tables.items():
        if written[model] > STALE_SHARE * max(believed.get(table, -1), 0):
            for name in (table, *(child._meta.db_table for child in CHILD_MODELS.get(model, ()))):
                if name not in stale:
                    stale.append(name)
    return stale


def refresh_statistics(written: Mapping[type[models.Model], int]) -> list[str]:
    """ANALYZE the tables `stale_tables` names (PostgreSQL only); returns them."""
    if connection.vendor != "postgresql":
        return []
    tables = stale_tables(written)
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    if tables:
        logger.info("planner statistics refreshed: %s", ", ".join(tables))
    return tables

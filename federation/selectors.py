"""Reads of the federation. The public visibility rule is written here, once."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from math import prod
from typing import Any

import orjson
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import DataContains, Overlap
from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    Expression,
    F,
    Func,
    JSONField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone

from federation.models import (
    Area,
    Channel,
    Organization,
    PostalCode,
    RecordIssue,
    RecordStatus,
    Service,
    ServiceArea,
    Source,
    SyncRun,
)


# ---------------------------------------------------------------------------
# Public records: every public read starts here
# ---------------------------------------------------------------------------
def public_services() -> QuerySet[Service]:
    """Services the public API may show: active, from an enabled source.

    Withdrawn and inactive records never pass, and neither does anything of a
    disabled source. Add `with_service_relations()` to prefetch what a list shows.
    """
    return Service.objects.filter(status=RecordStatus.ACTIVE, source__enabled=True).select_related(
        "organization", "source"
    )


def public_organizations() -> QuerySet[Organization]:
    return Organization.objects.filter(
        status=RecordStatus.ACTIVE, source__enabled=True
    ).select_related("source")


def public_channels() -> QuerySet[Channel]:
    return Channel.objects.filter(status=RecordStatus.ACTIVE, source__enabled=True)


# Columns a list item never shows: left in the table, so a page reads less (and no TOAST).
SERVICE_LIST_DEFERRED = (
    "description",
    "content_hash",
    "channel_origin_ids",
    "organization_origin_id",
    "origin_modified",
    "withdrawn_reason",
    "organization__description",
    "organization__content_hash",
)
CHANNEL_LIST_DEFERRED = ("description", "content_hash", "service_origin_ids", "accessibility")


def with_service_relations(
    services: QuerySet[Service], *, for_list: bool = False
) -> QuerySet[Service]:
    """Prefetches public channels, area rows and classification codes (3 queries a page).

    `for_list`: what a list page shows only: no codes (the items carry the code lists
    themselves) and no long texts of services, providers and channels (2 queries a page).
    """
    channels = public_channels().order_by("pk")
    if not for_list:
        return services.prefetch_related(Prefetch("channels", queryset=channels), "areas", "codes")
    return services.defer(*SERVICE_LIST_DEFERRED).prefetch_related(
        Prefetch("channels", queryset=channels.defer(*CHANNEL_LIST_DEFERRED)), "areas"
    )


class _JSONObject(Func):
    """json_build_object(…): plain json, built once per row and parsed once by orjson."""

    function = "json_build_object"
    output_field = JSONField()

    def __init__(self, **fields: Any) -> None:
        pairs: list[Any] = []
        for key, value in fields.items():
            # Typed keys: with server-side binding an untyped parameter has no data type.
            key_text = Cast(Value(key), output_field=TextField())
            pairs.extend([key_text, F(value) if isinstance(value, str) else value])
        super().__init__(*pairs)


def service_list_page(
    services: QuerySet[Service], *, offset: int, limit: int, count_limit: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of `services` as plain dicts, and their count (see `service_list_page_query`)."""
    rows = list(
        service_list_page_query(services, offset=offset, limit=limit, count_limit=count_limit)
    )
    return service_list_page_rows(rows)


def service_list_page_rows(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int | None]:
    """The items and the count of the rows of `service_list_page_query`."""
    if not rows:
        return [], None
    return [orjson.loads(row["item"]) for row in rows], rows[0]["total"]


def service_list_page_query(
    services: QuerySet[Service], *, offset: int, limit: int, count_limit: int | None
) -> QuerySet:
    """The one query (PostgreSQL) of a page of `services` and their count.

    `services` is a filtered, ordered `public_services()` queryset. Each row has `item`, the
    JSON text of what a list item shows (`service_list_item_json`), and `total`, the count
    of all of `services`, stopping at `count_limit`.
    """
    counted = services.order_by().values("pk")
    if count_limit is not None:
        counted = counted[:count_limit]
    count_sql, count_params = counted.query.sql_with_params()
    # The page's ids apart: PostgreSQL plans them alone (a walk of a name index in order,
    # or a sort of the matches' keys), and the items' subqueries run for those rows only.
    page = services.values("pk")[offset : offset + limit]
    return services.filter(pk__in=page).values(
        item=service_list_item_json(distance="distance_km" in services.query.annotations),
        total=RawSQL(f"SELECT count(*) FROM ({count_sql}) counted", count_params),  # noqa: S608, S611
    )


def service_list_item_json(*, distance: bool = False) -> Func:
    """The JSON text of what a list item shows, texts in every language: service fields,
    `provider` and `source` fields (`organization`: id, name, provider_kind, or null),
    `areas` ([kind, code, area name] by code) and the public `channels` (by id); with
    `distance`, the row's `distance_km` annotation."""
    area_names = Area.objects.filter(code=OuterRef("code")).values("name")[:1]
    areas = (
        ServiceArea.objects.filter(service=OuterRef("pk"))
        .annotate(area_name=Subquery(area_names))
        .order_by(Func(F("code"), template='%(expressions)s COLLATE "C"'))
        .values(
            item=Func(
                F("kind"),
                F("code"),
                F("area_name"),
                function="json_build_array",
                output_field=JSONField(),
            )
        )
    )
    channels = (
        public_channels()
        .filter(service_links__service=OuterRef("pk"))
        .order_by("pk")
        .values(
            item=_JSONObject(
                id="pk",
                kind="kind",
                name="name",
                phones="phones",
                urls="urls",
                emails="emails",
                addresses="addresses",
                opening_hours="opening_hours",
                languages="languages",
            )
        )
    )
    fields: dict[str, Any] = {
        "id": "pk",
        "name": "name",
        "summary": "summary",
        "languages": "languages",
        "target_groups": "target_groups",
        "life_events": "life_events",
        "service_classes": "service_classes",
        "origin_id": "origin_id",
        "origin_url": "origin_url",
        "synced_at": "synced_at",
        # A subquery, not a join: evaluated for the page's rows only, after the sort.
        "organization": Subquery(
            Organization.objects.filter(pk=OuterRef("organization_id")).values(
                item=_JSONObject(id="pk", name="name", provider_kind="provider_kind")
            )[:1]
        ),
        "source_slug": "source__slug",
        "source_name": "source__name",
        "source_kind": "source__kind",
        "source_trust_tier": "source__trust_tier",
        "areas": ArraySubquery(areas),
        "channels": ArraySubquery(channels),
    }
    if distance:
        fields["distance_km"] = "distance_km"
    return Func(_JSONObject(**fields), template="%(expressions)s::text", output_field=TextField())


def service_list_page_items() -> QuerySet:
    """`item` (`service_list_item_json`) of the public service whose id is `page.id`: the
    items part of `service_list_keyed_page_sql`, compiled apart."""
    return (
        public_services().filter(pk=RawSQL('"page"."id"', ())).values(item=service_list_item_json())
    )


# `matches`: the ids and sort keys of the filtered services, at most `count_limit` of them,
# read once (one bitmap scan of the list-keys index): they give the count and, when they
# are all the matches, the page (a sort of their keys). When there are more, the page is
# `walked` instead: a walk of a name index in order, which then meets 20 matches soon.
KEYED_PAGE_SQL = """
WITH matches AS MATERIALIZED (SELECT * FROM ({matches}) AS matched (id, sort_key)),
counted AS (SELECT count(*) AS total FROM matches),
page AS (
    (SELECT id, sort_key FROM matches WHERE {all_matched}
     ORDER BY sort_key, id LIMIT {limit} OFFSET {offset})
    {walked}
)
SELECT items.item, (SELECT total FROM counted) AS total
FROM page CROSS JOIN LATERAL ({items}) AS items
ORDER BY page.sort_key, page.id
"""
KEYED_PAGE_WALKED = """UNION ALL
    (SELECT id, sort_key FROM ({walk}) AS walked (id, sort_key)
     WHERE (SELECT total FROM counted) >= {count_limit})"""


def service_list_keyed_page_sql(
    *,
    matches: tuple[str, list[Any]],
    walk: tuple[str, list[Any]],
    items: tuple[str, list[Any]],
    offset: int,
    limit: int,
    count_limit: int | None,
) -> tuple[str, list[Any]]:
    """One statement (PostgreSQL) for a page of a name-ordered service list and its count.

    From the compiled parts: `matches`, (id, sort key) of the filtered services, unordered,
    at most `count_limit`; `walk`, the same in order, sliced to the page;
    `items`, `service_list_page_items()`. Rows as `service_list_page_query`'s: (item, total).
    """
    (matches_sql, matches_params), (items_sql, items_params) = matches, items
    params = [*matches_params]
    if count_limit is None:
        all_matched, walked = "TRUE", ""
    else:
        all_matched = f"(SELECT total FROM counted) < {int(count_limit)}"  # noqa: S608
        walked = KEYED_PAGE_WALKED.format(walk=walk[0], count_limit=int(count_limit))
        params.extend(walk[1])
    sql = KEYED_PAGE_SQL.format(
        matches=matches_sql,
        all_matched=all_matched,
        limit=int(limit),
        offset=int(offset),
        walked=walked,
        items=items_sql,
    )
    return sql, [*params, *items_params]


# A page of a list too long to count on every request: the walk alone (PostgreSQL plans it
# for the request's keys: along a name index, or a sort of the matches when they are few).
WALKED_PAGE_SQL = """
WITH page AS MATERIALIZED (SELECT * FROM ({walk}) AS walked (id, sort_key))
SELECT items.item FROM page CROSS JOIN LATERAL ({items}) AS items
ORDER BY page.sort_key, page.id
"""


def service_list_walked_page_sql(
    *, walk: tuple[str, list[Any]], items: tuple[str, list[Any]]
) -> tuple[str, list[Any]]:
    """One statement (PostgreSQL) for a page of a name-ordered service list, uncounted.

    From the compiled parts of `service_list_keyed_page_sql`: `walk`, (id, sort key) of the
    page's services in order; `items`, `service_list_page_items()`. Rows: (item,).
    """
    (walk_sql, walk_params), (items_sql, items_params) = walk, items
    return WALKED_PAGE_SQL.format(walk=walk_sql, items=items_sql), [*walk_params, *items_params]


def offered_in(services: QuerySet[Service], *, area_codes: list[str]) -> QuerySet[Service]:
    """`services` that have an area row with one of `area_codes`: one EXISTS on (code, service).

    Applied to a queryset that already starts from `public_services()`, so list filters add
    a correlated EXISTS instead of a nested `pk IN (public_services() …)` subquery.
    """
    areas = ServiceArea.objects.filter(service=OuterRef("pk"), code__in=area_codes)
    return services.filter(Exists(areas))


class ServiceListKeys(Expression):
    """The service's `list_keys` column (migration 0007; PostgreSQL only, outside the model).

    Stored `federation_service_list_keys(…)` (migration 0006), GIN-indexed for active
    services: `a:<code>` per area (and `a:*` nationwide), `l:<lang>` per language, `t:<code>`
    per target group and each of its dot-prefixes.
    """

    output_field = ArrayField(TextField())

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        table = compiler.quote_name_unless_alias(compiler.query.base_table)
        return f"{table}.list_keys", []


def has_list_keys(services: QuerySet[Service]) -> bool:
    """Whether the services' database has the list-keys index (PostgreSQL)."""
    return connections[services.db].vendor == "postgresql"


def with_list_keys(
    services: QuerySet[Service], *, any_of: list[str] | None = None, all_of: list[str] | None = None
) -> QuerySet[Service]:
    """`services` whose list keys include one of `any_of` and all of `all_of` (GIN-served)."""
    keys = ArrayField(TextField())
    if any_of is not None:
        services = services.filter(Overlap(ServiceListKeys(), Value(any_of, output_field=keys)))
    if all_of is not None:
        services = services.filter(
            DataContains(ServiceListKeys(), Value(all_of, output_field=keys))
        )
    return services


def area_keys(codes: list[str]) -> list[str]:
    return [f"a:{code}" for code in codes]


def language_key(code: str) -> str:
    return f"l:{code}"


def target_group_keys(codes: list[str]) -> list[str]:
    """Keys of "one of these target groups or narrower" (KR1.2 matches KR1.2 and KR1.2.3)."""
    return [f"t:{code}" for code in codes]


@dataclass(frozen=True)
class ListKeyStatistics:
    """PostgreSQL's statistics of the list keys (`pg_stats.most_common_elems`: the share of
    services having each key) and the number of public services: enough to estimate the size
    of a list filtered by keys without reading it, as the planner estimates it."""

    services: int
    shares: dict[str, float]
    # The share assumed for a key the statistics do not list (the planner's: half the least).
    rare: float

    def estimate(
        self,
        *,
        area_keys: list[str] | None = None,
        language_keys: list[str] | None = None,
        audience_keys: list[str] | None = None,
    ) -> int:
        """How many public services `with_list_keys` would find: any of the area and
        audience keys, all of the language keys, taken as independent."""
        share = 1.0
        for keys, every in ((area_keys, False), (language_keys, True), (audience_keys, False)):
            if keys is None:
                continue
            shares = [self.shares.get(key, self.rare) for key in keys]
            share *= prod(shares) if every else 1 - prod(1 - one for one in shares)
        return round(self.services * share)


# How long a process trusts the statistics it read: they change with autovacuum's ANALYZE,
# and they only choose how a list is read and estimate counts said to be estimates.
LIST_KEY_STATISTICS_SECONDS = 300.0
_list_key_statistics: tuple[float, ListKeyStatistics | None] | None = None

LIST_KEY_STATISTICS_SQL = """
SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats
WHERE schemaname = current_schema() AND tablename = 'federation_service'
  AND attname = 'list_keys'
"""


def list_key_statistics() -> ListKeyStatistics | None:
    """The list-key statistics, read at most every `LIST_KEY_STATISTICS_SECONDS` per
    process; None where there are none (not PostgreSQL, or the table never analysed)."""
    global _list_key_statistics
    now = time.monotonic()
    if _list_key_statistics is None or now - _list_key_statistics[0] > LIST_KEY_STATISTICS_SECONDS:
        _list_key_statistics = (now, _read_list_key_statistics())
    return _list_key_statistics[1]


def forget_list_key_statistics() -> None:
    global _list_key_statistics
    _list_key_statistics = None


def _read_list_key_statistics() -> ListKeyStatistics | None:
    connection = connections[Service.objects.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(LIST_KEY_STATISTICS_SQL)
        row = cursor.fetchone()
    if row is None or not row[0]:
        return None
    keys, shares = row
    # After the keys' shares come their least and greatest (and maybe that of null keys).
    return ListKeyStatistics(
        services=public_services().order_by().count(),
        shares=dict(zip(keys, shares[: len(keys)], strict=True)),
        rare=shares[len(keys)] / 2,
    )


_municipality_area_codes: dict[str, list[str]] | None = None


def offered_in_codes(*, municipality_code: str) -> list[str] | None:
    """Area codes of "offered in a municipality" (own, county's, nationwide), or None when
    there is no such municipality. Read once per process: areas are reference data that
    change by migration (`forget_areas` drops the copy when one is saved)."""
    global _municipality_area_codes
    if _municipality_area_codes is None:
        _municipality_area_codes = {
            code: [code, ServiceArea.NATIONWIDE, *([county] if county else [])]
            for code, county in municipalities().values_list("code", "parent__code")
        }
    return _municipality_area_codes.get(municipality_code)


def forget_areas(**_kwargs: Any) -> None:
    global _municipality_area_codes
    _municipality_area_codes = None


def municipality_area_codes(*, municipality_code: str) -> list[str]:
    """Area codes of "offered in a municipality": its own, its county's and nationwide
    (`offered_in_codes`; a code that is no municipality's has no county)."""
    return offered_in_codes(municipality_code=municipality_code) or [
        municipality_code,
        ServiceArea.NATIONWIDE,
    ]


def county_area_codes(*, county_code: str) -> list[str]:
    """Area codes of "offered in a county": the county's, its municipalities' and nationwide."""
    return [county_code, ServiceArea.NATIONWIDE, *municipality_codes_of(county_code=county_code)]


def services_in_municipality(*, municipality_code: str) -> QuerySet[Service]:
    """Public services offered in a municipality: its own, its county's and nationwide ones."""
    codes = municipality_area_codes(municipality_code=municipality_code)
    return offered_in(public_services(), area_codes=codes)


def services_in_county(*, county_code: str) -> QuerySet[Service]:
    """Public services of a county: the county's, its municipalities' and nationwide ones."""
    return offered_in(public_services(), area_codes=county_area_codes(county_code=county_code))


# ---------------------------------------------------------------------------
# Areas
# ---------------------------------------------------------------------------
def municipalities() -> QuerySet[Area]:
    return Area.objects.filter(kind=Area.Kind.MUNICIPALITY).select_related("parent")


def county_level_areas() -> QuerySet[Area]:
    """The 21 wellbeing services counties plus the City of Helsinki and Åland."""
    return Area.objects.exclude(kind=Area.Kind.MUNICIPALITY)


def municipality_codes_of(*, county_code: str) -> list[str]:
    return list(municipalities().filter(parent__code=county_code).values_list("code", flat=True))


def municipality_for_postal_code(*, postal_code: str) -> Area | None:
    postal = (
        PostalCode.objects.select_related("municipality__parent").filter(code=postal_code).first()
    )
    return postal.municipality if postal else None


# ---------------------------------------------------------------------------
# Sources, runs and issues
# ---------------------------------------------------------------------------
def sources_due_for_sync(*, now: datetime | None = None) -> QuerySet[Source]:
    """Enabled pull sources whose next sync time has come; `full_due` says which kind."""
    now = now or timezone.now()
    return (
        Source.objects.filter(enabled=True)
        .exclude(url="")
        .filter(Q(incremental_interval_minutes__gt=0) | Q(full_sync_interval_hours__gt=0))
        .filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
        .annotate(
            full_due=Case(
                When(watermark="", then=Value(True)),
                When(
                    Q(full_sync_interval_hours__gt=0)
                    & (Q(next_full_sync_at__isnull=True) | Q(next_full_sync_at__lte=now)),
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("pk")
    )


def source_runs(*, source: Source) -> QuerySet[SyncRun]:
    return SyncRun.objects.filter(source=source).order_by("-queued_at", "-pk")


def latest_run(*, source: Source) -> SyncRun | None:
    return source_runs(source=source).first()


def run_issues(*, run: SyncRun) -> QuerySet[RecordIssue]:
    return RecordIssue.objects.filter(run=run).order_by("pk")


# ---------------------------------------------------------------------------
# Operations: what /metrics reads at scrape time (cms/metrics.py)
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SyncMetrics:
    """Totals over the stored runs, one row per group; three grouped queries in all."""

    runs: list[dict[str, Any]]  # source, outcome, runs, created, updated, withdrawn, rejected
    issues: list[dict[str, Any]]  # source, severity, issues
    last_success: dict[str, datetime | None]  # enabled source → end of its last good run


def sync_metrics() -> SyncMetrics:
    runs = (
        SyncRun.objects.values(source_slug=F("source__slug"), run_outcome=F("outcome"))
        .annotate(
            runs=Count("pk"),
            created_total=Sum("created"),
            updated_total=Sum("updated"),
            withdrawn_total=Sum("withdrawn"),
            rejected_total=Sum("rejected"),
        )
        .order_by()
    )
    issues = (
        RecordIssue.objects.values(source_slug=F("run__source__slug"), issue_severity=F("severity"))
        .annotate(issues=Count("pk"))
        .order_by()
    )
    last_success = (
        Source.objects.filter(enabled=True)
        .annotate(
            last_success=Max("runs__finished_at", filter=Q(runs__outcome=SyncRun.Outcome.SUCCEEDED))
        )
        .values_list("slug", "last_success")
    )
    return SyncMetrics(runs=list(runs), issues=list(issues), last_success=dict(last_success))

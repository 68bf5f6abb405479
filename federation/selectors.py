"""Reads of the federation. The public visibility rule is written here, once."""

from __future__ import annotations

from datetime import datetime

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
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


def offered_in(services: QuerySet[Service], *, area_codes: list[str]) -> QuerySet[Service]:
    """`services` that have an area row with one of `area_codes`: one EXISTS on (code, service).

    Applied to a queryset that already starts from `public_services()`, so list filters add
    a correlated EXISTS instead of a nested `pk IN (public_services() …)` subquery.
    """
    areas = ServiceArea.objects.filter(service=OuterRef("pk"), code__in=area_codes)
    return services.filter(Exists(areas))


def municipality_area_codes(*, municipality_code: str) -> list[str]:
    """Area codes of "offered in a municipality": its own, its county's and nationwide."""
    codes = [municipality_code, ServiceArea.NATIONWIDE]
    county = (
        Area.objects.filter(code=municipality_code).values_list("parent__code", flat=True).first()
    )
    if county:
        codes.append(county)
    return codes


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

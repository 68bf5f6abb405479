"""The federation endpoints: services, organizations and areas (read-only, anonymous).

Every read starts from the federation's public selectors: withdrawn or inactive records and
anything of a disabled source never pass. List query counts are constant in the page size.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from django.conf import settings
from django.db import connections
from django.db.models import (
    Count,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)

from cms.compiled_reads import CompiledRead, server_binding_cursor
from federation.models import Area, Organization, Service, name_sort_key
from federation.selectors import (
    list_key_statistics,
    public_organizations,
    public_services,
    service_list_keyed_page_sql,
    service_list_page,
    service_list_page_items,
    service_list_page_rows,
    service_list_walked_page_sql,
    with_list_keys,
    with_service_relations,
)
from frontend_api.base import PublicReadOnlyViewSet
from frontend_api.filters.services import (
    DEFAULT_RADIUS_KM,
    LIST_KEY_FILTERS,
    MAX_RADIUS_KM,
    PROVIDER_KINDS,
    AreaFilterSet,
    OrganizationFilterSet,
    PesaFilterBackend,
    ServiceFilterSet,
    list_key_filters,
    ordered_by_name,
)
from frontend_api.serializers.services import (
    AreaSerializer,
    OrganizationDetailSerializer,
    OrganizationSerializer,
    ServiceDetailSerializer,
    ServiceSerializer,
    service_list_item,
)


def _parameter(
    name: str, description: str, examples: dict[str, str], **kwargs: Any
) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        kwargs.pop("type", str),
        description=description,
        examples=[OpenApiExample(label, value=value) for label, value in examples.items()],
        **kwargs,
    )


MUNICIPALITY_PARAMETER = _parameter(
    "municipality",
    "Official 3-digit municipality code. Services include those offered in the "
    "municipality itself, in its wellbeing services county, and nationwide.",
    {"Helsinki": "091", "Espoo": "049"},
)
SOURCE_PARAMETER = _parameter(
    "source", "Slug of the feed (source) the records come from.", {"A feed": "ptv-helsinki"}
)
PROVIDER_KIND_PARAMETER = _parameter(
    "provider_kind",
    "Kind of provider: the organisation's own, else derived from the feed's kind.",
    {"Public sector": "public", "NGO": "ngo", "Parish": "parish"},
    enum=list(PROVIDER_KINDS),
)
SERVICE_PARAMETERS = [
    MUNICIPALITY_PARAMETER,
    _parameter(
        "county",
        "Wellbeing services county code (01–21; 90 City of Helsinki, 91 Åland): the county's "
        "own services, those of its municipalities, and nationwide ones.",
        {"Western Uusimaa": "03", "City of Helsinki": "90"},
    ),
    _parameter(
        "postal_code",
        "5-digit postal code; mapped to its municipality, then as `municipality`.",
        {"Helsinki centre": "00100"},
    ),
    _parameter(
        "near",
        "`lat,lon` in WGS84 degrees. Keeps services with a channel (location) within "
        "`radius_km` and orders them nearest first; items then carry `distance_km`.",
        {"Helsinki railway station": "60.1719,24.9414"},
    ),
    _parameter(
        "radius_km",
        f"Radius for `near`, in km: above 0, at most {MAX_RADIUS_KM:g}; "
        f"default {DEFAULT_RADIUS_KM:g}. Only with `near`.",
        {"5 km": "5"},
        type=OpenApiTypes.NUMBER,
    ),
    _parameter(
        "language",
        "Language the service is offered in (ISO 639-1). Not the response language: "
        "that is `lang`, which never hides a service.",
        {"Swedish": "sv", "English": "en"},
    ),
    _parameter(
        "audience",
        "PTV target group codes (ptvkohderyhmat), comma-separated, any of; a code also "
        "matches its narrower codes (KR1 matches KR1.2).",
        {"Families with children": "KR1.2", "Two groups": "KR1.2,KR2"},
    ),
    _parameter(
        "life_situation",
        "PTV life event codes (ptvelamantilanteet, KE…) or our own life-situation codes "
        "(vocabularies/life-situations, mapped to their PTV code), comma-separated, any of.",
        {"Having a child (PTV)": "KE1", "Pregnancy (own vocabulary)": "pregnancy"},
    ),
    _parameter(
        "service_class",
        "PTV service class codes (ptvserclass2), comma-separated, any of; a code also "
        "matches its narrower codes (P3 matches P3.1 but not P31).",
        {"Health care": "P3", "Narrower": "P3.1"},
    ),
    _parameter("organization", "Id of the providing organization.", {"An organization": "1"}),
    SOURCE_PARAMETER,
    PROVIDER_KIND_PARAMETER,
    _parameter(
        "search",
        "Words that must all occur in the name or summary (any language), case-insensitive.",
        {"Child health clinic": "neuvola"},
    ),
]


def area_names(codes: Iterable[str]) -> dict[str, dict[str, str]]:
    codes = set(codes)
    if not codes:
        return {}
    return dict(Area.objects.filter(code__in=codes).values_list("code", "name"))


def _keyed_services(
    *,
    chain: tuple[str, ...],
    area_keys: list[str] | None = None,
    language_keys: list[str] | None = None,
    audience_keys: list[str] | None = None,
) -> QuerySet:
    """The services of a request that filters only by `LIST_KEY_FILTERS`: the same
    predicates the filterset adds (`with_list_keys`), ordered by name as `ordered_by_name`."""
    services = public_services()
    if area_keys is not None:
        services = with_list_keys(services, any_of=area_keys)
    if language_keys is not None:
        services = with_list_keys(services, all_of=language_keys)
    if audience_keys is not None:
        services = with_list_keys(services, any_of=audience_keys)
    # The same expression as Service's name indexes (federation.models.name_sort_key).
    sort_name = ExpressionWrapper(name_sort_key(chain), output_field=TextField())
    return services.annotate(sort_name=sort_name).order_by("sort_name", "pk")


def _keyed_matches(*, count_limit: int | None, **filters: Any) -> QuerySet:
    matches = _keyed_services(**filters).order_by().values_list("pk", "sort_name")
    return matches if count_limit is None else matches[:count_limit]


def _keyed_walk(*, offset: int, limit: int, **filters: Any) -> QuerySet:
    return _keyed_services(**filters).values_list("pk", "sort_name")[offset : offset + limit]


# The parts of `service_list_keyed_page_sql`, compiled once per process and shape; planned
# for each request's own values (no prepared statements: the filters' selectivity varies too
# much for one generic plan).
KEYED_MATCHES = CompiledRead(_keyed_matches, prepare=False)
KEYED_WALK = CompiledRead(_keyed_walk, prepare=False)
KEYED_ITEMS = CompiledRead(service_list_page_items, prepare=False)
LIST_PAGE_PARAMS = ("lang", "page", "page_size")


def keyed_list_page(
    *,
    chain: tuple[str, ...],
    offset: int,
    limit: int,
    count_limit: int | None,
    keys: dict[str, list[str]],
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the list filtered by `keys` (`list_key_filters`) and its count: one query."""
    sql, params = service_list_keyed_page_sql(
        matches=KEYED_MATCHES.bound(shape={"chain": chain, "count_limit": count_limit}, **keys),
        walk=KEYED_WALK.bound(shape={"chain": chain, "limit": limit}, offset=offset, **keys),
        items=KEYED_ITEMS.bound(shape={}),
        offset=offset,
        limit=limit,
        count_limit=count_limit,
    )
    with server_binding_cursor(connections["default"], prepare=False) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return service_list_page_rows([{"item": item, "total": total} for item, total in rows])


def keyed_walked_page(
    *, chain: tuple[str, ...], offset: int, limit: int, keys: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """A page of the list filtered by `keys`, uncounted: one query."""
    sql, params = service_list_walked_page_sql(
        walk=KEYED_WALK.bound(shape={"chain": chain, "limit": limit}, offset=offset, **keys),
        items=KEYED_ITEMS.bound(shape={}),
    )
    with server_binding_cursor(connections["default"], prepare=False) as cursor:
        cursor.execute(sql, params)
        return [orjson.loads(item) for (item,) in cursor.fetchall()]


@extend_schema_view(
    list=extend_schema(
        summary="Public services",
        description=(
            "Services from every enabled feed, one language per response (`lang`; "
            "missing texts fall back and `meta.fallback` says so). Ordered by name in the "
            "served language, or by distance with `near`."
        ),
        parameters=SERVICE_PARAMETERS,
    ),
    retrieve=extend_schema(
        summary="One public service",
        description="Withdrawn services, inactive ones and those of disabled feeds are 404.",
        responses=ServiceDetailSerializer,
    ),
)
class ServiceViewSet(PublicReadOnlyViewSet):
    """The list is the busiest public read: on PostgreSQL one query gives a page and its count."""

    serializer_class = ServiceSerializer
    filterset_class = ServiceFilterSet
    filter_backends = [PesaFilterBackend]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Service]:
        queryset = public_services()
        if not self._reads_plain_rows():
            queryset = with_service_relations(queryset, for_list=self.action == "list")
        choice = getattr(self.request, "language_choice", None)
        return ordered_by_name(queryset, choice.chain if choice else ("fi",))

    def _reads_plain_rows(self) -> bool:
        # `service_list_page` builds its JSON with PostgreSQL functions; elsewhere (SQLite
        # demo and tests) the list reads model instances through the serializer.
        return self.action == "list" and connections["default"].vendor == "postgresql"

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        plain_rows = self._reads_plain_rows()
        if plain_rows and set(request.query_params) <= {*LIST_KEY_FILTERS, *LIST_PAGE_PARAMS}:
            return self._keyed_list(request)
        filterset = PesaFilterBackend().valid_filterset(request, self.get_queryset(), self)
        services = filterset.qs

        def fetch(offset: int, limit: int, count_limit: int | None) -> tuple[list, int | None]:
            if plain_rows:
                rows, counted = service_list_page(
                    services, offset=offset, limit=limit, count_limit=count_limit
                )
            else:
                rows = list(services[offset : offset + limit])
                counted = services.order_by()[:count_limit].count() if rows else None
            return rows, counted

        rows = self.paginator.paginate_rows(services, request, fetch)
        if plain_rows:
            choice = request.language_choice
            data = [service_list_item(choice, row) for row in rows]
        else:
            data = self.get_serializer(rows, many=True).data
        return self.paginator.get_paginated_response(data)

    def _keyed_list(self, request: Any) -> Any:
        """The list filtered only by place, language and audience (the common case): one
        statement from parts compiled once per shape (`keyed_list_page`), no filterset or
        ORM build."""
        keys = list_key_filters(request.query_params)
        choice = request.language_choice
        estimate = self._estimated_size(request, keys)
        if estimate is not None:
            # Too long to count on every request: the page alone, and PostgreSQL's estimate.
            def walk(offset: int, limit: int) -> list:
                return keyed_walked_page(chain=choice.chain, offset=offset, limit=limit, keys=keys)

            rows = self.paginator.paginate_estimated(request, walk, estimate=estimate)
            return self.paginator.get_paginated_response(
                [service_list_item(choice, row) for row in rows]
            )

        def fetch(offset: int, limit: int, count_limit: int | None) -> tuple[list, int | None]:
            return keyed_list_page(
                chain=choice.chain, offset=offset, limit=limit, count_limit=count_limit, keys=keys
            )

        rows = self.paginator.paginate_rows(public_services(), request, fetch)
        return self.paginator.get_paginated_response(
            [service_list_item(choice, row) for row in rows]
        )

    def _estimated_size(self, request: Any, keys: dict[str, list[str]]) -> int | None:
        """The list's estimated size where it is past `PESA_API_EXACT_COUNT_LIMIT` (and the
        last page is not asked for, which needs the count), else None: count it."""
        if request.query_params.get(self.paginator.page_query_param) in (
            self.paginator.last_page_strings
        ):
            return None
        statistics = list_key_statistics()
        if statistics is None:
            return None
        estimate = statistics.estimate(**keys)
        return estimate if estimate > settings.PESA_API_EXACT_COUNT_LIMIT else None

    def get_serializer_class(self) -> type[ServiceSerializer]:
        return ServiceDetailSerializer if self.action == "retrieve" else ServiceSerializer

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if args:
            instance = args[0]
            services = instance if isinstance(instance, list) else [instance]
            kwargs["context"] = {
                **self.get_serializer_context(),
                "area_names": area_names(
                    row.code for service in services for row in service.areas.all()
                ),
            }
        return super().get_serializer(*args, **kwargs)


@extend_schema_view(
    list=extend_schema(
        summary="Public organizations",
        description="Providers of the public services, each with its public services count.",
        parameters=[
            _parameter(
                "municipality",
                "3-digit municipality code: organisations based there or providing a public "
                "service offered there (including county-wide and nationwide services).",
                {"Helsinki": "091"},
            ),
            PROVIDER_KIND_PARAMETER,
            SOURCE_PARAMETER,
            _parameter(
                "search",
                "Words that must all occur in the name (any language), case-insensitive.",
                {"Family federation": "väestöliitto"},
            ),
        ],
    ),
    retrieve=extend_schema(
        summary="One public organization", responses=OrganizationDetailSerializer
    ),
)
class OrganizationViewSet(PublicReadOnlyViewSet):
    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilterSet
    filter_backends = [PesaFilterBackend]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Organization]:
        counts = (
            public_services()
            .filter(organization=OuterRef("pk"))
            .order_by()
            .values("organization")
            .annotate(count=Count("pk"))
            .values("count")
        )
        queryset = public_organizations().annotate(
            services_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))
        )
        choice = getattr(self.request, "language_choice", None)
        return ordered_by_name(queryset, choice.chain if choice else ("fi",))

    def get_serializer_class(self) -> type[OrganizationSerializer]:
        if self.action == "retrieve":
            return OrganizationDetailSerializer
        return OrganizationSerializer


@extend_schema_view(
    list=extend_schema(
        summary="Municipalities and wellbeing services counties",
        description="Statistics Finland codes; names in the served language plus all three.",
        parameters=[
            _parameter(
                "kind",
                "Kind of area.",
                {"Municipalities": "municipality", "Counties": "wellbeing_services_county"},
                enum=list(Area.Kind.values),
            ),
            _parameter(
                "parent",
                "Code of a county-level area: its municipalities.",
                {"Western Uusimaa": "03"},
            ),
        ],
    ),
    retrieve=extend_schema(summary="One area by its code"),
)
class AreaViewSet(PublicReadOnlyViewSet):
    serializer_class = AreaSerializer
    filterset_class = AreaFilterSet
    filter_backends = [PesaFilterBackend]
    lookup_field = "code"
    lookup_value_regex = r"\d{2,3}"

    def get_queryset(self) -> QuerySet[Area]:
        return Area.objects.select_related("parent").order_by("code")

"""Filters of the federation endpoints (services, organizations, areas).

Every filter validates its value and answers a bad one with a 400 problem naming the
parameter. Place filters go through the federation selectors, so "offered in X" means
the same everywhere (X's own, its county's and nationwide services).
"""

from __future__ import annotations

import math
import re
from typing import Any

import django_filters
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import ASin, Cos, Least, Power, Radians, Sin, Sqrt
from django_filters.rest_framework import DjangoFilterBackend

from cms.selectors import vocabulary_terms
from federation.models import (
    Area,
    Organization,
    Service,
    ServiceChannel,
    ServiceCode,
    Source,
    name_sort_key,
)
from federation.selectors import (
    area_keys,
    county_area_codes,
    county_level_areas,
    has_list_keys,
    language_key,
    municipality_area_codes,
    municipality_for_postal_code,
    offered_in,
    offered_in_codes,
    services_in_municipality,
    target_group_keys,
    with_list_keys,
)
from frontend_api.language import default_language, supported_languages
from frontend_api.problems import InvalidQueryParameters

EARTH_RADIUS_KM = 6371.0088
DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 200.0
MAX_SEARCH_LENGTH = 200
# Source kinds whose records are public-sector services when the organisation says nothing.
PROVIDER_KINDS = ("public", "ngo", "parish", "company", "other")
SOURCE_KINDS_BY_PROVIDER_KIND = {
    "public": (
        Source.Kind.MUNICIPALITY,
        Source.Kind.WELLBEING_SERVICES_COUNTY,
        Source.Kind.NATIONAL,
    ),
    "ngo": (Source.Kind.NGO,),
    "parish": (Source.Kind.PARISH,),
}
MUNICIPALITY_CODE = re.compile(r"^[0-9]{3}$")
COUNTY_CODE = re.compile(r"^[0-9]{2}$")
POSTAL_CODE = re.compile(r"^[0-9]{5}$")
TARGET_GROUP_CODE = re.compile(r"^KR[0-9]+(\.[0-9]+)*$")
LIFE_EVENT_CODE = re.compile(r"^KE\d+(\.\d+)*$")
SERVICE_CLASS_CODE = re.compile(r"^P[0-9]+(\.[0-9]+)*$")
LIFE_SITUATION_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
MAX_CODES = 20
ORGANIZATION_ID = re.compile(r"^[0-9]{1,18}$")
# Decimal degrees, as the schema states them (no exponents, no spaces).
NEAR = re.compile(
    r"^-?(90(\.0{1,8})?|[0-8]?[0-9](\.[0-9]{1,8})?)"
    r",-?(180(\.0{1,8})?|(1[0-7][0-9]|[0-9]?[0-9])(\.[0-9]{1,8})?)$"
)


def invalid(name: str, message: str, **extra: Any) -> InvalidQueryParameters:
    return InvalidQueryParameters(detail=f"`{name}`: {message}", errors={name: [message]}, **extra)


def code_list(name: str, value: str, pattern: re.Pattern[str], example: str) -> list[str]:
    """A comma-separated list of codes ("KR1.2,KR2"), each checked against `pattern`."""
    codes = list(dict.fromkeys(code.strip() for code in value.split(",") if code.strip()))
    if not codes or len(codes) > MAX_CODES:
        raise invalid(name, f"Give 1 to {MAX_CODES} comma-separated codes, e.g. {example}.")
    for code in codes:
        if not pattern.match(code):
            raise invalid(name, f"{code!r} is not a valid code (e.g. {example}).")
    return codes


def code_or_narrower(codes: list[str]) -> Q:
    """`P3` matches P3 and P3.1, P3.1.2 …, but not P31."""
    query = Q()
    for code in codes:
        query |= Q(code=code) | Q(code__startswith=f"{code}.")
    return query


def with_code(queryset: QuerySet[Service], *, scheme: str, match: Q) -> QuerySet[Service]:
    codes = ServiceCode.objects.filter(match, service=OuterRef("pk"), scheme=scheme)
    return queryset.filter(Exists(codes))


def municipality_code(name: str, value: str) -> str:
    offered_in_area_codes(name, value)
    return value


def county_code(name: str, value: str) -> str:
    if not COUNTY_CODE.match(value) or not county_level_areas().filter(code=value).exists():
        raise invalid(
            name,
            f"{value!r} is not a wellbeing services county code (01–21, 90 Helsinki, 91 Åland).",
        )
    return value


def enabled_source(name: str, value: str) -> Source:
    source = Source.objects.filter(slug=value, enabled=True).first()
    if source is None:
        raise invalid(name, f"There is no source {value!r}.")
    return source


def provider_kind_query(value: str, *, prefix: str = "") -> Q:
    """Records of this provider kind: the organisation's own, else the source's kind."""
    if value not in PROVIDER_KINDS:
        raise invalid(
            "provider_kind",
            f"{value!r} is not one of {', '.join(PROVIDER_KINDS)}.",
            allowed_values={"provider_kind": list(PROVIDER_KINDS)},
        )
    query = Q(**{f"{prefix}provider_kind": value})
    source_kinds = SOURCE_KINDS_BY_PROVIDER_KIND.get(value)
    if source_kinds:
        unknown = Q(**{f"{prefix}provider_kind": ""}) | Q(
            **{f"{prefix}provider_kind__isnull": True}
        )
        if prefix:
            unknown |= Q(**{f"{prefix[:-2]}__isnull": True})
        query |= unknown & Q(source__kind__in=source_kinds)
    return query


def text_search_query(value: str, *fields: str) -> Q:
    """Every word occurs in one of the text fields, in any supported language."""
    if len(value) > MAX_SEARCH_LENGTH:
        raise invalid("search", f"At most {MAX_SEARCH_LENGTH} characters.")
    value = value.strip()
    query = Q()
    for word in value.split():
        any_field = Q()
        for field in fields:
            for lang in supported_languages():
                any_field |= Q(**{f"{field}__{lang}__icontains": word})
        query &= any_field
    return query


def parse_near(value: str) -> tuple[float, float]:
    if not NEAR.match(value):
        raise invalid("near", "Give `lat,lon` in WGS84 degrees, e.g. 60.1699,24.9384.")
    parts = value.split(",")
    try:
        latitude, longitude = (float(part) for part in parts)
    except ValueError:
        raise invalid("near", "Give `lat,lon` in WGS84 degrees, e.g. 60.1699,24.9384.") from None
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise invalid("near", f"Latitude must be from -90 to 90; got {parts[0]!r}.")
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise invalid("near", f"Longitude must be from -180 to 180; got {parts[1]!r}.")
    return latitude, longitude


def parse_radius(value: str | None) -> float:
    if value is None:
        return DEFAULT_RADIUS_KM
    try:
        radius = float(value)
    except ValueError:
        radius = math.nan
    if not (math.isfinite(radius) and 0 < radius <= MAX_RADIUS_KM):
        raise invalid(
            "radius_km", f"Must be a number above 0 and at most {MAX_RADIUS_KM:g}; got {value!r}."
        )
    return radius


def haversine_km(latitude: float, longitude: float, *, prefix: str = "") -> Any:
    """Great-circle distance in km from a point to the row's coordinates, in SQL."""
    lat1, lon1 = Radians(Value(latitude)), Radians(Value(longitude))
    lat2, lon2 = Radians(F(f"{prefix}latitude")), Radians(F(f"{prefix}longitude"))
    inner = Power(Sin((lat2 - lat1) / 2), 2) + Cos(lat1) * Cos(lat2) * Power(
        Sin((lon2 - lon1) / 2), 2
    )
    # Least(): float rounding can push the argument a hair above 1, outside asin's domain.
    return 2 * EARTH_RADIUS_KM * ASin(Sqrt(Least(inner, Value(1.0))))


def bounding_box(latitude: float, longitude: float, radius_km: float) -> dict[str, tuple]:
    """Latitude/longitude ranges that contain the circle: a cheap prefilter before haversine."""
    delta_lat = math.degrees(radius_km / EARTH_RADIUS_KM)
    cos_lat = math.cos(math.radians(latitude))
    delta_lon = 180.0 if cos_lat < 1e-6 else min(180.0, delta_lat / cos_lat)
    return {
        "latitude": (max(-90.0, latitude - delta_lat), min(90.0, latitude + delta_lat)),
        "longitude": (longitude - delta_lon, longitude + delta_lon),
    }


def services_near(
    queryset: QuerySet[Service], *, latitude: float, longitude: float, radius_km: float
) -> QuerySet[Service]:
    """Services with a public channel within `radius_km`, nearest first (`distance_km`)."""
    box = bounding_box(latitude, longitude, radius_km)
    links = ServiceChannel.objects.filter(
        channel__status=Service.Status.ACTIVE,
        channel__source__enabled=True,
        channel__latitude__range=box["latitude"],
        channel__longitude__range=box["longitude"],
    )
    nearest = (
        links.filter(service=OuterRef("pk"))
        .annotate(distance=haversine_km(latitude, longitude, prefix="channel__"))
        .order_by("distance")
        .values("distance")[:1]
    )
    return (
        queryset.filter(pk__in=links.values("service_id"))
        .annotate(distance_km=Subquery(nearest))
        .filter(distance_km__lte=radius_km)
        .order_by("distance_km", "pk")
    )


def life_event_codes(value: str) -> list[str]:
    """PTV life events (KE1) as given; our own life situations ("pregnancy") as their PTV code."""
    codes = code_list("life_situation", value, re.compile(r"^[A-Za-z0-9_.-]{1,64}$"), "KE1")
    ptv_codes = [code for code in codes if LIFE_EVENT_CODE.match(code)]
    own_codes = [code for code in codes if code not in ptv_codes]
    if own_codes:
        terms = {
            term.code: term.life_event_code
            for term in vocabulary_terms(
                model_name="lifesituation", codes=own_codes, language_code=default_language()
            )
        }
        # A life situation without a PTV code, or an unknown one, matches nothing (as on
        # /api/v1/articles/): the schema cannot list the codes, so no valid-looking code is a 400.
        ptv_codes.extend(code for code in terms.values() if code)
    return ptv_codes


def offered_in_area_codes(name: str, value: str) -> list[str]:
    """`municipality=091`: the area codes of "offered in 091" (own, county's, nationwide)."""
    if not MUNICIPALITY_CODE.match(value):
        raise invalid(name, f"{value!r} is not a 3-digit municipality code (e.g. 091).")
    codes = offered_in_codes(municipality_code=value)
    if codes is None:
        raise invalid(name, f"There is no municipality {value!r}.")
    return codes


def offered_language(name: str, value: str) -> str:
    value = value.strip().lower()
    if not LANGUAGE_CODE.match(value):
        raise invalid(name, f"{value!r} is not an ISO 639 language code (e.g. sv).")
    return value


def audience_codes(name: str, value: str) -> list[str]:
    return code_list(name, value, TARGET_GROUP_CODE, "KR1.2")


#: The service-list filters the list-keys index answers on its own (`list_key_filters`).
LIST_KEY_FILTERS = ("municipality", "language", "audience")


def list_key_filters(params: Any) -> dict[str, list[str]]:
    """The list-keys arguments of the `LIST_KEY_FILTERS` in `params`, validated as the
    filterset validates them (same 400s); an empty value filters nothing, as there."""
    keys: dict[str, list[str]] = {}
    if value := (params.get("municipality") or "").strip():
        keys["area_keys"] = area_keys(offered_in_area_codes("municipality", value))
    if value := (params.get("language") or "").strip():
        keys["language_keys"] = [language_key(offered_language("language", value))]
    if value := (params.get("audience") or "").strip():
        keys["audience_keys"] = target_group_keys(audience_codes("audience", value))
    return keys


class PesaFilterBackend(DjangoFilterBackend):
    """django-filter whose form errors are 400 problems naming each parameter."""

    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        filterset = self.valid_filterset(request, queryset, view)
        return queryset if filterset is None else filterset.qs

    def valid_filterset(
        self, request: Any, queryset: QuerySet, view: Any
    ) -> django_filters.FilterSet | None:
        """The view's filterset, its form valid (else a 400); `.qs` applies the filters."""
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return None
        if not filterset.is_valid():
            errors = {
                name: [str(e) for e in messages] for name, messages in filterset.errors.items()
            }
            raise InvalidQueryParameters(
                detail=f"Invalid value for {', '.join(f'`{name}`' for name in errors)}.",
                errors=errors,
            )
        return filterset


class ServiceFilterSet(django_filters.FilterSet):
    municipality = django_filters.CharFilter(method="filter_municipality")
    county = django_filters.CharFilter(method="filter_county")
    postal_code = django_filters.CharFilter(method="filter_postal_code")
    near = django_filters.CharFilter(method="filter_near")
    radius_km = django_filters.CharFilter(method="filter_radius")
    language = django_filters.CharFilter(method="filter_language")
    audience = django_filters.CharFilter(method="filter_audience")
    life_situation = django_filters.CharFilter(method="filter_life_situation")
    service_class = django_filters.CharFilter(method="filter_service_class")
    organization = django_filters.CharFilter(method="filter_organization")
    source = django_filters.CharFilter(method="filter_source")
    provider_kind = django_filters.CharFilter(method="filter_provider_kind")
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Service
        fields: list[str] = []

    def filter_municipality(self, queryset: QuerySet[Service], name: str, value: str):
        codes = offered_in_area_codes(name, value)
        if has_list_keys(queryset):  # one GIN probe with the other list filters
            return with_list_keys(queryset, any_of=area_keys(codes))
        return offered_in(queryset, area_codes=codes)

    def filter_county(self, queryset: QuerySet[Service], name: str, value: str):
        code = county_code(name, value)
        return offered_in(queryset, area_codes=county_area_codes(county_code=code))

    def filter_postal_code(self, queryset: QuerySet[Service], name: str, value: str):
        if not POSTAL_CODE.match(value):
            raise invalid(name, f"{value!r} is not a 5-digit postal code (e.g. 00100).")
        municipality = municipality_for_postal_code(postal_code=value)
        if municipality is None:
            raise invalid(name, f"There is no postal code {value!r}.")
        codes = municipality_area_codes(municipality_code=municipality.code)
        return offered_in(queryset, area_codes=codes)

    def filter_near(self, queryset: QuerySet[Service], name: str, value: str):
        latitude, longitude = parse_near(value)
        radius = parse_radius(self.data.get("radius_km"))
        return services_near(queryset, latitude=latitude, longitude=longitude, radius_km=radius)

    def filter_radius(self, queryset: QuerySet[Service], name: str, value: str):
        # Checked here, applied by filter_near; without `near` it limits nothing.
        parse_radius(value)
        return queryset

    def filter_language(self, queryset: QuerySet[Service], name: str, value: str):
        value = offered_language(name, value)
        if has_list_keys(queryset):
            return with_list_keys(queryset, all_of=[language_key(value)])
        # Elsewhere a JSON text match on the quoted code: exact, as codes are [a-z] only.
        return queryset.filter(languages__icontains=f'"{value}"')

    def filter_audience(self, queryset: QuerySet[Service], name: str, value: str):
        codes = audience_codes(name, value)
        if has_list_keys(queryset):
            return with_list_keys(queryset, any_of=target_group_keys(codes))
        return with_code(
            queryset, scheme=ServiceCode.Scheme.TARGET_GROUP, match=code_or_narrower(codes)
        )

    def filter_life_situation(self, queryset: QuerySet[Service], name: str, value: str):
        codes = life_event_codes(value)
        return with_code(queryset, scheme=ServiceCode.Scheme.LIFE_EVENT, match=Q(code__in=codes))

    def filter_service_class(self, queryset: QuerySet[Service], name: str, value: str):
        codes = code_list(name, value, SERVICE_CLASS_CODE, "P3.1")
        return with_code(
            queryset, scheme=ServiceCode.Scheme.SERVICE_CLASS, match=code_or_narrower(codes)
        )

    def filter_organization(self, queryset: QuerySet[Service], name: str, value: str):
        if not ORGANIZATION_ID.match(value):
            raise invalid(name, f"{value!r} is not an organization id.")
        return queryset.filter(organization_id=int(value))

    def filter_source(self, queryset: QuerySet[Service], name: str, value: str):
        return queryset.filter(source=enabled_source(name, value))

    def filter_provider_kind(self, queryset: QuerySet[Service], name: str, value: str):
        return queryset.filter(provider_kind_query(value, prefix="organization__"))

    def filter_search(self, queryset: QuerySet[Service], name: str, value: str):
        return queryset.filter(text_search_query(value, "name", "summary"))


class OrganizationFilterSet(django_filters.FilterSet):
    municipality = django_filters.CharFilter(method="filter_municipality")
    provider_kind = django_filters.CharFilter(method="filter_provider_kind")
    source = django_filters.CharFilter(method="filter_source")
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Organization
        fields: list[str] = []

    def filter_municipality(self, queryset: QuerySet[Organization], name: str, value: str):
        code = municipality_code(name, value)
        providers = services_in_municipality(municipality_code=code).values("organization_id")
        return queryset.filter(Q(municipality_code=code) | Q(pk__in=providers))

    def filter_provider_kind(self, queryset: QuerySet[Organization], name: str, value: str):
        return queryset.filter(provider_kind_query(value))

    def filter_source(self, queryset: QuerySet[Organization], name: str, value: str):
        return queryset.filter(source=enabled_source(name, value))

    def filter_search(self, queryset: QuerySet[Organization], name: str, value: str):
        return queryset.filter(text_search_query(value, "name"))


class AreaFilterSet(django_filters.FilterSet):
    kind = django_filters.CharFilter(method="filter_kind")
    parent = django_filters.CharFilter(method="filter_parent")

    class Meta:
        model = Area
        fields: list[str] = []

    def filter_kind(self, queryset: QuerySet[Area], name: str, value: str):
        if value not in Area.Kind.values:
            raise invalid(
                name,
                f"{value!r} is not one of {', '.join(Area.Kind.values)}.",
                allowed_values={name: list(Area.Kind.values)},
            )
        return queryset.filter(kind=value)

    def filter_parent(self, queryset: QuerySet[Area], name: str, value: str):
        return queryset.filter(parent__code=county_code(name, value))


def ordered_by_name(queryset: QuerySet, languages: tuple[str, ...]) -> QuerySet:
    """Alphabetical in the served language (its fallbacks next), then by id."""
    # The same expression as Service's name indexes (federation.models.name_sort_key).
    return queryset.alias(sort_name=name_sort_key(languages)).order_by("sort_name", "pk")

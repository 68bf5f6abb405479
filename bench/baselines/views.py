"""Baseline endpoints: a plain DRF service list and a Django "hello"."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.viewsets import ReadOnlyModelViewSet

from federation.models import Area, Organization, RecordStatus, Service, ServiceArea, ServiceCode


def hello(request: HttpRequest) -> HttpResponse:
    """The framework ceiling: the full middleware stack, no database, no cache."""
    return HttpResponse(b"hello", content_type="text/plain")


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name"]


class ServiceSerializer(serializers.ModelSerializer):
    organization = OrganizationSerializer(read_only=True)

    class Meta:
        model = Service
        fields = [
            "id",
            "origin_id",
            "name",
            "summary",
            "languages",
            "target_groups",
            "service_classes",
            "nationwide",
            "municipality_codes",
            "county_codes",
            "origin_url",
            "organization",
        ]


class ServiceFilterSet(django_filters.FilterSet):
    """Same meaning as the Pesä filters: offered in the municipality (its own, its
    county's or nationwide), in the language, for the audience or a narrower one."""

    municipality = django_filters.CharFilter(method="filter_municipality")
    lang = django_filters.CharFilter(method="filter_language")
    audience = django_filters.CharFilter(method="filter_audience")

    class Meta:
        model = Service
        fields: list[str] = []

    def filter_municipality(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        codes = [value, ServiceArea.NATIONWIDE]
        county = Area.objects.filter(code=value).values_list("parent__code", flat=True).first()
        if county:
            codes.append(county)
        areas = ServiceArea.objects.filter(service=OuterRef("pk"), code__in=codes)
        return queryset.filter(Exists(areas))

    def filter_language(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(languages__contains=[value])

    def filter_audience(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        codes = ServiceCode.objects.filter(
            Q(code=value) | Q(code__startswith=f"{value}."),
            service=OuterRef("pk"),
            scheme=ServiceCode.Scheme.TARGET_GROUP,
        )
        return queryset.filter(Exists(codes))


class ServicePagination(PageNumberPagination):
    page_size = 20


class ServiceViewSet(ReadOnlyModelViewSet):
    """What a plain DRF service list looks like: no cache, no throttle, stock JSON."""

    serializer_class = ServiceSerializer
    filterset_class = ServiceFilterSet
    pagination_class = ServicePagination
    renderer_classes = [JSONRenderer]
    throttle_classes: list = []

    def get_queryset(self) -> QuerySet[Service]:
        return (
            Service.objects.filter(status=RecordStatus.ACTIVE, source__enabled=True)
            .select_related("organization")
            .order_by("pk")
        )

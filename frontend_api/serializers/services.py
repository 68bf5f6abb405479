"""Output serializers of the federation endpoints: one language per response.

Multilingual texts are resolved with `request.language_choice`, which records any fallback
for `meta.fallback` and the language headers. The view passes `area_names` ({code: names})
in the context, fetched once per page.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from cms.public_url import public_url
from federation.models import Area, Channel, FederatedRecord, Organization, Service, Source
from frontend_api.language import LanguageChoice

PROVIDER_KIND_BY_SOURCE_KIND = {
    Source.Kind.MUNICIPALITY: "public",
    Source.Kind.WELLBEING_SERVICES_COUNTY: "public",
    Source.Kind.NATIONAL: "public",
    Source.Kind.NGO: "ngo",
    Source.Kind.PARISH: "parish",
}


def pick_text(choice: LanguageChoice, texts: Any) -> str | None:
    """The text in the served language, its fallbacks, else any language the record has."""
    if type(texts) is not dict:  # JSON gives dicts; the ABC check is 10× slower
        if isinstance(texts, str):
            return texts or None
        if not isinstance(texts, Mapping):
            return None
    # `choice.text(texts)` inlined: a list page calls this ~500 times (1.2 µs, not 4).
    for lang in choice.chain:
        value = texts.get(lang)
        if value:
            choice.served.add(lang)
            return value
    for lang, value in texts.items():
        if value:
            choice.served.add(lang)
            return value
    return None


def provider_kind(record: Service | Organization) -> str:
    organization = record if isinstance(record, Organization) else record.organization
    if organization is not None and organization.provider_kind:
        return organization.provider_kind
    return PROVIDER_KIND_BY_SOURCE_KIND.get(record.source.kind, "other")


class LocalizedSerializer(serializers.Serializer):
    def choice(self) -> LanguageChoice:
        return self.context["request"].language_choice

    def text(self, texts: Any) -> str | None:
        return pick_text(self.choice(), texts)


# ---------------------------------------------------------------------------
# Nested shapes (also the OpenAPI schema of the method fields)
# ---------------------------------------------------------------------------
class AreaRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(allow_null=True)


class ServiceAreasSerializer(serializers.Serializer):
    nationwide = serializers.BooleanField()
    municipalities = AreaRefSerializer(many=True)
    counties = AreaRefSerializer(many=True)


class ProviderSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Null when the feed names none.")
    name = serializers.CharField(allow_null=True)
    kind = serializers.ChoiceField(choices=["public", "ngo", "parish", "company", "other"])


class SourceRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class ProvenanceSerializer(serializers.Serializer):
    source = SourceRefSerializer()
    source_kind = serializers.ChoiceField(choices=Source.Kind.values)
    trust_tier = serializers.ChoiceField(choices=Source.TrustTier.values)
    origin_id = serializers.CharField()
    last_synced = serializers.DateTimeField()
    original_url = serializers.CharField(allow_null=True)


def provenance(record: FederatedRecord) -> dict[str, Any]:
    source = record.source
    return {
        "source": {"slug": source.slug, "name": source.name},
        "source_kind": source.kind,
        "trust_tier": source.trust_tier,
        "origin_id": record.origin_id,
        "last_synced": serializers.DateTimeField().to_representation(record.synced_at),
        "original_url": record.origin_url or None,
    }


class PhoneSerializer(serializers.Serializer):
    number = serializers.CharField()
    label = serializers.CharField(allow_null=True)
    charge = serializers.CharField(allow_null=True, help_text="PTV charge type, e.g. Chargeable.")
    language = serializers.CharField(allow_null=True)


class WebUrlSerializer(serializers.Serializer):
    url = serializers.CharField()
    label = serializers.CharField(allow_null=True)
    language = serializers.CharField(allow_null=True)


class AddressSerializer(serializers.Serializer):
    street = serializers.CharField(allow_null=True)
    street_number = serializers.CharField(allow_null=True)
    postal_code = serializers.CharField(allow_null=True)
    post_office = serializers.CharField(allow_null=True)
    municipality_code = serializers.CharField(allow_null=True)
    latitude = serializers.FloatField(allow_null=True, help_text="WGS84")
    longitude = serializers.FloatField(allow_null=True, help_text="WGS84")


class OpeningHoursSerializer(serializers.Serializer):
    kind = serializers.CharField(allow_null=True, help_text="regular, exceptional, holiday, 24/7")
    weekday = serializers.IntegerField(allow_null=True, help_text="0 = Monday … 6 = Sunday")
    opens = serializers.CharField(allow_null=True, help_text="08:00")
    closes = serializers.CharField(allow_null=True, help_text="16:00")
    valid_from = serializers.CharField(allow_null=True, help_text="ISO date")
    valid_to = serializers.CharField(allow_null=True, help_text="ISO date")
    closed = serializers.BooleanField()
    note = serializers.CharField(allow_null=True)


def _string(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _number(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _dicts(values: Any) -> list[Mapping[str, Any]]:
    # `type(…) is dict` first: JSON gives dicts, and the Mapping ABC check is 10× slower.
    return [value for value in values or [] if type(value) is dict or isinstance(value, Mapping)]


def _strings(values: Any) -> list[str]:
    """What `ListField(child=CharField())` renders."""
    return [str(value) for value in values or []]


def channel_item(
    choice: LanguageChoice,
    *,
    pk: int,
    kind: str,
    name: Any,
    phones: Any,
    urls: Any,
    emails: Any,
    addresses: Any,
    opening_hours: Any,
    languages: Any,
) -> dict[str, Any]:
    """A channel as the API shows it, from its stored values (a model's or a list row's)."""
    return {
        "id": int(pk),
        "kind": str(kind),
        "name": pick_text(choice, name),
        "phones": channel_phones(choice, phones),
        "web_urls": channel_web_urls(choice, urls),
        "emails": [str(email) for email in emails or [] if email],
        "addresses": channel_addresses(choice, addresses),
        "opening_hours": channel_opening_hours(choice, opening_hours),
        "languages": _strings(languages),
    }


def channel_phones(choice: LanguageChoice, phones: Any) -> list[dict[str, Any]]:
    return [
        {
            "number": str(phone["number"]),
            "label": pick_text(choice, phone.get("label")),
            "charge": _string(phone.get("charge")),
            "language": _string(phone.get("language")),
        }
        for phone in _dicts(phones)
        if phone.get("number")
    ]


def channel_web_urls(choice: LanguageChoice, urls: Any) -> list[dict[str, Any]]:
    return [
        {
            "url": str(url["url"]),
            "label": pick_text(choice, url.get("label")),
            "language": _string(url.get("language")),
        }
        for url in _dicts(urls)
        if url.get("url")
    ]


def channel_addresses(choice: LanguageChoice, addresses: Any) -> list[dict[str, Any]]:
    return [
        {
            "street": pick_text(choice, address.get("street")),
            "street_number": _string(address.get("street_number")),
            "postal_code": _string(address.get("postal_code")),
            "post_office": pick_text(choice, address.get("post_office")),
            "municipality_code": _string(address.get("municipality_code")),
            "latitude": _number(address.get("latitude")),
            "longitude": _number(address.get("longitude")),
        }
        for address in _dicts(addresses)
    ]


def channel_opening_hours(choice: LanguageChoice, opening_hours: Any) -> list[dict[str, Any]]:
    return [
        {
            "kind": _string(hours.get("kind")),
            "weekday": hours["weekday"] if isinstance(hours.get("weekday"), int) else None,
            "opens": _string(hours.get("opens")),
            "closes": _string(hours.get("closes")),
            "valid_from": _string(hours.get("valid_from")),
            "valid_to": _string(hours.get("valid_to")),
            "closed": bool(hours.get("closed")),
            "note": pick_text(choice, hours.get("note")),
        }
        for hours in _dicts(opening_hours)
    ]


class ChannelSerializer(LocalizedSerializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="location, phone, web, email, electronic, form")
    name = serializers.SerializerMethodField()
    phones = serializers.SerializerMethodField()
    web_urls = serializers.SerializerMethodField()
    emails = serializers.SerializerMethodField()
    addresses = serializers.SerializerMethodField()
    opening_hours = serializers.SerializerMethodField()
    languages = serializers.ListField(child=serializers.CharField())

    def to_representation(self, channel: Channel) -> dict[str, Any]:
        # Lean path: the declared fields above stay the OpenAPI schema, but rendering builds
        # the dict directly (no per-request deep copy of the fields, no per-field dispatch).
        return channel_item(
            self.choice(),
            pk=channel.pk,
            kind=channel.kind,
            name=channel.name,
            phones=channel.phones,
            urls=channel.urls,
            emails=channel.emails,
            addresses=channel.addresses,
            opening_hours=channel.opening_hours,
            languages=channel.languages,
        )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_name(self, channel: Channel) -> str | None:
        return self.text(channel.name)

    @extend_schema_field(PhoneSerializer(many=True))
    def get_phones(self, channel: Channel) -> list[dict[str, Any]]:
        return channel_phones(self.choice(), channel.phones)

    @extend_schema_field(WebUrlSerializer(many=True))
    def get_web_urls(self, channel: Channel) -> list[dict[str, Any]]:
        return channel_web_urls(self.choice(), channel.urls)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_emails(self, channel: Channel) -> list[str]:
        return [str(email) for email in channel.emails or [] if email]

    @extend_schema_field(AddressSerializer(many=True))
    def get_addresses(self, channel: Channel) -> list[dict[str, Any]]:
        return channel_addresses(self.choice(), channel.addresses)

    @extend_schema_field(OpeningHoursSerializer(many=True))
    def get_opening_hours(self, channel: Channel) -> list[dict[str, Any]]:
        return channel_opening_hours(self.choice(), channel.opening_hours)


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------
def provider_item(
    choice: LanguageChoice,
    *,
    organization_id: int | None,
    organization_name: Any,
    organization_provider_kind: str | None,
    source_kind: str,
) -> dict[str, Any]:
    kind = organization_provider_kind if organization_id is not None else None
    return {
        "id": organization_id,
        "name": pick_text(choice, organization_name) if organization_id is not None else None,
        "kind": kind or PROVIDER_KIND_BY_SOURCE_KIND.get(source_kind, "other"),
    }


def areas_item(choice: LanguageChoice, rows: list[tuple[str, str, Any]]) -> dict[str, Any]:
    """`rows`: (kind, code, area names) of a service, sorted by code."""

    def refs(kind: str) -> list[dict[str, Any]]:
        return [
            {"code": code, "name": pick_text(choice, names)}
            for row_kind, code, names in rows
            if row_kind == kind
        ]

    return {
        "nationwide": any(row_kind == "nationwide" for row_kind, _code, _names in rows),
        "municipalities": refs("municipality"),
        "counties": refs("county"),
    }


def distance_item(distance: float | None) -> float | None:
    return round(distance, 3) if distance is not None else None


_DATETIME = serializers.DateTimeField()


def service_list_item(choice: LanguageChoice, row: Mapping[str, Any]) -> dict[str, Any]:
    """A list item from a row of `federation.selectors.service_list_page` (plain JSON).

    The same dict `ServiceSerializer` gives for the model instance, built without one.
    """
    organization = row["organization"] or {}
    return {
        "id": int(row["id"]),
        "name": pick_text(choice, row["name"]),
        "summary": pick_text(choice, row["summary"]),
        "provider": provider_item(
            choice,
            organization_id=organization.get("id"),
            organization_name=organization.get("name"),
            organization_provider_kind=organization.get("provider_kind"),
            source_kind=row["source_kind"],
        ),
        "areas": areas_item(choice, row["areas"]),
        "channels": [
            channel_item(
                choice,
                pk=channel["id"],
                kind=channel["kind"],
                name=channel["name"],
                phones=channel["phones"],
                urls=channel["urls"],
                emails=channel["emails"],
                addresses=channel["addresses"],
                opening_hours=channel["opening_hours"],
                languages=channel["languages"],
            )
            for channel in row["channels"]
        ],
        "languages": _strings(row["languages"]),
        "target_groups": _strings(row["target_groups"]),
        "life_events": _strings(row["life_events"]),
        "service_classes": _strings(row["service_classes"]),
        "distance_km": distance_item(row.get("distance_km")),
        "provenance": {
            "source": {"slug": row["source_slug"], "name": row["source_name"]},
            "source_kind": row["source_kind"],
            "trust_tier": row["source_trust_tier"],
            "origin_id": row["origin_id"],
            "last_synced": _DATETIME.to_representation(datetime.fromisoformat(row["synced_at"])),
            "original_url": row["origin_url"] or None,
        },
    }


class ServiceSerializer(LocalizedSerializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    provider = serializers.SerializerMethodField()
    areas = serializers.SerializerMethodField()
    channels = ChannelSerializer(many=True)
    languages = serializers.ListField(
        child=serializers.CharField(), help_text="Languages the service is offered in."
    )
    target_groups = serializers.ListField(
        child=serializers.CharField(), help_text="PTV target group codes (KR…)."
    )
    life_events = serializers.ListField(
        child=serializers.CharField(), help_text="PTV life event codes (KE…)."
    )
    service_classes = serializers.ListField(
        child=serializers.CharField(), help_text="PTV service class codes (P…)."
    )
    distance_km = serializers.SerializerMethodField()
    provenance = serializers.SerializerMethodField()

    def to_representation(self, service: Service) -> dict[str, Any]:
        # Lean path, as ChannelSerializer's: the declared fields are the schema only.
        channels = self._channel_serializer()
        return {
            "id": int(service.pk),
            "name": self.get_name(service),
            "summary": self.get_summary(service),
            "provider": self.get_provider(service),
            "areas": self.get_areas(service),
            "channels": [channels.to_representation(channel) for channel in service.channels.all()],
            "languages": _strings(service.languages),
            "target_groups": _strings(service.target_groups),
            "life_events": _strings(service.life_events),
            "service_classes": _strings(service.service_classes),
            "distance_km": self.get_distance_km(service),
            "provenance": self.get_provenance(service),
        }

    def _channel_serializer(self) -> ChannelSerializer:
        # One per page (the list's child is shared by every item), not one per service.
        serializer = getattr(self, "_channels", None)
        if serializer is None:
            serializer = self._channels = ChannelSerializer(context=self.context)
        return serializer

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_name(self, service: Service) -> str | None:
        return self.text(service.name)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_summary(self, service: Service) -> str | None:
        return self.text(service.summary)

    @extend_schema_field(ProviderSerializer)
    def get_provider(self, service: Service) -> dict[str, Any]:
        organization = service.organization
        return provider_item(
            self.choice(),
            organization_id=organization.pk if organization else None,
            organization_name=organization.name if organization else None,
            organization_provider_kind=organization.provider_kind if organization else None,
            source_kind=service.source.kind,
        )

    @extend_schema_field(ServiceAreasSerializer)
    def get_areas(self, service: Service) -> dict[str, Any]:
        names = self.context.get("area_names", {})
        rows = sorted(service.areas.all(), key=lambda row: row.code)
        return areas_item(
            self.choice(), [(row.kind, row.code, names.get(row.code)) for row in rows]
        )

    @extend_schema_field(
        serializers.FloatField(
            allow_null=True, help_text="Km to the nearest channel; only with `near`."
        )
    )
    def get_distance_km(self, service: Service) -> float | None:
        return distance_item(getattr(service, "distance_km", None))

    @extend_schema_field(ProvenanceSerializer)
    def get_provenance(self, service: Service) -> dict[str, Any]:
        return provenance(service)


class ServiceDetailSerializer(ServiceSerializer):
    description = serializers.SerializerMethodField()

    def to_representation(self, service: Service) -> dict[str, Any]:
        return {**super().to_representation(service), "description": self.get_description(service)}

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Sanitized HTML."))
    def get_description(self, service: Service) -> str | None:
        return self.text(service.description)


# ---------------------------------------------------------------------------
# Organizations and areas
# ---------------------------------------------------------------------------
class OrganizationSerializer(LocalizedSerializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()
    provider_kind = serializers.SerializerMethodField()
    business_id = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    email = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    municipality_code = serializers.SerializerMethodField()
    services_count = serializers.IntegerField(help_text="Its public services.")
    services_url = serializers.SerializerMethodField()
    provenance = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_name(self, organization: Organization) -> str | None:
        return self.text(organization.name)

    @extend_schema_field(
        serializers.ChoiceField(choices=["public", "ngo", "parish", "company", "other"])
    )
    def get_provider_kind(self, organization: Organization) -> str:
        return provider_kind(organization)

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Y-tunnus"))
    def get_business_id(self, organization: Organization) -> str | None:
        return organization.business_id or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_url(self, organization: Organization) -> str | None:
        return organization.url or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_email(self, organization: Organization) -> str | None:
        return organization.email or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_phone(self, organization: Organization) -> str | None:
        return organization.phone or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_municipality_code(self, organization: Organization) -> str | None:
        return organization.municipality_code or None

    @extend_schema_field(OpenApiTypes.URI)
    def get_services_url(self, organization: Organization) -> str:
        url = public_url(reverse("service-list"))
        return f"{url}?organization={organization.pk}"

    @extend_schema_field(ProvenanceSerializer)
    def get_provenance(self, organization: Organization) -> dict[str, Any]:
        return provenance(organization)


class OrganizationDetailSerializer(OrganizationSerializer):
    description = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Sanitized HTML."))
    def get_description(self, organization: Organization) -> str | None:
        return self.text(organization.description)


class AreaNamesSerializer(serializers.Serializer):
    fi = serializers.CharField(allow_null=True)
    sv = serializers.CharField(allow_null=True)
    en = serializers.CharField(allow_null=True)


class AreaSerializer(LocalizedSerializer):
    code = serializers.CharField()
    kind = serializers.ChoiceField(choices=Area.Kind.values)
    name = serializers.SerializerMethodField()
    names = serializers.SerializerMethodField()
    parent = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_name(self, area: Area) -> str | None:
        return self.text(area.name)

    @extend_schema_field(AreaNamesSerializer)
    def get_names(self, area: Area) -> dict[str, str | None]:
        names = area.name or {}
        return {lang: names.get(lang) or None for lang in ("fi", "sv", "en")}

    @extend_schema_field(
        serializers.CharField(allow_null=True, help_text="Code of the county-level area.")
    )
    def get_parent(self, area: Area) -> str | None:
        return area.parent.code if area.parent_id else None

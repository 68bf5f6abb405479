"""Builders for the federation API tests: services as the sync engine leaves them.

Factories write the record rows; these add what the sync engine derives from them (area
and code rows, service–channel links), so the API sees exactly what a sync would give.
"""

from __future__ import annotations

from typing import Any

from django.forms.models import model_to_dict

from federation.models import Channel, Service, ServiceChannel
from federation.sync.children import replace_service_children
from tests.factories.federation import ChannelFactory, OrganizationFactory, ServiceFactory

# Real places: Helsinki railway station, Espoo (Tapiola), Vantaa (Tikkurila).
HELSINKI = (60.1719, 24.9414)
TAPIOLA = (60.1756, 24.8050)
TIKKURILA = (60.2925, 25.0440)


def make_channel(*, source: Any, point: tuple[float, float] | None = HELSINKI, **fields: Any):
    latitude, longitude = point if point else (None, None)
    defaults: dict[str, Any] = {
        "kind": Channel.Kind.LOCATION,
        "name": {"fi": "Toimipiste", "sv": "Verksamhetsställe"},
        "phones": [{"number": "+358 9 310 5015", "label": "Ajanvaraus", "charge": "free"}],
        "emails": ["neuvola@example.fi"],
        "urls": [{"url": "https://www.example.fi/neuvola", "language": "fi"}],
        "addresses": [
            {
                "street": {"fi": "Kaivokatu", "sv": "Brunnsgatan"},
                "street_number": "1",
                "postal_code": "00100",
                "post_office": {"fi": "HELSINKI", "sv": "HELSINGFORS"},
                "municipality_code": "091",
                "latitude": latitude,
                "longitude": longitude,
            }
        ],
        "opening_hours": [
            {"kind": "regular", "weekday": 0, "opens": "08:00", "closes": "16:00", "closed": False}
        ],
        "languages": ["fi", "sv"],
        "latitude": latitude,
        "longitude": longitude,
    }
    defaults.update(fields)
    return ChannelFactory(source=source, **defaults)


def make_service(
    *,
    source: Any = None,
    organization: Any = None,
    municipalities: tuple[str, ...] = (),
    counties: tuple[str, ...] = (),
    nationwide: bool = False,
    target_groups: tuple[str, ...] = (),
    life_events: tuple[str, ...] = (),
    service_classes: tuple[str, ...] = (),
    channels: tuple[Any, ...] = (),
    **fields: Any,
) -> Service:
    if organization is None:
        organization = OrganizationFactory(**({"source": source} if source else {}))
    source = source or organization.source
    fields.setdefault("languages", ["fi"])
    service = ServiceFactory(
        source=source,
        organization=organization,
        nationwide=nationwide,
        municipality_codes=list(municipalities),
        county_codes=list(counties),
        target_groups=list(target_groups),
        life_events=list(life_events),
        service_classes=list(service_classes),
        **fields,
    )
    replace_service_children(created=[(service.pk, model_to_dict(service))], rewritten=[])
    ServiceChannel.objects.bulk_create(
        [ServiceChannel(service=service, channel=channel) for channel in channels]
    )
    return service

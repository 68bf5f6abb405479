from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from federation.models import ServiceArea, ServiceChannel
from federation.selectors import (
    public_organizations,
    public_services,
    services_in_county,
    services_in_municipality,
    sources_due_for_sync,
    with_service_relations,
)
from tests.factories.federation import (
    ChannelFactory,
    OrganizationFactory,
    ServiceFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


def test_withdrawn_and_inactive_services_are_not_public():
    active = ServiceFactory()
    ServiceFactory(status="withdrawn")
    ServiceFactory(status="inactive")

    assert list(public_services()) == [active]


def test_services_of_a_disabled_source_are_not_public():
    ServiceFactory(source=SourceFactory(enabled=False))
    OrganizationFactory(source=SourceFactory(enabled=False))

    assert not public_services().exists()
    assert not public_organizations().exists()


def test_services_in_a_municipality_include_its_county_and_nationwide_ones():
    local, county, nationwide, elsewhere = (
        ServiceFactory(),
        ServiceFactory(),
        ServiceFactory(),
        ServiceFactory(),
    )
    ServiceArea.objects.create(service=local, kind="municipality", code="049")
    ServiceArea.objects.create(service=county, kind="county", code="03")
    ServiceArea.objects.create(service=nationwide, kind="nationwide", code="*")
    ServiceArea.objects.create(service=elsewhere, kind="municipality", code="091")

    assert set(services_in_municipality(municipality_code="049")) == {local, county, nationwide}
    assert set(services_in_county(county_code="03")) == {local, county, nationwide}


def test_a_service_list_page_with_relations_takes_a_fixed_number_of_queries():
    source = SourceFactory()
    for _ in range(5):
        service = ServiceFactory(source=source, organization=OrganizationFactory(source=source))
        ServiceChannel.objects.create(service=service, channel=ChannelFactory(source=source))
    ChannelFactory(source=source, status="withdrawn")

    with CaptureQueriesContext(connection) as queries:
        services = list(with_service_relations(public_services()))
        [
            (s.organization, list(s.channels.all()), list(s.areas.all()), list(s.codes.all()))
            for s in services
        ]

    assert len(services) == 5
    assert len(queries) == 4


def test_sources_due_for_sync_are_enabled_pull_sources_whose_time_has_come():
    now = timezone.now()
    never_run = SourceFactory()
    due = SourceFactory(
        next_sync_at=now - timedelta(minutes=1),
        next_full_sync_at=now + timedelta(hours=1),
        watermark="x",
    )
    SourceFactory(next_sync_at=now + timedelta(minutes=5))
    SourceFactory(enabled=False)
    SourceFactory(url="")
    SourceFactory(incremental_interval_minutes=0, full_sync_interval_hours=0)

    found = {source.pk: source.full_due for source in sources_due_for_sync(now=now)}

    assert found == {never_run.pk: True, due.pk: False}

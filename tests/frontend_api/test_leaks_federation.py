"""Withdrawn and inactive records, and everything of a disabled source, never leak."""

import pytest
from django.db import transaction
from federation_api_data import make_service

from federation.models import RecordStatus, Source
from federation.signals import records_changed
from tests.factories.federation import OrganizationFactory, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hidden():
    """A withdrawn service, an inactive one, and a service + organization of a disabled feed."""
    source = SourceFactory()
    disabled = SourceFactory(slug="disabled-feed")
    records = {
        "withdrawn": make_service(
            source=source, status=RecordStatus.WITHDRAWN, municipalities=("091",)
        ),
        "inactive": make_service(source=source, status=RecordStatus.INACTIVE, nationwide=True),
        "disabled": make_service(
            source=disabled,
            organization=OrganizationFactory(source=disabled),
            municipalities=("091",),
        ),
    }
    with transaction.atomic():
        records_changed.send(
            sender=Source,
            source=source,
            run=None,
            changes={
                "service": {"upserted": [s.pk for s in records.values()], "withdrawn": []},
                "organization": {
                    "upserted": [records["disabled"].organization_id],
                    "withdrawn": [],
                },
            },
        )
    Source.objects.filter(pk=disabled.pk).update(enabled=False)  # no signal: read-time rule only
    return records


@pytest.mark.parametrize(
    "params", [{}, {"municipality": "091"}, {"search": "Nimi"}, {"near": "60.17,24.94"}]
)
def test_hidden_services_are_not_listed(client, hidden, params):
    response = client.get("/api/v1/services/", params)

    assert response.status_code == 200
    assert response.json()["results"] == []
    assert response.json()["count"] == 0


def test_hidden_services_have_no_detail(client, hidden):
    for service in hidden.values():
        assert client.get(f"/api/v1/services/{service.pk}/").status_code == 404


def test_hidden_organizations_are_not_listed_or_counted(client, hidden):
    organization = hidden["disabled"].organization
    visible = hidden["withdrawn"].organization

    listed = client.get("/api/v1/organizations/").json()["results"]

    assert organization.pk not in {item["id"] for item in listed}
    assert client.get(f"/api/v1/organizations/{organization.pk}/").status_code == 404
    assert {item["id"]: item["services_count"] for item in listed}[visible.pk] == 0


def test_hidden_records_are_never_upserts_in_the_change_feed(client, hidden):
    results = client.get("/api/v1/changes/").json()["results"]

    assert len(results) == 4
    assert {item["action"] for item in results} == {"delete"}
    assert {item["url"] for item in results} == {None}


def test_disabled_source_is_not_a_known_filter_value(client, hidden):
    assert client.get("/api/v1/services/", {"source": "disabled-feed"}).status_code == 400

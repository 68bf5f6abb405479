"""Property-based contract test: every public GET operation of the OpenAPI schema, called in
process against a small seeded database, never answers 5xx and always matches its schema."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from federation_api_data import TAPIOLA, make_channel, make_service
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cms.wsgi import application
from tests.factories.cms import ArticlePageFactory, LifeSituationFactory, TopicPageFactory
from tests.factories.federation import OrganizationFactory, SourceFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def in_test_transaction():
    """Django's WSGI handler closes the connection after each request; the test client
    does not, and neither may these calls: the seeded data lives in the test transaction."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def seeded(home_page, settings, in_test_transaction):
    """A few services, organizations, articles and the real areas; no throttling."""
    settings.PESA_API_THROTTLE_RATE = None
    source = SourceFactory(slug="ptv-helsinki")
    organization = OrganizationFactory(source=source, provider_kind="public")
    make_service(
        source=source,
        organization=organization,
        municipalities=("091",),
        target_groups=("KR1.2",),
        life_events=("KE1",),
        service_classes=("P3.1",),
        languages=["fi", "sv"],
        channels=(make_channel(source=source),),
    )
    make_service(
        source=source, counties=("03",), channels=(make_channel(source=source, point=TAPIOLA),)
    )
    make_service(source=SourceFactory(kind="ngo"), nationwide=True, name={"sv": "Bara svenska"})
    LifeSituationFactory(code="pregnancy", life_event_code="KE1")
    topic = TopicPageFactory(parent=home_page)
    article = ArticlePageFactory(parent=topic, live=False)
    article.save_revision().publish()


schema = (
    schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    .include(method="GET")
    .exclude(path_regex=r"^/api/v1/(schema|docs)/")
)


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_api_honours_its_schema(case, seeded):
    case.call_and_validate(checks=CHECKS)

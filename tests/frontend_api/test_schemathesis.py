"""Schemathesis against the live schema, in process, with every check it has.

Every operation (the push endpoint included), every phase that needs no links between
operations (examples, coverage, fuzzing), positive and negative data: a request the schema
allows is accepted, one it forbids is refused with a 4xx, no answer is a 5xx, and every
answer matches its documented status, content type, headers and body. Throttling is off;
Hypothesis is derandomized and bounded so the run stays within a few CI minutes.

The schema's custom formats (frontend_api/schema.py) name value lists that live in the
database (municipality codes, sources, change-log cursors); the strategies below draw
from rows that exist here, as a frontend draws from /api/v1/areas/.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from federation_api_data import TAPIOLA, make_channel, make_service
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS, load_all_checks

from cms.wsgi import application
from frontend_api.views.changes import encode_cursor
from tests.factories.cms import ArticlePageFactory, LifeSituationFactory, TopicPageFactory
from tests.factories.federation import OrganizationFactory, SourceFactory

SOURCES = ("ptv-helsinki", "ngo-feed")


# Reference rows that migrations load (areas, postal codes), a sample of each.
MUNICIPALITIES = ("091", "049", "092", "853", "564", "837")
COUNTIES = ("01", "03", "06", "21", "90", "91")
POSTAL_CODES = ("00100", "02100", "20100", "33100")

schemathesis.openapi.format("pesa-municipality", st.sampled_from(MUNICIPALITIES))
schemathesis.openapi.format("pesa-county", st.sampled_from(COUNTIES))
schemathesis.openapi.format("pesa-postal-code", st.sampled_from(POSTAL_CODES))
schemathesis.openapi.format("pesa-source", st.sampled_from(SOURCES))
schemathesis.openapi.format("pesa-cursor", st.integers(0, 10**12).map(encode_cursor))


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
    source = SourceFactory(slug=SOURCES[0])
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
    make_service(
        source=SourceFactory(kind="ngo", slug=SOURCES[1]),
        nationwide=True,
        name={"sv": "Bara svenska"},
    )
    LifeSituationFactory(code="pregnancy", life_event_code="KE1")
    topic = TopicPageFactory(parent=home_page)
    article = ArticlePageFactory(parent=topic, live=False)
    article.save_revision().publish()


# What the CLI's `--checks all` runs: every check Schemathesis registers, named so that
# a default that leaves one out cannot pass unseen.
load_all_checks()
EVERY_CHECK = CHECKS.get_all()


schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application).exclude(
    path_regex=r"^/api/v1/(schema|docs)/"
)


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_api_honours_its_schema_under_every_check(case, seeded):
    case.call_and_validate(checks=EVERY_CHECK)


def test_the_schema_run_uses_every_check_schemathesis_has():
    names = {check.__name__ for check in EVERY_CHECK}

    assert {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
        "ignored_auth",
    } <= names

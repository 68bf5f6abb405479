"""Property: whatever a client sends — header values, path segments under /api/v1/, query
parameters of every operation, pushes with any token, content type and body — the API
answers below 500, and every 4xx is a problem+json with type, title, status and detail.

Complements test_schemathesis.py, which stays inside what the schema describes; this
goes outside it (forged proxy headers, garbage paths, unknown methods). Derandomized and
bounded for CI; throttling is off.
"""

import json
from urllib.parse import quote

import pytest
from django.test import Client
from federation_api_data import make_service
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from federation.services import issue_push_token
from tests.factories.federation import OrganizationFactory, SourceFactory

pytestmark = pytest.mark.django_db

GET_OPERATIONS = {
    "/api/v1/articles/": (
        "page",
        "page_size",
        "search",
        "topic",
        "audience",
        "life_situation",
        "updated_since",
    ),
    "/api/v1/articles/by-path/": ("path",),
    "/api/v1/articles/1/": (),
    "/api/v1/services/": (
        "page",
        "page_size",
        "municipality",
        "county",
        "postal_code",
        "near",
        "radius_km",
        "language",
        "audience",
        "life_situation",
        "service_class",
        "organization",
        "source",
        "provider_kind",
        "search",
    ),
    "/api/v1/services/1/": (),
    "/api/v1/organizations/": (
        "page",
        "page_size",
        "municipality",
        "provider_kind",
        "source",
        "search",
    ),
    "/api/v1/organizations/1/": (),
    "/api/v1/areas/": ("page", "page_size", "kind", "parent"),
    "/api/v1/areas/091/": (),
    "/api/v1/topics/": ("page", "page_size"),
    "/api/v1/vocabularies/target-groups/": ("page", "page_size"),
    "/api/v1/vocabularies/life-situations/": ("page", "page_size"),
    "/api/v1/search/": ("q", "kind", "municipality", "page", "page_size"),
    "/api/v1/changes/": ("since", "kind", "page_size"),
    "/api/v1/preview/": ("token",),
    "/api/v1/schema/": ("format", "lang"),
    "/api/v1/": (),
}
HEADERS = (
    "Host",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Forwarded-For",
    "X-Forwarded-Port",
    "Accept",
    "Accept-Language",
    "Accept-Encoding",
    "If-None-Match",
    "If-Modified-Since",
    "Authorization",
    "Origin",
    "Cookie",
    "Range",
)
SOURCE = "fuzz-feed"

# Anything a client might put in a value: digits and huge numbers, words, unicode,
# control characters (NUL included), separators, very long strings.
values = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(
        [
            "",
            " ",
            "last",
            "nan",
            "inf",
            "-0",
            "1e400",
            "091",
            "KR1.2",
            "c1:1",
            "60.17,24.94",
            "*",
            "%",
            "..",
            "../..",
            "\\",
            "'\"",
            "<script>",
        ]
    ),
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40),
    st.text(min_size=900, max_size=1200, alphabet="ab\x00é,"),
)
header_values = st.text(
    alphabet=st.characters(max_codepoint=0xFF, exclude_characters="\r\n"), max_size=60
)


def assert_answered(response, method="GET"):
    assert response.status_code < 500, response.content[:500]
    if 400 <= response.status_code < 500:
        assert response["Content-Type"] == "application/problem+json", response.content[:300]
        if method == "HEAD":  # no body, by definition
            return
        body = json.loads(response.content)
        assert {"type", "title", "status", "detail"} <= set(body)
        assert body["status"] == response.status_code


@pytest.fixture
def world(settings):
    settings.PESA_API_THROTTLE_RATE = None
    settings.ALLOWED_HOSTS = ["*"]  # the demo's setting: any Host reaches the views
    settings.USE_X_FORWARDED_HOST = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    source = SourceFactory(slug=SOURCE)
    make_service(
        source=source, organization=OrganizationFactory(source=source), municipalities=("091",)
    )
    return {"token": issue_push_token(source=source)}


FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@FUZZ
@given(
    operation=st.sampled_from(sorted(GET_OPERATIONS)),
    data=st.data(),
    headers=st.dictionaries(st.sampled_from(HEADERS), header_values, max_size=4),
    method=st.sampled_from(["GET", "GET", "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]),
)
def test_any_query_and_headers_on_any_operation_answer_below_500(
    world, operation, data, headers, method
):
    names = GET_OPERATIONS[operation]
    params = data.draw(
        st.dictionaries(
            st.one_of(st.sampled_from((*names, "lang")), st.text(max_size=10))
            if names
            else st.sampled_from(["lang", "page", "x"]),
            values,
            max_size=4,
        )
    )
    query = "&".join(
        f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in params.items()
    )

    response = Client(raise_request_exception=False).generic(
        method, f"{operation}?{query}", headers=headers
    )

    assert_answered(response, method)


@FUZZ
@given(
    segments=st.lists(
        st.one_of(
            st.text(max_size=20),
            st.sampled_from(
                ["articles", "services", "areas", "sources", SOURCE, "feed", "1", "by-path", "%"]
            ),
        ),
        min_size=1,
        max_size=4,
    ),
    slash=st.booleans(),
    method=st.sampled_from(["GET", "POST", "TRACE", "DELETE", "PATCH"]),
)
def test_any_path_under_the_api_answers_below_500(world, settings, segments, slash, method):
    settings.DEBUG = True  # Django's own HTML pages would answer here if anything did
    path = "/api/v1/" + "/".join(quote(segment, safe="") for segment in segments)

    response = Client(raise_request_exception=False).generic(method, path + ("/" if slash else ""))

    assert_answered(response)


@FUZZ
@given(
    token=st.one_of(st.just("valid"), st.text(max_size=60)),
    scheme=st.sampled_from(["Bearer ", "bearer ", "Basic ", "", "Bearer  "]),
    content_type=st.one_of(
        st.sampled_from(
            [
                "application/json",
                "application/hsds+json",
                "application/json; charset=utf-8",
                "text/plain",
                "multipart/form-data; boundary=x",
                "",
            ]
        ),
        st.text(max_size=30),
    ),
    body=st.one_of(
        st.binary(max_size=200),
        st.sampled_from(
            [
                b"{}",
                b"[]",
                b'{"services": []}',
                b'{"id": "a", "id": "b"}',
                b"null",
                b'{"services": [{"id": "\\u0000"}]}',
                b"\xef\xbb\xbf{}",
            ]
        ),
    ),
    slug=st.one_of(st.just(SOURCE), st.text(alphabet="abc-_1", min_size=1, max_size=10)),
)
def test_any_push_answers_below_500(world, token, scheme, content_type, body, slug):
    token = world["token"] if token == "valid" else token
    client = Client(raise_request_exception=False)

    response = client.generic(
        "POST",
        f"/api/v1/sources/{slug}/feed",
        data=body,
        content_type=content_type,
        headers={"Authorization": f"{scheme}{token}"},
    )

    assert_answered(response)

"""`/api/v1/changes`: one delta feed over articles, services and organizations.

A mirror reads from the beginning (no `since`), applies each event in order and keeps
`meta.cursor`; polling with `since=<cursor>` later returns only what changed since,
deletions included. Whether an item is public is decided now, with the public selectors:
an upsert of something that is not public any more is reported as a delete.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import OrderedDict, defaultdict
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from cms.public_url import public_request_url, public_url
from cms.selectors import live_articles
from federation.selectors import public_organizations, public_services
from frontend_api.base import PublicAPIView
from frontend_api.models import ChangeEvent
from frontend_api.pagination import _positive_int, api_meta
from frontend_api.problems import InvalidQueryParameters

CURSOR_PREFIX = "c1:"
CURSOR_PATTERN = re.compile(r"^c1:([0-9]{1,18})$")
DEFAULT_PAGE_SIZE = 100
PUBLIC_IDS = {
    ChangeEvent.Kind.ARTICLE: live_articles,
    ChangeEvent.Kind.SERVICE: public_services,
    ChangeEvent.Kind.ORGANIZATION: public_organizations,
}
DETAIL_ROUTES = {
    ChangeEvent.Kind.ARTICLE: "article-detail",
    ChangeEvent.Kind.SERVICE: "service-detail",
    ChangeEvent.Kind.ORGANIZATION: "organization-detail",
}


def encode_cursor(event_id: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{event_id}".encode()).decode().rstrip("=")


def decode_cursor(value: str) -> int:
    """The event id a cursor stands for; a 400 problem naming `since` if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    match = CURSOR_PATTERN.match(raw)
    canonical = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    if not match or canonical != value:
        raise InvalidQueryParameters(
            detail="`since` is not a valid cursor; use `meta.cursor` of an earlier response.",
            errors={"since": ["Invalid cursor."]},
        )
    return int(match.group(1))


class ChangeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChangeEvent.Kind.values)
    id = serializers.IntegerField(help_text="Id of the article, service or organization.")
    action = serializers.ChoiceField(
        choices=ChangeEvent.Action.values,
        help_text="upsert: fetch `url` and store it; delete: drop the item.",
    )
    lang = serializers.CharField(allow_null=True, help_text="Locale of an article; else null.")
    at = serializers.DateTimeField()
    url = serializers.CharField(allow_null=True, help_text="Detail URL of an upsert; else null.")


class ChangesMetaSerializer(serializers.Serializer):
    lang = serializers.CharField()
    fallback = serializers.BooleanField()
    cursor = serializers.CharField(help_text="Pass as `since` to continue after this page.")
    has_more = serializers.BooleanField()
    page_size = serializers.IntegerField()


class ChangesPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        allow_null=True, help_text="Always null: feeds are not counted."
    )
    next = serializers.URLField(allow_null=True, help_text="Null when the feed is caught up.")
    previous = serializers.URLField(allow_null=True, help_text="Always null.")
    results = ChangeSerializer(many=True)
    meta = ChangesMetaSerializer()


class ChangesView(PublicAPIView):
    extra_query_params = ("since", "page_size", "kind")

    @extend_schema(
        summary="Change feed: created, updated and deleted items since a cursor",
        description=(
            "Events in order over articles (one per locale copy), services and organizations. "
            "Start without `since`, then pass `meta.cursor`. `next` is null once caught up: "
            "keep the cursor and poll later. Deleted, unpublished, expired, private and "
            "withdrawn items are `delete` events; drafts never appear. An item may appear "
            "more than once; the last event wins."
        ),
        parameters=[
            OpenApiParameter(
                "since",
                str,
                description="Opaque cursor from `meta.cursor`; omit to start from the beginning.",
                examples=[OpenApiExample("After the first event", value=encode_cursor(1))],
            ),
            OpenApiParameter(
                "page_size",
                int,
                description=f"Events per page, 1–{settings.PESA_API_MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}).",
                examples=[OpenApiExample("Ten", value=10)],
            ),
            OpenApiParameter(
                "kind",
                str,
                description="Only events of these kinds, comma-separated.",
                examples=[
                    OpenApiExample("Services", value="service"),
                    OpenApiExample("Articles and services", value="article,service"),
                ],
            ),
        ],
        responses=ChangesPageSerializer,
    )
    def get(self, request: Request) -> Response:
        after = (
            decode_cursor(request.query_params["since"]) if "since" in request.query_params else 0
        )
        page_size = DEFAULT_PAGE_SIZE
        if "page_size" in request.query_params:
            page_size = _positive_int(
                "page_size",
                request.query_params["page_size"],
                maximum=settings.PESA_API_MAX_PAGE_SIZE,
            )
        events = ChangeEvent.objects.filter(id__gt=after).order_by("id")
        if "kind" in request.query_params:
            events = events.filter(kind__in=self.kinds(request.query_params["kind"]))
        page = list(events[: page_size + 1])
        has_more = len(page) > page_size
        page = page[:page_size]
        cursor = encode_cursor(page[-1].pk) if page else encode_cursor(after)
        results = self.results(request, page)
        meta = api_meta(request)
        meta.update({"cursor": cursor, "has_more": has_more, "page_size": page_size})
        next_url = None
        if has_more:
            next_url = replace_query_param(public_request_url(request), "since", cursor)
        return Response(
            OrderedDict(
                [
                    ("count", None),
                    ("next", next_url),
                    ("previous", None),
                    ("results", results),
                    ("meta", meta),
                ]
            )
        )

    @staticmethod
    def kinds(value: str) -> list[str]:
        kinds = [kind.strip() for kind in value.split(",") if kind.strip()]
        unknown = [kind for kind in kinds if kind not in ChangeEvent.Kind.values]
        if not kinds or unknown:
            raise InvalidQueryParameters(
                detail=f"`kind` must be a comma-separated list of {', '.join(ChangeEvent.Kind.values)}.",
                errors={"kind": [f"Unknown kind {unknown[0]!r}." if unknown else "Empty."]},
                allowed_values={"kind": list(ChangeEvent.Kind.values)},
            )
        return kinds

    def results(self, request: Request, page: list[ChangeEvent]) -> list[dict[str, Any]]:
        ids: dict[str, set[int]] = defaultdict(set)
        for event in page:
            if event.action == ChangeEvent.Action.UPSERT:
                ids[event.kind].add(event.object_id)
        public = {
            kind: set(PUBLIC_IDS[kind]().filter(pk__in=pks).values_list("pk", flat=True))
            for kind, pks in ids.items()
        }
        results = []
        for event in page:
            is_upsert = event.object_id in public.get(event.kind, ())
            results.append(
                {
                    "kind": event.kind,
                    "id": event.object_id,
                    "action": ChangeEvent.Action.UPSERT if is_upsert else ChangeEvent.Action.DELETE,
                    "lang": event.lang or None,
                    "at": serializers.DateTimeField().to_representation(event.at),
                    "url": self.detail_url(request, event) if is_upsert else None,
                }
            )
        return results

    @staticmethod
    def detail_url(request: Request, event: ChangeEvent) -> str | None:
        try:
            path = reverse(DETAIL_ROUTES[event.kind], kwargs={"pk": event.object_id})
        except NoReverseMatch:  # the articles endpoint is not routed (yet)
            return None
        return public_url(path)

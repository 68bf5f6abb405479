"""`/search`: articles and services in one ranked list, with snippets and "did you mean"."""

from __future__ import annotations

from typing import Any

from django.utils.html import escape
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from cms.models import ArticlePage
from cms.selectors import live_articles
from federation.selectors import public_services, services_in_municipality
from frontend_api.base import PublicAPIView
from frontend_api.filters.content import in_language
from frontend_api.filters.services import invalid, municipality_code
from frontend_api.pagination import PesaPagination
from frontend_api.search.analysis import highlight
from frontend_api.search.query import MAX_QUERY_LENGTH, SearchHit, search_index
from frontend_api.serializers.content import api_url, article_url, public_path

KINDS = ("article", "service")


class SearchResultSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="`article` or `service`.")
    id = serializers.IntegerField()
    lang = serializers.CharField(
        help_text="Language of this result (the served one or a fallback)."
    )
    title = serializers.CharField()
    snippet = serializers.CharField(
        help_text="Safe HTML: escaped text around the first match, matches in <mark>."
    )
    score = serializers.FloatField(help_text="Relevance; comparable within one response only.")
    path = serializers.CharField(
        allow_null=True, help_text="Public path of an article; null for a service."
    )
    api_url = serializers.URLField()


class SearchPagination(PesaPagination):
    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        envelope = super().get_paginated_response_schema(schema)
        envelope["properties"]["meta"]["properties"].update(
            {
                "did_you_mean": {
                    "type": "string",
                    "nullable": True,
                    "description": "The query with misspelt words corrected (Finnish), or null.",
                },
                "strategy": {
                    "type": "string",
                    "enum": ["any", "parts", "trigram", "basic", "none"],
                    "description": "How hits were found: any word, compound parts, similar "
                    "titles (trigram), plain matching (not PostgreSQL), or nothing.",
                },
            }
        )
        envelope["properties"]["meta"]["required"] = [
            "lang",
            "fallback",
            "did_you_mean",
            "strategy",
        ]
        return envelope


def safe_snippet(text: str, query: str, lang: str) -> str:
    """`highlight()` output as HTML: everything escaped except our own <mark> tags."""
    marked = highlight(text, query, lang=lang)
    return escape(marked).replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")


@extend_schema(
    summary="Search articles and services",
    description=(
        "Full-text search over public articles and services in the served language: Finnish "
        "through Voikko (base forms and compound parts: `neuvola` finds *lastenneuvola*), "
        "Swedish and English through PostgreSQL's stemmers; items without a version in the "
        "served language are searched in the fallback language. Ranked best first. "
        "`meta.did_you_mean` suggests a spelling when a word looks misspelt, "
        "`meta.strategy` says how the hits were found (any, parts, trigram, basic, none). "
        "At most 200 hits per language are ranked."
    ),
    parameters=[
        OpenApiParameter(
            "q",
            str,
            required=True,
            description="The search words (at most 200 characters).",
            examples=[
                OpenApiExample("Finnish", value="neuvola"),
                OpenApiExample("Misspelt", value="nuevola"),
            ],
        ),
        OpenApiParameter(
            "municipality",
            str,
            description="3-digit municipality code: services offered there (its own, its "
            "county's and nationwide ones). Articles are national and unaffected.",
            examples=[OpenApiExample("Helsinki", value="091")],
        ),
        OpenApiParameter(
            "kind",
            str,
            enum=list(KINDS),
            description="Only articles or only services.",
        ),
    ],
    responses={200: SearchResultSerializer(many=True)},
)
class SearchView(PublicAPIView):
    extra_query_params = ("q", "municipality", "kind")
    pagination_class = SearchPagination

    def is_list_view(self) -> bool:
        return True

    @property
    def paginator(self) -> PesaPagination:
        if not hasattr(self, "_paginator"):
            self._paginator = SearchPagination()
        return self._paginator

    def get(self, request: Any) -> Response:
        params = request.query_params
        if len(params.get("q") or "") > MAX_QUERY_LENGTH:
            raise invalid("q", f"At most {MAX_QUERY_LENGTH} characters.")
        query = (params.get("q") or "").strip()
        if not query:
            raise invalid("q", "Give the words to search for.")
        kind = params.get("kind")
        if kind is not None and kind not in KINDS:
            raise invalid("kind", f"{kind!r} is not one of {', '.join(KINDS)}.")
        services = public_services()
        if params.get("municipality") is not None:
            code = municipality_code("municipality", params["municipality"].strip())
            services = services_in_municipality(municipality_code=code)
        choice = request.language_choice
        results = search_index(
            query=query,
            chain=choice.chain,
            articles=None if kind == "service" else in_language(live_articles(), choice.chain),
            services=None if kind == "article" else services,
        )
        request.api_meta.update(
            {"did_you_mean": results.did_you_mean, "strategy": results.strategy}
        )
        hits = self.paginator.paginate_queryset(results.hits, request, view=self)
        return self.paginator.get_paginated_response(self.items(request, query, hits))

    def items(self, request: Any, query: str, hits: list[SearchHit]) -> list[dict[str, Any]]:
        articles = {
            hit.object_id: {"title": hit.page_title, "url_path": hit.url_path}
            for hit in hits
            if hit.kind == "article" and hit.url_path is not None
        }
        # Where the search did not read them with the hits (not PostgreSQL): one query.
        unread = [hit.object_id for hit in hits if hit.kind == "article" and hit.url_path is None]
        if unread:
            articles |= {
                row["pk"]: row
                for row in ArticlePage.objects.filter(pk__in=unread).values(
                    "pk", "title", "url_path"
                )
            }
        choice = request.language_choice
        items = []
        for hit in hits:
            choice.pick([hit.lang])
            article = articles.get(hit.object_id) if hit.kind == "article" else None
            items.append(
                {
                    "kind": hit.kind,
                    "id": hit.object_id,
                    "lang": hit.lang,
                    "title": article["title"] if article else hit.title,
                    "snippet": safe_snippet(hit.body or hit.title, query, hit.lang),
                    "score": hit.score,
                    "path": public_path(article["url_path"], hit.lang) if article else None,
                    "api_url": article_url(request, hit.object_id)
                    if hit.kind == "article"
                    else api_url(request, "service-detail", hit.object_id),
                }
            )
        return items

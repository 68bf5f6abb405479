"""Content endpoints: articles (list, detail, by-path), topics, vocabularies and preview.

Every read starts from `cms.selectors.live_articles_inline()` / `live_topics()`; a page that
is not public is a 404 wherever it is asked for. An article, or a page of the article list with
its count, is one SQL query (`cms.selectors.article_detail_rows()` / `article_list_rows()`);
items are built from those rows as plain dicts (`frontend_api.serializers.content`), and the
serializers document them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.paginator import Page as PaginatorPage
from django.db import connections
from django.db.models import Count, F, Func, IntegerField, QuerySet, Subquery, Value, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length, Right, Substr
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from cms.compiled_reads import CompiledRead, WithQueries
from cms.exceptions import PreviewTokenExpired, PreviewTokenInvalid
from cms.models import ArticlePage, LifeSituation, TargetGroup, TopicPage
from cms.selectors import (
    article_detail_rows,
    article_list_rows,
    live_articles,
    live_articles_inline,
    live_topics,
    page_for_preview_token,
)
from frontend_api.base import PublicApiMixin, PublicAPIView, PublicReadOnlyViewSet
from frontend_api.filters.content import (
    ArticleFilterSet,
    PesaFilterBackend,
    best_in_language,
    in_language,
)
from frontend_api.language import LANG_PARAM, supported_languages
from frontend_api.pagination import CappedCountPaginator, PesaPagination
from frontend_api.problems import InvalidQueryParameters
from frontend_api.schema import PROBLEM_SCHEMA
from frontend_api.serializers.content import (
    STEP,
    ArticleDetailSerializer,
    ArticleSerializer,
    LifeSituationSerializer,
    TargetGroupSerializer,
    TopicSerializer,
    api_url,
    article_detail_item,
    article_items,
    article_preview,
    public_path,
)

ARTICLE_ORDER = (F("last_published_at").desc(nulls_last=True), "-pk")
PUBLIC_PATH = re.compile(r"^/(?P<lang>[a-z]{2,3})/(?P<topic>[\w-]+)/(?P<article>[\w-]+)/?$")


class CountedCapped(Func):
    """`(SELECT COUNT(*) FROM (<rows> LIMIT cap + 1))`: CappedCountPaginator's count as an
    expression, so it rides along in the query of the page (evaluated once, not per row)."""

    template = "(SELECT COUNT(*) FROM %(expressions)s AS counted)"
    output_field = IntegerField()


PAGE_COUNT = "pagination_count"


def page_with_count(
    queryset: QuerySet, *, offset: int, limit: int, count_limit: int | None
) -> QuerySet:
    """The rows of one page, each carrying the count of all rows (at most `count_limit`).

    The page is picked by `LIMIT … OFFSET …` over pks only, so per-row subqueries of
    `queryset` run for the page's rows, not for every row the offset skips."""
    page_keys = queryset.values("pk")[offset : offset + limit]
    counted = queryset.order_by().values("pk")
    if count_limit is not None:
        counted = counted[:count_limit]
    return queryset.filter(pk__in=Subquery(page_keys)).annotate(
        **{PAGE_COUNT: CountedCapped(Subquery(counted))}
    )


LIST_PAGE = "article_list_page"


def _plain_list_page(
    *, chain: tuple[str, ...], offset: int, limit: int, now: datetime
) -> WithQueries:
    """One pass over the public articles picks the page's ids and counts every row (a
    window count, not capped: one language's articles are an editorial set, not a feed);
    the page's rows are then read by id."""
    if len(chain) > 1 and connections[ArticlePage.objects.db].vendor == "postgresql":
        # With fallbacks, one DISTINCT ON pass (in_language's generic plan probes every row).
        chosen = best_in_language(live_articles_inline(now=now), chain)
    else:
        chosen = in_language(live_articles_inline(now=now), chain)
    articles = chosen.order_by(*ARTICLE_ORDER)
    page = articles.annotate(total=Window(Count("pk"))).values("pk", "total")
    on_page = ArticlePage.objects.filter(
        pk__in=RawSQL(f"SELECT id FROM {LIST_PAGE}", ())  # noqa: S608, S611
    ).order_by(*ARTICLE_ORDER)
    rows = article_list_rows(on_page, now=now).annotate(
        **{PAGE_COUNT: RawSQL(f"SELECT total FROM {LIST_PAGE} LIMIT 1", ())}  # noqa: S608, S611
    )
    return WithQueries(rows, **{LIST_PAGE: (("id", "total"), page[offset : offset + limit])})


def _article_by_id(*, pk: int, now: datetime) -> QuerySet:
    return article_detail_rows(live_articles_inline(now=now).filter(pk=pk), now=now)[:1]


def _article_by_path(*, lang: str, suffix: str, now: datetime) -> QuerySet:
    # The suffix is compared whole (not as a LIKE pattern) so it stays one SQL parameter.
    articles = (
        live_articles_inline(now=now)
        .alias(url_path_end=Right("url_path", Length(Value(suffix))))
        .filter(locale__language_code=lang, depth=4, url_path_end=Value(suffix))
    )
    return article_detail_rows(articles, now=now)[:1]


PLAIN_LIST_PAGE = CompiledRead(_plain_list_page)
ARTICLE_BY_ID = CompiledRead(_article_by_id)
ARTICLE_BY_PATH = CompiledRead(_article_by_path)


class PlainListPage:
    """The page source of an unfiltered list: its page query is compiled once per language
    chain and page size instead of built in the ORM on every request; the page is a
    parameter."""

    def __init__(self, chain: tuple[str, ...]) -> None:
        self.chain = chain

    def page_rows(self, *, offset: int, limit: int, count_limit: int | None) -> list[dict]:
        # The page is a value, not part of the shape: one compiled statement serves every page
        # of a page size. The size stays a literal: with `LIMIT $1` PostgreSQL never settles
        # on the prepared statement's generic plan and plans every request anew.
        shape = {"chain": self.chain, "limit": limit}
        return PLAIN_LIST_PAGE.rows(shape=shape, offset=offset, now=timezone.now())


class OneQueryPaginator(CappedCountPaginator):
    """A page and the count in one query (`page_with_count`), from a queryset or from a
    `PlainListPage`. Same numbers and errors as `CappedCountPaginator` in its capped and exact
    modes; when the count is needed before a page (`page=last`), a queryset is counted the
    usual way first (the view never passes a `PlainListPage` then)."""

    def page(self, number: Any) -> PaginatorPage:
        source = self.object_list
        if "count" in self.__dict__ or self.count_mode == "estimate":
            return super().page(number)
        try:
            index = int(number)
        except (TypeError, ValueError):
            return super().page(number)
        if index < 1:
            return super().page(number)
        offset = (index - 1) * self.per_page
        count_limit = self.count_cap + 1 if self.count_mode != "exact" and self.count_cap else None
        if isinstance(source, PlainListPage):
            rows = source.page_rows(offset=offset, limit=self.per_page, count_limit=count_limit)
        else:
            page = page_with_count(
                source, offset=offset, limit=self.per_page, count_limit=count_limit
            )
            rows = list(page)
        # No rows: nothing matches (page 1 of 0), or the page is past the end, which
        # validate_number() below reports for any count that leaves it empty.
        total = rows[0][PAGE_COUNT] if rows else 0
        if count_limit is not None and total > self.count_cap:
            self.count_capped = True
            total = self.count_cap
        self.count = total
        return self._get_page(rows, self.validate_number(index), self)


class ArticlePagination(PesaPagination):
    """PesaPagination (same envelope, cap and errors) with the count in the page's query."""

    def django_paginator_class(self, object_list: Any, per_page: int) -> OneQueryPaginator:
        return OneQueryPaginator(
            object_list,
            per_page,
            count_cap=settings.PESA_API_COUNT_CAP,
            count_mode=self.count_mode,
        )


def _problem(status: int, description: str) -> OpenApiResponse:
    return OpenApiResponse(
        description=description, response={"application/problem+json": PROBLEM_SCHEMA}
    )


ARTICLE_FILTERS = [
    OpenApiParameter(
        "topic",
        str,
        description="Topic key (e.g. `baby-and-toddler`), topic page slug in any language, "
        "or topic page id. Matches articles under that topic page in any locale, or tagged "
        "with the topic.",
        examples=[OpenApiExample("Topic key", value="baby-and-toddler")],
    ),
    OpenApiParameter(
        "audience",
        str,
        description="Target group code(s) of the PTV code list ptvkohderyhmat, comma-separated "
        "(any matches).",
        examples=[OpenApiExample("Families with children", value="KR1.2")],
    ),
    OpenApiParameter(
        "life_situation",
        str,
        description="Life situation code(s) of vocabularies/life-situations or PTV life event "
        "codes, comma-separated (any matches).",
        examples=[OpenApiExample("Baby", value="baby")],
    ),
    OpenApiParameter(
        "updated_since",
        OpenApiTypes.DATETIME,
        description="Only articles (re)published at or after this ISO 8601 time; invalid → 400.",
        examples=[OpenApiExample("Since", value="2026-01-01T00:00:00Z")],
    ),
    OpenApiParameter(
        "search",
        str,
        description="Full-text search (same index as /search): results come ranked, best first.",
        examples=[OpenApiExample("Finnish", value="neuvola")],
    ),
]


@extend_schema_view(
    list=extend_schema(
        summary="Articles in one language",
        description=(
            "Public articles in the served language (`lang` or Accept-Language). An article "
            "without a version in that language appears once, in the first fallback language "
            "that has one (sv → fi, en → fi); `meta.fallback` is then true and the item's "
            "`locale` says which. Newest first, or by search rank with `search`."
        ),
        parameters=ARTICLE_FILTERS,
        responses={200: ArticleSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="One article with its body",
        description="A page that is not public (draft, private, scheduled, expired) is a 404.",
        responses={200: ArticleDetailSerializer, 404: _problem(404, "Not public or no such id")},
    ),
)
class ArticleViewSet(PublicReadOnlyViewSet):
    serializer_class = ArticleSerializer
    filterset_class = ArticleFilterSet
    filter_backends = [PesaFilterBackend]
    pagination_class = ArticlePagination
    lookup_value_regex = r"\d+"

    def get_allowed_query_params(self) -> list[str]:
        allowed = super().get_allowed_query_params()
        if self.action == "by_path":
            allowed.append("path")
        return allowed

    def get_queryset(self) -> QuerySet[ArticlePage]:
        if getattr(self, "swagger_fake_view", False):  # OpenAPI generation: no request
            return ArticlePage.objects.none()
        if self.action == "list":
            chain = self.request.language_choice.chain
            return in_language(live_articles_inline(), chain).order_by(*ARTICLE_ORDER)
        return live_articles_inline()

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        page = request.query_params.get(self.paginator.page_query_param)
        filtered = set(request.query_params) - {LANG_PARAM, *self.paginator.query_params()}
        if filtered or (page is not None and not page.isdigit()):
            source: Any = article_list_rows(self.filter_queryset(self.get_queryset()))
        else:
            source = PlainListPage(request.language_choice.chain)
        rows = self.paginate_queryset(source)
        return self.get_paginated_response(article_items(request, rows))

    def retrieve(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        rows = ARTICLE_BY_ID.rows(
            shape={},
            pk=int(self.kwargs[self.lookup_url_kwarg or self.lookup_field]),
            now=timezone.now(),
        )
        if not rows:
            # The message of DRF's get_object(), which this replaces.
            raise Http404(f"No {ArticlePage._meta.object_name} matches the given query.")
        return Response(article_detail_item(request, rows[0]))

    @extend_schema(
        summary="One article by its public path",
        description=(
            "Looks an article up by the path the frontend shows, `/{lang}/{topic-slug}/"
            "{article-slug}/` (the trailing slash is optional). The path's language wins over "
            "`lang`. Unknown or not public → 404."
        ),
        parameters=[
            OpenApiParameter(
                "path",
                str,
                required=True,
                description="Public path of an article, as in the `path` field.",
                examples=[
                    OpenApiExample(
                        "Swedish",
                        value="/sv/vauva-och-smabarn/barnradgivning-besok-och-omfattande-halsoundersokningar/",
                    )
                ],
            )
        ],
        responses={
            200: ArticleDetailSerializer,
            400: _problem(400, "`path` missing"),
            404: _problem(404, "No public article at this path"),
        },
    )
    @action(detail=False, methods=["get"], url_path="by-path", pagination_class=None)
    def by_path(self, request: Any) -> Response:
        value = request.query_params.get("path")
        if not value:
            raise InvalidQueryParameters(
                detail="`path` is required, e.g. /sv/topic-slug/article-slug/.",
                errors={"path": ["This parameter is required."]},
            )
        match = PUBLIC_PATH.match(value.strip())
        if match is None or match["lang"] not in supported_languages():
            raise Http404
        rows = ARTICLE_BY_PATH.rows(
            shape={},
            lang=match["lang"],
            suffix=f"/{match['topic']}/{match['article']}/",
            now=timezone.now(),
        )
        if not rows:
            raise Http404
        return Response(article_detail_item(request, rows[0]))


@extend_schema_view(
    list=extend_schema(
        summary="Topics in one language",
        description="The guidance themes in the served language (with fallbacks), each with "
        "the number of public articles it holds in that language and a link to them.",
        responses={200: TopicSerializer(many=True)},
    )
)
class TopicViewSet(PublicApiMixin, ListModelMixin, GenericViewSet):
    serializer_class = TopicSerializer
    pagination_class = PesaPagination
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[TopicPage]:
        if getattr(self, "swagger_fake_view", False):  # OpenAPI generation: no request
            return TopicPage.objects.none()
        return in_language(live_topics(), self.request.language_choice.chain).order_by("path", "pk")

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        rows = self.paginate_queryset(
            self.get_queryset().values(
                "pk",
                "title",
                "intro",
                "url_path",
                "translation_key",
                "topic__code",
                "locale__language_code",
            )
        )
        counts = self.article_counts()
        choice = request.language_choice
        items = []
        for row in rows:
            lang = row["locale__language_code"]
            choice.pick([lang])
            items.append(
                {
                    "kind": "topic",
                    "id": row["pk"],
                    "key": row["topic__code"],
                    "locale": lang,
                    "title": row["title"],
                    "intro": row["intro"],
                    "path": public_path(row["url_path"], lang),
                    "article_count": counts.get(row["translation_key"], 0),
                    "articles_url": api_url(
                        request, "article-list", topic=row["topic__code"], lang=choice.requested
                    ),
                }
            )
        return self.get_paginated_response(items)

    def article_counts(self) -> dict[Any, int]:
        """{topic translation key: public articles served in this language} (2 queries)."""
        articles = in_language(live_articles(), self.request.language_choice.chain)
        parents = (
            articles.annotate(parent=Substr("path", 1, Length("path") - STEP))
            .values("parent")
            .annotate(count=Count("pk"))
            .order_by()
        )
        by_path = {row["parent"]: row["count"] for row in parents}
        counts: dict[Any, int] = {}
        for path, key in TopicPage.objects.filter(path__in=by_path).values_list(
            "path", "translation_key"
        ):
            counts[key] = counts.get(key, 0) + by_path[path]
        return counts


class VocabularyView(PublicAPIView):
    """One vocabulary in the served language: each code once, named in the best language."""

    model: type[TargetGroup] | type[LifeSituation]
    pagination_class = PesaPagination

    def is_list_view(self) -> bool:
        return True

    @property
    def paginator(self) -> PesaPagination:
        if not hasattr(self, "_paginator"):
            self._paginator = PesaPagination()
        return self._paginator

    def item(self, term: Any, lang: str) -> dict[str, Any]:
        return {
            "code": term.code,
            "uri": term.uri or None,
            "name": term.name,
            "description": term.description,
            "lang": lang,
        }

    def get(self, request: Any) -> Response:
        choice = request.language_choice
        terms = self.model.objects.filter(locale__language_code__in=choice.chain).select_related(
            "locale"
        )
        by_code: dict[str, dict[str, Any]] = {}
        order: dict[str, tuple[int, str]] = {}
        for term in terms:
            by_code.setdefault(term.code, {})[term.locale.language_code] = term
            order[term.code] = (term.sort_order, term.code)
        items = []
        for code in sorted(by_code, key=order.__getitem__):
            lang, _fallback = choice.pick(by_code[code])
            items.append(self.item(by_code[code][lang], lang))
        page = self.paginator.paginate_queryset(items, request, view=self)
        return self.paginator.get_paginated_response(page)


@extend_schema(
    summary="Target groups",
    description="PTV target groups (code list ptvkohderyhmat) used by articles and services; "
    "`parent` is the broader group's code. Filter articles and services with `audience=`.",
    responses={200: TargetGroupSerializer(many=True)},
)
class TargetGroupView(VocabularyView):
    model = TargetGroup

    def item(self, term: Any, lang: str) -> dict[str, Any]:
        return {**super().item(term, lang), "parent": term.broader_code or None}


@extend_schema(
    summary="Life situations",
    description="Life situations (pregnancy, baby, separation …) with their PTV life event "
    "code where one exists. Filter articles and services with `life_situation=`.",
    responses={200: LifeSituationSerializer(many=True)},
)
class LifeSituationView(VocabularyView):
    model = LifeSituation

    def item(self, term: Any, lang: str) -> dict[str, Any]:
        return {**super().item(term, lang), "life_event_code": term.life_event_code or None}


class PreviewTokenRejected(exceptions.APIException):
    """401 without a WWW-Authenticate challenge: the token is the credential, in the query."""

    status_code = 401
    default_detail = "The preview token is not valid."
    default_code = "preview_token_invalid"


@extend_schema(
    summary="Preview a draft",
    description=(
        "The latest draft revision of the page named by a preview token (the admin's Preview "
        "button opens the frontend with one). Never cached: `Cache-Control: private, no-store`. "
        "A missing token is a 400; a forged, malformed or expired token, or one whose page was "
        "deleted, is a 401 (the `detail` says which)."
    ),
    parameters=[OpenApiParameter("token", str, required=True, description="The preview token.")],
    responses={
        200: PolymorphicProxySerializer(
            component_name="PreviewPage",
            serializers=[ArticleDetailSerializer, TopicSerializer],
            # `kind` ("article" or "topic") tells them apart; no discriminator mapping needed.
            resource_type_field_name=None,
        ),
        400: _problem(400, "`token` missing"),
        401: _problem(401, "Token invalid or expired"),
    },
)
class PreviewView(PublicAPIView):
    extra_query_params = ("token",)
    cache_responses = False

    def get(self, request: Any) -> Response:
        token = request.query_params.get("token")
        if not token:
            raise InvalidQueryParameters(
                detail="`token` is required.", errors={"token": ["This parameter is required."]}
            )
        try:
            page = page_for_preview_token(token)
        except PreviewTokenExpired:
            raise PreviewTokenRejected("The preview token has expired; preview again.") from None
        except PreviewTokenInvalid:
            raise PreviewTokenRejected() from None
        if isinstance(page, ArticlePage):
            data = article_preview(request, page)
        elif isinstance(page, TopicPage):
            lang = page.locale.language_code
            request.language_choice.pick([lang])
            data = {
                "kind": "topic",
                "id": page.pk,
                "key": page.topic.code if page.topic_id else None,
                "locale": lang,
                "title": page.title,
                "intro": page.intro,
                "path": public_path(page.url_path, lang) if page.url_path else None,
                "article_count": 0,
                "articles_url": api_url(request, "article-list", topic=page.slug, lang=lang),
            }
        else:
            raise Http404
        response = Response(data)
        response["Cache-Control"] = "private, no-store"
        return response

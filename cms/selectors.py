"""Reads of the cms app. The public visibility rule is written once, here.

A page is public when it is live, not past its expiry time, and neither it nor any ancestor
carries a view restriction *in any locale*: restricting the Finnish page hides the Swedish and
English copies too, because Wagtail itself would only hide the restricted page's own subtree.
"""

from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, JSONObject, Length, Substr
from django.utils import timezone
from wagtail.models import Locale, Page, PageViewRestriction

from cms.exceptions import PreviewTokenExpired, PreviewTokenInvalid
from cms.models import ArticleKeyword, ArticlePage, LifeSituation, TargetGroup, Topic, TopicPage
from cms.services.preview import PREVIEW_TOKEN_SALT

VOCABULARIES = {
    "targetgroup": TargetGroup,
    "lifesituation": LifeSituation,
    "topic": Topic,
}


def public_pages(queryset: QuerySet) -> QuerySet:
    """Narrows any page queryset to what the public may see (see the module docstring).

    The view-restriction rule runs inside the query (`under_view_restriction`), so the
    narrowing costs no query of its own."""
    return public_pages_inline(queryset)


def under_view_restriction() -> Exists:
    """True for a page that has, or whose ancestor has, a view restriction in any locale.

    An EXISTS on the outer query's `path`: a restricted page's copies in every locale, and
    everything under them."""
    restricted_keys = PageViewRestriction.objects.values("page__translation_key")
    ancestors_or_self = Page.objects.filter(
        translation_key__in=restricted_keys,
        path=Substr(OuterRef("path"), 1, Length("path")),
    )
    return Exists(ancestors_or_self)


def public_pages_inline(queryset: QuerySet, *, now: datetime | None = None) -> QuerySet:
    """The public pages of `queryset`: live, not expired at `now`, not under a view restriction
    in any locale. `now` is a parameter so a read compiled once can pass each request's."""
    now = now or timezone.now()
    return (
        queryset.live()
        .filter(Q(expire_at__isnull=True) | Q(expire_at__gt=now))
        .filter(~under_view_restriction())
    )


def _in_locale(queryset: QuerySet, language_code: str | None) -> QuerySet:
    if language_code is None:
        return queryset
    return queryset.filter(locale__language_code=language_code)


def live_articles(*, language_code: str | None = None) -> QuerySet[ArticlePage]:
    """Everything the public API may show of the articles. Drafts and private pages never pass."""
    return _in_locale(public_pages(ArticlePage.objects.all()), language_code)


def live_articles_inline(*, now: datetime | None = None) -> QuerySet[ArticlePage]:
    """The rows of `live_articles()` in one query (see `public_pages_inline`)."""
    return public_pages_inline(ArticlePage.objects.all(), now=now)


def live_topics(*, language_code: str | None = None) -> QuerySet[TopicPage]:
    return _in_locale(public_pages(TopicPage.objects.all()), language_code)


def page_for_preview_token(token: str) -> Page:
    """The latest draft revision of the page the token names, as an unsaved page object.

    Raises PreviewTokenExpired after settings.PESA_PREVIEW_MAX_AGE seconds and
    PreviewTokenInvalid for a forged or malformed token or a deleted page.
    """
    try:
        data = signing.loads(token, salt=PREVIEW_TOKEN_SALT, max_age=settings.PESA_PREVIEW_MAX_AGE)
    except signing.SignatureExpired as error:
        raise PreviewTokenExpired(str(error)) from error
    except signing.BadSignature as error:
        raise PreviewTokenInvalid(str(error)) from error
    page_id = data.get("page") if isinstance(data, dict) else None
    page = Page.objects.filter(pk=page_id).first() if isinstance(page_id, int) else None
    if page is None:
        raise PreviewTokenInvalid("The page of this preview token no longer exists.")
    return page.specific.get_latest_revision_as_object()


def vocabulary_choices(
    *, model_name: str, language_code: str | None = None
) -> list[tuple[str, str]]:
    """(code, label) pairs of one vocabulary in one locale (default: the default locale)."""
    model = VOCABULARIES[model_name]
    locale_filter = (
        Q(locale__language_code=language_code)
        if language_code
        else Q(locale__language_code=Locale.get_default().language_code)
    )
    return [
        (term.code, f"{term.name} ({term.code})")
        for term in model.objects.filter(locale_filter).order_by("sort_order", "code")
    ]


def life_event_choices() -> list[tuple[str, str]]:
    """(PTV life event code, label) pairs for the services block, in the default language."""
    choices: dict[str, list[str]] = {}
    terms = LifeSituation.objects.filter(
        locale__language_code=Locale.get_default().language_code
    ).exclude(life_event_code="")
    for term in terms.order_by("sort_order", "code"):
        choices.setdefault(term.life_event_code, []).append(term.name)
    return [(code, f"{' / '.join(names)} ({code})") for code, names in choices.items()]


def vocabulary_terms(
    *, model_name: str, codes: list[str], language_code: str
) -> QuerySet[TargetGroup | LifeSituation | Topic]:
    """Terms with the given codes in one locale: how articles and services join by code."""
    return VOCABULARIES[model_name].objects.filter(
        code__in=codes, locale__language_code=language_code
    )


# ---------------------------------------------------------------------------
# Articles with everything the API shows of them, one query for any number of rows
# ---------------------------------------------------------------------------
class JSONList(Func):
    """The JSON array of an expression over a subquery's rows (NULL for none). A plain
    function, not an Aggregate, so `Subquery(qs.values(items=JSONList(…)))` adds no GROUP BY."""

    function = "JSONB_AGG"
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra_context):
        # JSON(): a nested object from a subquery would otherwise be embedded as a string.
        (expression,) = self.get_source_expressions()
        if isinstance(expression.output_field, JSONField):
            template = "JSON_GROUP_ARRAY(JSON(%(expressions)s))"
        else:
            template = "JSON_GROUP_ARRAY(%(expressions)s)"
        return self.as_sql(compiler, connection, template=template)


# Page ids a StreamField body may link to: every numeric "page" value and every id="…" in
# its rich text. A superset (any such number); the caller checks it covers what it needs.
_LINKED_PAGE_IDS_SQL = (
    r"""SELECT jsonb_path_query({body}, 'lax $.**.page ? (@.type() == "number" && @ >= 0"""
    r""" && @ < 2147483648)')::int UNION SELECT (regexp_matches({body}::text,"""
    r""" 'id=\\"(\d{1,9})\\"', 'g'))[1]::int"""
)
_LINKED_PAGE_ID_ARRAY_SQL = "(SELECT JSONB_AGG(id) FROM ({ids}) AS linked(id))"
_LINKS_TO_SQL = "{page} = ANY(ARRAY({ids}))"


class LinkedPageIdArray(Func):
    """The ids `_LINKED_PAGE_IDS_SQL` finds in a body, as a JSON array, so the caller knows
    what was looked up; NULL where unsupported (the caller then looks the links up itself)."""

    output_field = JSONField()

    def as_sql(self, compiler, connection, **extra_context):
        return "NULL", []

    def as_postgresql(self, compiler, connection, **extra_context):
        body, params = compiler.compile(self.get_source_expressions()[0])
        ids = _LINKED_PAGE_IDS_SQL.replace("{body}", body)
        return _LINKED_PAGE_ID_ARRAY_SQL.replace("{ids}", ids), [*params, *params]


class LinksTo(Func):
    """`LinksTo(F("pk"), OuterRef("body"))`: the page is among the ids `_LINKED_PAGE_IDS_SQL`
    finds in the body. `= ANY(ARRAY(…))`, unlike `IN (SELECT …)`, lets the planner look the
    few pages up by primary key instead of scanning every page. False where unsupported."""

    output_field = BooleanField()
    conditional = True

    def as_sql(self, compiler, connection, **extra_context):
        return "1 = 0", []

    def as_postgresql(self, compiler, connection, **extra_context):
        page, body = self.get_source_expressions()
        page_sql, page_params = compiler.compile(page)
        body_sql, body_params = compiler.compile(body)
        ids = _LINKED_PAGE_IDS_SQL.replace("{body}", body_sql)
        sql = _LINKS_TO_SQL.replace("{page}", page_sql).replace("{ids}", ids)
        return sql, [*page_params, *body_params, *body_params]


def _localized_terms(model: type[TargetGroup] | type[LifeSituation], field_name: str) -> Subquery:
    """The article's terms as JSON, each named in the article's locale: wagtail-localize copies
    the source locale's many-to-many rows into a translation, so a row in another locale is
    replaced by the term with the same code in the page's locale, where there is one."""
    prefix = model._meta.model_name
    fields = ["code", "name", "uri", "sort_order"]
    if model is LifeSituation:
        fields.append("life_event_code")
    in_page_locale = (
        model.objects.filter(
            code=OuterRef(f"{prefix}__code"), locale_id=OuterRef(OuterRef("locale_id"))
        )
        .order_by()
        .values(json=JSONObject(**{name: F(name) for name in fields}))[:1]
    )
    linked = JSONObject(**{name: F(f"{prefix}__{name}") for name in fields})
    through = getattr(ArticlePage, field_name).through
    rows = (
        through.objects.filter(articlepage_id=OuterRef("pk"))
        .order_by()
        .values(items=JSONList(Coalesce(Subquery(in_page_locale), linked)))
    )
    return Subquery(rows, output_field=JSONField())


def _topic_page(now: datetime) -> Subquery:
    """The public topic page the article sits under (its tree parent), as JSON."""
    parent = (
        TopicPage.objects.filter(
            path=Substr(OuterRef("path"), 1, Length(OuterRef("path")) - Page.steplen),
            live=True,
        )
        .filter(Q(expire_at__isnull=True) | Q(expire_at__gt=now))
        .order_by()
        .values(
            json=JSONObject(
                id=F("pk"),
                key=F("topic__code"),
                title=F("title"),
                url_path=F("url_path"),
                lang=F("locale__language_code"),
            )
        )[:1]
    )
    return Subquery(parent, output_field=JSONField())


def _public_translations(now: datetime) -> Subquery:
    """Every public copy of the article (itself included) as JSON: id, tree path, url_path, lang."""
    copies = (
        live_articles_inline(now=now)
        .filter(translation_key=OuterRef("translation_key"))
        .order_by()
        .values(
            items=JSONList(
                JSONObject(
                    id=F("pk"),
                    path=F("path"),
                    url_path=F("url_path"),
                    lang=F("locale__language_code"),
                )
            )
        )
    )
    return Subquery(copies, output_field=JSONField())


def _keyword_names() -> Subquery:
    names = (
        ArticleKeyword.objects.filter(content_object_id=OuterRef("pk"))
        .order_by()
        .values(items=JSONList(F("tag__name")))
    )
    return Subquery(names, output_field=JSONField())


def _linked_pages(now: datetime) -> Subquery:
    """The public pages among those the body may link to, as JSON (id, title, url_path,
    lang, model)."""
    pages = (
        public_pages_inline(Page.objects.filter(LinksTo(F("pk"), OuterRef("body"))), now=now)
        .order_by()
        .values(
            items=JSONList(
                JSONObject(
                    id=F("pk"),
                    title=F("title"),
                    url_path=F("url_path"),
                    lang=F("locale__language_code"),
                    model=F("content_type__model"),
                )
            )
        )
    )
    return Subquery(pages, output_field=JSONField())


ARTICLE_LIST_FIELDS = (
    "pk",
    "title",
    "lead",
    "path",
    "url_path",
    "translation_key",
    "locale_id",
    "locale__language_code",
    "reviewed_on",
    "next_review_due",
    "first_published_at",
    "last_published_at",
)
ARTICLE_DETAIL_FIELDS = (
    *ARTICLE_LIST_FIELDS,
    "reviewer_name",
    "reviewer_title",
    "reviewer_organisation",
)


def article_list_rows(queryset: QuerySet[ArticlePage], *, now: datetime | None = None) -> QuerySet:
    """`values()` rows of the articles with their terms (JSON, in the page's language), topic
    page and public copies: everything a list item shows, in the one query of the rows."""
    now = now or timezone.now()
    return queryset.values(
        *ARTICLE_LIST_FIELDS,
        audience_terms=_localized_terms(TargetGroup, "audiences"),
        life_situation_terms=_localized_terms(LifeSituation, "life_situations"),
        topic_page=_topic_page(now),
        public_translations=_public_translations(now),
    )


def article_detail_rows(
    queryset: QuerySet[ArticlePage], *, now: datetime | None = None
) -> QuerySet:
    """`article_list_rows()` plus what the full article shows: reviewer, keywords, raw body and
    references (`raw_body`, `raw_references`), and the public pages its body may link to (`linked_page_ids` says which ids
    were looked up; None where the database cannot say)."""
    now = now or timezone.now()
    return queryset.values(
        *ARTICLE_DETAIL_FIELDS,
        # The stored JSON as lists, not StreamValues: the API renders the raw blocks.
        raw_body=ExpressionWrapper(F("body"), output_field=JSONField()),
        raw_references=ExpressionWrapper(F("references"), output_field=JSONField()),
        audience_terms=_localized_terms(TargetGroup, "audiences"),
        life_situation_terms=_localized_terms(LifeSituation, "life_situations"),
        topic_page=_topic_page(now),
        public_translations=_public_translations(now),
        keyword_names=_keyword_names(),
        linked_page_ids=LinkedPageIdArray(F("body")),
        linked_pages=_linked_pages(now),
    )

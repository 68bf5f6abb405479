"""Output of the content endpoints: articles, topics, vocabularies, preview.

Views hand serializers plain dicts built here from the rows of
`cms.selectors.article_list_rows()` / `article_detail_rows()`: one query for a list page or
an article, never one per item (no `specific()`, no page.url). Public paths are
`/{lang}/{topic-slug}/{article-slug}/` (the locale's home page is `/{lang}/`).
Rich text comes out as sanitized HTML whose internal links point at the public path, with
the API address in `data-api-url`; links to pages that are not public lose their href.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import nh3
from django.db.models import Model
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse
from wagtail.images import get_image_model
from wagtail.models import Page
from wagtail.rich_text.rewriters import FIND_A_TAG, LinkRewriter, extract_attrs

from cms.models import ArticlePage, LifeSituation, TargetGroup, TopicPage
from cms.public_url import public_url
from cms.selectors import public_pages

RENDITION_WIDTHS = (320, 640, 1280)
RICH_TEXT_TAGS = {"p", "br", "strong", "b", "em", "i", "a", "ul", "ol", "li", "h2", "h3", "h4"}
RICH_TEXT_ATTRIBUTES = {"a": {"href", "data-page-id", "data-api-url"}}
VIDEO_PROVIDERS = {
    "youtube.com": "youtube",
    "youtu.be": "youtube",
    "vimeo.com": "vimeo",
    "dailymotion.com": "dailymotion",
    "areena.yle.fi": "yle-areena",
}
AREA_PARAMS = {3: "municipality", 2: "county"}
STEP = Page.steplen


# ---------------------------------------------------------------------------
# Paths and addresses
# ---------------------------------------------------------------------------
def public_path(url_path: str, lang: str) -> str:
    """Wagtail's `/home-sv/topic/article/` → the public `/sv/topic/article/`."""
    segments = [segment for segment in url_path.split("/") if segment]
    return "/" + "/".join([lang, *segments[1:]]) + "/"


def api_url(request: Any, name: str, pk: int | None = None, **query: Any) -> str:
    url = public_url(reverse(name, args=[pk] if pk is not None else None))
    query = {key: value for key, value in query.items() if value}
    return f"{url}?{urlencode(query)}" if query else url


def article_url(request: Any, pk: int) -> str:
    return api_url(request, "article-detail", pk)


class ArticleLinks:
    """The article API addresses of one request. Reversing costs tens of µs a call and a list
    page needs about four per item, so the list address is reversed once and reused."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.list_url = api_url(request, "article-list")

    def detail(self, pk: int) -> str:
        # The router's detail route is the list route plus `{pk}/`.
        return f"{self.list_url}{pk}/"

    def of_topic(self, key: str | None, lang: str) -> str:
        query = {name: value for name, value in (("topic", key), ("lang", lang)) if value}
        return f"{self.list_url}?{urlencode(query)}" if query else self.list_url


def _page_ref(links: ArticleLinks, page: Mapping[str, Any]) -> dict[str, Any]:
    """A link target: `page` has id, title, url_path, lang and model (content type model)."""
    lang = page["lang"]
    is_article = page["model"] == "articlepage"
    return {
        "kind": "article" if is_article else "topic",
        "id": page["id"],
        "title": page["title"],
        "lang": lang,
        "path": public_path(page["url_path"], lang),
        "api_url": links.detail(page["id"])
        if is_article
        else api_url(links.request, "topic-list", lang=lang),
    }


def page_refs(request: Any, page_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """{id: {kind, id, title, path, api_url}} of the *public* pages among `page_ids` (2 queries)."""
    page_ids = {pk for pk in page_ids if pk}
    if not page_ids:
        return {}
    rows = public_pages(Page.objects.filter(pk__in=page_ids)).values(
        "pk", "title", "url_path", "locale__language_code", "content_type__model"
    )
    links = ArticleLinks(request)
    return {
        row["pk"]: _page_ref(
            links,
            {
                "id": row["pk"],
                "title": row["title"],
                "url_path": row["url_path"],
                "lang": row["locale__language_code"],
                "model": row["content_type__model"],
            },
        )
        for row in rows
    }


# ---------------------------------------------------------------------------
# Vocabularies: names in the page's own language, joined on codes
# ---------------------------------------------------------------------------
VOCABULARY_FIELDS = {
    TargetGroup: ("code", "name", "uri", "locale_id", "sort_order"),
    LifeSituation: ("code", "name", "uri", "locale_id", "sort_order", "life_event_code"),
}


def _term_output(model: type[Model], row: Mapping[str, Any]) -> dict[str, Any]:
    output = {"code": row["code"], "name": row["name"], "uri": row["uri"] or None}
    if model is LifeSituation:
        output["life_event_code"] = row["life_event_code"] or None
    return output


def terms_output(model: type[Model], terms: Iterable[Mapping[str, Any]] | None) -> list[dict]:
    """Terms (code, name, uri, sort_order[, life_event_code]) in vocabulary order."""
    ordered = sorted(terms or (), key=lambda term: (term["sort_order"], term["code"]))
    return [_term_output(model, term) for term in ordered]


def localized_term_rows(
    model: type[Model], terms: Iterable[Model], locale_id: int
) -> list[dict[str, Any]]:
    """One page's terms named in the page's locale (the rule of
    `cms.selectors.article_list_rows`, for a page object: a preview). wagtail-localize copies
    many-to-many rows of the source locale into a translation, so rows in another locale are
    renamed from the page locale's term with the same code (one query, only when needed)."""
    fields = VOCABULARY_FIELDS[model]
    rows = [{name: getattr(term, name) for name in fields} for term in terms]
    missing = {row["code"] for row in rows if row["locale_id"] != locale_id}
    if not missing:
        return rows
    renamed = {
        term["code"]: term
        for term in model.objects.filter(code__in=missing, locale_id=locale_id).values(*fields)
    }
    return [row if row["locale_id"] == locale_id else renamed.get(row["code"], row) for row in rows]


# ---------------------------------------------------------------------------
# Topics and translations
# ---------------------------------------------------------------------------
def parent_path(path: str) -> str:
    return path[:-STEP]


def topic_output(links: ArticleLinks, topic: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The topic of an article; `topic` has id, key, title, url_path and lang."""
    if topic is None:
        return None
    lang = topic["lang"]
    return {
        "id": topic["id"],
        "key": topic["key"],
        "title": topic["title"],
        "path": public_path(topic["url_path"], lang),
        "articles_url": links.of_topic(topic["key"], lang),
    }


def topic_at(path: str) -> dict[str, Any] | None:
    """The live, unexpired topic page at this tree path, as `topic_output` takes it (1 query)."""
    now = timezone.now()
    row = (
        TopicPage.objects.filter(path=path, live=True)
        .values("pk", "title", "url_path", "expire_at", "topic__code", "locale__language_code")
        .first()
    )
    if row is None or (row["expire_at"] and row["expire_at"] <= now):
        return None
    return {
        "id": row["pk"],
        "key": row["topic__code"],
        "title": row["title"],
        "url_path": row["url_path"],
        "lang": row["locale__language_code"],
    }


def translations_output(
    links: ArticleLinks, copies: Iterable[Mapping[str, Any]] | None, lang: str
) -> dict[str, dict[str, Any]]:
    """{lang: {id, path, api_url}} of the other public copies (id, path, url_path, lang each),
    in tree order."""
    return {
        copy["lang"]: {
            "id": copy["id"],
            "path": public_path(copy["url_path"], copy["lang"]),
            "api_url": links.detail(copy["id"]),
        }
        for copy in sorted(copies or (), key=lambda copy: copy["path"])
        if copy["lang"] != lang
    }


# ---------------------------------------------------------------------------
# Articles: list items and the full article from one row each
# ---------------------------------------------------------------------------
def article_item(request: Any, row: Mapping[str, Any], links: ArticleLinks) -> dict[str, Any]:
    """The list item of one `cms.selectors.article_list_rows()` row (no queries)."""
    lang = row["locale__language_code"]
    request.language_choice.pick([lang])
    url_path = row["url_path"]
    return {
        "kind": "article",
        "id": row["pk"],
        "locale": lang,
        "title": row["title"],
        "lead": row["lead"],
        "path": public_path(url_path, lang) if url_path else None,
        "api_url": links.detail(row["pk"]) if row["pk"] else None,
        "topic": topic_output(links, row["topic_page"]),
        "audiences": terms_output(TargetGroup, row["audience_terms"]),
        "life_situations": terms_output(LifeSituation, row["life_situation_terms"]),
        "reviewed_on": row["reviewed_on"],
        "next_review_due": row["next_review_due"],
        "first_published_at": row["first_published_at"],
        "last_published_at": row["last_published_at"],
        "translations": translations_output(links, row["public_translations"], lang),
    }


def article_items(request: Any, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    links = ArticleLinks(request)
    return [article_item(request, row, links) for row in rows]


def article_detail_item(request: Any, row: Mapping[str, Any]) -> dict[str, Any]:
    """The full article from one `cms.selectors.article_detail_rows()` row. No queries unless
    the body has images (2) or a link the row's lookup did not cover (2, the old way)."""
    links = ArticleLinks(request)
    body = row["raw_body"]
    return {
        **article_item(request, row, links),
        "reviewer": {
            "name": row["reviewer_name"] or None,
            "title": row["reviewer_title"] or None,
            "organisation": row["reviewer_organisation"] or None,
        },
        "keywords": sorted(row["keyword_names"] or ()),
        "references": [
            {"title": block["value"].get("title", ""), "url": block["value"].get("url", "")}
            for block in row["raw_references"]
            if block.get("type") == "reference"
        ],
        "body": BodyRenderer(request, body, pages=_linked_page_refs(links, body, row)).render(),
    }


def _linked_page_refs(
    links: ArticleLinks, blocks: list[dict[str, Any]], row: Mapping[str, Any]
) -> dict[int, dict[str, Any]]:
    """The link targets of the body from the row when its lookup covered every linked id;
    otherwise (a page id only Python's parser finds, or SQLite) looked up here."""
    needed = set().union(set(), *(_block_page_ids(block) for block in blocks))
    looked_up = row["linked_page_ids"]
    if looked_up is None or not needed <= set(looked_up):
        return page_refs(links.request, needed)
    return {page["id"]: _page_ref(links, page) for page in row["linked_pages"] or ()}


def article_preview(request: Any, page: ArticlePage) -> dict[str, Any]:
    """The full article from a page object (a draft revision): no public copies are linked."""
    row = {
        "pk": page.pk,
        "title": page.title,
        "lead": page.lead,
        "url_path": page.url_path or "",
        "locale__language_code": page.locale.language_code,
        "topic_page": topic_at(parent_path(page.path)) if page.path else None,
        "audience_terms": localized_term_rows(TargetGroup, page.audiences.all(), page.locale_id),
        "life_situation_terms": localized_term_rows(
            LifeSituation, page.life_situations.all(), page.locale_id
        ),
        "reviewed_on": page.reviewed_on,
        "next_review_due": page.next_review_due,
        "first_published_at": page.first_published_at,
        "last_published_at": page.last_published_at,
        "public_translations": [],
        "reviewer_name": page.reviewer_name,
        "reviewer_title": page.reviewer_title,
        "reviewer_organisation": page.reviewer_organisation,
        "keyword_names": list(page.keywords.names()) if page.pk else [],
        "raw_references": page.references.raw_data,
        "raw_body": list(page.body.raw_data),
        "linked_page_ids": None,
        "linked_pages": None,
    }
    return article_detail_item(request, row)


# ---------------------------------------------------------------------------
# Body: typed blocks from the raw StreamField data
# ---------------------------------------------------------------------------
def _items(value: Any) -> list[Any]:
    """ListBlock items in either raw format (plain values, or {"type": "item", "value"})."""
    return [
        item["value"] if isinstance(item, dict) and item.get("type") == "item" else item
        for item in value or []
    ]


def _linked_page_ids(html: str) -> set[int]:
    ids = set()
    for match in FIND_A_TAG.finditer(html or ""):
        attrs = extract_attrs(match.group(1))
        if attrs.get("linktype") == "page" and str(attrs.get("id", "")).isdigit():
            ids.add(int(attrs["id"]))
    return ids


def _rich_texts(block: dict[str, Any]) -> list[str]:
    kind, value = block.get("type"), block.get("value")
    if kind == "paragraph":
        return [value or ""]
    if kind == "callout":
        return [value.get("text") or ""]
    if kind == "faq":
        return [item.get("answer") or "" for item in _items(value.get("items"))]
    return []


def _block_page_ids(block: dict[str, Any]) -> set[int]:
    kind, value = block.get("type"), block.get("value") or {}
    ids = set().union(*(_linked_page_ids(html) for html in _rich_texts(block)))
    if kind == "internal_link" and value.get("page"):
        ids.add(value["page"])
    if kind == "link_list":
        ids.update(link.get("page") for link in _items(value.get("links")) if link.get("page"))
    return ids


class BodyRenderer:
    """Renders one page's raw body: links resolved and images fetched in one go each."""

    def __init__(
        self,
        request: Any,
        raw_blocks: Iterable[dict[str, Any]],
        *,
        pages: dict[int, dict[str, Any]] | None = None,
    ) -> None:
        """`pages`: the link targets, when the caller has them (else looked up here)."""
        self.request = request
        self.blocks = list(raw_blocks)
        if pages is None:
            page_ids = set().union(set(), *(_block_page_ids(block) for block in self.blocks))
            pages = page_refs(request, page_ids)
        self.pages = pages
        self.images = self._images()
        self.link_rewriter = LinkRewriter(rules={"page": self._page_link})

    def _images(self) -> dict[int, Any]:
        ids = {
            block["value"].get("image")
            for block in self.blocks
            if block.get("type") == "image" and block.get("value")
        }
        ids.discard(None)
        if not ids:
            return {}
        specs = [f"width-{width}" for width in RENDITION_WIDTHS]
        images = get_image_model().objects.filter(pk__in=ids).prefetch_renditions(*specs)
        return {image.pk: image for image in images}

    def _page_link(self, attrs: dict[str, str]) -> str:
        ref = self.pages.get(int(attrs["id"])) if str(attrs.get("id", "")).isdigit() else None
        if ref is None:
            return "<a>"
        return (
            f'<a href="{ref["path"]}" data-page-id="{ref["id"]}" data-api-url="{ref["api_url"]}">'
        )

    def rich_text(self, html: str | None) -> str:
        expanded = self.link_rewriter(html or "")
        return nh3.clean(
            expanded,
            tags=RICH_TEXT_TAGS,
            attributes=RICH_TEXT_ATTRIBUTES,
            url_schemes={"http", "https", "mailto", "tel"},
            link_rel="noopener",
        )

    def render(self) -> list[dict[str, Any]]:
        output = []
        for block in self.blocks:
            value = self.block_value(block.get("type"), block.get("value"))
            if value is not None:
                output.append({"type": block["type"], "id": block.get("id"), "value": value})
        return output

    def block_value(self, kind: str | None, value: Any) -> Any:
        if kind == "paragraph":
            return self.rich_text(value)
        value = value or {}
        if kind == "heading":
            return {"text": value.get("text", ""), "level": value.get("level") or "h2"}
        if kind == "callout":
            return {
                "kind": value.get("kind") or "info",
                "title": value.get("title") or None,
                "text": self.rich_text(value.get("text")),
            }
        if kind == "faq":
            return {
                "title": value.get("title") or None,
                "items": [
                    {
                        "question": item.get("question", ""),
                        "answer": self.rich_text(item.get("answer")),
                    }
                    for item in _items(value.get("items"))
                ],
            }
        if kind == "image":
            return self.image(value)
        if kind == "video":
            return self.video(value)
        if kind == "link_list":
            links = [self.link(link) for link in _items(value.get("links"))]
            links = [link for link in links if link is not None]
            return {"title": value.get("title") or None, "links": links} if links else None
        if kind == "internal_link":
            ref = self.pages.get(value.get("page"))
            if ref is None:  # the target is not public: the block goes
                return None
            return {"text": value.get("text") or ref["title"], "page": ref}
        if kind == "services":
            return self.services(value)
        return None

    def image(self, value: Mapping[str, Any]) -> dict[str, Any] | None:
        image = self.images.get(value.get("image"))
        if image is None:
            return None
        renditions = image.get_renditions(*(f"width-{width}" for width in RENDITION_WIDTHS))
        sizes = sorted(
            {
                (rendition.width, rendition.height, rendition.url)
                for rendition in renditions.values()
            }
        )
        return {
            "alt_text": value.get("alt_text") or "",
            "caption": value.get("caption") or None,
            "width": image.width,
            "height": image.height,
            "renditions": [
                {"url": public_url(url), "width": width, "height": height}
                for width, height, url in sizes
            ],
        }

    @staticmethod
    def video(value: Mapping[str, Any]) -> dict[str, Any] | None:
        url = value.get("video") or value.get("url")
        if not url:
            return None
        host = (urlsplit(url).hostname or "").removeprefix("www.").removeprefix("m.")
        return {
            "url": url,
            "provider": VIDEO_PROVIDERS.get(host),
            "title": value.get("title") or "",
        }

    def link(self, link: Mapping[str, Any]) -> dict[str, Any] | None:
        ref = self.pages.get(link.get("page")) if link.get("page") else None
        if ref is None and not link.get("url"):
            return None
        return {
            "text": link.get("text") or (ref["title"] if ref else link.get("url")),
            "url": ref["path"] if ref else link.get("url"),
            "page": ref,
        }

    def services(self, value: Mapping[str, Any]) -> dict[str, Any]:
        area = value.get("area") or None
        query = {
            "audience": ",".join(value.get("target_groups") or []),
            "life_situation": ",".join(value.get("life_events") or []),
            "service_class": ",".join(_items(value.get("service_classes"))),
        }
        if area and len(area) in AREA_PARAMS:
            query[AREA_PARAMS[len(area)]] = area
        return {
            "title": value.get("title") or None,
            "target_groups": list(value.get("target_groups") or []),
            "life_events": list(value.get("life_events") or []),
            "service_classes": list(_items(value.get("service_classes"))),
            "area": area,
            "api_url": api_url(self.request, "service-list", **query),
        }


# ---------------------------------------------------------------------------
# Serializers: the documented output shapes (views pass the dicts built above)
# ---------------------------------------------------------------------------
def kind_field(value: str) -> serializers.CharField:
    """A constant `kind`, inline in the schema (it tells a preview's article from a topic)."""

    # A pattern, not a one-value enum: enums become shared components whose names collide.
    @extend_schema_field({"type": "string", "pattern": f"^{value}$", "example": value})
    class KindField(serializers.CharField):
        pass

    return KindField()


class TermSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Code in the national code list, e.g. KR1.2.")
    name = serializers.CharField(help_text="Name in the article's language.")
    uri = serializers.CharField(allow_null=True)


class LifeSituationTermSerializer(TermSerializer):
    life_event_code = serializers.CharField(
        allow_null=True, help_text="PTV life event code (ptvelamantilanteet), e.g. KE1."
    )


class ArticleTopicSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Topic page id.")
    key = serializers.CharField(allow_null=True, help_text="Topic key, e.g. baby-and-toddler.")
    title = serializers.CharField()
    path = serializers.CharField(help_text="Public path of the topic page, e.g. /sv/vauva/.")
    articles_url = serializers.URLField(help_text="The topic's articles in this language.")


class TranslationLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    path = serializers.CharField()
    api_url = serializers.URLField()


class ArticleSerializer(serializers.Serializer):
    kind = kind_field("article")
    id = serializers.IntegerField()
    locale = serializers.CharField(help_text="Language of this article version (fi, sv, en).")
    title = serializers.CharField()
    lead = serializers.CharField()
    path = serializers.CharField(
        allow_null=True, help_text="Public path: /{lang}/{topic-slug}/{article-slug}/."
    )
    api_url = serializers.URLField(allow_null=True)
    topic = ArticleTopicSerializer(allow_null=True)
    audiences = TermSerializer(many=True)
    life_situations = LifeSituationTermSerializer(many=True)
    reviewed_on = serializers.DateField(allow_null=True)
    next_review_due = serializers.DateField(allow_null=True)
    first_published_at = serializers.DateTimeField(allow_null=True)
    last_published_at = serializers.DateTimeField(allow_null=True)
    translations = serializers.DictField(
        child=TranslationLinkSerializer(),
        help_text="The other public language versions: {lang: {id, path, api_url}}.",
    )


class ReviewerSerializer(serializers.Serializer):
    name = serializers.CharField(allow_null=True)
    title = serializers.CharField(allow_null=True)
    organisation = serializers.CharField(allow_null=True)


class ReferenceSerializer(serializers.Serializer):
    title = serializers.CharField()
    url = serializers.CharField()


BODY_BLOCK_TYPES = [
    "paragraph",
    "heading",
    "callout",
    "faq",
    "image",
    "video",
    "link_list",
    "internal_link",
    "services",
]


@extend_schema_field(
    {
        "description": (
            "paragraph: sanitized HTML string (internal links: href = public path, "
            "data-api-url); heading: {text, level}; callout: {kind, title, text (HTML)}; "
            "faq: {title, items: [{question, answer (HTML)}]}; image: {alt_text, caption, "
            "width, height, renditions: [{url, width, height}]}; video: {url, provider, title}; "
            "link_list: {title, links: [{text, url, page}]}; internal_link: {text, page: "
            "{kind, id, title, lang, path, api_url}}; services: {title, target_groups, "
            "life_events, service_classes, area, api_url (a ready /api/v1/services query)}."
        ),
        "oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": True}],
    }
)
class BlockValueField(serializers.JSONField):
    pass


class BodyBlockSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=BODY_BLOCK_TYPES)
    id = serializers.CharField(allow_null=True)
    value = BlockValueField()


class ArticleDetailSerializer(ArticleSerializer):
    reviewer = ReviewerSerializer()
    keywords = serializers.ListField(child=serializers.CharField())
    references = ReferenceSerializer(many=True)
    body = BodyBlockSerializer(many=True)


class TopicSerializer(serializers.Serializer):
    kind = kind_field("topic")
    id = serializers.IntegerField(help_text="Topic page id.")
    key = serializers.CharField(allow_null=True, help_text="Topic key, e.g. baby-and-toddler.")
    locale = serializers.CharField()
    title = serializers.CharField()
    intro = serializers.CharField(allow_blank=True)
    path = serializers.CharField(allow_null=True)
    article_count = serializers.IntegerField(
        help_text="Public articles of the topic served in this language (with fallbacks)."
    )
    articles_url = serializers.URLField()


class VocabularyTermSerializer(serializers.Serializer):
    code = serializers.CharField()
    uri = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    lang = serializers.CharField(help_text="Language of `name` (the served one or a fallback).")


class TargetGroupSerializer(VocabularyTermSerializer):
    parent = serializers.CharField(allow_null=True, help_text="Code of the broader group.")


class LifeSituationSerializer(VocabularyTermSerializer):
    life_event_code = serializers.CharField(allow_null=True)

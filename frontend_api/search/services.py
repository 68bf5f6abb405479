"""Writes of the search index: `SearchEntry` rows for articles and services.

Vectors are computed in Python (Voikko) and stored in a second pass: after a publish, after
a sync transaction's writes, or all at once by `rebuild_search_index()`. Only public objects
are indexed, but search still filters through the public selectors when it answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils.html import strip_tags

from cms.models import ArticlePage
from cms.selectors import live_articles
from federation.models import Service
from federation.selectors import public_services
from frontend_api.language import supported_languages
from frontend_api.models import SearchEntry
from frontend_api.search.postgres import build_search_document, search_vector

BATCH_SIZE = 500


@dataclass(frozen=True)
class IndexResult:
    articles: int = 0
    services: int = 0

    def __str__(self) -> str:
        return f"{self.articles} article entries and {self.services} service entries indexed"


def _entry(*, kind: str, object_id: int, lang: str, title: str, body: str) -> SearchEntry:
    entry = SearchEntry(kind=kind, object_id=object_id, lang=lang, title=title, body=body)
    if connection.vendor == "postgresql":
        document = build_search_document(title={lang: title}, body={lang: body})
        entry.search_vector = search_vector(document, lang)
    return entry


def _batches(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), BATCH_SIZE):
        yield ids[start : start + BATCH_SIZE]


def _html_text(html: Any) -> str:
    return strip_tags(str(html or "")).replace("\xa0", " ")


def stream_text(raw_blocks: Iterable[dict[str, Any]]) -> str:
    """The readable text of an article body's raw StreamField data, block by block."""
    parts: list[str] = []
    for block in raw_blocks:
        kind, value = block.get("type"), block.get("value")
        if kind == "paragraph":
            parts.append(_html_text(value))
        elif kind == "heading":
            parts.append(value.get("text", ""))
        elif kind == "callout":
            parts += [value.get("title") or "", _html_text(value.get("text"))]
        elif kind == "faq":
            parts.append(value.get("title") or "")
            for item in value.get("items", []):
                item = item.get("value", item) if "question" not in item else item
                parts += [item.get("question", ""), _html_text(item.get("answer"))]
        elif kind in ("image", "video"):
            parts.append(value.get("caption") or value.get("title") or "")
        elif kind == "services":
            parts.append(value.get("title") or "")
    return " ".join(part.strip() for part in parts if part and part.strip())


def article_entry(page: ArticlePage) -> SearchEntry:
    keywords = " ".join(page.keywords.names()) if page.pk else ""
    body = " ".join(part for part in (page.lead, stream_text(page.body.raw_data), keywords) if part)
    return _entry(
        kind=SearchEntry.Kind.ARTICLE,
        object_id=page.pk,
        lang=page.locale.language_code,
        title=page.title,
        body=body,
    )


@transaction.atomic
def index_articles(*, page_ids: Sequence[int] | None = None) -> int:
    """(Re)indexes the given article pages (all when None); non-public ones leave the index."""
    entries = SearchEntry.objects.filter(kind=SearchEntry.Kind.ARTICLE)
    pages = live_articles().select_related("locale").prefetch_related("keyword_items__tag")
    if page_ids is not None:
        entries = entries.filter(object_id__in=page_ids)
        pages = pages.filter(pk__in=page_ids)
    entries.delete()
    created = SearchEntry.objects.bulk_create(
        (article_entry(page) for page in pages.order_by("pk").iterator(chunk_size=BATCH_SIZE)),
        batch_size=BATCH_SIZE,
    )
    return len(created)


def service_entries(service: Service) -> list[SearchEntry]:
    """One entry per supported language in which the service has a name."""
    organization_name = service.organization.name if service.organization else {}
    entries = []
    for lang in supported_languages():
        title = (service.name or {}).get(lang)
        if not title:
            continue
        body = " ".join(
            text
            for text in (
                _html_text((service.summary or {}).get(lang)),
                _html_text((service.description or {}).get(lang)),
                (organization_name or {}).get(lang) or "",
            )
            if text
        )
        entries.append(
            _entry(
                kind=SearchEntry.Kind.SERVICE,
                object_id=service.pk,
                lang=lang,
                title=title,
                body=body,
            )
        )
    return entries


@transaction.atomic
def index_services(*, service_ids: Sequence[int] | None = None) -> int:
    """(Re)indexes the given services (all when None); withdrawn ones leave the index."""
    if service_ids is None:
        SearchEntry.objects.filter(kind=SearchEntry.Kind.SERVICE).delete()
        ids: Sequence[int] = list(public_services().order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted(set(service_ids))
    count = 0
    for batch in _batches(ids):
        SearchEntry.objects.filter(kind=SearchEntry.Kind.SERVICE, object_id__in=batch).delete()
        services = public_services().filter(pk__in=batch).order_by("pk")
        entries = [entry for service in services for entry in service_entries(service)]
        count += len(SearchEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE))
    return count


def remove_from_index(*, kind: str, object_ids: Sequence[int]) -> int:
    deleted, _ = SearchEntry.objects.filter(kind=kind, object_id__in=object_ids).delete()
    return deleted


@transaction.atomic
def rebuild_search_index() -> IndexResult:
    """Everything again, in one transaction: searches see the old index until it commits."""
    return IndexResult(articles=index_articles(), services=index_services())

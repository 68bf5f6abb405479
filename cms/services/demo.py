"""Demo content: topics and articles in fi/sv/en from cms/demo_content/, through the real models.

Idempotent: a page that exists (same slug under the same parent) is left alone, so running it
twice creates nothing new. Translations are what a translator's result is: a page sharing the
Finnish page's translation key under the translated parent, with its own text and slug,
published. (The real wagtail-localize path is proven in tests/cms/test_translation.py.) Illustrations are simple PNGs
drawn with Pillow at load time.
"""

import hashlib
import io
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files.images import ImageFile
from django.db import transaction
from django.utils.dateparse import parse_date, parse_datetime
from PIL import Image as PillowImage
from PIL import ImageDraw
from wagtail.images import get_image_model
from wagtail.images.models import AbstractImage
from wagtail.models import Locale, PageViewRestriction

from cms.models import ArticlePage, HomePage, LifeSituation, TargetGroup, Topic, TopicPage
from cms.models.pages import default_next_review
from cms.services.site import ensure_site_structure
from cms.services.vocabularies import DEMO_CONTENT_DIR, sync_vocabularies

STATUSES = {"live", "draft", "scheduled", "expired", "private"}


@dataclass
class DemoContentResult:
    topics_created: int = 0
    articles_created: int = 0
    images_created: int = 0
    pages_existing: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        return (
            f"{self.topics_created} topic pages and {self.articles_created} article pages created "
            f"({self.pages_existing} already there), {self.images_created} illustrations"
        )


@dataclass
class _PendingArticle:
    page: ArticlePage
    data: dict[str, Any]
    language: str


@transaction.atomic
def load_demo_content(*, content_dir: Path = DEMO_CONTENT_DIR) -> DemoContentResult:
    """Loads topics.json and articles/*.json from content_dir; only adds what is missing."""
    result = DemoContentResult()
    home = ensure_site_structure()
    sync_vocabularies(content_dir=content_dir)
    topics = json.loads((content_dir / "topics.json").read_text(encoding="utf-8"))
    topic_pages = {
        entry["key"]: _ensure_topic_page(home=home, entry=entry, result=result) for entry in topics
    }
    articles = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((content_dir / "articles").glob("*.json"))
    ]
    pending: list[_PendingArticle] = []
    pages_by_key: dict[tuple[str, str], ArticlePage] = {}
    for data in articles:
        if data["status"] not in STATUSES:
            raise ValueError(f"{data['key']}: unknown status {data['status']!r}")
        for language, page, created in _ensure_article_pages(
            topic_page=topic_pages[data["topic"]], data=data
        ):
            pages_by_key[(data["key"], language)] = page
            if created:
                pending.append(_PendingArticle(page=page, data=data, language=language))
            else:
                result.pages_existing += 1
    # Bodies are filled once every page exists, so internal links can point at any article.
    for item in pending:
        image = _ensure_illustration(data=item.data, result=result)
        _fill_article(item=item, pages_by_key=pages_by_key, image=image)
        _apply_status(page=item.page, data=item.data)
        result.articles_created += 1
        result.by_status[item.data["status"]] = result.by_status.get(item.data["status"], 0) + 1
    return result


def _ensure_topic_page(
    *, home: HomePage, entry: dict[str, Any], result: DemoContentResult
) -> TopicPage:
    default_locale = home.locale
    translations = entry["translations"]
    text = translations[default_locale.language_code]
    page = TopicPage.objects.child_of(home).filter(slug=text["slug"]).first()
    if page is None:
        page = TopicPage(
            title=text["title"],
            slug=text["slug"],
            intro=text.get("intro", ""),
            topic=Topic.objects.get(code=entry["key"], locale=default_locale),
            locale=default_locale,
        )
        home.add_child(instance=page)
        page.save_revision().publish()
        result.topics_created += 1
    else:
        result.pages_existing += 1
    for language, text in translations.items():
        locale = Locale.objects.filter(language_code=language).first()
        if locale is None or locale == default_locale or page.has_translation(locale):
            continue
        translation = TopicPage(
            title=text["title"],
            slug=text["slug"],
            intro=text.get("intro", ""),
            topic=Topic.objects.get(code=entry["key"], locale=locale),
            locale=locale,
            translation_key=page.translation_key,
        )
        home.get_translation(locale).add_child(instance=translation)
        translation.save_revision().publish()
        result.topics_created += 1
    return page


def _ensure_article_pages(
    *, topic_page: TopicPage, data: dict[str, Any]
) -> list[tuple[str, ArticlePage, bool]]:
    """The article's page in every language of the file, created as empty drafts when missing."""
    default_locale = topic_page.locale
    translations = data["translations"]
    text = translations[default_locale.language_code]
    pages = []
    source = ArticlePage.objects.child_of(topic_page).filter(slug=text["slug"]).first()
    created = source is None
    if created:
        source = ArticlePage(
            title=text["title"],
            slug=text["slug"],
            lead=text["lead"],
            locale=default_locale,
            live=False,
        )
        topic_page.add_child(instance=source)
    pages.append((default_locale.language_code, source, created))
    for language, text in translations.items():
        locale = Locale.objects.filter(language_code=language).first()
        if locale is None or locale == default_locale:
            continue
        translation = source.get_translation_or_none(locale)
        created = translation is None
        if created:
            # What copy_for_translation makes, with the translator's slug from the start
            # (a renamed copy would leave an automatic redirect behind).
            translation = ArticlePage(
                title=text["title"],
                slug=text["slug"],
                lead=text["lead"],
                locale=locale,
                translation_key=source.translation_key,
                live=False,
            )
            topic_page.get_translation(locale).add_child(instance=translation)
        pages.append((language, translation.specific, created))
    return pages


def _fill_article(
    *,
    item: _PendingArticle,
    pages_by_key: dict[tuple[str, str], ArticlePage],
    image: AbstractImage | None,
) -> None:
    page, data, language = item.page, item.data, item.language
    text = data["translations"][language]
    locale = page.locale
    page.title = text["title"]
    page.slug = text["slug"]
    page.lead = text["lead"]
    body = [
        _body_block(block, language=language, pages_by_key=pages_by_key) for block in text["body"]
    ]
    if image is not None:
        alt = data["image"]["alt"]
        body.insert(
            0,
            {
                "type": "image",
                "value": {
                    "image": image.pk,
                    "alt_text": alt.get(language) or alt["fi"],
                    "caption": "",
                },
            },
        )
    page.body = [block for block in body if block is not None]
    page.references = [
        {"type": "reference", "value": {"title": reference["title"], "url": reference["url"]}}
        for reference in text.get("references", [])
    ]
    reviewer = data.get("reviewer") or {}
    page.reviewer_name = reviewer.get("name", "")
    page.reviewer_title = reviewer.get("title", "")
    page.reviewer_organisation = reviewer.get("organisation", "")
    page.reviewed_on = parse_date(data["reviewed_on"]) if data.get("reviewed_on") else None
    page.next_review_due = default_next_review(page.reviewed_on) if page.reviewed_on else None
    page.audiences = list(TargetGroup.objects.filter(code__in=data["audiences"], locale=locale))
    page.life_situations = list(
        LifeSituation.objects.filter(code__in=data["life_situations"], locale=locale)
    )
    page.topics = list(Topic.objects.filter(code=data["topic"], locale=locale))
    # The file's keywords are Finnish: they describe the Finnish page only.
    page.keywords.set(data.get("keywords", []) if language == "fi" else [])
    page.save()


def _body_block(
    block: dict[str, Any], *, language: str, pages_by_key: dict[tuple[str, str], ArticlePage]
) -> dict[str, Any] | None:
    kind, value = block["type"], block["value"]
    if kind in ("paragraph", "heading"):
        return {"type": kind, "value": value}
    if kind == "callout":
        return {"type": kind, "value": {**value, "title": value.get("title") or ""}}
    if kind == "faq":
        items = value if isinstance(value, list) else value["items"]
        title = "" if isinstance(value, list) else value.get("title") or ""
        return {"type": kind, "value": {"title": title, "items": items}}
    if kind == "services":
        return {
            "type": kind,
            "value": {
                "title": value.get("title") or "",
                "target_groups": value.get("target_groups", []),
                "life_events": value.get("life_events", []),
                "service_classes": value.get("service_classes", []),
                "area": value.get("area") or "",
            },
        }
    if kind == "link_list":
        links = [
            {"text": link["title"], "url": link["url"], "page": None} for link in value["links"]
        ]
        return {"type": kind, "value": {"title": value.get("title") or "", "links": links}}
    if kind == "internal_link":
        target = pages_by_key.get((value["article"], language))
        if target is None:  # the linked article has no page in this language
            return None
        return {"type": kind, "value": {"page": target.pk, "text": value.get("text") or ""}}
    raise ValueError(f"Unknown demo body block type {kind!r}")


def _apply_status(*, page: ArticlePage, data: dict[str, Any]) -> None:
    status = data["status"]
    if data.get("go_live_at"):
        page.go_live_at = parse_datetime(data["go_live_at"])  # Wagtail holds it until then
    if data.get("expire_at"):
        page.expire_at = parse_datetime(data["expire_at"])
    revision = page.save_revision()
    if status == "draft":
        return
    revision.publish()
    if status == "expired":
        # What the scheduler does once expire_at has passed.
        page.refresh_from_db()
        page.unpublish(set_expired=True, log_action="wagtail.unpublish.scheduled")
    elif status == "private":
        # Every copy gets the restriction so that Wagtail's own serving hides them too;
        # cms.selectors would hide all locales even if only one carried it.
        PageViewRestriction.objects.get_or_create(
            page=page, defaults={"restriction_type": PageViewRestriction.LOGIN}
        )


def _ensure_illustration(
    *, data: dict[str, Any], result: DemoContentResult
) -> AbstractImage | None:
    if not data.get("image"):
        return None
    image_model = get_image_model()
    title = f"Demo illustration: {data['key']}"
    image = image_model.objects.filter(title=title).first()
    if image is None:
        image = image_model(
            title=title,
            file=ImageFile(_draw_illustration(seed=data["key"]), name=f"demo-{data['key']}.png"),
        )
        image.save()
        result.images_created += 1
    return image


def _draw_illustration(*, seed: str) -> io.BytesIO:
    """A calm abstract picture (soft shapes, no text), the same for the same seed."""
    rng = random.Random(int(hashlib.sha256(seed.encode()).hexdigest(), 16))  # noqa: S311 (art, not crypto)
    palette = [(244, 162, 97), (42, 157, 143), (233, 196, 106), (38, 70, 83), (231, 111, 81)]
    width, height = 960, 540
    background = tuple(min(255, channel + 150) for channel in rng.choice(palette))
    picture = PillowImage.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(picture)
    for _ in range(7):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.randrange(40, 200)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=rng.choice(palette))
    draw.rectangle((0, height - 60, width, height), fill=rng.choice(palette))
    output = io.BytesIO()
    picture.save(output, format="PNG")
    output.seek(0)
    return output

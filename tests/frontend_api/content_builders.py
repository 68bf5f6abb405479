"""Builders of small content trees for the content API tests: a topic and its articles in
fi/sv/en, published through Wagtail revisions like an editor would (so receivers run)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from wagtail.models import Locale, Page

from cms.models import ArticlePage, LifeSituation, TargetGroup, Topic, TopicPage


def publish(page: Page) -> Page:
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def vocabulary() -> None:
    """KR1.2 and the life situation `baby` (KE1) in fi, sv and en."""
    names = {
        TargetGroup: ("KR1.2", {"fi": "Lapsiperheet", "sv": "Barnfamiljer", "en": "Families"}),
        LifeSituation: ("baby", {"fi": "Vauva", "sv": "Bebis", "en": "Baby"}),
    }
    for model, (code, by_lang) in names.items():
        for lang, name in by_lang.items():
            extra: dict[str, Any] = {"life_event_code": "KE1"} if model is LifeSituation else {}
            model.objects.get_or_create(
                code=code,
                locale=Locale.objects.get(language_code=lang),
                defaults={"name": name, "uri": f"http://uri.example/{code}", **extra},
            )


def topic(home: Page, *, key: str, slugs: dict[str, str]) -> dict[str, TopicPage]:
    """One topic page per language in `slugs` ({lang: slug}); fi first."""
    pages: dict[str, TopicPage] = {}
    for lang, slug in slugs.items():
        locale = Locale.objects.get(language_code=lang)
        term, _ = Topic.objects.get_or_create(
            code=key, locale=locale, defaults={"name": f"{key} {lang}"}
        )
        parent = home if lang == "fi" else home.get_translation(locale)
        page = TopicPage(title=f"{slug.title()}", slug=slug, topic=term, locale=locale)
        if pages:
            page.translation_key = pages["fi"].translation_key
        parent.add_child(instance=page)
        pages[lang] = publish(page)
    return pages


def article(
    topics: dict[str, TopicPage],
    *,
    texts: dict[str, dict[str, Any]],
    audiences: tuple[str, ...] = (),
    life_situations: tuple[str, ...] = (),
    live: bool = True,
    quick: bool = False,
) -> dict[str, ArticlePage]:
    """An article in each language of `texts` ({lang: {title, slug, lead?, body?}}), fi first.

    `quick` makes it live without a revision (no publish receivers): for bulk setups."""
    pages: dict[str, ArticlePage] = {}
    for lang, text in texts.items():
        parent = topics[lang]
        page = ArticlePage(
            title=text["title"],
            slug=text["slug"],
            lead=text.get("lead", f"{text['title']} lead."),
            body=text.get("body", [{"type": "paragraph", "value": "<p>Body text.</p>"}]),
            locale=parent.locale,
            reviewed_on=datetime.date(2026, 1, 15),
            next_review_due=datetime.date(2027, 1, 15),
            live=quick,
            last_published_at=timezone.now() if quick else None,
        )
        if pages:
            page.translation_key = next(iter(pages.values())).translation_key
        parent.add_child(instance=page)
        page.audiences = list(TargetGroup.objects.filter(code__in=audiences, locale=parent.locale))
        page.life_situations = list(
            LifeSituation.objects.filter(code__in=life_situations, locale=parent.locale)
        )
        page.save()
        if quick:
            pass
        elif live:
            publish(page)
        else:
            page.save_revision()
        pages[lang] = ArticlePage.objects.get(pk=page.pk)
    return pages

import pytest
from django.conf import settings
from wagtail.models import Locale
from wagtail_localize.models import StringSegment, StringTranslation, Translation
from wagtail_localize.operations import TranslationCreator

from cms.models import ArticlePage
from cms.selectors import live_articles
from tests.factories.cms import ArticlePageFactory, TopicPageFactory

pytestmark = pytest.mark.django_db

SWEDISH = {
    "Neuvola": "Rådgivning",
    "neuvola": "radgivning",
    "Neuvola tukee perhettä.": "Rådgivningen stöder familjen.",
    "Neuvola tukee koko perhettä raskaudesta kouluikään.": "Rådgivningen stöder hela familjen.",
    "Milloin neuvolaan?": "När ska man gå till rådgivningen?",
    "Raskaus": "Graviditet",
    "raskaus": "graviditet",
}


def translate_to_swedish(instance, user, locale_sv, on_commit) -> None:
    """What a translator does in wagtail-localize's editor: submit, fill every segment, publish.

    wagtail-localize publishes on commit; the test transaction never commits, so run the hooks.
    """
    TranslationCreator(user, [locale_sv]).create_translations(instance)
    translation = Translation.objects.get(
        source__object_id=instance.translation_key, target_locale=locale_sv
    )
    for segment in StringSegment.objects.filter(source=translation.source).select_related(
        "string", "context"
    ):
        StringTranslation.objects.update_or_create(
            translation_of=segment.string,
            locale=locale_sv,
            context=segment.context,
            defaults={"data": SWEDISH.get(segment.string.data, f"[sv] {segment.string.data}")},
        )
    with on_commit(execute=True):
        translation.save_target(user=user, publish=True)


def test_the_content_languages_are_finnish_swedish_and_english():
    assert settings.LANGUAGE_CODE == "fi"
    assert [code for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES] == ["fi", "sv", "en"]


def test_an_article_translated_through_wagtail_localize_goes_live_with_its_own_slug(
    home_page, locale_sv, admin_user, django_capture_on_commit_callbacks
):
    topic = TopicPageFactory(parent=home_page, title="Raskaus", slug="raskaus")
    article = ArticlePageFactory(
        parent=topic,
        title="Neuvola",
        slug="neuvola",
        lead="Neuvola tukee perhettä.",
        body__0__paragraph="<p>Neuvola tukee koko perhettä raskaudesta kouluikään.</p>",
        body__1__heading__text="Milloin neuvolaan?",
    )
    translate_to_swedish(topic, admin_user, locale_sv, django_capture_on_commit_callbacks)

    translate_to_swedish(article, admin_user, locale_sv, django_capture_on_commit_callbacks)

    swedish = ArticlePage.objects.get(translation_key=article.translation_key, locale=locale_sv)
    assert swedish.live
    assert swedish.title == "Rådgivning"
    assert swedish.slug == "radgivning"
    assert swedish.lead == "Rådgivningen stöder familjen."
    assert "Rådgivningen stöder hela familjen." in swedish.body[0].value.source
    assert swedish.body[1].value["text"] == "När ska man gå till rådgivningen?"
    assert swedish.url.endswith("/graviditet/radgivning/")
    assert list(live_articles(language_code="sv")) == [swedish]


def test_a_submitted_translation_stays_a_draft_until_the_translator_publishes_it(
    home_page, locale_sv, admin_user
):
    topic = TopicPageFactory(parent=home_page)
    article = ArticlePageFactory(parent=topic)

    TranslationCreator(admin_user, [locale_sv]).create_translations(article)

    swedish = ArticlePage.objects.get(translation_key=article.translation_key, locale=locale_sv)
    assert not swedish.live
    assert list(live_articles(language_code="sv")) == []


def test_every_configured_language_has_a_home_page(home_page):
    languages = {page.locale.language_code for page in home_page.get_translations(inclusive=True)}

    assert (
        languages
        == {locale.language_code for locale in Locale.objects.all()}
        == {
            "fi",
            "sv",
            "en",
        }
    )

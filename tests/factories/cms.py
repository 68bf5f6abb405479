"""Factories of the cms app. Page factories take `parent=`; StreamField content uses
`body__0__paragraph="<p>…</p>"` or `body__0__heading__text="…"`."""

import datetime

import factory
import wagtail_factories
from factory.django import DjangoModelFactory
from wagtail.models import Locale
from wagtail.rich_text import RichText

from cms import blocks
from cms.models import ArticlePage, LifeSituation, TargetGroup, Topic, TopicPage


def default_locale() -> Locale:
    return Locale.get_default()


class VocabularyFactory(DjangoModelFactory):
    locale = factory.LazyFunction(default_locale)
    name = factory.LazyAttribute(lambda term: f"Term {term.code}")

    class Meta:
        abstract = True
        django_get_or_create = ("code", "locale")


class TargetGroupFactory(VocabularyFactory):
    code = factory.Sequence(lambda n: f"KR1.{n + 1}")
    uri = factory.LazyAttribute(
        lambda term: f"http://uri.suomi.fi/codelist/ptv/ptvkohderyhmat/code/{term.code}"
    )

    class Meta:
        model = TargetGroup


class LifeSituationFactory(VocabularyFactory):
    code = factory.Sequence(lambda n: f"KE{n + 1}")

    class Meta:
        model = LifeSituation


class TopicFactory(VocabularyFactory):
    code = factory.Sequence(lambda n: f"topic-{n}")

    class Meta:
        model = Topic


class RichTextBlockFactory(wagtail_factories.blocks.BlockFactory):
    """`body__0__paragraph="<p>…</p>"` gives a paragraph with that HTML."""

    class Meta:
        model = blocks.ParagraphBlock

    @classmethod
    def _construct_block(cls, block_class, *args, **kwargs):
        return RichText(kwargs.get("value") or "<p>Lorem ipsum.</p>")


class HeadingBlockFactory(wagtail_factories.StructBlockFactory):
    text = "Heading"
    level = "h2"

    class Meta:
        model = blocks.HeadingBlock


class CalloutBlockFactory(wagtail_factories.StructBlockFactory):
    kind = "info"
    title = "Good to know"
    text = factory.LazyFunction(lambda: RichText("<p>Callout text.</p>"))

    class Meta:
        model = blocks.CalloutBlock


class ServicesBlockFactory(wagtail_factories.StructBlockFactory):
    title = "Services near you"
    target_groups = factory.LazyFunction(lambda: ["KR1.2"])
    life_events = factory.LazyFunction(list)
    service_classes = factory.LazyFunction(list)
    area = ""

    class Meta:
        model = blocks.ServicesBlock


class ArticleBodyFactory(wagtail_factories.StreamBlockFactory):
    paragraph = factory.SubFactory(RichTextBlockFactory)
    heading = factory.SubFactory(HeadingBlockFactory)
    callout = factory.SubFactory(CalloutBlockFactory)
    services = factory.SubFactory(ServicesBlockFactory)

    class Meta:
        model = blocks.ArticleBodyBlock


class TopicPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Topic {n}")
    topic = factory.SubFactory(TopicFactory)
    intro = "Guidance on one theme."

    class Meta:
        model = TopicPage


class ArticlePageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Article {n}")
    lead = "A short lead for the article."
    body = wagtail_factories.StreamFieldFactory(ArticleBodyFactory)
    reviewer_name = "Anna Asiantuntija"
    reviewer_title = "Public health nurse"
    reviewer_organisation = "THL"
    reviewed_on = datetime.date(2026, 1, 15)

    class Meta:
        model = ArticlePage


__all__ = [
    "ArticlePageFactory",
    "LifeSituationFactory",
    "TargetGroupFactory",
    "TopicFactory",
    "TopicPageFactory",
]

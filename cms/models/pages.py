"""The page tree of one locale: HomePage → TopicPage → ArticlePage."""

import datetime

from django import forms
from django.db import models
from django.http import HttpRequest, HttpResponse
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.blocks import ArticleBodyBlock, ReferenceBlock


def default_next_review(reviewed_on: datetime.date) -> datetime.date:
    """One year after the review; 29 February falls back to 28 February."""
    try:
        return reviewed_on.replace(year=reviewed_on.year + 1)
    except ValueError:
        return reviewed_on.replace(year=reviewed_on.year + 1, day=28)


class LocalizedVocabularyForm(WagtailAdminPageForm):
    """Offers only the vocabulary terms of the page's own locale."""

    vocabulary_fields = ("topic", "audiences", "life_situations", "topics")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        locale_id = getattr(self.instance, "locale_id", None)
        for name in self.vocabulary_fields:
            if name in self.fields and locale_id:
                field = self.fields[name]
                field.queryset = field.queryset.filter(locale_id=locale_id)


class HeadlessPreviewMixin:
    """Preview opens the frontend (settings.PESA_FRONTEND_URL) with a signed, expiring token."""

    def serve_preview(self, request: HttpRequest, mode_name: str) -> HttpResponse:
        from cms.services.preview import preview_response

        return preview_response(page=self, request=request)


class HomePage(Page):
    """Root of one locale's page tree; topic pages live under it."""

    max_count_per_parent = 1
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.TopicPage"]


class TopicPage(HeadlessPreviewMixin, Page):
    """One theme of the guidance (pregnancy and birth, school age, …); articles live under it."""

    topic = models.ForeignKey(
        "cms.Topic", null=True, blank=False, on_delete=models.PROTECT, related_name="pages"
    )
    intro = models.CharField(max_length=300, blank=True)

    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.ArticlePage"]
    template = "cms/topic_page.html"
    base_form_class = LocalizedVocabularyForm

    content_panels = [
        *Page.content_panels,
        FieldPanel("topic"),
        FieldPanel("intro", widget=forms.Textarea(attrs={"rows": 3})),
    ]
    search_fields = [*Page.search_fields, index.SearchField("intro")]


class ArticleKeyword(TaggedItemBase):
    content_object = ParentalKey(
        "cms.ArticlePage", on_delete=models.CASCADE, related_name="keyword_items"
    )


class ArticlePage(HeadlessPreviewMixin, Page):
    """Expert-reviewed national guidance for families, young people and professionals."""

    lead = models.CharField(max_length=300, help_text="Plain text, at most 300 characters.")
    body = StreamField(ArticleBodyBlock(), blank=True)
    audiences = ParentalManyToManyField("cms.TargetGroup", blank=True, related_name="articles")
    life_situations = ParentalManyToManyField(
        "cms.LifeSituation", blank=True, related_name="articles"
    )
    topics = ParentalManyToManyField("cms.Topic", blank=True, related_name="articles")
    reviewer_name = models.CharField("expert reviewer", max_length=200, blank=True)
    reviewer_title = models.CharField("reviewer's title", max_length=200, blank=True)
    reviewer_organisation = models.CharField("reviewer's organisation", max_length=200, blank=True)
    reviewed_on = models.DateField(null=True, blank=True)
    next_review_due = models.DateField(
        null=True, blank=True, help_text="Defaults to one year after the review."
    )
    references = StreamField([("reference", ReferenceBlock())], blank=True)
    keywords = ClusterTaggableManager(through=ArticleKeyword, blank=True)

    parent_page_types = ["cms.TopicPage"]
    subpage_types: list[str] = []
    template = "cms/article_page.html"
    base_form_class = LocalizedVocabularyForm

    content_panels = [
        *Page.content_panels,
        FieldPanel("lead", widget=forms.Textarea(attrs={"rows": 3, "maxlength": 300})),
        FieldPanel("body"),
        MultiFieldPanel(
            [
                FieldPanel("audiences", widget=forms.CheckboxSelectMultiple),
                FieldPanel("life_situations", widget=forms.CheckboxSelectMultiple),
                FieldPanel("topics", widget=forms.CheckboxSelectMultiple),
                FieldPanel("keywords"),
            ],
            heading="Classification",
        ),
        MultiFieldPanel(
            [
                FieldRowPanel(
                    [
                        FieldPanel("reviewer_name"),
                        FieldPanel("reviewer_title"),
                        FieldPanel("reviewer_organisation"),
                    ]
                ),
                FieldRowPanel([FieldPanel("reviewed_on"), FieldPanel("next_review_due")]),
            ],
            heading="Expert review",
        ),
        FieldPanel("references"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("lead"),
        index.SearchField("body"),
        # The admin's page search autocompletes: without these it would match titles only.
        index.AutocompleteField("lead"),
        index.AutocompleteField("body"),
        index.FilterField("next_review_due"),
    ]

    def clean(self) -> None:
        super().clean()
        if self.reviewed_on and not self.next_review_due:
            self.next_review_due = default_next_review(self.reviewed_on)

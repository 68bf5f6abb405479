"""Shared vocabularies: translatable snippets keyed by the code of a national code list.

Federated services store the same codes as plain strings (target group "KR1.2", life event
"KE1"), so articles and services join on `code`, never on a primary key: every locale has its
own row for a term, all rows of a term share `code` (and `translation_key`).
"""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.models import TranslatableMixin
from wagtail.search import index
from wagtail_localize.fields import SynchronizedField, TranslatableField


class Vocabulary(TranslatableMixin, index.Indexed, models.Model):
    code = models.CharField(
        max_length=64, db_index=True, help_text="Code in the national code list, e.g. KR1.2."
    )
    uri = models.URLField(
        max_length=500, blank=True, help_text="URI of the code in the national code list."
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    sort_order = models.PositiveIntegerField(default=0)

    panels = [
        FieldPanel("code", read_only=True),
        FieldPanel("uri", read_only=True),
        FieldPanel("name"),
        FieldPanel("description"),
    ]
    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.FilterField("code"),
        index.FilterField("locale"),
    ]
    translatable_fields = [
        TranslatableField("name"),
        TranslatableField("description"),
        SynchronizedField("code"),
        SynchronizedField("uri"),
        SynchronizedField("sort_order"),
    ]

    class Meta(TranslatableMixin.Meta):
        abstract = True
        ordering = ["sort_order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "locale"], name="%(app_label)s_%(class)s_unique_code_per_locale"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class TargetGroup(Vocabulary):
    """PTV target group (code list ptvkohderyhmat), e.g. KR1.2 children and families."""

    broader_code = models.CharField(max_length=64, blank=True)

    translatable_fields = [*Vocabulary.translatable_fields, SynchronizedField("broader_code")]

    class Meta(Vocabulary.Meta):
        verbose_name = "target group"


class LifeSituation(Vocabulary):
    """Life situation (pregnancy, separation, …) with its PTV life event code where one exists.

    Services carry PTV life event codes (ptvelamantilanteet, e.g. KE1), so that is the join key.
    """

    life_event_code = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="PTV life event code (ptvelamantilanteet), e.g. KE1; empty when there is none.",
    )

    panels = [*Vocabulary.panels, FieldPanel("life_event_code", read_only=True)]
    translatable_fields = [*Vocabulary.translatable_fields, SynchronizedField("life_event_code")]

    class Meta(Vocabulary.Meta):
        verbose_name = "life situation"


class Topic(Vocabulary):
    """Theme of the national guidance (pregnancy and birth, school age, …); one TopicPage each."""

    class Meta(Vocabulary.Meta):
        verbose_name = "topic"

"""Admin wiring: the shared vocabularies as snippets, grouped under one menu item."""

from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from cms.models import LifeSituation, TargetGroup, Topic


class VocabularyViewSet(SnippetViewSet):
    list_display = ["name", "code", "locale"]
    list_filter = ["locale"]
    search_fields = ["name", "code"]
    ordering = ["sort_order", "code"]


class TargetGroupViewSet(VocabularyViewSet):
    model = TargetGroup
    icon = "group"


class LifeSituationViewSet(VocabularyViewSet):
    model = LifeSituation
    icon = "calendar-alt"


class TopicViewSet(VocabularyViewSet):
    model = Topic
    icon = "tag"


class VocabularyViewSetGroup(SnippetViewSetGroup):
    items = (TopicViewSet, LifeSituationViewSet, TargetGroupViewSet)
    menu_label = "Vocabularies"
    menu_icon = "list-ul"
    menu_name = "vocabularies"


register_snippet(VocabularyViewSetGroup)

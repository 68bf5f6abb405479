"""Models of the cms app: one module per kind; everything is importable from `cms.models`."""

from cms.models.heartbeat import WorkerHeartbeat
from cms.models.pages import ArticleKeyword, ArticlePage, HomePage, TopicPage
from cms.models.vocabularies import LifeSituation, TargetGroup, Topic

__all__ = [
    "ArticleKeyword",
    "ArticlePage",
    "HomePage",
    "LifeSituation",
    "TargetGroup",
    "Topic",
    "TopicPage",
    "WorkerHeartbeat",
]

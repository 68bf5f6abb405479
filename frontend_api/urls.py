from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from frontend_api import ingest
from frontend_api.views.changes import ChangesView
from frontend_api.views.content import (
    ArticleViewSet,
    LifeSituationView,
    PreviewView,
    TargetGroupView,
    TopicViewSet,
)
from frontend_api.views.search import SearchView
from frontend_api.views.services import AreaViewSet, OrganizationViewSet, ServiceViewSet

router = DefaultRouter()
router.register("services", ServiceViewSet, basename="service")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("areas", AreaViewSet, basename="area")
router.register("articles", ArticleViewSet, basename="article")
router.register("topics", TopicViewSet, basename="topic")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("sources/<slug:slug>/feed", ingest.SourceFeedPushView.as_view(), name="source-feed-push"),
    path("changes/", ChangesView.as_view(), name="changes"),
    path("search/", SearchView.as_view(), name="search"),
    path("preview/", PreviewView.as_view(), name="preview"),
    path("vocabularies/target-groups/", TargetGroupView.as_view(), name="vocabulary-target-groups"),
    path(
        "vocabularies/life-situations/",
        LifeSituationView.as_view(),
        name="vocabulary-life-situations",
    ),
    *router.urls,
]

from django.urls import NoReverseMatch, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import APIRootView, DefaultRouter

from cms.public_url import public_url
from frontend_api import ingest
from frontend_api.errors import api_not_found
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


class PublicAPIRootView(APIRootView):
    """The index of list endpoints, its links under the public base URL (not the Host)."""

    def get(self, request, *args, **kwargs):
        links = {}
        for key, url_name in self.api_root_dict.items():
            try:
                links[key] = public_url(reverse(url_name))
            except NoReverseMatch:
                continue
        return Response(links)


class PublicRouter(DefaultRouter):
    APIRootView = PublicAPIRootView


router = PublicRouter()
router.register("services", ServiceViewSet, basename="service")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("areas", AreaViewSet, basename="area")
router.register("articles", ArticleViewSet, basename="article")
router.register("topics", TopicViewSet, basename="topic")

v1_patterns = [
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

# Mounted at /api/ (cms/urls.py): version 1, and a 404 problem for anything else.
urlpatterns = [
    path("v1/", include(v1_patterns)),
    re_path(r"^(?P<rest>.*)$", api_not_found),
]

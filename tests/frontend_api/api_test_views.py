"""Throwaway views and a urlconf that exercise the API infrastructure without content models.

WebhookSubscription stands in for a content model: it is the one model this app owns.
"""

import django_filters
from django.urls import include, path
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from frontend_api.base import PublicAPIView, PublicReadOnlyViewSet
from frontend_api.models import WebhookSubscription
from frontend_api.pagination import PesaCursorPagination
from frontend_api.problems import problem_response

# Per-name texts: "Alpha" has all three languages, "Beta" Finnish only.
TEXTS = {
    "Alpha": {"fi": "Alfa", "sv": "Alfa på svenska", "en": "Alpha in English"},
    "Beta": {"fi": "Beeta", "sv": None, "en": ""},
}


class ThingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.SerializerMethodField()

    def get_title(self, obj):
        choice = self.context["request"].language_choice
        return choice.text(TEXTS.get(obj.name, {"fi": obj.name}))


class ThingFilterSet(django_filters.FilterSet):
    active = django_filters.BooleanFilter()
    name = django_filters.CharFilter()
    created = django_filters.DateFromToRangeFilter(field_name="created_at")

    class Meta:
        model = WebhookSubscription
        fields = ("active", "name", "created")


class ThingViewSet(PublicReadOnlyViewSet):
    serializer_class = ThingSerializer
    filterset_class = ThingFilterSet

    def get_queryset(self):
        return WebhookSubscription.objects.order_by("pk")


class CursorThingViewSet(ThingViewSet):
    pagination_class = PesaCursorPagination


class SearchLikeView(PublicAPIView):
    extra_query_params = ("q",)

    def get(self, request):
        if not request.query_params.get("q"):
            raise ValidationError({"q": ["This parameter is required."]})
        return Response({"q": request.query_params["q"], "lang": request.language_choice.requested})


class PreviewLikeView(PublicAPIView):
    cache_responses = False

    def get(self, request):
        response = Response({"draft": True})
        response["Cache-Control"] = "private, no-store"
        return response


class BoomView(PublicAPIView):
    def get(self, request):
        raise RuntimeError("boom")


class TooLargeView(APIView):
    def post(self, request):
        return problem_response(413, detail="At most 10 MB.", max_bytes=10 * 1024 * 1024)


class EchoWriteView(APIView):
    def post(self, request):
        return Response({"received": request.data})


router = SimpleRouter()
router.register("things", ThingViewSet, basename="thing")
router.register("cursor-things", CursorThingViewSet, basename="cursor-thing")

api_patterns = [
    *router.urls,
    path("search/", SearchLikeView.as_view()),
    path("preview/", PreviewLikeView.as_view()),
    path("boom/", BoomView.as_view()),
    path("too-large/", TooLargeView.as_view()),
    path("echo/", EchoWriteView.as_view()),
]

urlpatterns = [path("api/v1/", include(api_patterns))]

handler404 = "frontend_api.errors.handler404"
handler500 = "frontend_api.errors.handler500"

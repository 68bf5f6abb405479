"""The bench urlconf: all of cms.urls plus the baselines under /bench/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.views import PagesAPIViewSet

from bench.baselines import views
from cms import urls as cms_urls

wagtail_api = WagtailAPIRouter("bench_wagtailapi")
wagtail_api.register_endpoint("pages", PagesAPIViewSet)

drf = SimpleRouter(trailing_slash=True)
drf.register("services", views.ServiceViewSet, basename="bench-drf-service")

urlpatterns = [
    path("bench/hello", views.hello),
    path("bench/wagtail-api/v2/", wagtail_api.urls),
    path("bench/drf/", include(drf.urls)),
    *cms_urls.urlpatterns,
]

handler400 = cms_urls.handler400
handler403 = cms_urls.handler403
handler404 = cms_urls.handler404
handler500 = cms_urls.handler500

from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms import metrics, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    # /api/v1/…, and a 404 problem for anything else under /api/ (never a page of the site).
    path("api/", include("frontend_api.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", include(wagtail_urls))]

# problem+json under /api/, Django's own pages elsewhere.
handler400 = "frontend_api.errors.handler400"
handler403 = "frontend_api.errors.handler403"
handler404 = "frontend_api.errors.handler404"
handler500 = "frontend_api.errors.handler500"

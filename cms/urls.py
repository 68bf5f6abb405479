from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms import views
from frontend_api.errors import api_not_found

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("api/v1/", include("frontend_api.urls")),
    # Anything else under /api/ is a 404 problem, never a page of the site.
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", include(wagtail_urls))]

# problem+json under /api/, Django's own pages elsewhere.
handler400 = "frontend_api.errors.handler400"
handler403 = "frontend_api.errors.handler403"
handler404 = "frontend_api.errors.handler404"
handler500 = "frontend_api.errors.handler500"

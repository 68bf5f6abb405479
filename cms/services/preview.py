"""Headless preview: the admin's Preview opens the frontend with a signed, expiring token.

The token names a page, not a snapshot: the frontend asks the API for the page's latest draft
revision (`cms.selectors.page_for_preview_token`), so an editor saves a draft to preview it.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from wagtail.models import Page

PREVIEW_TOKEN_SALT = "pesa.cms.preview"  # noqa: S105 (a namespace, not a secret)


def create_preview_token(*, page: Page) -> str:
    """Signed and timestamped; valid for settings.PESA_PREVIEW_MAX_AGE seconds."""
    return signing.dumps({"page": page.pk}, salt=PREVIEW_TOKEN_SALT)


def preview_url(*, page: Page, token: str) -> str:
    query = urlencode(
        {
            "token": token,
            "content_type": page._meta.label_lower,
            "lang": page.locale.language_code,
        }
    )
    return f"{settings.PESA_FRONTEND_URL.rstrip('/')}/preview?{query}"


def preview_response(*, page: Page, request: HttpRequest) -> HttpResponse:
    """What Wagtail shows in its preview panel: a redirect to the frontend's preview route."""
    if page.pk is None:
        return TemplateResponse(request, "cms/preview_unsaved.html", {"page": page})
    return HttpResponseRedirect(preview_url(page=page, token=create_preview_token(page=page)))

"""Reads of the cms app. The public visibility rule is written once, here.

A page is public when it is live, not past its expiry time, and neither it nor any ancestor
carries a view restriction *in any locale*: restricting the Finnish page hides the Swedish and
English copies too, because Wagtail itself would only hide the restricted page's own subtree.
"""

from functools import reduce
from operator import or_

from django.conf import settings
from django.core import signing
from django.db.models import Q, QuerySet
from django.utils import timezone
from wagtail.models import Locale, Page, PageViewRestriction

from cms.exceptions import PreviewTokenExpired, PreviewTokenInvalid
from cms.models import ArticlePage, LifeSituation, TargetGroup, Topic, TopicPage
from cms.services.preview import PREVIEW_TOKEN_SALT

VOCABULARIES = {
    "targetgroup": TargetGroup,
    "lifesituation": LifeSituation,
    "topic": Topic,
}


def restricted_page_paths() -> list[str]:
    """Tree paths of every locale's copy of a page that has a view restriction."""
    restricted_keys = PageViewRestriction.objects.values("page__translation_key")
    return list(
        Page.objects.filter(translation_key__in=restricted_keys).values_list("path", flat=True)
    )


def public_pages(queryset: QuerySet) -> QuerySet:
    """Narrows any page queryset to what the public may see (see the module docstring)."""
    now = timezone.now()
    queryset = queryset.live().filter(Q(expire_at__isnull=True) | Q(expire_at__gt=now))
    paths = restricted_page_paths()
    if paths:
        queryset = queryset.exclude(reduce(or_, (Q(path__startswith=path) for path in paths)))
    return queryset


def _in_locale(queryset: QuerySet, language_code: str | None) -> QuerySet:
    if language_code is None:
        return queryset
    return queryset.filter(locale__language_code=language_code)


def live_articles(*, language_code: str | None = None) -> QuerySet[ArticlePage]:
    """Everything the public API may show of the articles. Drafts and private pages never pass."""
    return _in_locale(public_pages(ArticlePage.objects.all()), language_code)


def live_topics(*, language_code: str | None = None) -> QuerySet[TopicPage]:
    return _in_locale(public_pages(TopicPage.objects.all()), language_code)


def page_for_preview_token(token: str) -> Page:
    """The latest draft revision of the page the token names, as an unsaved page object.

    Raises PreviewTokenExpired after settings.PESA_PREVIEW_MAX_AGE seconds and
    PreviewTokenInvalid for a forged or malformed token or a deleted page.
    """
    try:
        data = signing.loads(token, salt=PREVIEW_TOKEN_SALT, max_age=settings.PESA_PREVIEW_MAX_AGE)
    except signing.SignatureExpired as error:
        raise PreviewTokenExpired(str(error)) from error
    except signing.BadSignature as error:
        raise PreviewTokenInvalid(str(error)) from error
    page_id = data.get("page") if isinstance(data, dict) else None
    page = Page.objects.filter(pk=page_id).first() if isinstance(page_id, int) else None
    if page is None:
        raise PreviewTokenInvalid("The page of this preview token no longer exists.")
    return page.specific.get_latest_revision_as_object()


def vocabulary_choices(
    *, model_name: str, language_code: str | None = None
) -> list[tuple[str, str]]:
    """(code, label) pairs of one vocabulary in one locale (default: the default locale)."""
    model = VOCABULARIES[model_name]
    locale_filter = (
        Q(locale__language_code=language_code)
        if language_code
        else Q(locale__language_code=Locale.get_default().language_code)
    )
    return [
        (term.code, f"{term.name} ({term.code})")
        for term in model.objects.filter(locale_filter).order_by("sort_order", "code")
    ]


def life_event_choices() -> list[tuple[str, str]]:
    """(PTV life event code, label) pairs for the services block, in the default language."""
    choices: dict[str, list[str]] = {}
    terms = LifeSituation.objects.filter(
        locale__language_code=Locale.get_default().language_code
    ).exclude(life_event_code="")
    for term in terms.order_by("sort_order", "code"):
        choices.setdefault(term.life_event_code, []).append(term.name)
    return [(code, f"{' / '.join(names)} ({code})") for code, names in choices.items()]


def vocabulary_terms(
    *, model_name: str, codes: list[str], language_code: str
) -> QuerySet[TargetGroup | LifeSituation | Topic]:
    """Terms with the given codes in one locale: how articles and services join by code."""
    return VOCABULARIES[model_name].objects.filter(
        code__in=codes, locale__language_code=language_code
    )

"""Site skeleton, admin user and worker heartbeat."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from wagtail.models import Locale, Page, Site

from cms.models import HomePage, WorkerHeartbeat


def record_worker_heartbeat(*, hostname: str) -> WorkerHeartbeat:
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults={"seen_at": timezone.now()}
    )
    return heartbeat


def ensure_locales() -> list[Locale]:
    """Creates a Locale for every configured content language (PESA_LANGUAGES)."""
    return [
        Locale.objects.get_or_create(language_code=code)[0]
        for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES
    ]


@transaction.atomic
def ensure_site_structure() -> HomePage:
    """Idempotently builds the skeleton: locales, one home page per locale, the default site.

    The Finnish home page is the site root; the other locales are translations of it.
    """
    locales = ensure_locales()
    default_locale = Locale.get_default()
    root = Page.get_first_root_node()
    home = HomePage.objects.filter(locale=default_locale).first()
    if home is None:
        # Wagtail's initial migration leaves a plain "Welcome" page; it has no place in Pesä.
        Site.objects.filter(root_page__content_type__model="page", root_page__depth=2).delete()
        Page.objects.filter(depth=2, content_type__app_label="wagtailcore").delete()
        home = root.add_child(instance=HomePage(title="Pesä", slug="home", locale=default_locale))
    for locale in locales:
        if locale != default_locale and not home.has_translation(locale):
            home.copy_for_translation(locale, copy_parents=True).save_revision().publish()
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="Pesä"
        )
    elif site.root_page_id != home.pk:
        site.root_page = home
        site.save(update_fields=["root_page"])
    return home


def ensure_admin_user(*, username: str, email: str, password: str) -> tuple[User, bool]:
    """Creates the superuser if missing; never changes an existing user's password."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=username, defaults={"email": email, "is_staff": True, "is_superuser": True}
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user, created

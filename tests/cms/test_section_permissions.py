"""An editor whose group holds page permissions under one topic only, through the admin URLs."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from wagtail.models import GroupPagePermission, Page
from wagtail.test.utils.form_data import nested_form_data, streamfield

from cms.models import ArticlePage
from tests.factories.cms import ArticlePageFactory, TopicPageFactory

pytestmark = pytest.mark.django_db

SECTION_PERMISSIONS = ("add_page", "change_page", "publish_page", "bulk_delete_page")


@pytest.fixture
def sections(home_page):
    own = TopicPageFactory(parent=home_page, title="Neuvola", slug="neuvola")
    other = TopicPageFactory(parent=home_page, title="Päivähoito", slug="paivahoito")
    return {
        "own": own,
        "own_article": ArticlePageFactory(parent=own, title="Rokotukset", slug="rokotukset"),
        "other": other,
        "other_article": ArticlePageFactory(parent=other, title="Hoitopaikka", slug="hoitopaikka"),
    }


@pytest.fixture
def section_editor(sections, client):
    group = Group.objects.create(name="Neuvola editors")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in SECTION_PERMISSIONS:
        GroupPagePermission.objects.create(
            group=group,
            page=sections["own"],
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            ),
        )
    user = get_user_model().objects.create_user("section-editor", password="x")
    user.groups.add(group)
    client.force_login(user)
    return client


def edited(article, title, **extra):
    return nested_form_data(
        {
            "title": title,
            "slug": article.slug,
            "lead": article.lead,
            "body": streamfield([]),
            "references": streamfield([]),
            "keywords": "",
            **extra,
        }
    )


def test_the_editor_opens_and_publishes_in_their_own_section(sections, section_editor):
    article = sections["own_article"]

    opened = section_editor.get(f"/admin/pages/{article.pk}/edit/")
    published = section_editor.post(
        f"/admin/pages/{article.pk}/edit/",
        edited(article, "Rokotukset 2027", **{"action-publish": "1"}),
    )

    assert opened.status_code == 200
    assert published.status_code == 302
    assert Page.objects.get(pk=article.pk).title == "Rokotukset 2027"


def test_the_editor_cannot_open_an_article_of_another_section(sections, section_editor):
    article = sections["other_article"]

    response = section_editor.get(f"/admin/pages/{article.pk}/edit/")

    assert response.status_code in (302, 403)
    assert f'name="title" value="{article.title}"' not in response.content.decode()


@pytest.mark.parametrize("action", ["action-publish", "action-submit", None])
def test_the_editor_cannot_save_or_publish_in_another_section(sections, section_editor, action):
    article = sections["other_article"]
    revisions = article.revisions.count()
    extra = {action: "1"} if action else {}

    response = section_editor.post(
        f"/admin/pages/{article.pk}/edit/", edited(article, "Hijacked", **extra)
    )

    assert response.status_code in (302, 403)
    assert Page.objects.get(pk=article.pk).title == "Hoitopaikka"
    assert article.revisions.count() == revisions


def test_the_editor_cannot_move_a_page_of_another_section_into_their_own(sections, section_editor):
    article = sections["other_article"]

    section_editor.post(f"/admin/pages/{article.pk}/move/{sections['own'].pk}/confirm/")

    assert Page.objects.get(pk=article.pk).get_parent().pk == sections["other"].pk


def test_the_editor_cannot_move_their_page_into_another_section(sections, section_editor):
    article = sections["own_article"]

    section_editor.post(f"/admin/pages/{article.pk}/move/{sections['other'].pk}/confirm/")

    assert Page.objects.get(pk=article.pk).get_parent().pk == sections["own"].pk


def test_the_editor_cannot_delete_a_page_of_another_section(sections, section_editor):
    article = sections["other_article"]

    response = section_editor.post(f"/admin/pages/{article.pk}/delete/")

    assert response.status_code in (302, 403)
    assert Page.objects.filter(pk=article.pk).exists()


def test_the_editor_cannot_copy_into_another_section(sections, section_editor):
    article = sections["own_article"]

    section_editor.post(
        f"/admin/pages/{article.pk}/copy/",
        {"new_title": "Kopio", "new_slug": "kopio", "new_parent_page": sections["other"].pk},
    )

    assert not Page.objects.filter(slug="kopio").exists()


def test_the_editor_deletes_moves_and_copies_within_their_own_section(sections, section_editor):
    own, article = sections["own"], sections["own_article"]
    spare = ArticlePageFactory(parent=own, title="Poistettava", slug="poistettava")
    sub = TopicPageFactory(parent=own, title="Alaosio", slug="alaosio")

    section_editor.post(
        f"/admin/pages/{article.pk}/copy/",
        {"new_title": "Kopio", "new_slug": "kopio", "new_parent_page": own.pk},
    )
    section_editor.post(f"/admin/pages/{article.pk}/move/{sub.pk}/confirm/")
    section_editor.post(f"/admin/pages/{spare.pk}/delete/")

    assert Page.objects.get(slug="kopio").get_parent().pk == own.pk
    assert Page.objects.get(pk=article.pk).get_parent().pk == sub.pk
    assert not ArticlePage.objects.filter(pk=spare.pk).exists()

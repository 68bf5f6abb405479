import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from wagtail.models import Page, Workflow

from cms.models import ArticlePage
from tests.factories.cms import ArticlePageFactory, TopicPageFactory

pytestmark = pytest.mark.django_db


def user_in(group_name: str, username: str):
    user = get_user_model().objects.create_user(username=username, password="x")
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def editor():
    return user_in("Editors", "editor")


@pytest.fixture
def second_editor():
    return user_in("Editors", "chief-editor")


@pytest.fixture
def reviewer():
    return user_in("Reviewers", "reviewer")


def test_every_page_goes_through_editorial_and_expert_review(home_page):
    workflow = home_page.get_workflow()

    assert workflow == Workflow.objects.get(name="Expert review")
    assert Page.get_first_root_node().get_workflow() == workflow
    tasks = [task.specific for task in workflow.tasks]
    assert [(task.name, [group.name for group in task.groups.all()]) for task in tasks] == [
        ("Editorial review", ["Editors"]),
        ("Expert review", ["Reviewers"]),
    ]


def test_editors_write_but_cannot_publish_and_reviewers_can(home_page, editor, reviewer):
    topic = TopicPageFactory(parent=home_page)

    editor_perms = topic.permissions_for_user(editor)
    reviewer_perms = topic.permissions_for_user(reviewer)

    assert editor_perms.can_add_subpage() and editor_perms.can_edit()
    assert not editor_perms.can_publish()
    assert reviewer_perms.can_edit() and reviewer_perms.can_publish()
    assert editor.has_perm("wagtailadmin.access_admin")
    assert reviewer.has_perm("wagtailadmin.access_admin")


def test_an_article_is_published_after_editorial_and_expert_approval(
    home_page, editor, second_editor, reviewer, django_capture_on_commit_callbacks
):
    topic = TopicPageFactory(parent=home_page)
    article = ArticlePageFactory(parent=topic, live=False)
    article.save_revision(user=editor)

    workflow_state = article.get_workflow().start(article, editor)
    first = workflow_state.current_task_state
    assert first.task.name == "Editorial review"
    assert first.task.specific.get_actions(article, reviewer) == []
    first.task.specific.on_action(first, second_editor, "approve")

    workflow_state.refresh_from_db()
    second = workflow_state.current_task_state
    assert second.task.name == "Expert review"
    assert not ArticlePage.objects.get(pk=article.pk).live
    with django_capture_on_commit_callbacks(execute=True):
        second.task.specific.on_action(second, reviewer, "approve")

    article.refresh_from_db()
    assert article.live
    workflow_state.refresh_from_db()
    assert workflow_state.status == workflow_state.STATUS_APPROVED

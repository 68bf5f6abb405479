"""The editor's path in a real browser: write an article, submit it, two approvals, live.

Playwright's sync API runs an event loop in its thread, and Django refuses ORM calls from a
thread with a running loop. So each browser phase runs in a worker thread of its own, and the
test's own thread does every database read and write between the phases.
"""

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from cms.models import ArticlePage
from cms.services import ensure_site_structure
from tests.factories.cms import TopicPageFactory

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


def in_browser(base_url: str, username: str, steps: Callable, screenshot: Path | None = None):
    """Logs `username` in to the admin in a fresh headless Chromium and runs `steps(page)`."""

    def run():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.set_default_timeout(15_000)
                page.goto(f"{base_url}/admin/login/")
                page.fill("#id_username", username)
                page.fill("#id_password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{base_url}/admin/")
                result = steps(page)
                if screenshot is not None:
                    page.screenshot(path=str(screenshot), full_page=True)
                return result
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(run).result()


def open_more_actions(page) -> None:
    page.locator("footer [data-w-dropdown-target='toggle']").first.click()


def create_user(username: str, group: str):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    user.groups.add(Group.objects.get(name=group))
    return user


def test_editor_writes_an_article_and_it_goes_live_after_editorial_and_expert_approval(
    live_server,
):
    home = ensure_site_structure()
    topic = TopicPageFactory(parent=home, title="Raskaus ja synnytys", slug="raskaus")
    create_user("editor", "Editors")
    create_user("chief", "Editors")
    create_user("reviewer", "Reviewers")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "editor-workflow-approved.png"

    def write_and_submit(page):
        page.goto(f"{live_server.url}/admin/pages/add/cms/articlepage/{topic.pk}/")
        page.fill("#id_title", "Neuvolakäynnit raskauden aikana")
        page.fill("#id_lead", "Neuvola seuraa raskauden etenemistä ja tukee koko perhettä.")
        open_more_actions(page)
        page.get_by_role("button", name=re.compile(r"^Submit to")).click()
        page.wait_for_url(re.compile(rf"/admin/pages/{topic.pk}/"))

    in_browser(live_server.url, "editor", write_and_submit)

    article = ArticlePage.objects.child_of(topic).get(title="Neuvolakäynnit raskauden aikana")
    assert not article.live
    assert article.current_workflow_task.name == "Editorial review"

    def approve(page):
        page.goto(f"{live_server.url}/admin/pages/{article.pk}/edit/")
        open_more_actions(page)
        # The last task's button reads "Approve and Publish".
        page.get_by_role("button", name=re.compile(r"^Approve( and Publish)?$")).click()
        page.wait_for_url(re.compile(r"/admin/"))
        page.wait_for_load_state("networkidle")

    in_browser(live_server.url, "chief", approve)

    article.refresh_from_db()
    assert not article.live
    assert article.current_workflow_task.name == "Expert review"

    def approve_and_view(page):
        approve(page)
        page.goto(f"{live_server.url}/admin/pages/{topic.pk}/")

    in_browser(live_server.url, "reviewer", approve_and_view, screenshot=screenshot)

    article.refresh_from_db()
    assert article.live
    assert article.url_path.endswith("-raskauden-aikana/")
    assert screenshot.stat().st_size > 0
    print(f"screenshot: {screenshot}")  # noqa: T201

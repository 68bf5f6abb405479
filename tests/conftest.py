"""Shared fixtures and the service rules of the suite.

The suite runs on PostgreSQL: the server `DATABASE_URL` names, else an embedded one
(cms/database.py). Where Redis answers, the integration tests run against a real Celery
worker; where it doesn't, they are skipped with one loud line. Under CI (`CI=true`) no
test may be skipped: a missing service or browser fails the run instead.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing_services() -> list[str]:
    return [name for name, up in settings.PESA_TEST_SERVICES.items() if not up]


def pytest_report_header(config: pytest.Config) -> list[str]:
    database = settings.DATABASES["default"]
    server = database["HOST"] or database.get("OPTIONS", {}).get("host", "")
    missing = missing_services()
    line = f"pesa: PostgreSQL at {server}; services missing: {', '.join(missing) or 'none'}"
    if missing:
        line += " -> integration tests will be SKIPPED (CI fails instead)"
    return [line]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = missing_services()
    if not missing:
        return
    skip = pytest.mark.skip(reason=f"needs {' and '.join(missing)} (not reachable)")
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)


_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI a skip is a failure: integration, browser and search tests must really run."""
    if IN_CI and _skipped and exitstatus == 0:
        session.exitstatus = 1
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"CI forbids skipped tests; {len(_skipped)} skipped: " + ", ".join(_skipped[:10]),
                red=True,
            )


# ---------------------------------------------------------------------------
# The Wagtail tree (cms)
# ---------------------------------------------------------------------------
@pytest.fixture
def locale_fi(db):
    from wagtail.models import Locale

    return Locale.objects.get_or_create(language_code="fi")[0]


@pytest.fixture
def locale_sv(db):
    from wagtail.models import Locale

    return Locale.objects.get_or_create(language_code="sv")[0]


@pytest.fixture
def locale_en(db):
    from wagtail.models import Locale

    return Locale.objects.get_or_create(language_code="en")[0]


@pytest.fixture
def home_page(locale_fi, locale_sv, locale_en):
    """The Finnish site root, with its Swedish and English translations."""
    from cms.services import ensure_site_structure

    return ensure_site_structure()

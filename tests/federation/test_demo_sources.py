import pytest

from federation.models import Channel, Service, SyncRun
from federation.selectors import public_services
from federation.services.demo import load_demo_sources

pytestmark = pytest.mark.django_db


def test_the_demo_imports_real_samples_and_a_second_load_is_a_no_op():
    first = load_demo_sources()

    assert [run.outcome for run in first] == [SyncRun.Outcome.SUCCEEDED] * 3, [
        run.message for run in first
    ]
    assert public_services().filter(source__slug="demo-ptv-samples").exists()
    assert public_services().filter(source__slug="demo-oruk-bristol").count() > 500
    counts = (Service.objects.count(), Channel.objects.count())

    second = load_demo_sources()

    assert [(run.created, run.updated, run.withdrawn) for run in second] == [(0, 0, 0)] * 3
    assert (Service.objects.count(), Channel.objects.count()) == counts

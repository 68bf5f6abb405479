"""The area and code rows of a rewritten service: kept when still wanted, replaced otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from federation.models import Service, ServiceArea, ServiceCode

pytestmark = pytest.mark.django_db


def neuvola(description: str, **changes: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": "s1",
            "data": {
                "name": {"fi": "Neuvola"},
                "description": {"fi": description},
                "municipality_codes": ["091", "049"],
                "county_codes": ["90"],
                "nationwide": False,
                "target_groups": ["KR1.2"],
                "life_events": ["KE1"],
                "service_classes": ["P3.1"],
                **changes,
            },
        }
    ]


def children() -> dict[str, set[tuple[int, str, str]]]:
    return {
        "areas": set(ServiceArea.objects.values_list("pk", "kind", "code")),
        "codes": set(ServiceCode.objects.values_list("pk", "scheme", "code")),
    }


def test_a_description_change_keeps_the_area_and_code_rows_as_they_are(source, feed, sync):
    feed.items = neuvola("Ennen")
    sync(source)
    before = children()

    feed.items = neuvola("Jälkeen")
    run = sync(source)

    assert run.updated == 1
    assert Service.objects.get().description == {"fi": "Jälkeen"}
    assert children() == before


def test_changed_areas_and_codes_replace_only_what_changed(source, feed, sync):
    feed.items = neuvola("Ennen")
    sync(source)
    kept = ServiceArea.objects.get(code="091").pk

    feed.items = neuvola(
        "Ennen", municipality_codes=["091", "092"], target_groups=["KR2"], life_events=[]
    )
    sync(source)

    assert set(ServiceArea.objects.values_list("kind", "code")) == {
        ("municipality", "091"),
        ("municipality", "092"),
        ("county", "90"),
    }
    assert ServiceArea.objects.get(code="091").pk == kept
    assert set(ServiceCode.objects.values_list("scheme", "code")) == {
        ("target_group", "KR2"),
        ("service_class", "P3.1"),
    }

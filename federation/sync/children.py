"""A service's child rows: its areas and codes, derived from its field values."""

from __future__ import annotations

from typing import Any

from federation.models import ServiceArea, ServiceCode
from federation.sync.bulk import insert_rows


def replace_service_children(
    *, created: list[tuple[int, dict[str, Any]]], rewritten: list[tuple[int, dict[str, Any]]]
) -> None:
    """Area and code rows of the services written in this run (only those; a service in
    `created` has none yet). Each service is (pk, its field values by name: `nationwide`,
    the area code lists and the code lists). A rewritten service keeps the rows it still
    wants: most changes (a description) touch none. Test builders write children with it too,
    so their rows are the ones a sync writes."""
    areas: list[tuple[int, str, str]] = []
    codes: list[tuple[int, str, str]] = []
    for pk, service in (*created, *rewritten):
        seen_areas: set[tuple[str, str]] = set()
        if service["nationwide"]:
            seen_areas.add((ServiceArea.Kind.NATIONWIDE, ServiceArea.NATIONWIDE))
        seen_areas.update(
            (ServiceArea.Kind.MUNICIPALITY, str(c)[:3]) for c in service["municipality_codes"]
        )
        seen_areas.update((ServiceArea.Kind.COUNTY, str(c)[:3]) for c in service["county_codes"])
        areas.extend((pk, k, c) for k, c in sorted(seen_areas))
        seen_codes: set[tuple[str, str]] = set()
        for scheme, values in (
            (ServiceCode.Scheme.TARGET_GROUP, service["target_groups"]),
            (ServiceCode.Scheme.LIFE_EVENT, service["life_events"]),
            (ServiceCode.Scheme.SERVICE_CLASS, service["service_classes"]),
        ):
            seen_codes.update((scheme, str(v)[:20]) for v in values)
        codes.extend((pk, s, c) for s, c in sorted(seen_codes))
    rewritten_pks = [pk for pk, _fields in rewritten]
    for model, wanted, names in (
        (ServiceArea, areas, ("service_id", "kind", "code")),
        (ServiceCode, codes, ("service_id", "scheme", "code")),
    ):
        if rewritten_pks:
            current = {
                tuple(row[1:]): row[0]
                for row in model.objects.filter(service_id__in=rewritten_pks).values_list(
                    "pk", *names
                )
            }
            wanted_keys = set(wanted)
            stale = [pk for key, pk in current.items() if key not in wanted_keys]
            if stale:
                model.objects.filter(pk__in=stale).delete()
            wanted = [key for key in wanted if key not in current]
        insert_rows(model, [dict(zip(names, key, strict=True)) for key in wanted])

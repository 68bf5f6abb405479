"""Links between services and channels, and organisations that arrive after their records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, models

from federation.models import Channel, Organization, Service, ServiceChannel, Source
from federation.sync.bulk import chunks, insert_rows

LINK_CHUNK = 2000


def _listing(
    model: type[models.Model], field_name: str, source: Source, ids: list[str]
) -> Iterable[tuple[int, str]]:
    """(pk, id) for each of `ids` that a row of the source names in its JSON list `field_name`."""
    if connection.vendor == "postgresql":
        # One pass over the source's rows; `= ANY(array)` is hashed by PostgreSQL (14+).
        meta = model._meta
        column = f"r.{meta.get_field(field_name).column}"
        listed = f"CASE WHEN jsonb_typeof({column}) = 'array' THEN {column} ELSE '[]' END"
        sql = (
            f"SELECT r.{meta.pk.column}, x FROM {meta.db_table} r "  # noqa: S608
            f"CROSS JOIN LATERAL jsonb_array_elements_text({listed}) x "
            f"WHERE r.{meta.get_field('source').column} = %s AND x = ANY(%s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [source.pk, ids])
            return cursor.fetchall()
    wanted = set(ids)
    rows = model.objects.filter(source=source).values_list("pk", field_name)
    return [
        (pk, str(value))
        for pk, values in rows.iterator(chunk_size=2000)
        for value in values or []
        if str(value) in wanted
    ]


@dataclass(frozen=True)
class _LinkSide:
    """One side of the service–channel links: its records name the other side's records."""

    model: type[models.Model]
    listed_field: str  # JSON list of the other side's origin ids
    link_field: str  # this side's column in ServiceChannel


_SERVICES = _LinkSide(model=Service, listed_field="channel_origin_ids", link_field="service_id")
_CHANNELS = _LinkSide(model=Channel, listed_field="service_origin_ids", link_field="channel_id")


def link_services_and_channels(
    *,
    source: Source,
    services: Sequence[int],
    channels: Sequence[int],
    created_services: Sequence[int],
    created_channels: Sequence[int],
) -> None:
    """Links from both sides of the feed, within the source, for the records written in this
    run only (a link between two unwritten records cannot have changed); only differences
    are written. Works in chunks, so memory does not grow with the source.

    A link is wanted when either record names the other. The written records' own lists
    and the rows at the other end of their current links show all but one case: an unwritten
    record naming a record created in this run, which one pass per side looks up."""
    for side, other, written, other_written, created in (
        (_SERVICES, _CHANNELS, services, channels, created_services),
        (_CHANNELS, _SERVICES, channels, services, created_channels),
    ):
        named_by_unwritten = _named_by_unwritten(
            source=source, side=side, other=other, created=created, other_written=other_written
        )
        for chunk in chunks(sorted(written), LINK_CHUNK):
            _relink(source=source, side=side, other=other, pks=chunk, named_by=named_by_unwritten)


def _named_by_unwritten(
    *,
    source: Source,
    side: _LinkSide,
    other: _LinkSide,
    created: Sequence[int],
    other_written: Sequence[int],
) -> dict[int, set[int]]:
    """{pk of a record created in this run: pks of unwritten `other` records naming it}."""
    found: dict[int, set[int]] = {}
    if not created:
        return found
    if other.model.objects.filter(source=source).count() <= len(other_written):
        return found  # every record of the other side was written: their own lists suffice
    skip = set(other_written)
    for chunk in chunks(sorted(created), 5000):
        pk_of = dict(side.model.objects.filter(pk__in=chunk).values_list("origin_id", "pk"))
        for other_pk, origin_id in _listing(other.model, other.listed_field, source, list(pk_of)):
            if other_pk not in skip:
                found.setdefault(pk_of[origin_id], set()).add(other_pk)
    return found


def _relink(
    *,
    source: Source,
    side: _LinkSide,
    other: _LinkSide,
    pks: list[int],
    named_by: dict[int, set[int]],
) -> None:
    rows = list(
        side.model.objects.filter(pk__in=pks).values_list("pk", "origin_id", side.listed_field)
    )
    names = {str(name) for _pk, _oid, listed in rows for name in listed or []}
    other_pks = _pks_of(other.model, source, names)
    wanted: set[tuple[int, int]] = set()  # (this side's pk, the other side's pk)
    for pk, _oid, listed in rows:
        wanted.update((pk, other_pks[str(name)]) for name in listed or [] if str(name) in other_pks)
        wanted.update((pk, other_pk) for other_pk in named_by.get(pk, ()))
    existing = {
        (mine, theirs): link_pk
        for link_pk, mine, theirs in ServiceChannel.objects.filter(
            **{f"{side.link_field}__in": pks}
        ).values_list("pk", side.link_field, other.link_field)
    }
    doubtful = {theirs for mine, theirs in existing if (mine, theirs) not in wanted}
    if doubtful:
        # A current link this side no longer names stays if the other end still names it.
        origin_of = {pk: origin_id for pk, origin_id, _listed in rows}
        naming = dict(
            other.model.objects.filter(pk__in=sorted(doubtful)).values_list(
                "pk", other.listed_field
            )
        )
        for mine, theirs in existing:
            listed = naming.get(theirs)
            if (
                (mine, theirs) not in wanted
                and isinstance(listed, list)
                and origin_of[mine] in {str(name) for name in listed}
            ):
                wanted.add((mine, theirs))
    stale = [link_pk for pair, link_pk in existing.items() if pair not in wanted]
    if stale:
        ServiceChannel.objects.filter(pk__in=stale).delete()
    missing = sorted(wanted - set(existing))
    insert_rows(
        ServiceChannel,
        [{side.link_field: mine, other.link_field: theirs} for mine, theirs in missing],
    )


def _pks_of(model: type[models.Model], source: Source, origin_ids: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunks(sorted(origin_ids), 5000):
        found.update(
            model.objects.filter(source=source, origin_id__in=chunk).values_list("origin_id", "pk")
        )
    return found


def resolve_organizations(*, source: Source, organizations: Sequence[int]) -> None:
    """Services and channels written before their organisation arrived get it now (only the
    organisations written in this run can be new to them)."""
    for chunk in chunks(sorted(organizations), 5000):
        arrived = dict(Organization.objects.filter(pk__in=chunk).values_list("origin_id", "pk"))
        for model in (Service, Channel):
            pending = (
                model.objects.filter(
                    source=source,
                    organization__isnull=True,
                    organization_origin_id__in=list(arrived),
                )
                .values_list("organization_origin_id", flat=True)
                .distinct()
            )
            for origin_id in list(pending):
                model.objects.filter(
                    source=source, organization__isnull=True, organization_origin_id=origin_id
                ).update(organization_id=arrived[origin_id])

"""Every feed format Pesä reads, by the name stored on a `Source`."""

from __future__ import annotations

from importers.base import Importer
from importers.csv import CsvImporter
from importers.hsds import HsdsImporter, OrukV1Importer
from importers.hsds_tabular import HsdsTabularImporter
from importers.ptv import PtvImporter

IMPORTERS: dict[str, type[Importer]] = {
    cls.format: cls
    for cls in (PtvImporter, HsdsImporter, OrukV1Importer, HsdsTabularImporter, CsvImporter)
}


class UnknownFormat(KeyError):
    """A source names a format no importer reads."""

    def __str__(self) -> str:
        # KeyError would repr() the message; show it as written.
        return str(self.args[0]) if self.args else "unknown feed format"


def get_importer(format: str) -> type[Importer]:
    try:
        return IMPORTERS[format]
    except KeyError:
        known = ", ".join(sorted(IMPORTERS))
        raise UnknownFormat(f"unknown feed format {format!r}; known formats: {known}") from None

"""importers.registry: every format by name."""

from __future__ import annotations

import pytest

from importers.csv import CsvImporter
from importers.hsds import HsdsImporter, OrukV1Importer
from importers.hsds_tabular import HsdsTabularImporter
from importers.ptv import PtvImporter
from importers.registry import IMPORTERS, UnknownFormat, get_importer


def test_every_format_has_its_importer() -> None:
    assert {
        "ptv": PtvImporter,
        "hsds": HsdsImporter,
        "oruk-v1": OrukV1Importer,
        "hsds-tabular": HsdsTabularImporter,
        "csv": CsvImporter,
    } == IMPORTERS
    assert get_importer("ptv") is PtvImporter


def test_unknown_format_is_a_key_error_with_a_readable_message() -> None:
    with pytest.raises(KeyError) as raised:
        get_importer("xml")
    assert isinstance(raised.value, UnknownFormat)
    assert (
        str(raised.value)
        == "unknown feed format 'xml'; known formats: csv, hsds, hsds-tabular, oruk-v1, ptv"
    )

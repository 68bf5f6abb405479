"""importers.cleaning: the repairs every importer shares."""

from __future__ import annotations

import pytest

from importers.cleaning import (
    Repairs,
    clean_email,
    clean_html,
    clean_text,
    clean_url,
    etrs_point,
    etrs_tm35fin_to_wgs84,
    inside_finland,
    missing_essentials,
    wgs84_point,
)


def repairs() -> Repairs:
    return Repairs(source_id="r-1", kind="service")


def test_html_keeps_the_allow_list_and_drops_scripts_and_attributes() -> None:
    log = repairs()
    html = '<p onclick="x()">Hei <b>sinä</b> <a href="javascript:alert(1)">x</a> <a href="https://mll.fi" target="_blank">MLL</a></p><script>alert(1)</script><h2>Otsikko</h2>'
    cleaned = clean_html(html, repairs=log, field="description")
    assert cleaned == (
        '<p>Hei sinä <a rel="noopener noreferrer nofollow">x</a> '
        '<a href="https://mll.fi" rel="noopener noreferrer nofollow">MLL</a></p><h2>Otsikko</h2>'
    )
    assert [(r.field, r.severity) for r in log.items] == [("description", "warning")]


def test_plain_text_becomes_paragraphs_and_lists() -> None:
    assert clean_html("Eka rivi\ntoka\n\n- yksi\n- kaksi") == (
        "<p>Eka rivi<br>toka</p><ul><li>yksi</li><li>kaksi</li></ul>"
    )


def test_empty_html_is_none() -> None:
    assert clean_html("<p><br></p>") is None


def test_draftjs_text_is_decoded() -> None:
    raw = '{"entityMap":{},"blocks":[{"text":"Lapsen palveluohjaus","type":"unstyled"}]}'
    assert clean_html(raw) == "<p>Lapsen palveluohjaus</p>"


def test_text_loses_nul_bytes_tags_and_extra_spaces_with_a_warning() -> None:
    log = repairs()
    assert (
        clean_text("  Perhe\x00kahvila <b>auki</b>&nbsp;tänään ", repairs=log, field="name")
        == "Perhekahvila auki tänään"
    )
    assert log.items[0].message == "removed NUL or other control characters"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.mll.fi/perhekahvilat/", "https://www.mll.fi/perhekahvilat/"),
        ("www.mll.fi", "https://www.mll.fi"),
        ("javascript:alert(1)", None),
        ("example_counselling", None),
        ("http:www.example.com", None),
        ("ftp://example.com/file", None),
        ("https://", None),
        ("", None),
    ],
)
def test_urls_must_be_http_with_a_host(raw: str, expected: str | None) -> None:
    assert clean_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("neuvola@Espoo.FI", "neuvola@espoo.fi"),
        ("mailto:info@mll.fi", "info@mll.fi"),
        ("email-example_com", None),
        ("a@b", None),
        (12345, None),
        (False, None),
    ],
)
def test_email_validation(raw: object, expected: str | None) -> None:
    assert clean_email(raw) == expected


def test_central_helsinki_converts_from_etrs_tm35fin() -> None:
    latitude, longitude = etrs_tm35fin_to_wgs84(northing=6672450.0, easting=386077.0)
    assert latitude == pytest.approx(60.17, abs=5e-3)
    assert longitude == pytest.approx(24.95, abs=5e-3)
    assert inside_finland(latitude, longitude)


def test_etrs_point_outside_finland_is_dropped_with_a_warning() -> None:
    log = repairs()
    assert etrs_point("1000000", "500000", repairs=log, field="addresses[0]") is None
    assert "outside Finland" in log.items[0].message


def test_missing_coordinates_are_not_a_repair() -> None:
    log = repairs()
    assert etrs_point(None, None, repairs=log) is None
    assert etrs_point("0", "0", repairs=log) is None
    assert log.items == []


def test_wgs84_out_of_range_is_dropped_with_a_warning() -> None:
    log = repairs()
    assert wgs84_point(100, 101, repairs=log, field="location.latitude") is None
    assert (
        log.items[0].message
        == "latitude 100, longitude 101 are outside the valid WGS84 range; coordinates dropped"
    )
    assert wgs84_point("60,17", "24,94") == (60.17, 24.94)


def test_record_without_id_or_name_is_an_error() -> None:
    no_id = missing_essentials("", {"fi": "x"}, kind="service")
    no_name = missing_essentials("s-1", {}, kind="service")
    assert no_id is not None and no_id.message == "missing id" and no_id.severity == "error"
    assert no_name is not None and no_name.source_id == "s-1" and "missing name" in no_name.message
    assert missing_essentials("s-1", {"fi": "x"}, kind="service") is None

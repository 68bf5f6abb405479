import pytest

from federation.models import Area, PostalCode
from federation.selectors import (
    county_level_areas,
    municipality_codes_of,
    municipality_for_postal_code,
)
from federation.services import load_areas
from federation.services.areas import municipality_to_county

pytestmark = pytest.mark.django_db


def test_all_309_municipalities_of_2023_are_loaded_with_three_languages():
    municipalities = Area.objects.filter(kind=Area.Kind.MUNICIPALITY)

    assert municipalities.count() == 309
    assert Area.objects.get(code="091").name == {
        "fi": "Helsinki",
        "sv": "Helsingfors",
        "en": "Helsinki",
    }
    assert Area.objects.get(code="445").name["sv"] == "Pargas"


def test_counties_helsinki_and_aland_are_told_apart():
    kinds = dict(county_level_areas().values_list("code", "kind"))

    assert [code for code, kind in kinds.items() if kind == "wellbeing_services_county"] == [
        f"{n:02d}" for n in range(1, 22)
    ]
    assert kinds["90"] == Area.Kind.CITY_OF_HELSINKI
    assert kinds["91"] == Area.Kind.ALAND
    assert Area.objects.get(code="03").name["sv"] == "Västra Nylands välfärdsområde"


def test_municipalities_map_to_their_county():
    assert Area.objects.get(code="091").parent.code == "90"
    assert Area.objects.get(code="049").parent.code == "03"
    assert Area.objects.get(code="090").parent.code == "14", "Heinävesi moved to Pohjois-Karjala"
    assert sorted(municipality_codes_of(county_code="04")) == ["092", "245"]
    assert len(municipality_codes_of(county_code="91")) == 16


def test_the_windows_1252_mapping_file_is_read_with_quoted_codes_stripped():
    mapping = municipality_to_county()

    assert len(mapping) == 309
    assert mapping["005"] == "16"  # Alajärvi: a non-ASCII name on the same line


def test_postal_codes_resolve_to_municipalities_and_only_residential_types_are_kept():
    assert municipality_for_postal_code(postal_code="00100").code == "091"
    assert municipality_for_postal_code(postal_code="02100").code == "049"
    assert municipality_for_postal_code(postal_code="22100").code == "478"
    assert municipality_for_postal_code(postal_code="00000") is None
    assert set(PostalCode.objects.values_list("type_code", flat=True).distinct()) == {1, 2}
    assert not PostalCode.objects.filter(code="00014").exists(), (
        "company codes (type 3) are left out"
    )


def test_loading_areas_again_writes_nothing():
    assert load_areas() == {"areas": 0, "postal_codes": 0}


def test_loading_areas_repairs_a_changed_name():
    Area.objects.filter(code="091").update(name={"fi": "Väärä"})

    assert load_areas()["areas"] == 1
    assert Area.objects.get(code="091").name["fi"] == "Helsinki"

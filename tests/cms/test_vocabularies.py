import json

import pytest

from cms.models import LifeSituation, TargetGroup, Topic
from cms.selectors import vocabulary_choices, vocabulary_terms
from cms.services.vocabularies import (
    PTV_TARGET_GROUPS,
    editorial_terms,
    ptv_code_list_terms,
    sync_vocabulary,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def target_groups(home_page):
    return sync_vocabulary(model=TargetGroup, terms=ptv_code_list_terms(PTV_TARGET_GROUPS))


def test_target_groups_come_from_the_ptv_code_list_in_every_locale(target_groups):
    rows = {row.locale.language_code: row for row in TargetGroup.objects.filter(code="KR1.2")}

    assert {code: row.name for code, row in rows.items()} == {
        "fi": "Lapset ja lapsiperheet",
        "sv": "Barn och barnfamiljer",
        "en": "Children and families with children",
    }
    assert {row.uri for row in rows.values()} == {
        "http://uri.suomi.fi/codelist/ptv/ptvkohderyhmat/code/KR1.2"
    }
    assert len({row.translation_key for row in rows.values()}) == 1
    assert rows["fi"].broader_code == "KR1"


def test_syncing_the_target_groups_again_changes_nothing(target_groups):
    count = TargetGroup.objects.count()

    again = sync_vocabulary(model=TargetGroup, terms=ptv_code_list_terms(PTV_TARGET_GROUPS))

    assert (again.created, again.updated) == (0, 0)
    assert again.unchanged == count
    assert target_groups.created == count


def test_a_renamed_term_is_updated_in_place(home_page, tmp_path):
    path = tmp_path / "life_situations.json"
    path.write_text(json.dumps([{"code": "KE1", "name": {"fi": "Lapsen saaminen"}}]))
    sync_vocabulary(model=LifeSituation, terms=editorial_terms(path))
    path.write_text(json.dumps([{"code": "KE1", "name": {"fi": "Vauvan odotus"}}]))

    result = sync_vocabulary(model=LifeSituation, terms=editorial_terms(path))

    assert (result.created, result.updated) == (0, 3)
    assert LifeSituation.objects.get(code="KE1", locale__language_code="fi").name == "Vauvan odotus"
    # Languages the file lacks fall back to the default language's name.
    assert LifeSituation.objects.get(code="KE1", locale__language_code="sv").name == "Vauvan odotus"


def test_articles_and_services_join_on_the_code_in_the_readers_language(target_groups):
    terms = vocabulary_terms(model_name="targetgroup", codes=["KR1.2", "KR1.3"], language_code="sv")

    assert sorted((term.code, term.name) for term in terms) == [
        ("KR1.2", "Barn och barnfamiljer"),
        ("KR1.3", "De unga"),
    ]


def test_choices_of_the_services_block_are_codes_with_default_language_labels(target_groups):
    choices = dict(vocabulary_choices(model_name="targetgroup"))

    assert choices["KR1.2"] == "Lapset ja lapsiperheet (KR1.2)"


def test_topics_file_keys_become_codes(home_page, tmp_path):
    path = tmp_path / "topics.json"
    path.write_text(
        json.dumps(
            [{"key": "pregnancy", "name": {"fi": "Raskaus", "sv": "Graviditet", "en": "Pregnancy"}}]
        )
    )

    sync_vocabulary(model=Topic, terms=editorial_terms(path))

    assert Topic.objects.get(code="pregnancy", locale__language_code="en").name == "Pregnancy"

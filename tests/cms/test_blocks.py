import pytest
from django.core.exceptions import ValidationError
from wagtail.rich_text import RichText

from cms.blocks import (
    RICH_TEXT_FEATURES,
    ArticleBodyBlock,
    ImageBlock,
    LinkBlock,
    ParagraphBlock,
    ServicesBlock,
)
from cms.models import TargetGroup
from cms.services.vocabularies import PTV_TARGET_GROUPS, ptv_code_list_terms, sync_vocabulary

pytestmark = pytest.mark.django_db


@pytest.fixture
def target_groups(home_page):
    sync_vocabulary(model=TargetGroup, terms=ptv_code_list_terms(PTV_TARGET_GROUPS))


def test_the_body_offers_exactly_the_agreed_blocks():
    assert list(ArticleBodyBlock.base_blocks) == [
        "paragraph",
        "heading",
        "callout",
        "faq",
        "image",
        "video",
        "link_list",
        "internal_link",
        "services",
    ]


def test_paragraphs_allow_only_a_restricted_rich_text_feature_set():
    assert ParagraphBlock().features == RICH_TEXT_FEATURES == ["bold", "italic", "link", "ol", "ul"]


def test_an_image_without_alt_text_is_rejected():
    block = ImageBlock()

    with pytest.raises(ValidationError):
        block.clean(block.to_python({"image": None, "alt_text": "", "caption": ""}))
    assert block.child_blocks["alt_text"].required


def test_a_services_block_needs_at_least_one_code(target_groups):
    block = ServicesBlock()
    empty = block.to_python(
        {"title": "", "target_groups": [], "life_events": [], "service_classes": [], "area": ""}
    )

    with pytest.raises(ValidationError):
        block.clean(empty)


def test_a_services_block_stores_a_query_of_codes_for_the_api(target_groups):
    block = ServicesBlock()
    value = block.clean(
        block.to_python(
            {
                "title": "Neuvolat lähelläsi",
                "target_groups": ["KR1.2"],
                "life_events": [],
                "service_classes": ["P5.2"],
                "area": "091",
            }
        )
    )

    assert block.get_api_representation(value) == {
        "title": "Neuvolat lähelläsi",
        "target_groups": ["KR1.2"],
        "life_events": [],
        "service_classes": ["P5.2"],
        "area": "091",
    }


def test_a_services_block_rejects_an_unknown_target_group_and_a_malformed_service_class(
    target_groups,
):
    block = ServicesBlock()
    for query in ({"target_groups": ["KR9.9"]}, {"service_classes": ["neuvola"]}):
        raw = {
            "title": "",
            "target_groups": [],
            "life_events": [],
            "service_classes": [],
            "area": "",
        }
        with pytest.raises(ValidationError):
            block.clean(block.to_python(raw | query))


def test_a_link_needs_either_a_page_or_a_url_but_not_neither():
    block = LinkBlock()

    with pytest.raises(ValidationError):
        block.clean(block.to_python({"text": "THL", "page": None, "url": ""}))
    assert block.clean(block.to_python({"text": "THL", "page": None, "url": "https://thl.fi"}))


def test_rich_text_in_a_callout_renders(home_page):
    from cms.blocks import CalloutBlock

    block = CalloutBlock()
    value = block.to_python(
        {"kind": "emergency", "title": "Hätänumero", "text": "<p>Soita 112.</p>"}
    )

    assert isinstance(value["text"], RichText)
    assert block.get_api_representation(value)["kind"] == "emergency"

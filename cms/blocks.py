"""StreamField blocks of the article body.

Every block's `get_api_representation` is plain JSON; the shapes are documented in
docs/decisions/0030-article-body-from-raw-streamfield-data.md for the API engineer.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageChooserBlock

# Editors write guidance, not layout: no headings (a block of their own), no raw HTML, no embeds.
RICH_TEXT_FEATURES = ["bold", "italic", "link", "ol", "ul"]

SERVICE_CLASS_CODE = RegexValidator(r"^P\d+(\.\d+)*$", "A PTV service class code, e.g. P3.1.")


def target_group_choices() -> list[tuple[str, str]]:
    from cms.selectors import vocabulary_choices

    return vocabulary_choices(model_name="targetgroup")


def life_event_choices() -> list[tuple[str, str]]:
    from cms.selectors import life_event_choices as choices

    return choices()


class ParagraphBlock(blocks.RichTextBlock):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(features=RICH_TEXT_FEATURES, **kwargs)

    class Meta:
        icon = "pilcrow"


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=200)
    level = blocks.ChoiceBlock(choices=[("h2", "H2"), ("h3", "H3")], default="h2")

    class Meta:
        icon = "title"


class CalloutBlock(blocks.StructBlock):
    kind = blocks.ChoiceBlock(
        choices=[
            ("info", "Info"),
            ("warning", "Warning"),
            ("emergency", "Emergency contact"),
        ],
        default="info",
    )
    title = blocks.CharBlock(required=False, max_length=200)
    text = blocks.RichTextBlock(features=RICH_TEXT_FEATURES)

    class Meta:
        icon = "warning"


class FaqItemBlock(blocks.StructBlock):
    question = blocks.CharBlock(max_length=300)
    answer = blocks.RichTextBlock(features=RICH_TEXT_FEATURES)


class FaqBlock(blocks.StructBlock):
    title = blocks.CharBlock(required=False, max_length=200)
    items = blocks.ListBlock(FaqItemBlock(), min_num=1)

    class Meta:
        icon = "help"


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    alt_text = blocks.CharBlock(
        max_length=300, help_text="Describe the image for people who cannot see it."
    )
    caption = blocks.CharBlock(required=False, max_length=300)

    class Meta:
        icon = "image"

    def get_api_representation(self, value: Any, context: Any = None) -> dict[str, Any]:
        image = value["image"]
        return {
            "image": image.pk if image else None,
            "alt_text": value["alt_text"],
            "caption": value["caption"],
        }


class VideoBlock(blocks.StructBlock):
    video = EmbedBlock(help_text="YouTube, Vimeo or another oEmbed provider's URL.")
    title = blocks.CharBlock(max_length=200, help_text="Accessible title of the video.")

    class Meta:
        icon = "media"

    def get_api_representation(self, value: Any, context: Any = None) -> dict[str, Any]:
        video = value["video"]
        return {"url": video.url if video else None, "title": value["title"]}


class LinkBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=200)
    page = blocks.PageChooserBlock(required=False, page_type=["cms.ArticlePage", "cms.TopicPage"])
    url = blocks.URLBlock(required=False)

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if bool(value["page"]) == bool(value["url"]):
            raise StructBlockValidationError(
                block_errors={"url": ValidationError("Give either a page or a URL, not both.")}
            )
        return value

    def get_api_representation(self, value: Any, context: Any = None) -> dict[str, Any]:
        page = value["page"]
        return {"text": value["text"], "page": page.pk if page else None, "url": value["url"]}


class LinkListBlock(blocks.StructBlock):
    title = blocks.CharBlock(required=False, max_length=200)
    links = blocks.ListBlock(LinkBlock(), min_num=1)

    class Meta:
        icon = "list-ul"


class InternalLinkBlock(blocks.StructBlock):
    page = blocks.PageChooserBlock(page_type=["cms.ArticlePage", "cms.TopicPage"])
    text = blocks.CharBlock(required=False, max_length=200, help_text="Defaults to the title.")

    class Meta:
        icon = "link"

    def get_api_representation(self, value: Any, context: Any = None) -> dict[str, Any]:
        page = value["page"]
        return {"page": page.pk if page else None, "text": value["text"]}


class ServicesBlock(blocks.StructBlock):
    """A stored service query; the frontend resolves it through the API near the reader."""

    title = blocks.CharBlock(required=False, max_length=200)
    target_groups = blocks.MultipleChoiceBlock(choices=target_group_choices, required=False)
    life_events = blocks.MultipleChoiceBlock(choices=life_event_choices, required=False)
    service_classes = blocks.ListBlock(
        blocks.CharBlock(max_length=32, validators=[SERVICE_CLASS_CODE]), default=[]
    )
    area = blocks.CharBlock(
        required=False,
        max_length=32,
        help_text="Area code (municipality 091, wellbeing services county …); empty means the reader's area.",
    )

    class Meta:
        icon = "site"

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not (value["target_groups"] or value["life_events"] or value["service_classes"]):
            raise StructBlockValidationError(
                block_errors={
                    "target_groups": ValidationError(
                        "Choose at least one target group, life event or service class."
                    )
                }
            )
        return value

    def get_api_representation(self, value: Any, context: Any = None) -> dict[str, Any]:
        return {
            "title": value["title"],
            "target_groups": list(value["target_groups"] or []),
            "life_events": list(value["life_events"] or []),
            "service_classes": list(value["service_classes"] or []),
            "area": value["area"] or None,
        }


class ArticleBodyBlock(blocks.StreamBlock):
    paragraph = ParagraphBlock()
    heading = HeadingBlock()
    callout = CalloutBlock()
    faq = FaqBlock()
    image = ImageBlock()
    video = VideoBlock()
    link_list = LinkListBlock()
    internal_link = InternalLinkBlock()
    services = ServicesBlock()


class ReferenceBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=300)
    url = blocks.URLBlock()

    class Meta:
        icon = "doc-full"

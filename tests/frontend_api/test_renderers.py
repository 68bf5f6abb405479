import datetime
import decimal
import uuid

import orjson
from django.utils import translation
from django.utils.translation import gettext_lazy

from frontend_api.renderers import OrjsonRenderer


def test_renders_what_serializers_produce():
    data = {
        "when": datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.UTC),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "price": decimal.Decimal("1.10"),
        "label": gettext_lazy("Finnish"),
        "tags": ("a", "b"),
        "name": "Äitiysneuvola",
    }

    with translation.override("en"):
        rendered = OrjsonRenderer().render(data)

    assert orjson.loads(rendered) == {
        "when": "2026-11-28T12:00:00+00:00",
        "id": "12345678-1234-5678-1234-567812345678",
        "price": "1.10",
        "label": "Finnish",
        "tags": ["a", "b"],
        "name": "Äitiysneuvola",
    }
    assert "Äitiysneuvola".encode() in rendered  # UTF-8, not \\u escapes


def test_none_renders_empty_body():
    assert OrjsonRenderer().render(None) == b""

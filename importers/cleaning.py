"""Shared repairs for imported values: text, HTML, URLs, e-mail and coordinates.

Every importer cleans values through these helpers, so the rules of the sync
contract (sanitized HTML, http(s) URLs only, WGS84 coordinates) are written once.
A helper that changes or drops a value reports it through `Repairs`, so the feed
owner sees every repair as a warning next to the record.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import nh3
import orjson
from pyproj import Transformer

from importers.base import RecordError, RecordKind

# Tags an imported description may keep. Everything else is unwrapped to its text.
ALLOWED_TAGS = frozenset({"p", "br", "ul", "ol", "li", "strong", "em", "a", "h2", "h3", "h4"})
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})

# Generous bounding box of Finland, Åland included (WGS84 degrees).
FINLAND_LATITUDE = (59.3, 70.2)
FINLAND_LONGITUDE = (19.0, 31.7)

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Every pattern below runs in time linear in its input, whatever the input: possessive
# quantifiers (`*+`) never give back what they took, and no scan runs past the next "<",
# so no input (a megabyte of "<a", "<!--" or "<" plus spaces) makes a search quadratic.
_UNSAFE_HTML = re.compile(
    r"<\s*+(?:script|style|iframe|object|embed|form|input)\b|\son\w++\s*+=|javascript:",
    re.IGNORECASE,
)
_BLOCK_TAG = re.compile(
    r"<\s*+(?:/\s*+)?(?:p|br|ul|ol|li|h[1-6]|div|table|tr|blockquote)\b", re.IGNORECASE
)
# Where a tag may start; `_has_tag` asks for a ">" after it.
_TAG_START = re.compile(r"<[a-zA-Z/!]")
# One tag of nh3's output, where every "<" opens a tag (text and attributes escape it).
_OUTPUT_TAG = re.compile(r"<[^<>]*+>")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
# What `clean_text` may change inside a value: controls, tags, entities, no-break spaces,
# line breaks, tabs and runs of spaces.
_NEEDS_CLEANING = re.compile(r"[\x00-\x1f\x7f<&\xa0]|  ")
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
# Longest URL and e-mail address kept (RFC 5321 allows 254 characters for an address).
MAX_URL_LENGTH = 2_000
MAX_EMAIL_LENGTH = 254
_HOST = re.compile(r"^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$")


# A cleaning helper: (raw value, repairs=…, field=…) → cleaned value or None.
Cleaner = Callable[..., str | None]


class Repairs:
    """Collects the warnings for one record while it is being parsed."""

    def __init__(self, *, source_id: str | None, kind: RecordKind | None) -> None:
        self.source_id = source_id
        self.kind = kind
        self.items: list[RecordError] = []

    def warn(self, field: str, message: str) -> None:
        self.items.append(
            RecordError(
                source_id=self.source_id,
                message=message,
                field=field,
                severity="warning",
                kind=self.kind,
            )
        )

    def error(self, field: str | None, message: str) -> RecordError:
        """A rejection of the whole record (not collected: the caller yields it)."""
        return RecordError(source_id=self.source_id, message=message, field=field, kind=self.kind)

    def as_tuple(self) -> tuple[RecordError, ...]:
        return tuple(self.items)


def _short(value: Any, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _has_tag(text: str) -> bool:
    """True when `text` holds "<x…>": a tag start with a ">" somewhere after it. The first
    tag start is the one to test (a later one has fewer ">" after it), so this is linear,
    unlike a search for the whole tag, which rescans to the end from every "<"."""
    start = _TAG_START.search(text)
    return start is not None and text.find(">", start.end()) != -1


def strip_control(value: str, *, repairs: Repairs | None = None, field: str = "") -> str:
    """Removes NUL and other control characters, which PostgreSQL text cannot hold."""
    cleaned = _CONTROL_CHARACTERS.sub("", value)
    if cleaned != value and repairs is not None:
        repairs.warn(field, "removed NUL or other control characters")
    return cleaned


def clean_text(value: Any, *, repairs: Repairs | None = None, field: str = "") -> str | None:
    """Plain text: no tags, no control characters, tidy whitespace; None when empty."""
    if value is None:
        return None
    if not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        else:
            if repairs is not None:
                repairs.warn(field, f"expected text, got {type(value).__name__}; dropped")
            return None
    if not _NEEDS_CLEANING.search(value):
        # Most values are one tidy line: nothing below would change more than the ends.
        return value.strip() or None
    text = strip_control(value, repairs=repairs, field=field)
    if _has_tag(text):
        text = nh3.clean(text, tags=set())
    text = html.unescape(text).replace("\xa0", " ")
    lines = [
        re.sub(r"[ \t]+", " ", line).strip() for line in text.replace("\r\n", "\n").split("\n")
    ]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text or None


def draftjs_to_text(value: str) -> str | None:
    """PTV tools sometimes store Draft.js raw JSON as the text; keep its block texts."""
    stripped = value.lstrip()
    if not (stripped.startswith("{") and '"blocks"' in stripped):
        return None
    try:
        document = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        return None
    blocks = document.get("blocks") if isinstance(document, dict) else None
    if not isinstance(blocks, list):
        return None
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            prefix = "- " if block.get("type") == "unordered-list-item" else ""
            lines.append(prefix + block["text"])
    return "\n".join(lines)


def _escape_text(text: str) -> str:
    """Text as nh3 serializes it: only "&", "<", ">" and no-break spaces escaped, a carriage
    return read as a line feed (as an HTML parser reads it)."""
    return html.escape(text, quote=False).replace("\xa0", "&nbsp;").replace("\r", "\n")


def _text_to_html(text: str) -> str:
    """Plain text with blank-line paragraphs and "- " bullets becomes simple HTML, escaped
    as nh3 would write it, so it needs no sanitizing pass of its own."""
    parts: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in paragraph.split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.startswith(("- ", "• ", "* ")) for line in lines):
            items = "".join(f"<li>{_escape_text(line[2:].strip())}</li>" for line in lines)
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append("<p>" + "<br>".join(_escape_text(line) for line in lines) + "</p>")
    return "".join(parts)


def _sanitize(markup: str) -> str:
    return nh3.clean(
        markup,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def cut_text(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at the last word boundary, ending in "…"."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    boundary = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    if boundary > limit // 2:
        head = head[:boundary]
    return head.rstrip() + "…"


def cut_html(markup: str, limit: int) -> str:
    """Sanitized HTML cut to at most `limit` characters at a word boundary of its text,
    never inside a tag or an entity, ending in "…"; open elements are closed again."""
    if len(markup) <= limit:
        return markup
    budget = limit - 1
    for _ in range(16):
        head = markup[: max(budget, 0)]
        tag_start, tag_end = head.rfind("<"), head.rfind(">")
        if tag_start > tag_end:
            head = head[:tag_start]  # inside a tag: cut before it
        else:
            entity = head.rfind("&")
            if entity > tag_end and ";" not in head[entity:]:
                head = head[:entity]  # inside an entity: cut before it
            boundary = max(head.rfind(" "), head.rfind("\n"))
            if boundary > max(tag_end, limit // 2):
                head = head[:boundary]
        cut = _sanitize(head.rstrip() + "…")
        if len(cut) <= limit:
            return cut
        # The closing tags took the room: cut that much more, before this cut.
        budget = min(budget, len(head)) - (len(cut) - limit)
    # Markup that cannot be cut to fit (deeply nested): its text, escaped (≤ 6 per char).
    text = html.unescape(nh3.clean(markup, tags=set()))
    return "<p>" + _escape_text(cut_text(text, max((limit - 7) // 6, 1))) + "</p>"


def clean_html(value: Any, *, repairs: Repairs | None = None, field: str = "") -> str | None:
    """Sanitized HTML on a small allow-list; plain text is turned into paragraphs."""
    if value is None:
        return None
    if not isinstance(value, str):
        if repairs is not None:
            repairs.warn(field, f"expected text, got {type(value).__name__}; dropped")
        return None
    raw = strip_control(value, repairs=repairs, field=field)
    decoded = draftjs_to_text(raw)
    if decoded is not None:
        raw = decoded
    if _UNSAFE_HTML.search(raw) and repairs is not None:
        repairs.warn(field, "removed unsafe HTML (scripts, styles, event handlers)")
    if not _BLOCK_TAG.search(raw):
        # Plain text (perhaps with stray inline tags): keep its paragraphs and bullets.
        if _has_tag(raw):
            raw = nh3.clean(raw, tags=set())
        return _text_to_html(html.unescape(raw)) or None
    cleaned = _sanitize(raw)
    # "<p><br></p>" and friends carry no text. In nh3's output every "<" opens a tag and the
    # only entity that can stand for white space is "&nbsp;".
    if not _OUTPUT_TAG.sub("", cleaned).replace("&nbsp;", "").strip():
        return None
    return cleaned


def clean_url(value: Any, *, repairs: Repairs | None = None, field: str = "") -> str | None:
    """An absolute http(s) URL with a host, or None. "www.x.fi" gains "https://"."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        if repairs is not None:
            repairs.warn(field, f"URL must be text, got {_short(value)!r}; dropped")
        return None
    url = strip_control(value).strip()
    if not url:
        return None
    if len(url) > MAX_URL_LENGTH:
        if repairs is not None:
            repairs.warn(
                field, f"URL is {len(url):,} characters long, more than {MAX_URL_LENGTH:,}; dropped"
            )
        return None
    if url.lower().startswith("www.") and " " not in url:
        if repairs is not None:
            repairs.warn(field, f"URL {_short(url)!r} had no scheme; assumed https://")
        url = "https://" + url
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if (
        parts is None
        or parts.scheme.lower() not in {"http", "https"}
        or not host
        or not _HOST.match(parts.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0] or "x")
        or " " in url
        or ("." not in host and host != "localhost" and ":" not in host)
    ):
        if repairs is not None:
            repairs.warn(field, f"{_short(url)!r} is not an http(s) URL with a host; dropped")
        return None
    return url


def clean_email(value: Any, *, repairs: Repairs | None = None, field: str = "") -> str | None:
    """A plausible e-mail address (mailto: prefix removed), or None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        if repairs is not None:
            repairs.warn(field, f"e-mail must be text, got {_short(value)!r}; dropped")
        return None
    email = strip_control(value).strip()
    if email.lower().startswith("mailto:"):
        email = email[7:].strip()
    if not email:
        return None
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        if repairs is not None:
            repairs.warn(field, f"{_short(email)!r} is not a valid e-mail address; dropped")
        return None
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def clean_phone(value: Any) -> str | None:
    """Phone numbers as given, minus stray quotes and spacing junk."""
    if value is None:
        return None
    number = strip_control(str(value)).strip().strip("\"'").strip()
    return number or None


def localized(
    pairs: Iterable[tuple[str | None, Any]],
    *,
    clean: Cleaner = clean_text,
    repairs: Repairs | None = None,
    field: str = "",
) -> dict[str, str]:
    """{language: cleaned value} from (language, raw value) pairs; the first value per language wins."""
    result: dict[str, str] = {}
    for language, raw in pairs:
        if not language or raw is None:
            continue
        code = language_code(language)
        if not code or code in result:
            continue
        value = clean(raw, repairs=repairs, field=f"{field}.{code}" if field else code)
        if value:
            result[code] = value
    return result


def language_code(value: Any) -> str | None:
    """ "fi-FI" → "fi"; "SE" → "se". Anything that is not a 2–3 letter code is None."""
    if not isinstance(value, str):
        return None
    return _language_code(value)


@lru_cache(maxsize=1024)
def _language_code(value: str) -> str | None:
    # A feed names a handful of languages, each on every text: computed once per process.
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if _LANGUAGE_CODE.fullmatch(code) else None


def parse_number(value: Any) -> float | None:
    """A finite float from a number or a string such as "6974202.909" or "60,17"."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", ".")
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


@lru_cache(maxsize=1)
def _etrs_to_wgs84() -> Transformer:
    # Built once per process: creating a Transformer costs milliseconds, using one microseconds.
    return Transformer.from_crs("EPSG:3067", "EPSG:4326", always_xy=True)


def etrs_tm35fin_to_wgs84(*, northing: float, easting: float) -> tuple[float, float]:
    """ETRS-TM35FIN (EPSG:3067) metres → WGS84 (latitude, longitude) degrees."""
    longitude, latitude = _etrs_to_wgs84().transform(easting, northing)
    return round(latitude, 7), round(longitude, 7)


def inside_finland(latitude: float, longitude: float) -> bool:
    return (
        FINLAND_LATITUDE[0] <= latitude <= FINLAND_LATITUDE[1]
        and FINLAND_LONGITUDE[0] <= longitude <= FINLAND_LONGITUDE[1]
    )


def wgs84_point(
    latitude: Any,
    longitude: Any,
    *,
    repairs: Repairs | None = None,
    field: str = "",
    require_finland: bool = False,
) -> tuple[float, float] | None:
    """A valid WGS84 point or None; bad values are dropped with a warning."""
    lat, lon = parse_number(latitude), parse_number(longitude)
    if lat is None and lon is None:
        if repairs is not None and (latitude not in (None, "") or longitude not in (None, "")):
            repairs.warn(
                field,
                f"coordinates {_short(latitude)!r}, {_short(longitude)!r} are not numbers; dropped",
            )
        return None
    if lat is None or lon is None:
        if repairs is not None:
            repairs.warn(field, "only one of latitude and longitude given; coordinates dropped")
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        if repairs is not None:
            repairs.warn(
                field,
                f"latitude {lat:g}, longitude {lon:g} are outside the valid WGS84 range; coordinates dropped",
            )
        return None
    if lat == 0 and lon == 0:
        if repairs is not None:
            repairs.warn(field, "coordinates 0, 0 are a placeholder; dropped")
        return None
    if require_finland and not inside_finland(lat, lon):
        if repairs is not None:
            repairs.warn(
                field,
                f"latitude {lat:g}, longitude {lon:g} are outside Finland; coordinates dropped",
            )
        return None
    return lat, lon


def etrs_point(
    northing: Any, easting: Any, *, repairs: Repairs | None = None, field: str = ""
) -> tuple[float, float] | None:
    """PTV's ETRS-TM35FIN strings → a WGS84 point inside Finland, or None with a warning."""
    north, east = parse_number(northing), parse_number(easting)
    if north is None or east is None or (north == 0 and east == 0):
        if (
            repairs is not None
            and (north is not None or east is not None)
            and not (north == 0 and east == 0)
        ):
            repairs.warn(field, "only one of the ETRS-TM35FIN coordinates given; dropped")
        return None
    if abs(north) <= 90 and abs(east) <= 180:
        # Already degrees: some publishers fill PTV's fields with WGS84 values.
        if repairs is not None:
            repairs.warn(
                field, "coordinates look like WGS84 degrees, not ETRS-TM35FIN metres; used as is"
            )
        return wgs84_point(north, east, repairs=repairs, field=field, require_finland=True)
    latitude, longitude = etrs_tm35fin_to_wgs84(northing=north, easting=east)
    if not inside_finland(latitude, longitude):
        if repairs is not None:
            repairs.warn(
                field,
                f"ETRS-TM35FIN {north:g} N, {east:g} E converts to {latitude:.4f}, {longitude:.4f}, outside Finland; dropped",
            )
        return None
    return latitude, longitude


def missing_essentials(
    source_id: Any, name: dict[str, str], *, kind: RecordKind, field: str = "name"
) -> RecordError | None:
    """The rejection for a record without an id or without a name in any language."""
    if (
        not isinstance(source_id, str | int)
        or isinstance(source_id, bool)
        or not str(source_id).strip()
    ):
        return RecordError(source_id=None, message="missing id", field="id", kind=kind)
    if not name:
        return RecordError(
            source_id=str(source_id),
            message="missing name (no name in any language)",
            field=field,
            kind=kind,
        )
    return None

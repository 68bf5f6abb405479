"""One language per request: `?lang=` or Accept-Language, with a declared fallback order.

`negotiate_language(request)` picks the requested language; `LanguageChoice.pick()`
and `.text()` resolve it against what a record actually has, and note any
fallback on the choice so the response can say so (`meta.fallback`,
`Content-Language`, `Pesa-Language-Fallback`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation.trans_real import parse_accept_lang_header

LANG_PARAM = "lang"


def supported_languages() -> list[str]:
    return list(settings.PESA_LANGUAGES)


def default_language() -> str:
    return settings.LANGUAGE_CODE


def fallback_chain(lang: str) -> tuple[str, ...]:
    """`lang`, its declared fallbacks, then the default language; each once."""
    chain = [lang, *settings.PESA_LANGUAGE_FALLBACKS.get(lang, []), default_language()]
    return tuple(dict.fromkeys(code for code in chain if code in supported_languages()))


class UnsupportedLanguage(ValueError):
    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


@dataclass
class LanguageChoice:
    requested: str
    source: str  # "query", "header" or "default"
    chain: tuple[str, ...]
    served: set[str] = field(default_factory=set)

    def pick(self, available: Iterable[str]) -> tuple[str | None, bool]:
        """The best language among `available`: (language or None, fallback used)."""
        available = set(available)
        for lang in self.chain:
            if lang in available:
                self.served.add(lang)
                return lang, lang != self.requested
        return None, False

    def text(self, texts: Mapping[str, str | None] | None) -> str | None:
        """The text in the best language that has a non-empty one."""
        texts = texts or {}
        lang, _fallback = self.pick(code for code, value in texts.items() if value)
        return texts[lang] if lang else None

    @property
    def fallback_used(self) -> bool:
        return any(lang != self.requested for lang in self.served)

    @property
    def content_language(self) -> str:
        """The Content-Language header: every language served, in fallback order."""
        if not self.served:
            return self.requested
        return ", ".join(lang for lang in self.chain if lang in self.served)

    def meta(self) -> dict[str, object]:
        return {"lang": self.requested, "fallback": self.fallback_used}


def _from_accept_language(header: str) -> str | None:
    supported = supported_languages()
    for tag, _quality in parse_accept_lang_header(header):
        tag = tag.lower()
        if tag in supported:
            return tag
        primary = tag.split("-", 1)[0]
        if primary in supported:
            return primary
    return None


def negotiate_language(request: HttpRequest) -> LanguageChoice:
    """`?lang=` wins and must be supported (else UnsupportedLanguage); then Accept-Language."""
    query = getattr(request, "query_params", request.GET)
    value = query.get(LANG_PARAM)
    if value is not None:
        lang = value.strip().lower()
        if lang not in supported_languages():
            raise UnsupportedLanguage(value)
        return LanguageChoice(lang, "query", fallback_chain(lang))
    lang = _from_accept_language(request.headers.get("Accept-Language", ""))
    if lang:
        return LanguageChoice(lang, "header", fallback_chain(lang))
    lang = default_language()
    return LanguageChoice(lang, "default", fallback_chain(lang))

"""Finnish text analysis for search, with Voikko: base forms and compound parts.

Finnish hides the words people type inside compounds and inflections
("lastenneuvolassa" holds lapsi + neuvola). Voikko gives every word's base form and
compound structure; we index all of them and expand queries the same way. Pure
functions, no database. Without Voikko everything degrades to lowercased words and
callers use PostgreSQL's `finnish` configuration instead (one log line says so).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

FALLBACK_MESSAGE = (
    "Voikko not installed: Finnish search falls back to PostgreSQL's finnish configuration"
)
# Word classes that carry no search meaning: conjunctions, pronouns, adpositions,
# the negative verb, interjections.
STOP_CLASSES = {"sidesana", "asemosana", "suhdesana", "kieltosana", "huudahdussana"}
STOP_BASEFORMS = {"olla", "voida", "myös", "sekä", "kuten", "mm", "esim", "eli", "vain"}
WORD_RE = re.compile(r"[^\W_]+(?:-[^\W_]+)*", re.UNICODE)
MIN_PART_LENGTH = 3

_lock = threading.Lock()
_voikko = None
_voikko_loaded = False


def _load_voikko():
    """The process's one Voikko handle, or None. Voikko is not thread-safe: use under _lock."""
    global _voikko, _voikko_loaded
    if not _voikko_loaded:
        try:
            import libvoikko

            _voikko = libvoikko.Voikko("fi")
        except (ImportError, OSError) as exc:
            logger.warning("%s (%s)", FALLBACK_MESSAGE, exc)
            _voikko = None
        _voikko_loaded = True
    return _voikko


def voikko_available() -> bool:
    with _lock:
        return _load_voikko() is not None


@functools.lru_cache(maxsize=200_000)
def _analyze(word: str) -> tuple[dict[str, str], ...]:
    with _lock:
        voikko = _load_voikko()
        if voikko is None:
            return ()
        return tuple(voikko.analyze(word))


@functools.lru_cache(maxsize=20_000)
def _suggest(word: str) -> tuple[str, ...]:
    with _lock:
        voikko = _load_voikko()
        return tuple(voikko.suggest(word)) if voikko is not None else ()


def clear_caches() -> None:
    """Forgets every cached analysis (after Voikko appears or disappears, in tests)."""
    for cached in (_analyze, _suggest, word_forms, _index_terms, _query_matcher, _token_terms):
        cached.cache_clear()


def tokenize(text: str) -> list[str]:
    return WORD_RE.findall(text or "")


def _segments(word: str, structure: str) -> list[str]:
    """Splits `word` at the compound boundaries ('=') of Voikko's STRUCTURE string."""
    segments, current, letters = [], [], iter(word)
    for mark in structure:
        if mark == "=":
            if current:
                segments.append("".join(current))
            current = []
        else:
            current.append(next(letters, ""))
    if current:
        segments.append("".join(current))
    return [segment.strip("-") for segment in segments if segment.strip("-")]


def _is_stop(analyses: Iterable[dict[str, str]]) -> bool:
    analyses = list(analyses)
    return bool(analyses) and all(
        a.get("CLASS") in STOP_CLASSES or a.get("BASEFORM", "").lower() in STOP_BASEFORMS
        for a in analyses
    )


def _part_bases(segment: str) -> set[str]:
    bases = {a["BASEFORM"].lower() for a in _analyze(segment) if a.get("BASEFORM")}
    return bases or {segment.lower()}


@dataclass(frozen=True)
class WordForms:
    """What one word stands for: its base forms, and the parts of compound base forms."""

    word: str
    baseforms: tuple[str, ...]
    compounds: tuple[tuple[str, ...], ...]  # per compound reading: its parts' base forms
    known: bool
    stop: bool

    def terms(self) -> list[str]:
        seen = dict.fromkeys(self.baseforms)
        for parts in self.compounds:
            seen.update(dict.fromkeys(parts))
        return list(seen)


@functools.lru_cache(maxsize=200_000)
def word_forms(word: str) -> WordForms:
    lowered = word.lower()
    analyses = _analyze(word) or _analyze(lowered)
    if not analyses:
        return WordForms(lowered, (lowered,), (), known=False, stop=False)
    baseforms: dict[str, None] = {}
    compounds: dict[tuple[str, ...], None] = {}
    for analysis in analyses:
        baseform = (analysis.get("BASEFORM") or lowered).lower()
        baseforms[baseform] = None
        segments = _segments(word, analysis.get("STRUCTURE", ""))
        if len(segments) < 2:
            continue
        prefix = "".join(segments[:-1]).lower()
        # Only the last part inflects, so its base form is the compound's minus the prefix.
        if baseform.startswith(prefix) and len(baseform) > len(prefix):
            last = {baseform[len(prefix) :].strip("-")}
        else:
            last = _part_bases(segments[-1])
        parts: list[str] = []
        for segment in segments[:-1]:
            parts.extend(sorted(_part_bases(segment)))
        parts.extend(sorted(last))
        parts = [part for part in parts if len(part) >= MIN_PART_LENGTH]
        if len(parts) >= 2:
            compounds[tuple(parts)] = None
    return WordForms(
        lowered, tuple(baseforms), tuple(compounds), known=True, stop=_is_stop(analyses)
    )


def finnish_index_terms(text: str) -> list[str]:
    """Every base form and compound part of `text`, in text order (repeats kept for ranking).

    "lastenneuvolassa" → ["lastenneuvola", "lapsi", "neuvola"]. Without Voikko: lowercased words.
    """
    terms: list[str] = []
    for word in tokenize(text):
        terms.extend(_index_terms(word))
    return terms


@functools.lru_cache(maxsize=200_000)
def _index_terms(word: str) -> tuple[str, ...]:
    """One word's index terms, ready to extend with: indexing calls this for every word."""
    forms = word_forms(word)
    return () if forms.stop else tuple(forms.terms())


@dataclass(frozen=True)
class QueryWord:
    """One query word's alternatives: a match on any one of them counts."""

    word: str
    baseforms: tuple[str, ...]
    compounds: tuple[tuple[str, ...], ...]
    suggestions: tuple[str, ...]  # spelling suggestions, only for words Voikko does not know
    known: bool


def finnish_query_terms(query: str, *, max_suggestions: int = 3) -> list[QueryWord]:
    """The query's meaningful words with base forms, compound parts and, for unknown words,
    Voikko's spelling suggestions (themselves expanded when the query is built)."""
    words = [word_forms(word) for word in tokenize(query)]
    meaningful = [forms for forms in words if not forms.stop] or words
    result = []
    for forms in meaningful:
        suggestions = (
            () if forms.known else tuple(spelling_suggestions(forms.word)[:max_suggestions])
        )
        result.append(
            QueryWord(forms.word, forms.baseforms, forms.compounds, suggestions, forms.known)
        )
    return result


def spelling_suggestions(word: str) -> list[str]:
    """Voikko's suggestions for a misspelt word (empty if it is spelt right or no Voikko)."""
    if not word or _analyze(word) or _analyze(word.lower()):
        return []
    return [suggestion.lower() for suggestion in _suggest(word)]


def did_you_mean(query: str) -> str | None:
    """The query with each unknown word replaced by Voikko's first suggestion, if any changed."""
    changed = False
    words = []
    for word in tokenize(query):
        suggestions = spelling_suggestions(word)
        if suggestions and not word.isdigit():
            words.append(suggestions[0])
            changed = True
        else:
            words.append(word.lower())
    return " ".join(words) if changed else None


def highlight(text: str, query: str, *, lang: str = "fi", max_words: int = 30) -> str:
    """A snippet of `text` around the first query match, matches wrapped in <mark>.

    Finnish matches by base form and compound part, so "neuvolaan" marks "Lastenneuvola".
    Returns plain text with <mark> tags; escape the rest when rendering HTML. Words are
    matched up to the first hit and then inside the snippet only, never through the rest.
    """
    tokens = list(WORD_RE.finditer(text or ""))
    if not tokens:
        return ""
    matches = _query_matcher(query, lang)
    first = next((index for index, token in enumerate(tokens) if matches(token.group())), None)
    start = max(0, (first or 0) - max_words // 3)
    end = min(len(tokens), start + max_words)
    pieces, cursor = [], tokens[start].start()
    for index in range(start, end):
        token = tokens[index]
        pieces.append(text[cursor : token.start()])
        word = token.group()
        marked = first is not None and index >= first and matches(word)
        pieces.append(f"<mark>{word}</mark>" if marked else word)
        cursor = token.end()
    snippet = "".join(pieces)
    return ("… " if start > 0 else "") + snippet + (" …" if end < len(tokens) else "")


@functools.lru_cache(maxsize=1_024)
def _query_matcher(query: str, lang: str) -> Callable[[str], bool]:
    """Whether a word of the text matches `query` (built once per query and language)."""
    if lang == "fi":
        wanted: set[str] = set()
        for word in finnish_query_terms(query):
            wanted.update(word.baseforms)
            for parts in word.compounds:
                wanted.update(parts)
            for suggestion in word.suggestions:
                wanted.update(word_forms(suggestion).terms())
        return lambda token: not wanted.isdisjoint(_token_terms(token))
    prefixes = tuple(word.lower()[:5] for word in tokenize(query) if len(word) > 2)
    return lambda token: token.lower().startswith(prefixes) if prefixes else False


@functools.lru_cache(maxsize=200_000)
def _token_terms(token: str) -> frozenset[str]:
    return frozenset(word_forms(token).terms())

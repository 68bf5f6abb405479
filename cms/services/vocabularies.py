"""Loads the shared vocabularies from their files: never typed by hand, safe to run again."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from wagtail.models import Locale

from cms.models import LifeSituation, TargetGroup, Topic
from cms.models.vocabularies import Vocabulary

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEMO_CONTENT_DIR = Path(__file__).resolve().parent.parent / "demo_content"
PTV_TARGET_GROUPS = DATA_DIR / "ptv_target_groups.json"


@dataclass(frozen=True)
class VocabularyTerm:
    code: str
    names: dict[str, str]
    uri: str = ""
    descriptions: dict[str, str] = field(default_factory=dict)
    broader_code: str = ""
    life_event_code: str = ""
    sort_order: int = 0


@dataclass
class VocabularySyncResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def ptv_code_list_terms(path: Path) -> list[VocabularyTerm]:
    """Terms of a koodistot.suomi.fi code-list export (e.g. ptvkohderyhmat); only VALID codes."""
    document = json.loads(path.read_text(encoding="utf-8-sig"))
    return [
        VocabularyTerm(
            code=code["codeValue"],
            uri=code.get("uri") or "",
            names={lang: label.strip() for lang, label in code.get("prefLabel", {}).items()},
            broader_code=(code.get("broaderCode") or {}).get("codeValue", ""),
            sort_order=code.get("order") or 0,
        )
        for code in document["codes"]
        if code.get("status", "VALID") == "VALID"
    ]


def editorial_terms(path: Path) -> list[VocabularyTerm]:
    """Terms of an editorial vocabulary file (cms/demo_content/topics.json, life_situations.json).

    Accepts a list, or an object holding the list; each entry has `code` or `key`, optional `uri`
    and `ptv_life_event_code`, and its names either as `names: {fi, sv, en}` or as
    `translations: {fi: {title, intro}, …}`.
    """
    document = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(document, dict):
        document = next(value for value in document.values() if isinstance(value, list))
    terms = []
    for order, entry in enumerate(document, start=1):
        translations = entry.get("translations") or {}
        names = (
            entry.get("names")
            or entry.get("name")
            or {language: text["title"] for language, text in translations.items()}
        )
        descriptions = entry.get("descriptions") or {
            language: text.get("intro", "") for language, text in translations.items()
        }
        terms.append(
            VocabularyTerm(
                code=entry.get("code") or entry["key"],
                uri=entry.get("uri") or "",
                names=names if isinstance(names, dict) else {"fi": names},
                descriptions=descriptions,
                life_event_code=entry.get("ptv_life_event_code") or "",
                sort_order=entry.get("order", order),
            )
        )
    return terms


@transaction.atomic
def sync_vocabulary(
    *, model: type[Vocabulary], terms: list[VocabularyTerm]
) -> VocabularySyncResult:
    """Upserts one row per term and content locale; all rows of a term share a translation key.

    A language the file lacks falls back to the default language's name.
    """
    result = VocabularySyncResult()
    default_locale = Locale.get_default()
    other_locales = [
        locale
        for locale in Locale.objects.filter(language_code__in=settings.PESA_LANGUAGES)
        if locale != default_locale
    ]
    for term in terms:
        fallback_name = term.names.get(default_locale.language_code) or next(
            iter(term.names.values())
        )
        source = model.objects.filter(code=term.code, locale=default_locale).first()
        translation_key = source.translation_key if source else None
        for locale in [default_locale, *other_locales]:
            language = locale.language_code
            values = {
                "uri": term.uri,
                "name": term.names.get(language) or fallback_name,
                "description": term.descriptions.get(language, ""),
                "sort_order": term.sort_order,
            }
            if model is TargetGroup:
                values["broader_code"] = term.broader_code
            if model is LifeSituation:
                values["life_event_code"] = term.life_event_code
            row = model.objects.filter(code=term.code, locale=locale).first()
            if row is None:
                row = model(code=term.code, locale=locale, **values)
                if translation_key:
                    row.translation_key = translation_key
                row.save()
                translation_key = row.translation_key
                result.created += 1
            elif any(getattr(row, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(row, name, value)
                row.save()
                result.updated += 1
            else:
                result.unchanged += 1
    return result


def sync_vocabularies(*, content_dir: Path = DEMO_CONTENT_DIR) -> dict[str, VocabularySyncResult]:
    """Target groups from the PTV code list; topics and life situations from the editorial files."""
    results = {
        "target groups": sync_vocabulary(
            model=TargetGroup, terms=ptv_code_list_terms(PTV_TARGET_GROUPS)
        )
    }
    for label, model, filename in (
        ("topics", Topic, "topics.json"),
        ("life situations", LifeSituation, "life_situations.json"),
    ):
        path = content_dir / filename
        if path.exists():
            results[label] = sync_vocabulary(model=model, terms=editorial_terms(path))
    return results

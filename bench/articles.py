"""The national article set for benchmarks: article specs in the shape of cms/demo_content.

    uv run python -m bench.articles --count 1000 --seed 42 --out var/bench/articles

Each spec is one article with fi, sv and en translations (so 1,000 specs are 3,000 pages),
in the format of cms/demo_content/articles/<key>.json (see cms/demo_content/README.md):
StreamField body blocks paragraph, heading, callout, faq, link_list, services and
internal_link. Internal links point at other generated articles, chosen with a Zipf
popularity so a few articles are linked from many. Data only: loading them into Wagtail
is the loader's job.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import sys
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any

from bench.generate import _slug, reference
from bench.vocabulary import vocabulary

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "cms" / "demo_content"
LANGUAGES = ("fi", "sv", "en")
TOPICS = (
    "pregnancy-and-birth",
    "baby-and-toddler",
    "school-age",
    "young-people",
    "relationships-and-separation",
    "wellbeing-and-mental-health",
    "money-and-family-benefits",
)
LIFE_SITUATIONS = ("pregnancy", "birth", "baby", "toddler", "school-age", "money-worries")
AUDIENCES = (("KR1.2", 0.8), ("KR1.3", 0.15), ("KR1", 0.05))
READ_ALSO = {"fi": "Lue myös", "sv": "Läs också", "en": "Read also"}
CALLOUT_KINDS = ("info", "info", "info", "warning", "emergency")
REFERENCES = (
    ("Kela", "https://www.kela.fi"),
    ("THL", "https://thl.fi"),
    ("Suomi.fi", "https://www.suomi.fi"),
    ("MLL", "https://www.mll.fi"),
)


def _vocabulary_keys(name: str, key: str, fallback: tuple[str, ...]) -> tuple[str, ...]:
    """Keys from cms/demo_content (topics, life situations) when present."""
    try:
        data = json.loads((DEMO / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return fallback
    items = data[key] if isinstance(data, dict) else data
    keys = tuple(item.get("key") or item.get("code") for item in items)
    return keys or fallback


def _title(rng: random.Random, language: str) -> str:
    words = vocabulary(language).content.words_(rng, rng.randint(2, 5))
    return (" ".join(words)).capitalize()


def _paragraph(rng: random.Random, language: str, sentences: tuple[int, int] = (3, 5)) -> str:
    text = vocabulary(language).sentences(rng, rng.randint(*sentences), 8, 18)
    if rng.random() < 0.3:
        words = text.split(" ")
        position = rng.randrange(len(words))
        words[position] = f"<strong>{html.escape(words[position])}</strong>"
        return "<p>" + " ".join(words) + "</p>"
    return f"<p>{html.escape(text)}</p>"


def _article_title(seed: int, index: int, language: str) -> str:
    return _title(random.Random(f"{seed}|article-title|{index}|{language}"), language)


def article_slug(seed: int, index: int, language: str) -> str:
    return f"{_slug(_article_title(seed, index, language))[:60]}-{index + 1}"


def article_key(index: int) -> str:
    return f"bench-article-{index + 1:05d}"


def article_spec(index: int, *, count: int = 1000, seed: int = 42) -> dict[str, Any]:
    """Article `index` of a set of `count`, the same for the same (seed, count)."""
    rng = random.Random(f"{seed}|article|{index}")
    ref = reference()
    topics = _vocabulary_keys("topics.json", "topics", TOPICS)
    situations = _vocabulary_keys("life_situations.json", "life_situations", LIFE_SITUATIONS)
    # Zipf popularity of link targets: article 0 is the most linked.
    popularity = list(accumulate(1.0 / (rank**1.1) for rank in range(1, count + 1)))
    targets: list[int] = []
    while len(targets) < min(rng.randint(1, 3), count - 1):
        target = rng.choices(range(count), cum_weights=popularity)[0]
        if target != index and target not in targets:
            targets.append(target)
    audience = rng.choices([a for a, _ in AUDIENCES], weights=[w for _, w in AUDIENCES])[0]
    classes = [c.code for c in rng.sample(ref.codes["service_classes"], 2)]
    life_events = [c.code for c in ref.codes["life_events"][:1]] if rng.random() < 0.3 else []
    plan: list[str] = ["paragraph"]
    for _ in range(rng.randint(2, 4)):
        plan += ["heading", "paragraph"] + (["paragraph"] if rng.random() < 0.5 else [])
    if rng.random() < 0.4:
        plan.insert(rng.randint(1, len(plan)), "callout")
    if rng.random() < 0.4:
        plan.append("services")
    if rng.random() < 0.3:
        plan.append("faq")
    if rng.random() < 0.15:
        plan.append("link_list")
    plan += ["internal_link"] * len(targets)
    translations = {}
    for language in LANGUAGES:
        text_rng = random.Random(f"{seed}|article|{index}|{language}")
        body: list[dict[str, Any]] = []
        link_number = 0
        for block in plan:
            if block == "paragraph":
                body.append({"type": "paragraph", "value": _paragraph(text_rng, language)})
            elif block == "heading":
                level = "h2" if text_rng.random() < 0.8 else "h3"
                body.append(
                    {
                        "type": "heading",
                        "value": {"text": _title(text_rng, language), "level": level},
                    }
                )
            elif block == "callout":
                body.append(
                    {
                        "type": "callout",
                        "value": {
                            "kind": text_rng.choice(CALLOUT_KINDS),
                            "title": _title(text_rng, language),
                            "text": _paragraph(text_rng, language, (1, 2)),
                        },
                    }
                )
            elif block == "faq":
                body.append(
                    {
                        "type": "faq",
                        "value": [
                            {
                                "question": _title(text_rng, language) + "?",
                                "answer": _paragraph(text_rng, language, (1, 2)),
                            }
                            for _ in range(text_rng.randint(2, 4))
                        ],
                    }
                )
            elif block == "link_list":
                body.append(
                    {
                        "type": "link_list",
                        "value": {
                            "title": _title(text_rng, language),
                            "links": [
                                {"title": title, "url": url}
                                for title, url in text_rng.sample(REFERENCES, 2)
                            ],
                        },
                    }
                )
            elif block == "services":
                body.append(
                    {
                        "type": "services",
                        "value": {
                            "title": _title(text_rng, language),
                            "target_groups": [audience],
                            "life_events": life_events,
                            "service_classes": classes,
                            "area": None,
                        },
                    }
                )
            elif block == "internal_link":
                target = targets[link_number]
                link_number += 1
                body.append(
                    {
                        "type": "internal_link",
                        "value": {
                            "article": article_key(target),
                            "text": f"{READ_ALSO[language]}: "
                            + _article_title(seed, target, language),
                        },
                    }
                )
        lead = vocabulary(language).sentences(text_rng, 2, 8, 16)[:300].rsplit(" ", 1)[0]
        translations[language] = {
            "title": _article_title(seed, index, language),
            "slug": article_slug(seed, index, language),
            "lead": lead.rstrip(".,") + ".",
            "body": body,
            "references": [
                {"title": title, "url": url} for title, url in rng.sample(REFERENCES, 2)
            ],
        }
    return {
        "key": article_key(index),
        "topic": topics[index % len(topics)],
        "audiences": [audience],
        "life_situations": rng.sample(situations, min(len(situations), rng.randint(1, 3))),
        "keywords": vocabulary("fi").keywords(rng, 4),
        "reviewer": {
            "name": f"Bench Reviewer {index % 17 + 1}",
            "title": "asiantuntija",
            "organisation": "Pesä benchmark set",
        },
        "reviewed_on": "2026-09-15",
        "status": "live",
        "image": None,
        "translations": translations,
    }


def article_specs(count: int = 1000, *, seed: int = 42) -> Iterator[dict[str, Any]]:
    for index in range(count):
        yield article_spec(index, count=count, seed=seed)


def write(out: Path, *, count: int = 1000, seed: int = 42) -> int:
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for spec in article_specs(count, seed=seed):
        path = out / f"{spec['key']}.json"
        path.write_text(json.dumps(spec, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.articles", description=__doc__)
    parser.add_argument("--count", type=int, default=1000, help="articles (each in fi/sv/en)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    written = write(args.out, count=args.count, seed=args.seed)
    print(
        f"{written} article specs ({written * len(LANGUAGES)} pages) in {args.out}", file=sys.stdout
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

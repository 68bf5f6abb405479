"""Loads the bench article set (bench/articles.py specs) into Wagtail through the real loader.

    python -m bench.content --count 1000

The specs are written in the demo-content layout under var/bench/articles-<count>/ and
loaded by `cms.services.demo.load_demo_content`: real pages in fi/sv/en under the topic
pages, each with a revision, published. Prints one JSON line (pages, seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "cms" / "demo_content"


def content_dir(count: int, seed: int = 42) -> Path:
    from bench.articles import write

    out = ROOT / "var" / "bench" / f"articles-{count}-s{seed}"
    marker = out / ".complete"
    if not marker.exists():
        shutil.rmtree(out, ignore_errors=True)
        (out / "articles").mkdir(parents=True)
        for name in ("topics.json", "life_situations.json"):
            if (DEMO / name).exists():
                shutil.copy(DEMO / name, out / name)
        write(out / "articles", count=count, seed=seed)
        marker.write_text("ok\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.content")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from cms.models import ArticlePage
    from cms.services.demo import load_demo_content

    folder = content_dir(args.count, args.seed)
    started = time.perf_counter()
    result = load_demo_content(content_dir=folder)
    seconds = time.perf_counter() - started
    pages = ArticlePage.objects.live().count()
    sys.stdout.write(
        json.dumps(
            {
                "articles": args.count,
                "pages_created": result.articles_created,
                "live_article_pages": pages,
                "seconds": seconds,
                "pages_per_second": result.articles_created / seconds if seconds else None,
            }
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Zipf-distributed text from real Finnish, Swedish and English words.

The word lists in bench/data/vocabulary_{fi,sv,en}.txt are ranked by their frequency in
real PTV texts (see bench/data/SOURCES.md). Text is drawn word by word with
P(rank r) ∝ 1 / r**s (s = 1.1 by default), so a few words ("ja", "och") are in almost
every record and most words are in very few: search selectivity like real text, not
like a uniform lorem ipsum.
"""

from __future__ import annotations

import random
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
ZIPF_S = 1.1
# Words at least this long make names and keywords ("content words").
CONTENT_MIN_LENGTH = 6


def load_words(language: str) -> list[str]:
    """The frequency-ranked word list of one language, most frequent first."""
    lines = (DATA / f"vocabulary_{language}.txt").read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 1)[0] for line in lines if line.strip()]


class Zipf:
    """Samples words from a ranked list with P(rank r) ∝ 1 / r**s."""

    def __init__(self, words: list[str], s: float = ZIPF_S) -> None:
        if not words:
            raise ValueError("empty vocabulary")
        self.words = words
        self.s = s
        self.cum_weights = list(accumulate(1.0 / rank**s for rank in range(1, len(words) + 1)))

    def probability(self, rank: int) -> float:
        """P(word of 1-based rank `rank`)."""
        return (1.0 / rank**self.s) / self.cum_weights[-1]

    def words_(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cum_weights, k=k)


class Vocabulary:
    """All words of a language (for running text) and its content words (names, keywords)."""

    def __init__(self, language: str, s: float = ZIPF_S) -> None:
        self.language = language
        words = load_words(language)
        self.all = Zipf(words, s)
        self.content = Zipf(
            [w for w in words if len(w) >= CONTENT_MIN_LENGTH and not w.endswith("-")], s
        )

    def sentence(self, rng: random.Random, low: int = 6, high: int = 14) -> str:
        words = self.all.words_(rng, rng.randint(low, high))
        first = words[0]
        words[0] = first[:1].upper() + first[1:]
        return " ".join(words) + "."

    def sentences(self, rng: random.Random, count: int, low: int = 6, high: int = 14) -> str:
        return " ".join(self.sentence(rng, low, high) for _ in range(count))

    def paragraphs(self, rng: random.Random, count: int, per: tuple[int, int] = (2, 4)) -> str:
        """Plain text, paragraphs separated by a blank line (as PTV sends descriptions)."""
        return "\n\n".join(self.sentences(rng, rng.randint(per[0], per[1])) for _ in range(count))

    def keywords(self, rng: random.Random, k: int) -> list[str]:
        return list(dict.fromkeys(self.content.words_(rng, k)))

    def word(self, rng: random.Random) -> str:
        return self.content.words_(rng, 1)[0]


@lru_cache(maxsize=8)
def vocabulary(language: str, s: float = ZIPF_S) -> Vocabulary:
    return Vocabulary(language, s)

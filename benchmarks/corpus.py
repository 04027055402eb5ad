"""Realistic benchmark data: Markdown articles of varied length, tags and dates.

The same seed always gives the same files, so every run (and Hugo beside syndicate)
reads the same articles. They go through ``syndicate import`` like a real site's.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2020, 1, 1, 8, tzinfo=UTC)
TAGS = [
    "news", "analysis", "transport", "housing", "culture", "sport", "science", "health",
    "education", "climate", "business", "politics", "opinion", "explainer", "city",
    "weather", "technology", "food", "travel", "history",
]  # fmt: skip
AUTHORS = ["Olena Marchenko", "Ann Author", "Jonas Weber", "Mei Lin", "Kwame Mensah", "Zoë Ünal"]
WORDS = [
    "city",
    "council",
    "transport",
    "fare",
    "ticket",
    "station",
    "bus",
    "tram",
    "line",
    "report",
    "budget",
    "school",
    "housing",
    "rent",
    "energy",
    "river",
    "bridge",
    "market",
    "festival",
    "museum",
    "library",
    "park",
    "road",
    "cycle",
    "lane",
    "night",
    "service",
    "data",
    "survey",
    "residents",
    "mayor",
    "plan",
    "year",
    "month",
    "week",
    "change",
    "price",
    "new",
    "old",
    "first",
    "last",
    "public",
    "open",
    "closed",
    "works",
    "repair",
    "delay",
    "storm",
    "winter",
    "summer",
]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 22))]
    if rng.random() < 0.3:
        at = rng.randrange(len(words))
        words[at] = f"**{words[at]}**"
    if rng.random() < 0.2:
        at = rng.randrange(len(words))
        words[at] = f"[{words[at]}](https://example.org/{rng.choice(WORDS)}/{rng.randint(1, 999)})"
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 6)))


def article(number: int, seed: int = 19) -> tuple[str, str]:
    """(file name, Markdown text) of article ``number`` (deterministic)."""
    rng = random.Random(seed * 1_000_003 + number)
    when = START + timedelta(hours=number * 3, minutes=rng.randint(0, 59))
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10))).capitalize()
    tags = rng.sample(TAGS, rng.randint(1, 4))
    blocks = []
    for _ in range(rng.choice([2, 3, 4, 6, 8, 12, 20])):  # short notes to long reads
        kind = rng.random()
        if kind < 0.12:
            blocks.append("## " + " ".join(rng.choice(WORDS) for _ in range(3)).capitalize())
        elif kind < 0.2:
            blocks.append("\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(2, 5))))
        elif kind < 0.24:
            blocks.append("> " + _sentence(rng))
        blocks.append(_paragraph(rng))
    front = [
        "---",
        f'title: "{title} {number}"',
        f"date: {when:%Y-%m-%d %H:%M}",
        f"author: {rng.choice(AUTHORS)}",
        f"tags: [{', '.join(tags)}]",
        "---",
        "",
    ]
    return f"{when:%Y-%m-%d}-article-{number}.md", "\n".join(front) + "\n\n".join(blocks) + "\n"


def write_corpus(folder: Path, count: int, *, first: int = 1) -> list[Path]:
    """Write articles ``first`` .. ``first + count - 1`` into ``folder``; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(first, first + count):
        name, text = article(number)
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths

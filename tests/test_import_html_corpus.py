"""Extraction quality on the corpus of real-world-shaped pages in tests/corpus_html.

For each page: the body as stored (parsed, then sanitised) against the text a
reader sees as the article, scored by word-level precision, recall and F1 (bags
of words, as in the extraction benchmarks the issue cites), plus its title and
byline. Run with ``-s`` to see the table.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import lxml.html
import pytest

from syndicate.core.sanitize import sanitize_html
from syndicate.intake.importers.html import parse_html_page

CORPUS = Path(__file__).parent / "corpus_html"
PAGES = sorted(CORPUS.glob("*.html"))
MIN_MEAN_F1 = 0.95
WORD = re.compile(r"\w+")


def words(text: str) -> Counter[str]:
    return Counter(word.casefold() for word in WORD.findall(text))


def score(got: str, expected: str) -> tuple[float, float, float]:
    """Word-level (precision, recall, F1) of ``got`` against ``expected``."""
    found, wanted = words(got), words(expected)
    common = sum((found & wanted).values())
    precision = common / max(sum(found.values()), 1)
    recall = common / max(sum(wanted.values()), 1)
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return precision, recall, f1


def stored_text(html: str) -> str:
    """The words of the body as it would be stored (sanitised), image alt text excluded."""
    clean = sanitize_html(html, base_url="https://operator.example/")
    if not clean.strip():
        return ""
    return " ".join(lxml.html.fragment_fromstring(clean, create_parent="div").itertext())


def extract(page: Path) -> tuple[str, str | None, str]:
    article = parse_html_page(page.read_text(encoding="utf-8"), None, name=str(page))
    return article.title, article.author_name, stored_text(article.body_html)


def test_the_corpus_is_big_and_varied() -> None:
    shapes = {json.loads(p.with_suffix(".json").read_text("utf-8"))["shape"] for p in PAGES}
    assert len(PAGES) >= 30
    assert len(shapes) >= 12


def test_mean_f1_on_the_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    rows = []
    for page in PAGES:
        truth = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
        _, _, text = extract(page)
        rows.append((page.stem, *score(text, truth["text"])))
    mean = [sum(row[i] for row in rows) / len(rows) for i in (1, 2, 3)]
    with capsys.disabled():
        print(f"\n{'page':34} {'precision':>9} {'recall':>7} {'F1':>6}")
        for name, precision, recall, f1 in rows:
            print(f"{name:34} {precision:9.3f} {recall:7.3f} {f1:6.3f}")
        print(f"{'mean':34} {mean[0]:9.3f} {mean[1]:7.3f} {mean[2]:6.3f}")
    assert mean[2] >= MIN_MEAN_F1, f"mean F1 {mean[2]:.3f} is below {MIN_MEAN_F1}"


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_title_and_byline(page: Path) -> None:
    truth = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    title, byline, _ = extract(page)
    assert (title, byline) == (truth["title"], truth["byline"])


def test_scores_can_fail() -> None:
    """The measure itself: extra words cost precision, missing words cost recall."""
    assert score("a b c d", "a b") == (0.5, 1.0, pytest.approx(2 / 3))
    assert score("a", "a b c d") == (1.0, 0.25, pytest.approx(0.4))
    assert score("x y", "a b") == (0.0, 0.0, 0.0)

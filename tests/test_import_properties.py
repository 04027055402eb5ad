"""Property: any text or HTML file either imports with sanitised output or fails with a
clear ImportFailure naming the file; never an unexpected error, never half-stored."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from syndicate import articles
from syndicate.core.db import articles as articles_table
from syndicate.core.db import transaction
from syndicate.intake.importers import import_paths
from syndicate.service.context import App
from tests.test_sanitize import HOSTILE_BITS, assert_safe

_counter = itertools.count()

TEXT_BITS = [
    "\n", "\n\n", "  • item\n", "- item\n", "* item\n", "1. one\n", "“Quoted words.”\n",
    "Short Heading\n", "Heading:\n", "✅ Lead In:\n", "\u00a0\n", "By Jane Doe\n",
    "12 November 2026\n", "Share This Article\n", "Leave a Reply\n", "---\n", "+++\n",
    "title: x\n", "# H\n", "<p>", "</p>", "&amp;", "\x00", "\x0c", "\r\n", "https://x.org/a",
]  # fmt: skip
texts = st.lists(
    st.one_of(st.sampled_from(TEXT_BITS + HOSTILE_BITS), st.text(max_size=30)), max_size=40
).map("".join)

PROPERTY_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check_import(app: App, directory: Path, suffix: str, content: str) -> None:
    path = directory / f"doc-{next(_counter)}{suffix}"
    path.write_bytes(content.encode("utf-8", "surrogatepass"))
    with transaction(app.engine) as conn:
        before = conn.execute(select(func.count()).select_from(articles_table)).scalar_one()
    (outcome,) = import_paths(app.engine, app.settings, clock=app.clock, paths=[path]).outcomes
    event(outcome.status if outcome.status != "failed" else outcome.reason[:30])
    with transaction(app.engine) as conn:
        after = conn.execute(select(func.count()).select_from(articles_table)).scalar_one()
        article = articles.find(conn, outcome.slug) if outcome.slug else None
    if outcome.status == "failed":
        assert outcome.error is not None
        assert outcome.error.message.startswith(str(path))
        assert "unexpected error" not in outcome.reason, outcome.reason
        assert after == before
        return
    assert outcome.status in ("imported", "updated", "unchanged"), outcome.to_dict()
    assert article is not None
    assert_safe(article.content_html)
    for value in (article.title, article.summary, article.author_name or ""):
        assert not re.search("[\x00-\x1f]", value), value
    assert article.title.strip() and len(article.title) <= 300
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", article.content_text)


@PROPERTY_SETTINGS
@given(content=st.one_of(texts, texts.map(lambda text: "A Title\n\n" + text)))
def test_any_plain_text_imports_safely_or_fails_clearly(
    app: App, tmp_path: Path, content: str
) -> None:
    check_import(app, tmp_path, ".txt", content)


@PROPERTY_SETTINGS
@given(content=st.one_of(texts, texts.map(lambda text: "# A Title\n\n" + text)))
def test_any_markdown_imports_safely_or_fails_clearly(
    app: App, tmp_path: Path, content: str
) -> None:
    check_import(app, tmp_path, ".md", content)


@PROPERTY_SETTINGS
@given(content=st.lists(st.one_of(st.sampled_from(HOSTILE_BITS), st.text(max_size=30)),
                        max_size=40).map(lambda parts: "<h1>Title</h1>" + "".join(parts)))  # fmt: skip
def test_any_html_imports_safely_or_fails_clearly(app: App, tmp_path: Path, content: str) -> None:
    check_import(app, tmp_path, ".html", content)


@PROPERTY_SETTINGS
@given(content=st.text())
def test_arbitrary_html_files_never_crash(app: App, tmp_path: Path, content: str) -> None:
    check_import(app, tmp_path, ".html", content)

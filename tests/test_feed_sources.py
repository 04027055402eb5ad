"""Feeds built from real and hostile articles pass the lint and read cleanly in feedparser."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from syndicate.feeds import build_feeds
from syndicate.feeds.lint import lint_tree
from syndicate.feeds.model import TITLE_LIMIT, plain_text
from syndicate.feeds.rss import ATOM_NS
from syndicate.intake.importers import import_paths
from syndicate.service.context import App
from tests.support import CORPUS, EXAMPLES, require
from tests.support.feeds import START, add_numbered_article, clear_articles, feed_files, parse_clean

SOURCES_CONFIG = """
[[feeds]]
name = "all"
path = "all"
limit = 4
archive = true
archive_page_size = 2
per_tag = true
hubs = ["https://hub.example.org/"]
"""


@pytest.fixture
def config_extra() -> str:
    return SOURCES_CONFIG


def _check_every_feed(app: App) -> None:
    problems = lint_tree(app.settings)
    assert [p for lines in problems.values() for p in lines] == []
    for path in feed_files(app.settings.feeds_dir):
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            assert len({item["id"] for item in data["items"]}) == len(data["items"])
        else:
            parse_clean(path)


def _after_files(app: App, folder: Path) -> None:
    """Move the fixed clock past the files' times (undated files take their mtime)."""
    newest = max(p.stat().st_mtime for p in folder.rglob("*") if p.is_file())
    app.clock.set(datetime.fromtimestamp(newest, UTC) + timedelta(days=1))  # type: ignore[attr-defined]


def test_shared_corpus(app: App) -> None:
    _after_files(app, CORPUS)
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[CORPUS])
    assert report.outcomes and all(o.status != "failed" for o in report.outcomes)
    build_feeds(app.engine, app.settings, clock=app.clock)
    _check_every_feed(app)
    atom = parse_clean(app.settings.feeds_dir / "all/atom.xml")
    entry = atom.entries[0]
    assert entry.title == "Zelensky Drops Stunner: Ukrainian Troops Active Inside Russia"
    body = entry.content[0].value
    assert "war must return to where it came from" in body
    assert "✅" in body and "⚠️" in body
    assert "Leave a Reply" not in body


def test_example_site(app: App) -> None:
    require(EXAMPLES.is_dir() and any(EXAMPLES.iterdir()), "examples/articles")
    _after_files(app, EXAMPLES)
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[EXAMPLES])
    assert all(o.status != "failed" for o in report.outcomes)
    build = build_feeds(app.engine, app.settings, clock=app.clock)
    assert build.entries["all"] > 0
    _check_every_feed(app)


HOSTILE_SNIPPETS = [
    "<script>alert(1)</script>",
    '<img src="x.png" onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="../relative/page">rel</a>',
    '<img src="data:image/svg+xml;base64,PHN2Zz4=">',
    '<svg onload="alert(1)"><script>x</script></svg>',
    '<iframe src="https://evil.example/"></iframe>',
    '<p style="background:url(javascript:alert(1))">css</p>',
    "<![CDATA[ ]]> ]]> &bogus; &#0; &#x1; &#xFFFE;",
    "\x01\x02\x0b\x0c\x1f\ufffe\uffff",
    "<b>unclosed <i>tags",
    "<p>" + "long " * 2000 + "</p>",
]

# PostgreSQL text cannot hold NUL at all; every other character is fair game.
_any_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
_hostile = st.lists(st.one_of(_any_text, st.sampled_from(HOSTILE_SNIPPETS)), max_size=5).map(
    "".join
)
_article = st.fixed_dictionaries(
    {
        "title": _hostile,
        "content_html": _hostile,
        "summary": _hostile,
        "author": st.one_of(st.none(), _hostile),
        "tags": st.lists(
            st.one_of(_any_text.filter(bool), st.just("news")), max_size=3, unique=True
        ),
        "image": st.one_of(
            st.none(),
            st.tuples(
                st.sampled_from(["/rel.png", "javascript:x", "https://cdn.example/a b.jpg", ""]),
                st.one_of(st.none(), st.sampled_from(["image/png", "bogus", "<b>"])),
                st.one_of(st.none(), st.integers(-5, 10**9)),
            ),
        ),
    }
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(_article, min_size=1, max_size=5))
def test_hostile_articles_give_valid_feeds(app: App, batch: list[dict]) -> None:
    clear_articles(app)
    shutil.rmtree(app.settings.feeds_dir, ignore_errors=True)
    for number, fields in enumerate(batch, start=1):
        add_numbered_article(
            app,
            number,
            title=fields["title"],
            content_html=fields["content_html"] or "<p></p>",
            content_text=fields["content_html"] or " ",
            summary=fields["summary"],
            author=fields["author"],
            tags=tuple(fields["tags"]),
            image=fields["image"],
            published=START + timedelta(minutes=number),
        )
    build_feeds(app.engine, app.settings, clock=app.clock)
    _check_every_feed(app)
    atom = parse_clean(app.settings.feeds_dir / "all/atom.xml")
    newest_first = list(reversed(batch))[:4]
    assert [e.id for e in atom.entries] == [
        f"tag:news.example.org,2026:article-{len(batch) - i}" for i in range(len(newest_first))
    ]
    # Titles are read with lxml: feedparser "repairs" some text (mojibake like 'Â¡').
    tree = etree.parse(str(app.settings.feeds_dir / "all/atom.xml"))
    titles = tree.xpath("/a:feed/a:entry/a:title/text()", namespaces={"a": ATOM_NS})
    for title, fields in zip(titles, newest_first, strict=True):
        expected = plain_text(fields["title"], limit=TITLE_LIMIT) or "(untitled)"
        assert title == expected

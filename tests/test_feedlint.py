"""The feed lint catches each rule of STANDARDS.md it claims to check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syndicate.core.config import Settings
from syndicate.feeds.lint import MAX_BYTES, lint_file, lint_tree

URL = "https://news.example.org/feeds/all/rss.xml"
ATOM_URL = "https://news.example.org/feeds/all/atom.xml"
JSON_URL = "https://news.example.org/feeds/all/feed.json"

RSS = """<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">
  <channel>
    <title>Test News</title>
    <link>https://news.example.org/</link>
    <description>News</description>
    <lastBuildDate>Mon, 02 Mar 2026 09:00:00 +0000</lastBuildDate>
    <atom:link href="{self}" rel="self" type="application/rss+xml"/>
    <item>
      <title>{title}</title>
      <link>https://news.example.org/a/</link>
      <description>Summary</description>
      <content:encoded>{content}</content:encoded>
      <guid isPermaLink="{permalink}">{guid}</guid>
      <pubDate>{date}</pubDate>
    </item>
  </channel>
</rss>
"""

ATOM = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:syndicate:feed:all</id>
  <title>Test News</title>
  <updated>{updated}</updated>
  {author}
  <link href="{self}" rel="self" type="application/atom+xml"/>
  <entry>
    <id>tag:x,2026:1</id>
    <title>One</title>
    <updated>2026-03-02T09:00:00+00:00</updated>
    <content type="{content_type}">&lt;p&gt;ok&lt;/p&gt;</content>
    <link href="https://news.example.org/a/" rel="alternate" type="text/html"/>
  </entry>
  <entry>
    <id>{second_id}</id>
    <title>Two</title>
    <updated>2026-03-02T09:00:00+00:00</updated>
    <link href="https://news.example.org/b/" rel="alternate" type="text/html"/>
    {extra_link}
  </entry>
</feed>
"""


def rss(**overrides: str) -> str:
    values = {
        "self": URL,
        "title": "A title",
        "content": "&lt;p&gt;Hello &lt;a href='https://x.example/'&gt;x&lt;/a&gt;&lt;/p&gt;",
        "permalink": "false",
        "guid": "tag:news.example.org,2026:1",
        "date": "Mon, 02 Mar 2026 09:00:00 +0000",
    }
    return RSS.format(**{**values, **overrides})


def atom(**overrides: str) -> str:
    values = {
        "updated": "2026-03-02T09:00:00+00:00",
        "author": "<author><name>Desk</name></author>",
        "self": ATOM_URL,
        "content_type": "html",
        "second_id": "tag:x,2026:2",
        "extra_link": "",
    }
    return ATOM.format(**{**values, **overrides})


def json_feed(**overrides: object) -> str:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Test News",
        "home_page_url": "https://news.example.org/",
        "feed_url": JSON_URL,
        "items": [
            {
                "id": "tag:x,2026:1",
                "url": "https://news.example.org/a/",
                "title": "One",
                "content_html": "<p>ok</p>",
                "date_published": "2026-03-02T09:00:00+00:00",
            }
        ],
    }
    feed.update(overrides)
    return json.dumps(feed)


def lint(tmp_path: Path, text: str | bytes, name: str = "rss.xml", url: str = URL) -> list[str]:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return lint_file(path, public_url=url)


def test_clean_documents_pass(tmp_path: Path) -> None:
    assert lint(tmp_path, rss()) == []
    assert lint(tmp_path, atom(), "atom.xml", ATOM_URL) == []
    assert lint(tmp_path, json_feed(), "feed.json", JSON_URL) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"self": "https://elsewhere.example/rss.xml"}, "expected the public URL"),
        ({"title": "&lt;b&gt;Bold&lt;/b&gt;"}, "HTML in title"),
        ({"content": "&lt;script&gt;alert(1)&lt;/script&gt;"}, "<script> element"),
        ({"content": "&lt;p onclick='x()'&gt;x&lt;/p&gt;"}, "event handler onclick"),
        ({"content": "&lt;img src='/a.png'&gt;"}, "relative URL '/a.png'"),
        ({"content": "&lt;a href='javascript:alert(1)'&gt;x&lt;/a&gt;"}, "javascript: URL"),
        ({"permalink": "true", "guid": "article-1"}, "permalink guid"),
        ({"date": "2026-03-02T09:00:00Z"}, "not RFC 822"),
        ({"date": "Mon, 02 Mar 26 09:00:00 +0000"}, "four-digit year"),
    ],
)
def test_rss_rules(tmp_path: Path, overrides: dict[str, str], expected: str) -> None:
    problems = lint(tmp_path, rss(**overrides))
    assert any(expected in problem for problem in problems), problems
    assert all(problem.startswith(str(tmp_path / "rss.xml")) for problem in problems)


def test_control_characters_and_size(tmp_path: Path) -> None:
    problems = lint(tmp_path, rss(title="bad\x01title"))
    assert any("XML-illegal control character" in p for p in problems), problems
    big = rss(content="x" * (MAX_BYTES + 10))
    assert any("over the validators'" in p for p in lint(tmp_path, big))
    assert any("not UTF-8" in p for p in lint(tmp_path, rss().encode("utf-8") + b"\xff"))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"updated": "2026-03-02 09:00"}, "not RFC 3339"),
        ({"author": ""}, "no author"),
        ({"content_type": "CDATA"}, 'type="CDATA"'),
        ({"second_id": "tag:x,2026:1"}, "duplicate id"),
        (
            {"extra_link": '<link href="https://news.example.org/b2/" type="text/html"/>'},
            "two rel=alternate",
        ),
        ({"self": "https://news.example.org/feeds/all/rss.xml"}, "expected the public URL"),
    ],
)
def test_atom_rules(tmp_path: Path, overrides: dict[str, str], expected: str) -> None:
    problems = lint(tmp_path, atom(**overrides), "atom.xml", ATOM_URL)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"version": "https://jsonfeed.org/version/1"}, "version"),
        ({"feed_url": "https://news.example.org/other.json"}, "feed_url"),
        ({"items": [{"id": "a"}]}, "needs content_html or content_text"),
        ({"items": [{"id": 5, "content_text": "x"}]}, "non-empty string"),
        ({"items": [{"id": "a", "content_text": "x", "date_published": "yesterday"}]}, "3339"),
        (
            {"items": [{"id": "a", "content_text": "x", "attachments": [{"url": "u"}]}]},
            "needs url and mime_type",
        ),
        ({"items": [{"id": "a", "content_html": "<p>x\u0007</p>"}]}, "control character"),
        ({"next_url": "archive/1/feed.json"}, "next_url"),
    ],
)
def test_json_feed_rules(tmp_path: Path, overrides: dict[str, object], expected: str) -> None:
    problems = lint(tmp_path, json_feed(**overrides), "feed.json", JSON_URL)
    assert any(expected in problem for problem in problems), problems


def test_tree_checks_archive_links_point_at_built_pages(settings: Settings) -> None:
    root = settings.feeds_dir
    base = settings.site.public_feeds_url
    (root / "all/archive/1").mkdir(parents=True)
    live = rss(self=base + "all/rss.xml").replace(
        "</channel>",
        f'<atom:link href="{base}all/archive/2/rss.xml" rel="prev-archive"/></channel>',
    )
    (root / "all/rss.xml").write_text(live, encoding="utf-8")
    page = rss(self=base + "all/archive/1/rss.xml")
    (root / "all/archive/1/rss.xml").write_text(page, encoding="utf-8")

    problems = lint_tree(settings)

    assert set(problems) == {"all/rss.xml", "all/archive/1/rss.xml"}
    assert problems["all/archive/1/rss.xml"] == []
    assert problems["all/rss.xml"] == [
        f"all/rss.xml: rel=prev-archive: points at '{base}all/archive/2/rss.xml', "
        "which was not built"
    ]

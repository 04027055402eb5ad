"""Markdown (YAML and TOML front matter) and HTML import; format detection; the examples."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest

from syndicate import articles
from syndicate.core.db import transaction
from syndicate.intake.importers import import_paths
from syndicate.service.context import App
from tests.support import EXAMPLES, T0


def import_one(app: App, path: Path, **kwargs: object) -> articles.Article:
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[path], **kwargs)  # type: ignore[arg-type]
    assert report.ok, report.to_dict()
    with transaction(app.engine) as conn:
        found = articles.find(conn, report.outcomes[0].slug or "")
    assert found is not None
    return found


def test_markdown_with_yaml_front_matter(app: App, tmp_path: Path) -> None:
    path = tmp_path / "tram.md"
    path.write_text(
        "---\n"
        "title: Tram line 4 runs late\n"
        "date: 2026-11-12 08:30\n"
        "updated: 2026-11-13T10:00:00Z\n"
        "author: Taras Bondar <taras@news.example.org>\n"
        "tags: [Analysis, trams, analysis]\n"
        "summary: Where the minutes go.\n"
        "slug: tram-4-delays\n"
        "image: {url: /media/tram.jpg, length: 12345}\n"
        "---\n"
        "# Tram line 4 runs late\n\n"
        "Text with a note[^1] and a [link](/about/).\n\n"
        "| a | b |\n|---|--:|\n| 1 | 2 |\n\n"
        "[^1]: The note.\n",
        encoding="utf-8",
    )
    article = import_one(app, path)
    assert article.title == "Tram line 4 runs late"
    assert article.slug == "tram-4-delays"
    assert article.author_name == "Taras Bondar"
    assert article.author_email == "taras@news.example.org"
    assert article.tags == ("analysis", "trams")
    assert article.summary == "Where the minutes go."
    assert article.published_at == datetime(2026, 11, 12, 6, 30, tzinfo=UTC)  # Kyiv, UTC+2
    assert article.updated_at == datetime(2026, 11, 13, 10, 0, tzinfo=UTC)
    assert article.image_url == "https://news.example.org/media/tram.jpg"
    assert (article.image_type, article.image_length) == ("image/jpeg", 12345)
    assert article.source_format == "markdown"
    root = lxml.html.fragment_fromstring(article.content_html, create_parent="div")
    assert not root.xpath("//h1")  # the title is not repeated in the body
    assert root.xpath("//table//td/text()") == ["1", "2"]
    page = "https://news.example.org/tram-4-delays/"
    assert root.xpath("//sup/a/@href") == [page + "#fn1"]
    assert root.xpath("//li[@id='fn1']//text()")[0].startswith("The note.")
    assert root.xpath("//p/a/@href")[0] == "https://news.example.org/about/"


def test_markdown_with_toml_front_matter_and_title_from_heading(app: App, tmp_path: Path) -> None:
    path = tmp_path / "lanes.md"
    path.write_text(
        '+++\ndate = 2026-11-05T07:00:00+02:00\ntags = ["cycling"]\ndraft = true\n'
        'author = { name = "Iryna Savchuk", email = "cycling@news.example.org" }\n'
        'id = "6f7c2a8e-4b1d-4e0a-9c55-2d8f3b9e1a07"\n+++\n\n'
        "# Which *lanes* are cleared first\n\nBody paragraph.\n",
        encoding="utf-8",
    )
    article = import_one(app, path)
    assert article.title == "Which lanes are cleared first"
    assert article.uid == "urn:uuid:6f7c2a8e-4b1d-4e0a-9c55-2d8f3b9e1a07"
    assert article.draft is True
    assert article.published_at == datetime(2026, 11, 5, 5, 0, tzinfo=UTC)
    assert (article.author_name, article.author_email) == (
        "Iryna Savchuk",
        "cycling@news.example.org",
    )
    assert article.content_html == "<p>Body paragraph.</p>"


def test_unknown_front_matter_keys_are_reported(app: App, tmp_path: Path) -> None:
    path = tmp_path / "typo.md"
    path.write_text("---\ntitle: T\ntittle: X\ndate: 2026-01-02\n---\nBody.\n", encoding="utf-8")
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[path])
    assert report.outcomes[0].status == "imported"
    assert report.outcomes[0].warnings == ["line 3: unknown front-matter key 'tittle' ignored"]


PAGE = """<!DOCTYPE html>
<html><head><title>Ignored – Site</title>
<meta property="og:title" content="Station reopens">
<meta name="author" content="Daria Kovalenko">
<meta name="keywords" content="Stations, Access">
<meta property="og:image" content="/media/hall.png">
<script>track()</script><style>body{}</style></head>
<body><header><a href="/">Site</a></header><nav><a href="/x">Menu</a></nav>
<main><article><header><h1>Station reopens</h1>
<time datetime="2026-10-29T09:00:00+02:00">29 Oct</time></header>
<p>The hall <img src="hall.jpg" alt="Hall" onerror="x()"> reopened.</p>
<form><input name="q"></form><aside>Related</aside><!-- ad -->
<script>ads()</script></article></main>
<footer>© Site</footer></body></html>"""


def test_html_page_keeps_the_article_and_drops_chrome(app: App, tmp_path: Path) -> None:
    path = tmp_path / "station.html"
    path.write_text(PAGE, encoding="utf-8")
    article = import_one(app, path)
    assert article.title == "Station reopens"
    assert article.author_name == "Daria Kovalenko"
    assert article.published_at == datetime(2026, 10, 29, 7, 0, tzinfo=UTC)
    assert article.tags == ("access", "stations")  # stored sorted
    assert article.image_url == "https://news.example.org/media/hall.png"
    assert article.image_type == "image/png"
    assert article.content_html == (
        '<p>The hall <img src="https://news.example.org/hall.jpg" alt="Hall"> reopened.</p>'
    )
    for chrome in ("Menu", "Related", "©", "track", "ads", "Site"):
        assert chrome not in article.content_text


def test_html_fragment_title_from_h1(app: App, tmp_path: Path) -> None:
    path = tmp_path / "fragment.htm"
    path.write_text(
        "<h1>Bridge closed</h1><p>From <time datetime='2026-09-01'>1 Sep</time> the bridge "
        "is closed.</p>",
        encoding="utf-8",
    )
    article = import_one(app, path)
    assert article.title == "Bridge closed"
    assert article.published_at == datetime(2026, 8, 31, 21, 0, tzinfo=UTC)
    assert article.content_text == "From 1 Sep the bridge is closed."


@pytest.mark.parametrize(
    ("name", "content", "fmt"),
    [
        ("a.text", "Title\n\nBody text here.\n", "text"),
        ("b", "<!doctype html><html><body><h1>T</h1><p>x</p></body></html>", "html"),
        ("c", "---\ntitle: T\n---\nBody *here*.\n", "markdown"),
        ("d.markdown", "# T\n\nBody.\n", "markdown"),
        ("e.dat", "# T\n\nSome [link](https://x.org/).\n", "markdown"),
        ("f.dat", "Plain Title\n\nJust a paragraph of plain words.\n", "text"),
    ],
)
def test_format_detected_from_extension_and_content(
    app: App, tmp_path: Path, name: str, content: str, fmt: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert import_one(app, path).source_format == fmt


def test_format_option_overrides_detection(app: App, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("# Heading\n\nA *Markdown* body.\n", encoding="utf-8")
    article = import_one(app, path, fmt="md")
    assert article.source_format == "markdown"
    assert article.title == "Heading"
    assert article.content_html == "<p>A <em>Markdown</em> body.</p>"


def test_folders_import_recursively(app: App, tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.md").write_text("# One\n\nBody.\n", encoding="utf-8")
    (tmp_path / "a" / "b" / "two.txt").write_text("Two\n\nBody text.\n", encoding="utf-8")
    (tmp_path / "a" / "b" / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00")
    (tmp_path / "a" / ".hidden").mkdir()
    (tmp_path / "a" / ".hidden" / "x.md").write_text("# X\n\nx\n", encoding="utf-8")
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[tmp_path / "a"])
    assert sorted(o.slug or "" for o in report.outcomes) == ["one", "two"]
    assert report.counts["imported"] == 2


def test_the_example_articles_import(app: App) -> None:
    report = import_paths(app.engine, app.settings, clock=app.clock, paths=[EXAMPLES])
    assert report.ok, report.to_dict()
    assert report.counts["imported"] >= 4
    assert not [o for o in report.outcomes if o.warnings], report.to_dict()
    with transaction(app.engine) as conn:
        stored = articles.all_articles(conn)
        visible = articles.published(conn, now=datetime(2026, 11, 21, tzinfo=UTC))
        analysis = articles.published(
            conn,
            now=datetime(2026, 11, 21, tzinfo=UTC),
            flt=articles.ArticleFilter.of(["analysis"]),
        )
    formats = {a.source_format for a in stored}
    assert formats == {"text", "markdown", "html"}
    assert len(visible) == len(stored)
    assert len(analysis) >= 2
    for article in stored:
        assert datetime(2026, 1, 1, tzinfo=UTC) < article.published_at
        assert article.published_at <= datetime(2026, 11, 20, 23, 59, tzinfo=UTC)
        assert article.summary and article.content_text
    assert min(a.published_at for a in stored) > T0


def test_naive_dates_use_the_site_zone_across_dst(app: App, tmp_path: Path) -> None:
    summer = tmp_path / "summer.md"
    summer.write_text("---\ntitle: Summer\ndate: 2026-07-01 09:00\n---\nBody.\n", encoding="utf-8")
    winter = tmp_path / "winter.md"
    winter.write_text("---\ntitle: Winter\ndate: 2026-01-15 09:00\n---\nBody.\n", encoding="utf-8")
    assert import_one(app, summer).published_at == datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
    assert import_one(app, winter).published_at == datetime(2026, 1, 15, 7, 0, tzinfo=UTC)


def test_iframes_survive_only_from_configured_hosts(app: App, tmp_path: Path) -> None:
    site = app.settings.site.model_copy(update={"iframe_hosts": ["youtube-nocookie.com"]})
    video_app = App(
        app.settings.model_copy(update={"site": site}), clock=app.clock, _engine=app.engine
    )
    path = tmp_path / "video.md"
    path.write_text(
        "# Video\n\nWatch:\n\n"
        '<iframe src="https://www.youtube-nocookie.com/embed/abc" width="560"></iframe>\n\n'
        '<iframe src="https://tracker.example.com/embed"></iframe>\n',
        encoding="utf-8",
    )
    article = import_one(video_app, path)
    root = lxml.html.fragment_fromstring(article.content_html, create_parent="div")
    assert root.xpath("//iframe/@src") == ["https://www.youtube-nocookie.com/embed/abc"]

"""Building feeds from a store: what readers get, what the lint says, what is rewritten."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import update

from syndicate.cli import main
from syndicate.core.config import Settings, load_settings
from syndicate.core.db import articles
from syndicate.core.errors import FeedError
from syndicate.feeds import build_feeds
from syndicate.feeds.lint import lint_tree
from syndicate.service.context import App
from tests.support import EXAMPLES, example_site
from tests.support.feeds import FEEDS_CONFIG, START, add_numbered_article, feed_files, parse_clean


@pytest.fixture
def config_extra() -> str:
    return FEEDS_CONFIG


def _assert_lint_clean(app: App) -> dict[str, list[str]]:
    problems = lint_tree(app.settings)
    assert problems, "no feed files were linted"
    assert [p for lines in problems.values() for p in lines] == []
    return problems


def test_build_writes_valid_feeds_in_every_format(app: App) -> None:
    for number in range(1, 11):
        add_numbered_article(
            app,
            number,
            tags=("news", "analysis") if number % 3 == 0 else ("news",),
            image=("/media/pic.jpg", "image/jpeg", 1234) if number == 10 else None,
        )
    add_numbered_article(app, 99, draft=True)
    add_numbered_article(app, 98, published=START + timedelta(days=400))  # future: not shown yet

    report = build_feeds(app.engine, app.settings, clock=app.clock)

    root = app.settings.feeds_dir
    assert report.entries == {"all": 5, "analysis": 3}
    assert report.archive_pages == {"all": 3}  # 10 articles, pages of 4: 4 + 4 + 2
    assert {"all/rss.xml", "all/archive/3/feed.json", "index.html"} <= set(report.written)
    _assert_lint_clean(app)

    rss = parse_clean(root / "all/rss.xml")
    atom = parse_clean(root / "all/atom.xml")
    data = json.loads((root / "all/feed.json").read_text(encoding="utf-8"))
    for parsed in (rss, atom):
        assert [e.id for e in parsed.entries] == [
            f"tag:news.example.org,2026:article-{n}" for n in range(10, 5, -1)
        ]
        newest = parsed.entries[0]
        assert newest.title == "Article 10: “quotes” & dashes — fine"
        assert newest.link == "https://news.example.org/article-10/"
        assert newest.author_detail.name == "Ann Author"
        assert [t.term for t in newest.tags] == ["news"]
        published = START + timedelta(hours=60)
        assert newest.published_parsed[:6] == published.timetuple()[:6]
        body = newest.content[0].value
        assert 'href="https://news.example.org/about/"' in body
        assert "«ünïcödé» 🙂" in body
        hub = [link.href for link in parsed.feed.links if link.rel == "hub"]
        assert hub == ["https://hub.example.org/"]
    assert rss.entries[0].enclosures[0].href == "https://news.example.org/media/pic.jpg"
    assert rss.entries[0].enclosures[0].length == "1234"
    assert [i["id"] for i in data["items"]] == [e.id for e in rss.entries]
    assert data["items"][0]["image"] == "https://news.example.org/media/pic.jpg"
    assert data["items"][0]["authors"] == [{"name": "Ann Author"}]
    assert data["next_url"] == "https://news.example.org/feeds/all/archive/3/feed.json"

    # The summary-only feed carries no full content, only summaries and links.
    summary_feed = parse_clean(root / "analysis/atom.xml")
    assert [e.id[-2:] for e in summary_feed.entries] == ["-9", "-6", "-3"]
    assert "content" not in summary_feed.entries[0]
    assert summary_feed.entries[0].summary.startswith("Body of article 9")


def test_archive_pages_link_each_other_and_the_live_feed(app: App) -> None:
    for number in range(1, 10):
        add_numbered_article(app, number)
    build_feeds(app.engine, app.settings, clock=app.clock)
    root = app.settings.feeds_dir
    base = "https://news.example.org/feeds/all/"

    def links(relpath: str) -> dict[str, str]:
        parsed = parse_clean(root / relpath)
        return {link.rel: link.href for link in parsed.feed.links if link.rel != "alternate"}

    assert links("all/atom.xml")["prev-archive"] == base + "archive/3/atom.xml"
    page2 = links("all/archive/2/atom.xml")
    assert page2 == {
        "self": base + "archive/2/atom.xml",
        "current": base + "atom.xml",
        "prev-archive": base + "archive/1/atom.xml",
        "next-archive": base + "archive/3/atom.xml",
    }
    assert "prev-archive" not in links("all/archive/1/rss.xml")
    oldest = parse_clean(root / "all/archive/1/rss.xml")
    assert [e.id[-2:] for e in oldest.entries] == ["-4", "-3", "-2", "-1"]
    assert b"<fh:archive/>" in (root / "all/archive/1/rss.xml").read_bytes()
    # 9 articles, pages of 4: the third page holds the newest one.
    newest_page = json.loads((root / "all/archive/3/feed.json").read_text(encoding="utf-8"))
    assert [i["id"][-2:] for i in newest_page["items"]] == ["-9"]
    assert newest_page["next_url"] == base + "archive/2/feed.json"


def test_rebuild_with_nothing_new_writes_nothing(app: App) -> None:
    for number in range(1, 8):
        add_numbered_article(app, number)
    first = build_feeds(app.engine, app.settings, clock=app.clock)
    root = app.settings.feeds_dir
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}

    again = build_feeds(app.engine, app.settings, clock=app.clock)

    assert again.written == [] and again.bytes_written == 0 and again.removed == []
    assert (again.files_written, again.files_unchanged) == (0, first.files_written)
    assert len(again.unchanged) == len(first.written)
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}
    assert after == before


def test_new_article_rewrites_only_live_feeds_and_newest_archive_page(app: App) -> None:
    for number in range(1, 8):  # pages of 4: [1-4] full, [5-7] filling
        add_numbered_article(app, number)
    build_feeds(app.engine, app.settings, clock=app.clock)
    root = app.settings.feeds_dir
    full_page = {p: p.read_bytes() for p in (root / "all/archive/1").iterdir()}

    add_numbered_article(app, 8)  # fills page 2
    filled = build_feeds(app.engine, app.settings, clock=app.clock)
    add_numbered_article(app, 9)  # starts page 3 (which already existed, empty)
    started = build_feeds(app.engine, app.settings, clock=app.clock)

    live = {"all/rss.xml", "all/atom.xml", "all/feed.json"}

    def page(number: int) -> set[str]:
        return {f"all/archive/{number}/{name}" for name in ("rss.xml", "atom.xml", "feed.json")}

    # Page 2 is full now: it links next-archive to page 3, created (empty) with it, so
    # page 2 never has to change again. ("analysis" has no such tag: untouched.)
    assert set(filled.written) == live | page(2) | page(3)
    assert set(started.written) == live | page(3)
    assert {p: p.read_bytes() for p in (root / "all/archive/1").iterdir()} == full_page
    _assert_lint_clean(app)


def test_file_mtime_is_the_newest_entry_time(app: App) -> None:
    for number in range(1, 6):
        add_numbered_article(app, number)
    build_feeds(app.engine, app.settings, clock=app.clock)
    root = app.settings.feeds_dir
    newest = START + timedelta(hours=30)
    assert (root / "all/rss.xml").stat().st_mtime == newest.timestamp()
    assert (root / "all/archive/1/atom.xml").stat().st_mtime == (
        START + timedelta(hours=24)
    ).timestamp()
    rss = (root / "all/rss.xml").read_text(encoding="utf-8")
    assert "<lastBuildDate>Tue, 06 Jan 2026 14:30:00 +0000</lastBuildDate>" in rss


def test_same_store_gives_identical_bytes_in_a_fresh_folder(app: App, tmp_path: Path) -> None:
    for number in range(1, 7):
        add_numbered_article(app, number, tags=("news", "analysis"))
    build_feeds(app.engine, app.settings, clock=app.clock)
    first = {
        p.relative_to(app.settings.feeds_dir): p.read_bytes()
        for p in feed_files(app.settings.feeds_dir)
    }
    other = App(replace_feeds_dir(app, tmp_path / "elsewhere"), clock=app.clock, _engine=app.engine)
    build_feeds(other.engine, other.settings, clock=other.clock)
    second = {
        p.relative_to(tmp_path / "elsewhere"): p.read_bytes()
        for p in feed_files(tmp_path / "elsewhere")
    }
    assert first == second


def replace_feeds_dir(app: App, folder: Path) -> Settings:
    paths = app.settings.paths.model_copy(update={"feeds": str(folder)})
    return app.settings.model_copy(update={"paths": paths})


def test_ids_survive_new_site_url_slug_and_title(app: App) -> None:
    for number in range(1, 4):
        add_numbered_article(app, number)
    build_feeds(app.engine, app.settings, clock=app.clock)
    root = app.settings.feeds_dir
    before = {fmt: parse_clean(root / f"all/{fmt}.xml") for fmt in ("rss", "atom")}

    with app.engine.begin() as conn:
        conn.execute(
            update(articles)
            .where(articles.c.slug == "article-2")
            .values(slug="renamed", title="A brand new title", content_hash="changed")
        )
    site = app.settings.site.model_copy(update={"url": "https://moved.example.net/"})
    moved = App(app.settings.model_copy(update={"site": site}), clock=app.clock, _engine=app.engine)
    build_feeds(moved.engine, moved.settings, clock=moved.clock)

    for fmt, old in before.items():
        new = parse_clean(root / f"all/{fmt}.xml")
        assert [e.id for e in new.entries] == [e.id for e in old.entries]
        if fmt == "atom":
            assert new.feed.id == old.feed.id
        renamed = next(e for e in new.entries if e.id.endswith("article-2"))
        assert renamed.link == "https://moved.example.net/renamed/"
        assert renamed.title == "A brand new title"
    data = json.loads((root / "all/feed.json").read_text(encoding="utf-8"))
    assert data["feed_url"] == "https://moved.example.net/feeds/all/feed.json"


def test_removed_articles_remove_stale_archive_pages(app: App) -> None:
    ids = [add_numbered_article(app, number) for number in range(1, 10)]
    build_feeds(app.engine, app.settings, clock=app.clock)
    root = app.settings.feeds_dir
    assert (root / "all/archive/3/rss.xml").exists()
    from syndicate.articles import remove

    with app.engine.begin() as conn:
        for article_id in ids[:6]:
            remove(conn, article_id)
    (root / "operator-notes").mkdir()  # not ours: left alone
    report = build_feeds(app.engine, app.settings, clock=app.clock)
    assert "all/archive/3/rss.xml" in report.removed
    assert not (root / "all/archive/3").exists()
    assert (root / "operator-notes").is_dir()
    # Three articles fill no archive page (pages of 4): a lone archive page would link
    # to no other page ("Archive incomplete"), so the live feed holds all and is complete.
    assert not (root / "all/archive").exists()
    assert b"<fh:complete/>" in (root / "all/rss.xml").read_bytes()
    assert len(parse_clean(root / "all/atom.xml").entries) == 3
    _assert_lint_clean(app)


def test_only_builds_the_named_feed(app: App) -> None:
    add_numbered_article(app, 1, tags=("analysis",))
    report = build_feeds(app.engine, app.settings, clock=app.clock, only="analysis")
    assert set(report.entries) == {"analysis"}
    assert all(path.startswith("analysis/") for path in report.written)
    assert not (app.settings.feeds_dir / "all").exists()


def test_enormous_bodies_stay_under_the_size_limit(app: App) -> None:
    paragraph = "<p>" + "Lorem ipsum dolor sit amet, consectetur. " * 50 + "</p>"
    for number in range(1, 4):
        add_numbered_article(
            app, number, content_html=paragraph * 1100, content_text="x" * 2_200_000
        )
    build_feeds(app.engine, app.settings, clock=app.clock)
    root = app.settings.feeds_dir
    for path in feed_files(root):
        assert path.stat().st_size <= 5_000_000, path
    _assert_lint_clean(app)
    newest = parse_clean(root / "all/atom.xml").entries
    assert len(newest) == 3


def test_index_and_opml_list_every_feed(app: App) -> None:
    add_numbered_article(app, 1)
    build_feeds(app.engine, app.settings, clock=app.clock)
    root = app.settings.feeds_dir
    index = (root / "index.html").read_text(encoding="utf-8")
    assert (
        '<link rel="alternate" type="application/rss+xml" title="Test News (RSS)" '
        'href="https://news.example.org/feeds/all/rss.xml">' in index
    )
    assert 'href="https://news.example.org/feeds/analysis/feed.json"' in index
    opml = parse_clean_opml(root / "feeds.opml")
    assert opml == [
        ("Test News", "https://news.example.org/feeds/all/rss.xml"),
        ("Test News: analysis", "https://news.example.org/feeds/analysis/rss.xml"),
    ]


def parse_clean_opml(path: Path) -> list[tuple[str, str]]:
    from lxml import etree

    root = etree.fromstring(path.read_bytes())
    return [(o.get("title"), o.get("xmlUrl")) for o in root.iter("outline")]


def test_cli_feeds_build(config_file: Path, app: App) -> None:
    add_numbered_article(app, 1)
    runner = CliRunner()
    result = runner.invoke(main, ["--config", str(config_file), "feeds", "build", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["entries"] == {"all": 1, "analysis": 0}
    assert "all/rss.xml" in data["written"]

    again = runner.invoke(main, ["--config", str(config_file), "feeds", "build", "all"])
    assert again.exit_code == 0, again.output
    assert "0 file(s) written" in again.stdout

    missing = runner.invoke(main, ["--config", str(config_file), "feeds", "build", "nope"])
    assert missing.exit_code == 1
    assert "no feed named 'nope'" in missing.output
    assert "Traceback" not in missing.output


def test_empty_store_builds_valid_empty_feeds(app: App) -> None:
    report = build_feeds(app.engine, app.settings, clock=app.clock)
    assert report.entries == {"all": 0, "analysis": 0}
    _assert_lint_clean(app)
    assert os.path.getmtime(app.settings.feeds_dir / "all/rss.xml") == 0


def _app_with(tmp_path: Path, store_url: str, clock: object, extra: str) -> App:
    from syndicate.core.config import load_settings
    from tests.support import write_config

    folder = tmp_path / "other-config"
    folder.mkdir()
    return App(load_settings(write_config(folder, store_url, extra)), clock=clock)  # type: ignore[arg-type]


def test_per_tag_feeds_live_under_tags(tmp_path: Path, store_url: str, app: App) -> None:
    add_numbered_article(app, 1, tags=("news", "Transport & Cities"))
    add_numbered_article(app, 2, tags=("news",))
    extra = '[[feeds]]\nname = "all"\npath = "all"\nper_tag = true\n'
    with _app_with(tmp_path, store_url, app.clock, extra) as tagged:
        report = build_feeds(tagged.engine, tagged.settings, clock=tagged.clock)
        root = tagged.settings.feeds_dir
        assert report.entries["all:tag:news"] == 2
        slug = next(name for name in report.entries if name.startswith("all:tag:transport"))
        folder = slug.split(":tag:")[1]
        assert folder.startswith("transport-cities-")
        feed = parse_clean(root / f"tags/{folder}/atom.xml")
        assert feed.feed.title == "Test News: Transport & Cities"
        assert [e.id[-2:] for e in feed.entries] == ["-1"]
        assert f"https://news.example.org/feeds/tags/{folder}/rss.xml" in (
            root / "index.html"
        ).read_text(encoding="utf-8")
        _assert_lint_clean(tagged)


def test_two_feeds_writing_one_folder_is_an_operator_error(
    tmp_path: Path, store_url: str, app: App
) -> None:
    add_numbered_article(app, 1, tags=("news",))
    extra = (
        '[[feeds]]\nname = "all"\npath = "all"\nper_tag = true\n'
        '[[feeds]]\nname = "news"\npath = "tags/news"\n'
    )
    clashing = _app_with(tmp_path, store_url, app.clock, extra)
    with clashing, pytest.raises(FeedError, match="both write to tags/news/"):
        build_feeds(clashing.engine, clashing.settings, clock=clashing.clock)


def test_cli_feeds_folder_that_is_a_file_is_an_operator_error(config_file: Path, app: App) -> None:
    add_numbered_article(app, 1)
    feeds_dir = app.settings.feeds_dir
    feeds_dir.parent.mkdir(parents=True, exist_ok=True)
    feeds_dir.write_text("not a folder", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config_file), "feeds", "build"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "cannot write the feeds folder" in result.output
    assert str(feeds_dir) in result.output


def test_cli_unchanged_build_still_lists_every_feed(config_file: Path, app: App) -> None:
    for number in range(1, 7):
        add_numbered_article(app, number)
    runner = CliRunner()
    first = runner.invoke(main, ["--config", str(config_file), "feeds", "build"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(main, ["--config", str(config_file), "feeds", "build"])
    assert again.exit_code == 0, again.output
    assert "0 file(s) written" in again.stdout
    assert "all: 5 entries, 2 archive page(s)" in again.stdout
    assert "analysis: 0 entries" in again.stdout
    assert again.stdout.splitlines()[:2] == first.stdout.splitlines()[:2]


def test_articles_sharing_a_time_get_distinct_stable_updated_times(app: App) -> None:
    """Articles imported without a time of their own (a date-only front matter, files
    with one modification second) tie; no two entries may show one atom:updated."""
    same = START + timedelta(days=2)
    for number in range(1, 5):
        add_numbered_article(app, number, published=same, tags=("news", "analysis"))
    add_numbered_article(app, 5, published=same - timedelta(microseconds=1))
    build_feeds(app.engine, app.settings, clock=app.clock)
    root = app.settings.feeds_dir
    _assert_lint_clean(app)

    def updated(relpath: str) -> dict[str, str]:
        parsed = parse_clean(root / relpath)
        return {entry.id: entry.updated for entry in parsed.entries}

    times = updated("all/atom.xml")
    assert len(set(times.values())) == 5
    # The first stored keeps the instant; each later one is a microsecond after the last
    # (so article 5, a microsecond earlier, keeps its own time).
    uid = "tag:news.example.org,2026:article-{}".format
    assert times[uid(1)] == same.isoformat()
    assert times[uid(4)] == (same + timedelta(microseconds=3)).isoformat()
    assert times[uid(5)] == (same - timedelta(microseconds=1)).isoformat()
    # Every feed shows an article with the same time, and a rebuild changes nothing.
    assert {k: v for k, v in times.items() if k != uid(5)} == updated("analysis/atom.xml")
    (root / "all/atom.xml").unlink()
    build_feeds(app.engine, app.settings, clock=app.clock)
    assert updated("all/atom.xml") == times


def test_the_example_site_feeds_pass_every_rule(tmp_path: Path) -> None:
    """config.toml + examples/: the feeds the W3C validator warned about (an item with
    author and dc:creator, a lone archive page) now pass every rule."""
    config = str(example_site(tmp_path))
    runner = CliRunner()
    assert runner.invoke(main, ["--config", config, "import", str(EXAMPLES)]).exit_code == 0
    built = runner.invoke(main, ["--config", config, "feeds", "build"])
    assert built.exit_code == 0, built.output
    settings = load_settings(Path(config))
    problems = lint_tree(settings)
    assert set(problems) >= {"all/rss.xml", "all/atom.xml", "analysis/rss.xml"}
    assert [p for lines in problems.values() for p in lines] == []
    rss = (settings.feeds_dir / "all/rss.xml").read_bytes()
    assert b"<fh:complete/>" in rss and not (settings.feeds_dir / "all/archive").exists()
    assert rss.count(b"<author>") + rss.count(b"<dc:creator>") == 5


NS = {"dc": "http://purl.org/dc/elements/1.1/"}


def test_rss_items_name_their_author_once(app: App) -> None:
    """``author`` ("address (Name)") when the author has an address and a name that fits
    in parentheses, else ``dc:creator``; never both (hostile names included)."""
    add_numbered_article(app, 1)  # Ann Author, ann@news.example.org
    add_numbered_article(app, 2, author_email=None)
    add_numbered_article(app, 3, author="Ann (the desk)")
    add_numbered_article(app, 4, author=")")
    add_numbered_article(app, 5, author=None, author_email=None)
    build_feeds(app.engine, app.settings, clock=app.clock)
    _assert_lint_clean(app)
    tree = etree.parse(str(app.settings.feeds_dir / "all/rss.xml"))

    def named(number: int) -> tuple[list[str], list[str]]:
        item = tree.xpath(f"//item[guid='tag:news.example.org,2026:article-{number}']")[0]
        return item.xpath("author/text()"), item.xpath("dc:creator/text()", namespaces=NS)

    assert named(1) == (["ann@news.example.org (Ann Author)"], [])
    assert named(2) == ([], ["Ann Author"])
    assert named(3) == ([], ["Ann (the desk)"])
    assert named(4) == ([], [")"])
    assert named(5) == ([], ["Desk"])  # the feed's author


def test_a_reader_signs_up_while_the_feeds_are_being_built(app: App) -> None:
    """A build reads its snapshot without holding the write lock while it renders and
    writes files (seconds on a big site): a sign-up, an unsubscribe or a delivery's
    outcome is stored meanwhile, at once, not after the build (SQLite: a writer waited
    for the lock, and failed after its busy timeout)."""
    from sqlalchemy import create_engine, event, select

    from syndicate.core.db import subscribers, transaction
    from syndicate.readers import subscribers as subs

    for number in range(1, 11):
        add_numbered_article(app, number)
    impatient = create_engine(app.engine.url)  # gives up on a held lock after 0.2 s
    if app.engine.dialect.name == "sqlite":

        @event.listens_for(impatient, "connect")
        def short_wait(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA busy_timeout=200")

    stored_during: list[int] = []

    def sign_up_midway(done: int, total: int) -> None:
        if done == 1:
            with transaction(impatient) as conn:
                subs.add(conn, "midway@example.org", digests=[], now=app.clock.now())
            with impatient.connect() as conn:
                stored_during.append(len(conn.execute(select(subscribers.c.id)).all()))

    try:
        report = build_feeds(app.engine, app.settings, clock=app.clock, progress=sign_up_midway)
    finally:
        impatient.dispose()
    assert stored_during == [1] and report.written

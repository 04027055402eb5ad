"""Sources through the real CLI and service: `sources list|pull`, `import URL`, `status`,
`run --once` (sources first, then the feeds), scheduled claims, folder sources and the
folder watcher of `syndicate run`, and config errors."""

from __future__ import annotations

import json
import mailbox
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from syndicate.cli import main
from syndicate.core.config import load_settings
from syndicate.core.db import articles as articles_table
from syndicate.core.db import open_store
from syndicate.core.errors import ConfigError
from syndicate.core.schedules import latest_fire_time
from syndicate.service import jobs
from syndicate.service.context import App
from tests.support import EXAMPLES, T0, write_config
from tests.support.processes import SyndicateProcess
from tests.support.sources import fixture_text, serve, source_config

MakeApp = Callable[[str], App]
FEEDS = """
[[feeds]]
name = "all"
path = "all"
"""


def run(config_file: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config_file), "--log-level", "error", *args])


@pytest.fixture
def ghost_config(tmp_path: Path, store_url: str, server: HTTPServer) -> Path:
    serve(server, "/ghost/rss/", "ghost.xml")
    return write_config(tmp_path, store_url, FEEDS + source_config(server, "ghost", "/ghost/rss/"))


def test_sources_list_pull_and_status(ghost_config: Path, server: HTTPServer) -> None:
    before = run(ghost_config, "sources", "list", "--json")
    assert before.exit_code == 0, before.output
    [row] = json.loads(before.stdout)
    assert row["name"] == "ghost" and row["state"] == "new" and row["last_pull"] is None
    assert row["url"] == server.url_for("/ghost/rss/") and row["next_run"]

    pulled = run(ghost_config, "sources", "pull", "ghost")
    assert pulled.exit_code == 0, pulled.output
    assert "ghost: ok: 2 imported" in pulled.output

    [row] = json.loads(run(ghost_config, "sources", "list", "--json").stdout)
    assert row["state"] == "ok" and row["last_pull"] and row["counts"]["imported"] == 2
    status = run(ghost_config, "status")
    assert status.exit_code == 0, status.output
    assert "Sources" in status.output and "ok: 2 imported" in status.output
    report = json.loads(run(ghost_config, "status", "--json").stdout)
    assert report["sources"][0]["name"] == "ghost"
    assert any(job["job"] == "source:ghost" for job in report["jobs"])

    again = run(ghost_config, "sources", "pull", "--json")
    assert json.loads(again.stdout)[0]["counts"]["unchanged"] == 2


def test_pull_failures_exit_1_with_the_url_and_no_traceback(
    tmp_path: Path, store_url: str, server: HTTPServer
) -> None:
    server.expect_request("/rss/").respond_with_data("<html><body>hi</body></html>",
                                                     content_type="text/html")  # fmt: skip
    config = write_config(tmp_path, store_url, source_config(server, "blog", "/rss/"))
    result = run(config, "sources", "pull")
    assert result.exit_code == 1
    assert f"blog: failed: {server.url_for('/rss/')}: this is an HTML page, not a feed" in (
        result.output
    )
    assert "Traceback" not in result.output
    unknown = run(config, "sources", "pull", "nope")
    assert unknown.exit_code == 1 and "no source named 'nope'" in unknown.output


def test_import_url_of_a_feed_and_of_a_single_page(
    tmp_path: Path, store_url: str, server: HTTPServer
) -> None:
    serve(server, "/medium/feed/@priya", "medium.xml")
    serve(server, "/hugo/posts/bench/", "page-bench.html")
    config = write_config(tmp_path, store_url)
    refused = run(config, "import", server.url_for("/medium/feed/@priya"))
    assert refused.exit_code == 1 and "private or local address" in refused.output
    feed = run(config, "import", "--allow-private", "--json", server.url_for("/medium/feed/@priya"))
    assert feed.exit_code == 0, feed.output
    assert json.loads(feed.stdout)[0]["counts"]["imported"] == 1
    page = run(config, "import", "--allow-private", server.url_for("/hugo/posts/bench/"))
    assert page.exit_code == 0, page.output
    listed = json.loads(run(config, "articles", "list", "--json").stdout)
    assert {a["title"] for a in listed} == {
        "What I learned running a night market",
        "A bench from one board",
    }
    bench = next(a for a in listed if a["title"] == "A bench from one board")
    assert bench["source"] == server.url_for("/hugo/posts/bench/")
    again = run(config, "import", "--allow-private", "--json", server.url_for("/hugo/posts/bench/"))
    assert json.loads(again.stdout)[0]["counts"]["unchanged"] == 1
    mixed = run(config, "import", server.url_for("/x"), str(tmp_path))
    assert mixed.exit_code == 1 and "either files and folders or URLs" in mixed.output


def test_run_once_pulls_sources_before_building_feeds(ghost_config: Path) -> None:
    result = run(ghost_config, "run", "--once", "--json")
    assert result.exit_code == 0, result.output
    outcomes = json.loads(result.stdout)
    assert [o["job"] for o in outcomes[:2]] == ["source:ghost", "feeds"]
    assert outcomes[0]["counts"]["imported"] == 2
    rss = (ghost_config.parent / "feeds" / "all" / "rss.xml").read_text(encoding="utf-8")
    assert "The swifts are back" in rss and "Fog week" in rss


def test_a_scheduled_slot_is_pulled_once(server: HTTPServer, make_app: MakeApp) -> None:
    serve(server, "/ghost/rss/", "ghost.xml")
    app = make_app(source_config(server, "ghost", "/ghost/rss/", schedule="*/10 * * * *"))
    [job] = [j for j in jobs.scheduled_jobs(app.settings) if j.name == "source:ghost"]
    assert job.expression == "*/10 * * * *"
    first = job.run(app, T0)
    second = job.run(app, T0)
    assert first.status == "ok" and first.counts["imported"] == 2
    assert second.status == "not-claimed"
    assert len(server.log) == 1


def test_a_gone_source_is_skipped_by_its_job(server: HTTPServer, make_app: MakeApp) -> None:
    server.expect_request("/rss/").respond_with_data("", status=410)
    app = make_app(source_config(server, "blog", "/rss/"))
    assert jobs.pull_now(app, "blog").status == "failed"
    app.clock.advance(seconds=1)  # type: ignore[attr-defined]
    skipped = jobs.pull_now(app, "blog")
    assert skipped.status == "skipped" and "410" in (skipped.error or "")


def test_folder_source_imports_its_files(make_app: MakeApp, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    for example in sorted(EXAMPLES.glob("*.md"))[:2]:
        (folder / example.name).write_bytes(example.read_bytes())
    app = make_app('[[sources]]\nname = "local"\npath = "articles"\ntags = ["x"]\n')
    outcome = jobs.pull_now(app, "local")
    assert outcome.status == "ok" and outcome.counts["imported"] == 2
    app.clock.advance(seconds=1)  # type: ignore[attr-defined]
    assert jobs.pull_now(app, "local").counts["unchanged"] == 2


def test_a_missing_folder_is_a_clear_failure(make_app: MakeApp, tmp_path: Path) -> None:
    app = make_app('[[sources]]\nname = "local"\npath = "nowhere"\n')
    outcome = jobs.pull_now(app, "local")
    assert outcome.status == "failed"
    assert outcome.error == f"{tmp_path / 'nowhere'}: no such folder"


def test_the_service_imports_a_file_dropped_into_a_folder_source(
    tmp_path: Path, store_url: str
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    config = write_config(
        tmp_path,
        store_url,
        FEEDS
        + '[[sources]]\nname = "local"\npath = "articles"\nschedule = "0 0 1 1 *"\n'
        + "[schedule]\nleader_lease_seconds = 5\ndeliver_every_seconds = 1\n",
    )
    service = SyndicateProcess(config, "run")
    try:
        service.wait_for("became the scheduler leader")
        service.wait_for(r"web app on http://")  # a stop while the web app starts waits 30 s
        (folder / "dropped.md").write_text(
            "---\ntitle: Dropped in\ndate: 2026-03-01\n---\nA file nobody imported by hand.\n",
            encoding="utf-8",
        )
        service.wait_for(r"source local: ok: 1 imported")
        feed = tmp_path / "feeds" / "all" / "rss.xml"
        service.wait_for(r"job feeds slot change:")
        assert "Dropped in" in feed.read_text(encoding="utf-8")
    finally:
        assert service.stop() == 0
    engine = open_store(load_settings(config).database_url)
    try:
        with engine.connect() as conn:
            titles = conn.execute(select(articles_table.c.title)).scalars().all()
    finally:
        engine.dispose()
    assert titles == ["Dropped in"]


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('name = "a"\nurl = "https://x.example/feed"\npath = "p"', "either url"),
        ('name = "a"', "either url"),
        ('name = "a"\npath = "p"\nfull_text = "always"', "full_text only apply to a feed"),
        ('name = "a"\nurl = "ftp://x.example/feed"', "sources[0].url: 'ftp://x.example/feed'"),
        ('name = "a"\nurl = "https://x.example/"\nfull_text = "sometimes"', "sources[0].full_text"),
        ('name = "a"\nurl = "https://x.example/"\nschedule = "often"', "sources[0].schedule"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, table: str, problem: str) -> None:
    config = write_config(tmp_path, "sqlite:///x.db", f"[[sources]]\n{table}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert any(problem in line for line in caught.value.problems), caught.value.problems


def test_two_sources_with_one_name_are_refused(tmp_path: Path) -> None:
    table = '[[sources]]\nname = "a"\npath = "p"\n'
    config = write_config(tmp_path, "sqlite:///x.db", table + table)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert any("sources: name 'a' is used twice" in p for p in caught.value.problems)


def test_a_new_site_imports_its_articles_folder(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert CliRunner().invoke(main, ["init", "--no-input", str(site)]).exit_code == 0
    config = site / "config.toml"
    settings = load_settings(config)
    [source] = settings.sources
    assert (source.name, source.path) == ("articles", "articles")
    written = run(config, "new", "First words")
    assert written.exit_code == 0, written.output
    with (site / "articles" / "first-words.md").open("a", encoding="utf-8") as file:
        file.write("The first article of a new site.\n")
    pulled = run(config, "sources", "pull", "articles")
    assert pulled.exit_code == 0, pulled.output
    assert "articles: ok: 1 imported" in pulled.output


def test_readme_tour_a_feed_into_a_weekly_digest_in_three_commands(
    tmp_path: Path, store_url: str, server: HTTPServer
) -> None:
    # published the day before the latest weekly slot: in this week's edition
    slot = latest_fire_time("0 8 * * MON", ZoneInfo("Europe/Kyiv"), datetime.now(UTC))
    assert slot is not None
    when = format_datetime((slot - timedelta(days=1)).astimezone(UTC), usegmt=True)
    feed = fixture_text(server, "medium.xml").replace("Sat, 07 Mar 2026 08:45:12 GMT", when)
    server.expect_request("/feed").respond_with_data(feed, content_type="application/rss+xml")
    digest = FEEDS + (
        '[[digests]]\nname = "weekly"\ntitle = "Weekly"\nfeed = "all"\nschedule = "0 8 * * MON"\n'
    )
    config = write_config(tmp_path, store_url, digest)
    commands = [
        ["import", "--allow-private", server.url_for("/feed")],
        ["subscribers", "add", "ada@example.org", "--digest", "weekly"],
        ["run", "--once"],
    ]
    for command in commands:
        result = run(config, *command)
        assert result.exit_code == 0, result.output
    [key] = list(mailbox.Maildir(tmp_path / "outbox", create=False).iterkeys())
    message = mailbox.Maildir(tmp_path / "outbox", create=False).get_bytes(key)
    assert b"What I learned running a night market" in message
    assert b"ada@example.org" in message


def test_check_names_a_missing_source_folder(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, store_url, '[[sources]]\nname = "a"\npath = "gone"\n')
    result = run(config, "check")
    assert result.exit_code == 1
    assert f"sources[0].path: no folder at {tmp_path / 'gone'}" in result.output

"""The publisher on folder hosts: plan, order, dry run, manifest, push records, lint, CLI.

Runs on SQLite and, when configured, PostgreSQL (the manifest and push history live
in the store).
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import insert, select, text

from syndicate.cli import main
from syndicate.core.clock import FixedClock
from syndicate.core.config import DirectoryHostSettings, load_settings
from syndicate.core.db import host_files, pushes
from syndicate.core.errors import ConfigError, PublishError
from syndicate.feeds import files as feedfiles
from syndicate.publishing.hosts.base import is_unpublishable, temp_name
from syndicate.publishing.hosts.manifest import manifest, recent_pushes, remember
from syndicate.publishing.publish import PublishFailed, headers_for, make_plan, publish, scan
from syndicate.service.context import App
from tests.support import T0, write_config
from tests.support.hosts import PUBLISHED, write_feeds


@pytest.fixture
def config_extra() -> str:
    # Relative paths: resolved against the config file's folder (tmp_path).
    return """
[[hosts]]
name = "site"
type = "directory"
path = "public"
retries = 0

[[hosts]]
name = "mirror"
type = "directory"
path = "mirror"
delete = true
cache_control = { "all/*.xml" = "no-cache" }
content_type = { "*.opml" = "application/xml" }
"""


@pytest.fixture
def feeds(app: App) -> dict[str, bytes]:
    return write_feeds(app.settings.feeds_dir)


def host_manifest(app: App, host: str) -> dict[str, str]:
    with app.engine.connect() as conn:
        return manifest(conn, host)


def public_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_scan_skips_dotfiles_and_temp_files(app: App, feeds: dict[str, bytes]) -> None:
    found = scan(app.settings.feeds_dir)
    assert set(found) == PUBLISHED
    assert found["index.html"].size == len(feeds["index.html"])


def test_temp_names_are_hidden_next_to_the_target() -> None:
    name = temp_name("all/archive/1/rss.xml")
    assert name.startswith("all/archive/1/.rss.xml.") and name.endswith(".tmp")
    assert is_unpublishable(name.rsplit("/", 1)[1])
    assert temp_name("all/rss.xml") != temp_name("all/rss.xml")


def test_plan_orders_archive_then_other_files_then_live_feeds(
    app: App, feeds: dict[str, bytes]
) -> None:
    plan = make_plan(app.settings.host("site"), scan(app.settings.feeds_dir), {})
    assert [item.path for item in plan.uploads] == [
        "all/archive/1/atom.xml",
        "all/archive/1/rss.xml",
        "feeds.opml",
        "index.html",
        "all/atom.xml",
        "all/feed.json",
        "all/rss.xml",
    ]


def test_headers_per_pattern_over_the_defaults(app: App) -> None:
    mirror, site = app.settings.host("mirror"), app.settings.host("site")
    assert headers_for(site, "all/rss.xml") == (
        "application/rss+xml; charset=utf-8",
        feedfiles.LIVE_CACHE,
    )
    assert headers_for(mirror, "all/rss.xml")[1] == "no-cache"
    assert headers_for(mirror, "all/archive/1/rss.xml")[1] == "no-cache"  # glob * spans /
    assert headers_for(mirror, "feeds.opml") == ("application/xml", feedfiles.OTHER_CACHE)
    plain = DirectoryHostSettings(name="x", type="directory", path="p")
    assert headers_for(plain, "all/archive/2/atom.xml")[1] == feedfiles.ARCHIVE_CACHE


def test_dry_run_changes_nothing(app: App, feeds: dict[str, bytes]) -> None:
    reports = publish(app.engine, app.settings, clock=app.clock, dry_run=True)
    assert [report.host for report in reports] == ["site", "mirror"]
    assert all(report.dry_run and set(report.uploaded) == PUBLISHED for report in reports)
    assert reports[0].bytes == sum(len(data) for data in feeds.values())
    assert not (app.settings.base_dir / "public").exists()
    assert host_manifest(app, "site") == {}
    with app.engine.connect() as conn:
        assert recent_pushes(conn) == []


def test_publish_to_every_host_records_manifest_and_pushes(
    app: App, feeds: dict[str, bytes]
) -> None:
    reports = publish(app.engine, app.settings, clock=app.clock)
    base = app.settings.base_dir
    for host in ("public", "mirror"):
        assert public_files(base / host) == PUBLISHED
        assert (base / host / "all" / "rss.xml").read_bytes() == feeds["all/rss.xml"]
    assert [len(report.uploaded) for report in reports] == [7, 7]
    assert set(host_manifest(app, "site")) == PUBLISHED
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(host_files).where(
                (host_files.c.host == "site") & (host_files.c.path == "index.html")
            )
        )
        row = rows.mappings().one()
        history = recent_pushes(conn)
    assert row["pushed_at"] == app.clock.now()
    assert row["size"] == len(feeds["index.html"])
    assert [(p["host"], p["uploaded"], p["error"]) for p in history] == [
        ("mirror", 7, None),
        ("site", 7, None),
    ]


def test_target_pushes_to_one_host(app: App, feeds: dict[str, bytes]) -> None:
    [report] = publish(app.engine, app.settings, clock=app.clock, target="mirror")
    assert report.host == "mirror"
    assert not (app.settings.base_dir / "public").exists()
    with pytest.raises(ConfigError) as caught:
        publish(app.engine, app.settings, clock=app.clock, target="nope")
    assert "no host named 'nope'" in caught.value.message
    assert "site, mirror" in caught.value.hint


def test_nothing_built_is_refused(app: App) -> None:
    with pytest.raises(PublishError) as caught:
        publish(app.engine, app.settings, clock=app.clock)
    assert "nothing to publish" in caught.value.message
    assert "syndicate feeds build" in caught.value.hint


def test_a_feed_failing_lint_is_not_pushed(app: App, feeds: dict[str, bytes]) -> None:
    broken = feeds["all/atom.xml"].replace(
        b'rel="self" type="application/atom+xml"', b'rel="self" type="text/html"'
    )
    (app.settings.feeds_dir / "all" / "atom.xml").write_bytes(broken)
    with pytest.raises(PublishFailed) as caught:
        publish(app.engine, app.settings, clock=app.clock, target="site")
    message = caught.value.message
    assert message.startswith("all/atom.xml fails the feed checks, not pushed")
    assert "rel=self" in message
    assert str(app.settings.feeds_dir) not in message  # named once, relative
    assert not (app.settings.base_dir / "public").exists()
    with app.engine.connect() as conn:
        [row] = recent_pushes(conn)
    assert row["uploaded"] == 0 and "all/atom.xml" in row["error"]


def test_failed_push_leaves_manifest_equal_to_the_host(app: App, feeds: dict[str, bytes]) -> None:
    public = app.settings.base_dir / "public"
    # Something on the host sits where index.html must go: the push stops there.
    (public / "index.html" / "x").mkdir(parents=True)
    with pytest.raises(PublishFailed) as caught:
        publish(app.engine, app.settings, clock=app.clock, target="site")
    assert "cannot write index.html" in caught.value.message
    [report] = caught.value.reports
    assert report.uploaded == ["all/archive/1/atom.xml", "all/archive/1/rss.xml", "feeds.opml"]
    assert set(host_manifest(app, "site")) == set(report.uploaded)
    assert not (public / "all" / "rss.xml").exists()  # live feeds go last: not yet

    shutil.rmtree(public / "index.html")
    [again] = publish(app.engine, app.settings, clock=app.clock, target="site")
    assert again.uploaded == ["index.html", "all/atom.xml", "all/feed.json", "all/rss.xml"]
    assert again.skipped == 3
    assert public_files(public) == PUBLISHED
    with app.engine.connect() as conn:
        history = conn.execute(select(pushes).order_by(pushes.c.id)).mappings().all()
    assert [(row["uploaded"], row["error"] is None) for row in history] == [(3, False), (4, True)]


def test_deleting_removes_emptied_folders_on_a_folder_host(
    app: App, feeds: dict[str, bytes]
) -> None:
    publish(app.engine, app.settings, clock=app.clock, target="mirror")
    shutil.rmtree(app.settings.feeds_dir / "all" / "archive")
    [report] = publish(app.engine, app.settings, clock=app.clock, target="mirror")
    assert report.deleted == ["all/archive/1/atom.xml", "all/archive/1/rss.xml"]
    assert not (app.settings.base_dir / "mirror" / "all" / "archive").exists()
    assert (app.settings.base_dir / "mirror" / "all" / "rss.xml").exists()


# -- the command line -----------------------------------------------------------------


def cli(config_file: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config_file), "--log-level", "error", *args])


def test_cli_dry_run_prints_the_plan(app: App, config_file: Path, feeds: dict[str, bytes]) -> None:
    result = cli(config_file, "feeds", "publish", "--dry-run", "--target", "site")
    assert result.exit_code == 0, result.output
    assert "site: would upload 7 file(s)" in result.output
    assert "  + all/rss.xml" in result.output
    assert "dry run: nothing was changed" in result.output
    assert not (config_file.parent / "public").exists()


def test_cli_json_reports_each_host(app: App, config_file: Path, feeds: dict[str, bytes]) -> None:
    result = cli(config_file, "feeds", "publish", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [host["host"] for host in data["hosts"]] == ["site", "mirror"]
    assert set(data["hosts"][0]["uploaded"]) == PUBLISHED
    assert data["hosts"][0]["error"] is None

    again = json.loads(cli(config_file, "feeds", "publish", "--json").stdout)
    assert [host["skipped"] for host in again["hosts"]] == [7, 7]
    assert [host["uploaded"] for host in again["hosts"]] == [[], []]


def test_cli_failure_is_one_line_with_a_hint(
    app: App, config_file: Path, feeds: dict[str, bytes]
) -> None:
    (config_file.parent / "public" / "index.html" / "x").mkdir(parents=True)
    result = cli(config_file, "feeds", "publish", "--target", "site")
    assert result.exit_code == 1
    assert "error: host 'site': cannot write index.html" in result.output
    assert "hint:" in result.output
    assert "Traceback" not in result.output
    assert "failed" in result.output  # the result table still shows what happened

    unknown = cli(config_file, "feeds", "publish", "--target", "nope")
    assert unknown.exit_code == 1
    assert "no host named 'nope'" in unknown.output


def test_two_publishes_remembering_one_file_at_once_do_not_collide(
    pg_url: str, tmp_path: Path
) -> None:
    """PostgreSQL: the row another push is inserting (not yet committed) is taken over."""
    app = App(load_settings(write_config(tmp_path, pg_url)), clock=FixedClock(T0))
    try:
        engine = app.engine
        errors: list[BaseException] = []

        def second_push() -> None:
            try:
                remember(engine, "site", "all/rss.xml", sha256="b" * 64, size=2, at=T0)
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

        with engine.connect() as first, engine.connect() as watcher:
            with first.begin():
                first.execute(
                    insert(host_files).values(
                        host="site", path="all/rss.xml", sha256="a" * 64, size=1, pushed_at=T0
                    )
                )
                thread = threading.Thread(target=second_push)
                thread.start()
                waiting = text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                for _ in range(400):  # until the second push waits on the first's row
                    if watcher.execute(waiting).scalar():
                        break
                    thread.join(0.05)
                assert thread.is_alive(), errors
            thread.join(30)
        assert not thread.is_alive()
        assert errors == []
        assert host_manifest(app, "site") == {"all/rss.xml": "b" * 64}
    finally:
        app.close()

"""``syndicate feeds build`` with nothing changed answers from the last build's stamp
before it loads the app; anything that changes the output (time making an article
visible, an edit, the config, a template, a deleted file) still rebuilds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate.cli import main
from syndicate.service.context import App
from tests.support.feeds import FEEDS_CONFIG, add_numbered_article

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def config_extra() -> str:
    return FEEDS_CONFIG


def _build(config: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(config), "feeds", "build", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _feeds_job(config: Path) -> dict[str, object]:
    result = CliRunner().invoke(main, ["--config", str(config), "status", "--json"])
    assert result.exit_code == 0, result.output
    return next(j for j in json.loads(result.stdout)["jobs"] if j["job"] == "feeds")


def _rss(app: App) -> str:
    return (app.settings.feeds_dir / "all" / "rss.xml").read_text(encoding="utf-8")


def test_an_unchanged_rebuild_says_what_a_build_says_and_is_recorded(
    app: App, config_file: Path
) -> None:
    for number in range(1, 7):
        add_numbered_article(app, number)
    first = _build(config_file)
    assert "0 file(s) written" not in first
    again = _build(config_file)
    assert "0 file(s) written (0 bytes)" in again
    assert again.splitlines()[:-1] == first.splitlines()[:-1]  # the per-feed counts
    last = _feeds_job(config_file)["last"]
    assert isinstance(last, dict) and last["status"] == "ok"
    assert str(last["slot"]).startswith("manual:")
    counts = last["counts"]
    assert isinstance(counts, dict) and counts["build_files_written"] == 0
    assert counts["build_files_unchanged"] > 0
    as_json = json.loads(_build(config_file, "--json"))
    assert as_json["written"] == [] and as_json["entries"]["all"] == 5


def test_the_unchanged_answer_loads_no_feed_or_store_library(app: App, config_file: Path) -> None:
    add_numbered_article(app, 1)
    _build(config_file)
    probe = (
        "import sys\n"
        "from syndicate.cli import main\n"
        f"main(['--config', {str(config_file)!r}, 'feeds', 'build'], standalone_mode=False)\n"
        "heavy = ('feedgen', 'lxml', 'sqlalchemy', 'pydantic', 'syndicate.feeds')\n"
        "print('LOADED', sorted({m.split('.')[0] for m in sys.modules if m.startswith(heavy)}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert "0 file(s) written" in out
    assert "LOADED []" in out, out


def test_an_article_whose_time_comes_between_two_builds_shows_on_the_second(
    app: App, config_file: Path
) -> None:
    add_numbered_article(app, 1)
    soon = datetime.now(UTC) + timedelta(seconds=2)
    add_numbered_article(app, 2, title="Ferry returns at dawn", published=soon)
    _build(config_file)
    assert "Ferry returns at dawn" not in _rss(app)
    assert "0 file(s) written" in _build(config_file)  # not yet: the stamp holds
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.2)
    rebuilt = _build(config_file)
    assert "0 file(s) written" not in rebuilt
    assert "Ferry returns at dawn" in _rss(app)


def test_a_config_or_template_change_or_a_deleted_file_rebuilds(
    app: App, config_file: Path
) -> None:
    add_numbered_article(app, 1)
    css = app.settings.templates_dir / "web" / "feeds.css"
    css.parent.mkdir(parents=True)  # the operator's templates folder, still empty
    _build(config_file)
    config_file.write_text(
        config_file.read_text(encoding="utf-8").replace(
            'title = "Test News"\nlimit', 'title = "Everything"\nlimit'
        ),
        encoding="utf-8",
    )
    assert "0 file(s) written" not in _build(config_file)
    assert "Everything" in _rss(app)

    assert "0 file(s) written" in _build(config_file)
    css.write_text("body { color: rebeccapurple }\n", encoding="utf-8")
    assert "0 file(s) written" not in _build(config_file)
    index = (app.settings.feeds_dir / "index.html").read_text(encoding="utf-8")
    assert "rebeccapurple" in index

    (app.settings.feeds_dir / "all" / "rss.xml").unlink()
    assert "1 file(s) written" in _build(config_file)
    assert "Everything" in _rss(app)


def test_an_edit_rebuilds(app: App, config_file: Path) -> None:
    add_numbered_article(app, 1)
    _build(config_file)
    add_numbered_article(app, 2, title="Bridge closes for repairs")
    assert "0 file(s) written" not in _build(config_file)
    assert "Bridge closes for repairs" in _rss(app)


def test_a_copied_site_answers_for_its_own_store(tmp_path: Path) -> None:
    """A site folder copied elsewhere (config, store and feeds) carries the original's
    stamp: its own store's changes still rebuild its feeds."""
    from syndicate.core.config import load_settings
    from tests.support import write_config

    first = tmp_path / "first"
    first.mkdir()
    config = write_config(first, "sqlite:///s.db", FEEDS_CONFIG)  # relative: s.db beside it
    with App(load_settings(config)) as original:
        add_numbered_article(original, 1)
    _build(config)
    copy = tmp_path / "copy"
    shutil.copytree(first, copy)
    with App(load_settings(copy / "config.toml")) as copied:
        add_numbered_article(copied, 2, title="Only in the copy")
        rebuilt = _build(copy / "config.toml")
        assert "0 file(s) written" not in rebuilt
        assert "Only in the copy" in _rss(copied)


def test_an_operator_catalog_change_rebuilds_the_feed_list(app: App, config_file: Path) -> None:
    """The feed list's words come from the catalogs: an operator's override of one is
    a change like a template's (each CLI run is a new process: caches start empty)."""
    from syndicate.core import i18n, render

    add_numbered_article(app, 1)
    _build(config_file)
    english = app.settings.templates_dir / "locale" / "en" / "LC_MESSAGES"
    english.mkdir(parents=True)
    (english / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Paste a feed\'s address into your feed reader or podcast app."\n'
        'msgstr "Copy an address below into any feed reader."\n',
        encoding="utf-8",
    )
    for cached in (i18n.languages, i18n.language_for, i18n.translations, render.environment):
        cached.cache_clear()
    assert "0 file(s) written" not in _build(config_file)
    index = (app.settings.feeds_dir / "index.html").read_text(encoding="utf-8")
    assert "Copy an address below into any feed reader." in index


def test_the_stamp_keeps_no_database_address(app: App, config_file: Path) -> None:
    """The manifest sits in the feeds folder: the database URL (a PostgreSQL password)
    is kept only as a hash, and the shortcut still finds the store from the config."""
    add_numbered_article(app, 1)
    _build(config_file)
    manifest = (app.settings.feeds_dir / ".manifest.json").read_text(encoding="utf-8")
    url = app.settings.database_url
    assert url not in manifest and url.split("://", 1)[1] not in manifest
    assert "0 file(s) written" in _build(config_file)  # the shortcut still answers
    assert str(_feeds_job(config_file)["last"]["slot"]).startswith("manual:")  # type: ignore[index]

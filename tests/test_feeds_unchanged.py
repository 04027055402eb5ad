"""A rebuild with nothing changed is one cheap read; anything that changes the bytes
(an edit, time making an article visible, a deleted file, the config) rebuilds."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.core.clock import FixedClock
from syndicate.core.config import load_settings
from syndicate.feeds import build_feeds
from syndicate.intake.importers import import_paths
from syndicate.service.context import App

ARTICLE = """---
title: {title}
date: 2026-03-01T10:00:00+02:00
tags: [transit]
---
The tram line reopens on Monday.
"""


@pytest.fixture
def config_extra() -> str:
    return '[[feeds]]\nname = "all"\npath = "all"\n'


def _write(path: Path, title: str) -> Path:
    path.write_text(ARTICLE.format(title=title), encoding="utf-8")
    return path


def test_nothing_changed_writes_nothing(app: App, tmp_path: Path) -> None:
    import_paths(
        app.engine,
        app.settings,
        clock=app.clock,
        paths=[_write(tmp_path / "a.md", "Tram line 4 reopens")],
    )
    first = build_feeds(app.engine, app.settings, clock=app.clock)
    assert first.files_written > 0
    again = build_feeds(app.engine, app.settings, clock=app.clock)
    assert again.files_written == 0 and again.bytes_written == 0
    assert sorted(again.unchanged) == sorted(first.written)


def test_an_edit_at_the_same_instant_still_rebuilds(app: App, tmp_path: Path) -> None:
    source = _write(tmp_path / "a.md", "Tram line 4 reopens")
    import_paths(app.engine, app.settings, clock=app.clock, paths=[source])
    build_feeds(app.engine, app.settings, clock=app.clock)
    import_paths(
        app.engine,
        app.settings,
        clock=app.clock,
        paths=[_write(source, "Tram line 4 reopens on Monday")],
    )  # clock unchanged
    rebuilt = build_feeds(app.engine, app.settings, clock=app.clock)
    assert "all/rss.xml" in rebuilt.written
    assert b"reopens on Monday" in (app.settings.feeds_dir / "all" / "rss.xml").read_bytes()


def test_time_making_a_future_article_visible_rebuilds(
    app: App, clock: FixedClock, tmp_path: Path
) -> None:
    future = ARTICLE.replace("2026-03-01T10:00:00", "2026-03-05T10:00:00")
    (tmp_path / "later.md").write_text(future.format(title="Ferry returns"), encoding="utf-8")
    import_paths(
        app.engine,
        app.settings,
        clock=app.clock,
        paths=[_write(tmp_path / "a.md", "Tram line 4 reopens"), tmp_path / "later.md"],
    )
    build_feeds(app.engine, app.settings, clock=app.clock)
    assert b"Ferry returns" not in (app.settings.feeds_dir / "all" / "rss.xml").read_bytes()
    clock.advance(days=4)
    assert "all/rss.xml" in build_feeds(app.engine, app.settings, clock=app.clock).written
    assert b"Ferry returns" in (app.settings.feeds_dir / "all" / "rss.xml").read_bytes()


def test_a_deleted_file_or_a_config_change_rebuilds(
    app: App, config_file: Path, clock: FixedClock, tmp_path: Path
) -> None:
    import_paths(
        app.engine,
        app.settings,
        clock=app.clock,
        paths=[_write(tmp_path / "a.md", "Tram line 4 reopens")],
    )
    build_feeds(app.engine, app.settings, clock=app.clock)
    (app.settings.feeds_dir / "all" / "atom.xml").unlink()
    assert "all/atom.xml" in build_feeds(app.engine, app.settings, clock=app.clock).written

    config_file.write_text(
        config_file.read_text(encoding="utf-8").replace(
            'path = "all"', 'path = "all"\ntitle = "Everything"'
        ),
        encoding="utf-8",
    )
    with App(load_settings(config_file), clock=clock, _engine=app.engine) as retitled:
        assert (
            "all/rss.xml"
            in build_feeds(retitled.engine, retitled.settings, clock=retitled.clock).written
        )
    assert b"Everything" in (app.settings.feeds_dir / "all" / "rss.xml").read_bytes()


def test_a_new_output_format_version_rebuilds(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndicate.feeds import build as feeds_build
    from syndicate.feeds import model

    import_paths(
        app.engine,
        app.settings,
        clock=app.clock,
        paths=[_write(tmp_path / "a.md", "Tram line 4 reopens")],
    )
    with app.engine.connect() as conn:
        before = feeds_build.store_signature(conn, app.settings, app.clock)
        monkeypatch.setattr(model, "FORMAT_VERSION", model.FORMAT_VERSION + "-next")
        assert feeds_build.store_signature(conn, app.settings, app.clock) != before

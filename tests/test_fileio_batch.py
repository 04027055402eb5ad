"""BatchWriter: many atomic writes with one data sync; nothing half-written or left over."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.core.fileio import BatchWriter, is_temp_name
from syndicate.feeds import build_feeds
from syndicate.service.context import App
from tests.support.feeds import FEEDS_CONFIG, add_numbered_article


@pytest.fixture
def config_extra() -> str:
    return FEEDS_CONFIG


def test_files_appear_only_at_commit_with_their_mtime(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "same.xml").write_bytes(b"same")
    writer = BatchWriter()
    assert writer.write(tmp_path / "a" / "new.xml", b"new", mtime=1_000_000.0) is True
    assert writer.write(tmp_path / "b" / "c" / "deep.xml", b"deep") is True
    assert writer.write(tmp_path / "a" / "same.xml", b"same", mtime=2_000_000.0) is False
    assert not (tmp_path / "a" / "new.xml").exists()  # staged, not yet visible
    assert (tmp_path / "a" / "same.xml").stat().st_mtime == 2_000_000.0
    writer.commit()
    assert (tmp_path / "a" / "new.xml").read_bytes() == b"new"
    assert (tmp_path / "a" / "new.xml").stat().st_mtime == 1_000_000.0
    assert (tmp_path / "b" / "c" / "deep.xml").read_bytes() == b"deep"
    assert [p for p in tmp_path.rglob("*") if is_temp_name(p.name)] == []


def test_an_error_before_commit_leaves_the_old_files_and_no_temps(tmp_path: Path) -> None:
    (tmp_path / "feed.xml").write_bytes(b"old")
    with pytest.raises(RuntimeError), BatchWriter() as writer:
        writer.write(tmp_path / "feed.xml", b"new")
        writer.write(tmp_path / "other.xml", b"other")
        raise RuntimeError("render failed")
    assert (tmp_path / "feed.xml").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.xml"]


def test_a_full_build_sweeps_temp_files_a_crash_left(app: App) -> None:
    add_numbered_article(app, 1)
    build_feeds(app.engine, app.settings, clock=app.clock)
    root = app.settings.feeds_dir
    left = (
        root / "all" / ".rss.xml.k3j2h1ab.tmp"
    )  # mkstemp's name, as a kill -9 before the renames leaves it
    left.write_bytes(b"<rss")
    build_feeds(
        app.engine, app.settings, clock=app.clock
    )  # nothing changed in the store: the shortcut does not walk the folder
    add_numbered_article(app, 2)
    build_feeds(app.engine, app.settings, clock=app.clock)
    assert not left.exists()
    assert (root / "all" / "rss.xml").read_bytes().startswith(b"<?xml")

"""A killed publish leaves temp files behind; the next publish removes them, on every host.

Each host kind runs against its real server on loopback (tests/support/host_servers.py).
The leftovers are planted where a publish killed between writing a temp file and
renaming it would leave them, in every form syndicate writes one: the staged hosts'
``.name.<12 hex>.tmp`` and ``write_atomic``'s ``.name.<8 chars>.tmp``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.core.fileio import is_temp_name
from syndicate.publishing.hosts.base import temp_name
from tests.support.hosts import (
    PUBLISHED,
    make_target,
    run,
    write_feeds,
)

KINDS = ["directory", "s3", "sftp", "ftp", "webdav"]

pytestmark = pytest.mark.filterwarnings("ignore:The asyn:DeprecationWarning")

LEFTOVERS = [
    temp_name("all/atom.xml"),
    temp_name("all/archive/1/rss.xml"),
    temp_name("index.html"),
    "all/.feed.json.k2x_9qaz.tmp",  # fileio.write_atomic's mkstemp name
]
NOT_OURS = ["all/.htaccess", ".well-known.tmp", "all/notes.tmp", "all/.keep"]


def test_temp_names_are_hidden_and_recognised_as_ours() -> None:
    for path in LEFTOVERS:
        name = path.rpartition("/")[2]
        assert name.startswith(".")  # a web server's dotfile rule keeps it from readers
        assert is_temp_name(name), name
    for path in NOT_OURS:
        assert not is_temp_name(path.rpartition("/")[2]), path


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.usefixtures("secrets")
def test_the_next_publish_removes_leftover_temp_files(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    target = make_target(kind, request, tmp_path)
    feeds = tmp_path / "feeds"
    write_feeds(feeds)
    run(tmp_path, target)
    for path in LEFTOVERS:
        target.write(path, b"<?xml version='1.0'?><rss><chan")  # half a file
    for path in NOT_OURS:
        target.write(path, b"someone else's")
    assert set(LEFTOVERS) <= target.listing()

    again = run(tmp_path, target)  # nothing to upload: the sweep runs anyway
    assert again.uploaded == []
    assert sorted(again.swept) == sorted(LEFTOVERS)
    assert target.listing() == PUBLISHED | set(NOT_OURS)
    assert target.read("all/.htaccess") == b"someone else's"


def test_a_build_removes_leftovers_of_an_interrupted_build(tmp_path: Path) -> None:
    from syndicate.core.clock import FixedClock
    from syndicate.core.config import load_settings
    from syndicate.feeds import build_feeds
    from syndicate.service.context import App
    from tests.support import T0, write_config

    config = write_config(
        tmp_path, f"sqlite:///{tmp_path / 'store.db'}", '[[feeds]]\nname = "all"\npath = "all"\n'
    )
    with App(load_settings(config), clock=FixedClock(T0)) as app:
        build_feeds(app.engine, app.settings, clock=app.clock)
        left = app.settings.feeds_dir / "all" / ".rss.xml.a1b2c3d4.tmp"
        left.write_bytes(b"<rss")
        build_feeds(app.engine, app.settings, clock=app.clock)
        assert not left.exists()
        assert (app.settings.feeds_dir / "all" / "rss.xml").exists()

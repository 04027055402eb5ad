"""Each feed host type against a real server on loopback: the full push cycle.

First push uploads everything, second pushes nothing, a change pushes only the
changed files (live feeds last), a removed feed is deleted only when allowed, and
``max_deletes`` aborts a push that would delete too much.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from syndicate.core.db import pushes
from syndicate.feeds import files as feedfiles
from syndicate.publishing.hosts import build_host
from syndicate.publishing.publish import PublishFailed
from tests.support.hosts import (
    PUBLISHED,
    host_app,
    make_target,
    manifest_paths,
    run,
    s3_client,
    write_feeds,
)

KINDS = ["directory", "s3", "sftp", "ftp", "ftps", "webdav"]

# pyftpdlib still imports asyncore/asynchat (deprecated in 3.11, not ours to fix).
pytestmark = pytest.mark.filterwarnings("ignore:The asyn:DeprecationWarning")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.usefixtures("secrets")
def test_push_cycle(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    target = make_target(kind, request, tmp_path)
    feeds = tmp_path / "feeds"
    files = write_feeds(feeds)

    # First push: everything, archive pages first and live feeds last; no junk, no temp files.
    first = run(tmp_path, target)
    assert set(first.uploaded) == PUBLISHED
    assert first.uploaded[:2] == ["all/archive/1/atom.xml", "all/archive/1/rss.xml"]
    assert set(first.uploaded[-3:]) == {"all/rss.xml", "all/atom.xml", "all/feed.json"}
    assert first.bytes == sum(len(data) for data in files.values())
    assert target.listing() == PUBLISHED
    for relpath, data in files.items():
        assert target.read(relpath) == data, relpath

    # Second push: nothing changed, nothing sent.
    second = run(tmp_path, target)
    assert (second.uploaded, second.skipped, second.bytes) == ([], 7, 0)

    # A change: only the changed files, the live feed after the index page.
    (feeds / "all" / "rss.xml").write_bytes(files["all/rss.xml"].replace(b"First", b"Second"))
    (feeds / "index.html").write_bytes(b"<!doctype html><title>Feeds v2</title>\n")
    third = run(tmp_path, target)
    assert third.uploaded == ["index.html", "all/rss.xml"]
    assert b"<title>Second</title>" in (target.read("all/rss.xml") or b"")
    assert target.read("index.html") == b"<!doctype html><title>Feeds v2</title>\n"

    # A feed no longer built stays while delete = false ...
    (feeds / "all" / "feed.json").unlink()
    kept = run(tmp_path, target)
    assert (kept.deleted, kept.kept) == ([], ["all/feed.json"])
    assert target.read("all/feed.json") == files["all/feed.json"]

    # ... and goes when delete = true.
    removed = run(tmp_path, target, delete=True)
    assert removed.deleted == ["all/feed.json"]
    assert target.read("all/feed.json") is None
    assert "all/feed.json" not in manifest_paths(tmp_path, target)

    # More deletions than max_deletes: the whole push is refused, the host untouched.
    for relpath in ("all/archive/1/rss.xml", "all/archive/1/atom.xml", "feeds.opml"):
        (feeds / relpath).unlink()
    (feeds / "index.html").write_bytes(b"<!doctype html><title>Feeds v3</title>\n")
    before = {path: target.read(path) for path in target.listing()}
    with pytest.raises(PublishFailed) as failed:
        run(tmp_path, target, delete=True, max_deletes=2)
    assert "3 files would be deleted, more than max_deletes = 2" in failed.value.message
    assert {path: target.read(path) for path in target.listing()} == before

    with host_app(tmp_path, target.table()) as app, app.engine.connect() as conn:
        history = conn.execute(select(pushes).order_by(pushes.c.id)).mappings().all()
    assert [row["uploaded"] for row in history] == [7, 0, 2, 0, 0, 0]
    assert [row["deleted"] for row in history] == [0, 0, 0, 0, 1, 0]
    assert history[-1]["error"] is not None and "max_deletes" in history[-1]["error"]
    assert all(row["finished_at"] is not None for row in history)


@pytest.mark.usefixtures("secrets")
def test_s3_objects_carry_media_type_and_cache_control(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    target = make_target("s3", request, tmp_path)
    write_feeds(tmp_path / "feeds")
    run(tmp_path, target, cache_control={"index.html": "no-cache"})
    client = s3_client(request.getfixturevalue("s3_endpoint"))
    prefix = target.table().split('prefix = "')[1].split('"')[0]

    def head(path: str) -> tuple[str, str]:
        meta = client.head_object(Bucket="feeds", Key=f"{prefix}/{path}")
        return meta["ContentType"], meta["CacheControl"]

    assert head("all/rss.xml") == ("application/rss+xml; charset=utf-8", feedfiles.LIVE_CACHE)
    assert head("all/feed.json") == (
        "application/feed+json; charset=utf-8",
        feedfiles.LIVE_CACHE,
    )
    assert head("all/archive/1/atom.xml") == (
        "application/atom+xml; charset=utf-8",
        feedfiles.ARCHIVE_CACHE,
    )
    assert head("index.html") == ("text/html; charset=utf-8", "no-cache")


@pytest.mark.usefixtures("secrets")
@pytest.mark.parametrize("kind", KINDS)
def test_deleting_a_missing_file_is_not_an_error(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    target = make_target(kind, request, tmp_path)
    with host_app(tmp_path, target.table()) as app:
        host = build_host(app.settings.hosts[0], base_dir=app.settings.base_dir)
        try:
            host.put("a/b.txt", b"x", "text/plain", "no-cache")
            assert target.read("a/b.txt") == b"x"
            host.delete("a/b.txt")
            host.delete("a/b.txt")
            host.delete("never/was.txt")
        finally:
            host.close()
    assert target.read("a/b.txt") is None

"""Each feed host type against a real server on loopback: the full push cycle.

First push uploads everything, second pushes nothing, a change pushes only the
changed files (live feeds last), a removed feed is deleted only when allowed, and
``max_deletes`` aborts a push that would delete too much.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from syndicate import feedfiles
from syndicate.clock import FixedClock
from syndicate.config import load_settings
from syndicate.context import App
from syndicate.db import host_files, pushes
from syndicate.publish import PublishFailed, publish

from .support import T0, write_config
from .test_hosts_servers import (
    DavServer,
    FtpServer,
    SshServer,
    ftp_server,
    moto_server,
    s3_client,
    self_signed_cert,
    sshd_server,
    webdav_server,
    write_feeds,
)

KINDS = ["directory", "s3", "sftp", "ftp", "ftps", "webdav"]


# -- servers, one of each per module ------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        s3_client(endpoint).create_bucket(Bucket="feeds")
        yield endpoint


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with sshd_server(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture(scope="module")
def ftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FtpServer]:
    with ftp_server(tmp_path_factory.mktemp("ftp-root")) as server:
        yield server


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def ftps(
    tmp_path_factory: pytest.TempPathFactory, tls_cert: tuple[Path, Path]
) -> Iterator[FtpServer]:
    with ftp_server(tmp_path_factory.mktemp("ftps-root"), tls_cert=tls_cert) as server:
        yield server


@pytest.fixture(scope="module")
def dav(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DavServer]:
    with webdav_server(tmp_path_factory.mktemp("dav-root")) as server:
        yield server


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch, tls_cert: tuple[Path, Path]) -> None:
    monkeypatch.setenv("HOST_PASSWORD", "secret")
    monkeypatch.setenv("S3_KEY", "testing")
    monkeypatch.setenv("S3_SECRET", "testing")
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_cert[0]))  # trust the FTPS test server


# -- one host of a kind, seen from both ends ----------------------------------------------


@dataclass
class Target:
    """A [[hosts]] table for a kind, and a view of what really is at its public paths."""

    kind: str
    table: Callable[..., str]  # (**options) -> TOML
    read: Callable[[str], bytes | None]
    listing: Callable[[], set[str]]  # every file, hidden ones too


def folder_view(root: Path) -> tuple[Callable[[str], bytes | None], Callable[[], set[str]]]:
    def read(path: str) -> bytes | None:
        file = root / path
        return file.read_bytes() if file.is_file() else None

    def listing() -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}

    return read, listing


def toml_options(**options: object) -> str:
    lines = []
    for key, value in options.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int | float):
            lines.append(f"{key} = {value}")
        elif isinstance(value, dict):
            inner = ", ".join(f'"{k}" = "{v}"' for k, v in value.items())
            lines.append(f"{key} = {{ {inner} }}")
        else:
            lines.append(f'{key} = "{value}"')
    return "\n".join(lines)


def make_target(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    unique = f"t{uuid.uuid4().hex[:10]}"
    base = {"name": "site", "type": kind, "retries": 1, "retry_delay": 0, "timeout": 10}
    if kind == "directory":
        root = tmp_path / "public"
        read, listing = folder_view(root)
        base["path"] = str(root)
    elif kind == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        client = s3_client(endpoint)
        base |= {
            "bucket": "feeds",
            "prefix": unique,
            "endpoint_url": endpoint,
            "region": "us-east-1",
            "access_key_env": "S3_KEY",
            "secret_key_env": "S3_SECRET",
        }

        def read(path: str) -> bytes | None:
            try:
                return client.get_object(Bucket="feeds", Key=f"{unique}/{path}")["Body"].read()
            except client.exceptions.NoSuchKey:
                return None

        def listing() -> set[str]:
            found = client.list_objects_v2(Bucket="feeds", Prefix=f"{unique}/")
            return {item["Key"][len(unique) + 1 :] for item in found.get("Contents", [])}

    elif kind == "sftp":
        server: SshServer = request.getfixturevalue("sshd")
        root = tmp_path / "sftp-root"
        read, listing = folder_view(root)
        base |= {
            "host": "127.0.0.1",
            "port": server.port,
            "username": "root",
            "key_file": str(server.key_file),
            "known_hosts": str(server.known_hosts),
            "path": str(root),
        }
    elif kind in ("ftp", "ftps"):
        ftp: FtpServer = request.getfixturevalue(kind)
        read, listing = folder_view(ftp.root / unique)
        base |= {
            "type": "ftp",
            "host": "127.0.0.1",
            "port": ftp.port,
            "username": "feeder",
            "password_env": "HOST_PASSWORD",
            "path": f"/{unique}",
            "tls": kind == "ftps",
        }
    else:
        dav: DavServer = request.getfixturevalue("dav")
        read, listing = folder_view(dav.root / unique)
        base |= {
            "endpoint_url": dav.url,
            "path": unique,
            "username": "feeder",
            "password_env": "HOST_PASSWORD",
        }

    def table(**options: object) -> str:
        return "[[hosts]]\n" + toml_options(**(base | options)) + "\n"

    return Target(kind, table, read, listing)


def host_app(tmp_path: Path, table: str) -> App:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'store.db'}", table)
    return App(load_settings(config), clock=FixedClock(T0))


def run(tmp_path: Path, target: Target, **options: object):  # -> PushReport
    with host_app(tmp_path, target.table(**options)) as app:
        [report] = publish(app)
        return report


def manifest_paths(tmp_path: Path, target: Target) -> dict[str, str]:
    with host_app(tmp_path, target.table()) as app, app.engine.connect() as conn:
        rows = conn.execute(select(host_files.c.path, host_files.c.sha256))
        return {row.path: row.sha256 for row in rows}


PUBLISHED = {
    "all/rss.xml",
    "all/atom.xml",
    "all/feed.json",
    "all/archive/1/rss.xml",
    "all/archive/1/atom.xml",
    "index.html",
    "feeds.opml",
}


@pytest.mark.parametrize("kind", KINDS)
def test_push_cycle(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, secrets: None
) -> None:
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


def test_s3_objects_carry_media_type_and_cache_control(
    request: pytest.FixtureRequest, tmp_path: Path, secrets: None
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

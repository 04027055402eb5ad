"""Shared pieces of the host tests (no tests here): a hand-written feeds folder, one
server of each kind per module, and ``Target``: a [[hosts]] entry of a kind together
with a view of what really is at its public paths."""

from __future__ import annotations

import getpass
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from syndicate.core.clock import FixedClock
from syndicate.core.config import load_settings
from syndicate.core.db import host_files
from syndicate.publishing.publish import PushReport, publish
from syndicate.service.context import App
from tests.support import T0, write_config
from tests.support.host_servers import (
    DavServer,
    FtpServer,
    SshServer,
    ftp_server,
    moto_server,
    s3_client,
    self_signed_cert,
    sshd_server,
    webdav_server,
)

FEEDS_URL = "https://news.example.org/feeds/"


# -- a feeds folder ------------------------------------------------------------------


def rss(path: str, title: str, hub: str | None = None, *, padding: int = 0) -> bytes:
    self_url = FEEDS_URL + path
    body = "x" * padding
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:atom="http://www.w3.org/2005/Atom" version="2.0">
<channel>
<title>Test News</title>
<link>https://news.example.org/</link>
<description>News for tests{body}</description>
<atom:link href="{self_url}" rel="self" type="application/rss+xml"/>
{f'<atom:link href="{hub}" rel="hub"/>' if hub else ""}
<lastBuildDate>Mon, 02 Mar 2026 09:00:00 +0000</lastBuildDate>
<item>
<title>{title}</title>
<link>https://news.example.org/a/first</link>
<description>A first article.</description>
<guid isPermaLink="false">urn:uuid:6f1c3a52-2f5a-4b44-9d2e-1b2c3d4e5f60</guid>
<pubDate>Mon, 02 Mar 2026 09:00:00 +0000</pubDate>
</item>
</channel>
</rss>
""".encode()


def atom(path: str, title: str, hub: str | None = None) -> bytes:
    self_url = FEEDS_URL + path
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>urn:uuid:0a5b6c7d-1e2f-4a3b-8c9d-0e1f2a3b4c5d</id>
<title>Test News</title>
<updated>2026-03-02T09:00:00+00:00</updated>
<author><name>Desk</name></author>
<link href="https://news.example.org/" rel="alternate"/>
<link href="{self_url}" rel="self" type="application/atom+xml"/>
{f'<link href="{hub}" rel="hub"/>' if hub else ""}
<entry>
<id>urn:uuid:6f1c3a52-2f5a-4b44-9d2e-1b2c3d4e5f60</id>
<title>{title}</title>
<updated>2026-03-02T09:00:00+00:00</updated>
<link href="https://news.example.org/a/first" rel="alternate"/>
<content type="html">&lt;p&gt;A first article.&lt;/p&gt;</content>
</entry>
</feed>
""".encode()


def jsonfeed(path: str, title: str, hub: str | None = None) -> bytes:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Test News",
        "home_page_url": "https://news.example.org/",
        "feed_url": FEEDS_URL + path,
        "hubs": [{"type": "WebSub", "url": hub}] if hub else [],
        "items": [
            {
                "id": "urn:uuid:6f1c3a52-2f5a-4b44-9d2e-1b2c3d4e5f60",
                "title": title,
                "url": "https://news.example.org/a/first",
                "content_html": "<p>A first article.</p>",
                "date_published": "2026-03-02T09:00:00+00:00",
            }
        ],
    }
    return json.dumps(feed, indent=2, sort_keys=True).encode()


def write_feeds(root: Path, *, title: str = "First", hub: str | None = None) -> dict[str, bytes]:
    """A small built tree: live feeds, one archive page, index and OPML, plus junk."""
    files = {
        "all/rss.xml": rss("all/rss.xml", title, hub),
        "all/atom.xml": atom("all/atom.xml", title, hub),
        "all/feed.json": jsonfeed("all/feed.json", title, hub),
        "all/archive/1/rss.xml": rss("all/archive/1/rss.xml", "Old", hub),
        "all/archive/1/atom.xml": atom("all/archive/1/atom.xml", "Old", hub),
        "index.html": b"<!doctype html><title>Feeds</title><a href='all/rss.xml'>all</a>\n",
        "feeds.opml": b"<?xml version='1.0'?><opml version='2.0'><head/><body/></opml>\n",
    }
    for relpath, data in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    # Never published: a dotfile, a builder's temp file, an editor backup.
    (root / ".lock").write_text("x")
    (root / "all" / ".rss.xml.1234abcd.tmp").write_text("half")
    (root / "index.html~").write_text("old")
    return files


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
    write: Callable[[str, bytes], None]  # put a file there behind syndicate's back


def folder_writer(root: Path) -> Callable[[str, bytes], None]:
    def write(path: str, data: bytes) -> None:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)

    return write


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
        write = folder_writer(root)
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

        def write(path: str, data: bytes) -> None:
            client.put_object(Bucket="feeds", Key=f"{unique}/{path}", Body=data)

    elif kind == "sftp":
        server: SshServer = request.getfixturevalue("sshd")
        root = tmp_path / "sftp-root"
        read, listing = folder_view(root)
        write = folder_writer(root)
        base |= {
            "host": "127.0.0.1",
            "port": server.port,
            "username": getpass.getuser(),  # sshd runs as whoever runs the tests
            "key_file": str(server.key_file),
            "known_hosts": str(server.known_hosts),
            "path": str(root),
        }
    elif kind in ("ftp", "ftps"):
        ftp: FtpServer = request.getfixturevalue(kind)
        read, listing = folder_view(ftp.root / unique)
        write = folder_writer(ftp.root / unique)
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
        write = folder_writer(dav.root / unique)
        base |= {
            "endpoint_url": dav.url,
            "path": unique,
            "username": "feeder",
            "password_env": "HOST_PASSWORD",
        }

    def table(**options: object) -> str:
        return "[[hosts]]\n" + toml_options(**(base | options)) + "\n"

    return Target(kind, table, read, listing, write)


def host_app(tmp_path: Path, table: str) -> App:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'store.db'}", table)
    return App(load_settings(config), clock=FixedClock(T0))


def run(tmp_path: Path, target: Target, **options: object) -> PushReport:
    with host_app(tmp_path, target.table(**options)) as app:
        [report] = publish(app.engine, app.settings, clock=app.clock)
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

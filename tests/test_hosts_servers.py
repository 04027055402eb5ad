"""Real feed-host servers on loopback for the host and publish tests (no tests here).

S3 (moto server mode), SFTP (the system OpenSSH sshd), FTP and FTPS (pyftpdlib),
WebDAV (wsgidav on cheroot), each with switches for faults: a disk that is full, a
connection dropped in the middle of an upload (``ChaosProxy``, or the FTP data
channel), a read-only login. Also a small feeds folder written by hand.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import socket
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from syndicate.clock import FixedClock
from syndicate.config import load_settings
from syndicate.context import App
from syndicate.db import host_files
from syndicate.publish import PushReport, publish

from .support import T0, free_port, require, require_binary, write_config

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


# -- a TCP proxy that can cut a connection mid-stream ---------------------------------


class ChaosProxy:
    """Forwards 127.0.0.1:port to an upstream port; ``cut(n)`` drops the next n
    connections once they have carried ``after`` bytes from the client."""

    def __init__(self, upstream_port: int, *, after: int = 64 * 1024) -> None:
        self.upstream_port = upstream_port
        self.after = after
        self._cuts = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self, connections: int) -> None:
        with self._lock:
            self._cuts = connections

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                client.close()
                continue
            self._sockets += [client, upstream]
            state = {"sent": 0, "doomed": False}
            threading.Thread(
                target=self._pipe, args=(client, upstream, state, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pipe, args=(upstream, client, state, False), daemon=True
            ).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, state: dict[str, Any], up: bool):
        while True:
            try:
                chunk = source.recv(16384)
            except OSError:
                chunk = b""
            if up and chunk:
                state["sent"] += len(chunk)
                if state["sent"] > self.after and not state["doomed"]:
                    with self._lock:
                        if self._cuts > 0:
                            self._cuts -= 1
                            state["doomed"] = True
                if state["doomed"]:
                    chunk = b""  # drop the rest and hang up on both sides
            if not chunk:
                for sock in (source, sink):
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                return
            try:
                sink.sendall(chunk)
            except OSError:
                return

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()


# -- S3: moto in server mode -----------------------------------------------------------


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


# -- SFTP: the system's OpenSSH sshd ---------------------------------------------------


@dataclass
class SshServer:
    port: int
    known_hosts: Path
    key_file: Path
    other_key: Path  # a key the server does not accept
    process: subprocess.Popen[bytes] = field(repr=False)


def _keygen(path: Path) -> None:
    keygen = require_binary("ssh-keygen")
    subprocess.run(
        [keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30
    )


@contextlib.contextmanager
def sshd_server(workdir: Path, *, read_only: bool = False) -> Iterator[SshServer]:
    """The real OpenSSH sshd on a free loopback port, as the current user, keys in tmp."""
    sshd = require_binary("sshd")
    require_binary("ssh-keygen")
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("host_key", "user_key", "other_key"):
        _keygen(workdir / name)
    (workdir / "authorized_keys").write_text((workdir / "user_key.pub").read_text())
    port = free_port()
    host_pub = (workdir / "host_key.pub").read_text().split()
    (workdir / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    sftp = "internal-sftp -R" if read_only else "internal-sftp"
    config = workdir / "sshd_config"
    config.write_text(
        f"""Port {port}
ListenAddress 127.0.0.1
HostKey {workdir / "host_key"}
PidFile {workdir / "sshd.pid"}
AuthorizedKeysFile {workdir / "authorized_keys"}
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
Subsystem sftp {sftp}
LogLevel ERROR
"""
    )
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation dir
    process = subprocess.Popen(
        [sshd, "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        require(wait_for_port(port, process), f"sshd on port {port}")
        yield SshServer(
            port, workdir / "known_hosts", workdir / "user_key", workdir / "other_key", process
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None) -> bool:
    """Bounded wait for a server to accept connections (a readiness check, not a delay)."""
    for _ in range(200):
        if process is not None and process.poll() is not None:
            return False
        with socket.socket() as sock:
            sock.settimeout(0.05)
            try:
                sock.connect(("127.0.0.1", port))
                return True
            except OSError:
                threading.Event().wait(0.025)
    return False


# -- FTP and FTPS: pyftpdlib -------------------------------------------------------------


@dataclass
class FtpFaults:
    disk_full: bool = False
    drop_uploads: int = 0  # data connections to cut mid-upload


@dataclass
class FtpServer:
    port: int
    root: Path
    faults: FtpFaults


def self_signed_cert(workdir: Path) -> tuple[Path, Path]:
    """A CA-flagged self-signed certificate for 127.0.0.1 (trusted via SSL_CERT_FILE)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = workdir / "cert.pem", workdir / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@contextlib.contextmanager
def ftp_server(root: Path, *, tls_cert: tuple[Path, Path] | None = None) -> Iterator[FtpServer]:
    """pyftpdlib with user feeder/secret (read-write) and reader/secret (read-only)."""
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import DTPHandler, FTPHandler, TLS_DTPHandler, TLS_FTPHandler
    from pyftpdlib.ioloop import IOLoop
    from pyftpdlib.servers import FTPServer

    root.mkdir(parents=True, exist_ok=True)
    faults = FtpFaults()
    authorizer = DummyAuthorizer()
    authorizer.add_user("feeder", "secret", str(root), perm="elradfmwMT")
    authorizer.add_user("reader", "secret", str(root), perm="elr")

    base_handler, base_dtp = (
        (TLS_FTPHandler, TLS_DTPHandler) if tls_cert else (FTPHandler, DTPHandler)
    )

    class Dtp(base_dtp):  # type: ignore[misc, valid-type]
        def handle_read_event(self) -> None:
            super().handle_read_event()
            if faults.drop_uploads > 0 and self.tot_bytes_received > 0:
                faults.drop_uploads -= 1
                self.cmd_channel.close()  # control and data connection gone mid-upload

    class Handler(base_handler):  # type: ignore[misc, valid-type]
        def ftp_STOR(self, file: str, mode: str = "w") -> Any:
            if faults.disk_full:
                self.respond("452 Insufficient storage space in system.")
                return None
            return super().ftp_STOR(file, mode)

    Handler.authorizer = authorizer
    Handler.dtp_handler = Dtp
    Handler.banner = "test ftp"
    Handler.auth_failed_timeout = 0  # answer a wrong password at once
    if tls_cert:
        Handler.certfile, Handler.keyfile = str(tls_cert[0]), str(tls_cert[1])
        Handler.tls_control_required = True
        Handler.tls_data_required = True
    port = free_port()
    # Each server its own loop: the default one is shared by every server in the process.
    server = FTPServer(("127.0.0.1", port), Handler, ioloop=IOLoop())
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"timeout": 0.05, "handle_exit": False}, daemon=True
    )
    thread.start()
    try:
        yield FtpServer(port, root, faults)
    finally:
        server.close_all()
        thread.join(timeout=10)


# -- WebDAV: wsgidav on cheroot ---------------------------------------------------------


@dataclass
class DavFaults:
    disk_full: bool = False


@dataclass
class DavServer:
    port: int
    root: Path
    faults: DavFaults

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/dav/"

    @property
    def read_only_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ro/"


@contextlib.contextmanager
def webdav_server(root: Path) -> Iterator[DavServer]:
    """wsgidav: /dav read-write and /ro read-only, basic auth feeder/secret."""
    from cheroot import wsgi
    from wsgidav.wsgidav_app import WsgiDAVApp

    root.mkdir(parents=True, exist_ok=True)
    faults = DavFaults()
    app = WsgiDAVApp(
        {
            "provider_mapping": {
                "/dav": {"root": str(root), "readonly": False},
                "/ro": {"root": str(root), "readonly": True},
            },
            "simple_dc": {"user_mapping": {"*": {"feeder": {"password": "secret"}}}},
            "http_authenticator": {
                "accept_basic": True,
                "accept_digest": False,
                "default_to_digest": False,
            },
            "verbose": 0,
            "logging": {"enable": False},
            "property_manager": True,
            "lock_storage": True,
        }
    )

    def with_faults(environ: dict[str, Any], start_response: Any) -> Any:
        if faults.disk_full and environ["REQUEST_METHOD"] == "PUT":
            start_response("507 Insufficient Storage", [("Content-Length", "0")])
            return [b""]
        return app(environ, start_response)

    port = free_port()
    server = wsgi.Server(("127.0.0.1", port), with_faults, numthreads=4)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield DavServer(port, root, faults)
    finally:
        server.stop()
        thread.join(timeout=10)


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


def run(tmp_path: Path, target: Target, **options: object) -> PushReport:
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

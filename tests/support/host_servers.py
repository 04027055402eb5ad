"""Real feed-host servers on loopback for the host and publish tests (no tests here).

S3 (moto server mode), SFTP (the system OpenSSH sshd), FTP and FTPS (pyftpdlib),
WebDAV (wsgidav on cheroot), each with switches for faults: a disk that is full, a
connection dropped in the middle of an upload (``ChaosProxy``, or the FTP data
channel), a read-only login.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import free_port, require, require_binary

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
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation dir
    log = workdir / "sshd.log"
    with log.open("wb") as errors:
        process = subprocess.Popen(
            [sshd, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=errors
        )
    try:
        started = wait_for_port(port, process)
        require(started, f"sshd on port {port} ({log.read_text(errors='replace')[-500:]!r})")
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
    size_reply: str | None = None  # answer SIZE with this reply instead


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

        def ftp_SIZE(self, path: str) -> Any:
            if faults.size_reply:
                self.respond(faults.size_reply)
                return None
            return super().ftp_SIZE(path)

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

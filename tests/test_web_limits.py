"""Connection and body limits on a real ``syndicate serve`` (waitress), from ``[web]``."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.webserver import Served, serve

LIMITS = """connection_limit = 10
channel_timeout_seconds = 2
max_body_bytes = 65536
"""


@pytest.fixture
def server(tmp_path: Path, store_url: str) -> Iterator[Served]:
    with serve(tmp_path, store_url, LIMITS) as served:
        yield served


def _connect(server: Served) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    return sock


def _status(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return int(head.split(b" ", 2)[1])


def test_a_50_mb_body_gets_413_before_it_is_sent(server: Served) -> None:
    """Only 1 KiB of the announced 50 MB is ever sent: the answer cannot wait for the rest."""
    with _connect(server) as sock:
        sock.sendall(
            b"POST /webhooks/mailgun HTTP/1.1\r\nHost: news.example.org\r\n"
            b"Content-Type: application/json\r\nContent-Length: 52428800\r\n\r\n" + b"x" * 1024
        )
        assert _status(sock) == 413
    assert server.tracebacks() == []


def test_an_oversized_body_that_asks_to_continue_gets_413_not_100(server: Served) -> None:
    """curl sends ``Expect: 100-continue`` before a large body: it must be told 413 at
    once, not invited to upload 50 MB (waitress then left it hanging)."""
    with _connect(server) as sock:
        sock.sendall(
            b"POST /webhooks/mailgun HTTP/1.1\r\nHost: news.example.org\r\n"
            b"Expect: 100-continue\r\nContent-Length: 52428800\r\n\r\n"
        )
        assert _status(sock) == 413
    with _connect(server) as sock:  # a body within the limit is still invited
        sock.sendall(
            b"POST /subscribe HTTP/1.1\r\nHost: news.example.org\r\nExpect: 100-continue\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\n\r\n"
        )
        assert _status(sock) == 100


def test_a_chunked_body_is_cut_off_at_the_limit(server: Served) -> None:
    with _connect(server) as sock:
        sock.sendall(
            b"POST /subscribe HTTP/1.1\r\nHost: news.example.org\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"%x\r\n%s\r\n" % (8192, b"a" * 8192)
        try:
            for _ in range(64):  # 512 KiB, far past the 64 KiB limit
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed mid-body
        assert _status(sock) == 413
    assert server.tracebacks() == []


def test_idle_half_sent_requests_do_not_starve_the_server(server: Served) -> None:
    """More idle, half-sent requests than connection_limit: they are dropped after
    channel_timeout_seconds and a real request is answered."""
    idle = [_connect(server) for _ in range(15)]
    try:
        for sock in idle:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: news.example.org\r\n")
        answer = requests.get(f"{server.url}/healthz", timeout=30)
        assert answer.status_code == 200
        for sock in idle[:10]:  # the ones the server accepted are closed by it
            sock.settimeout(30)
            assert sock.recv(4096) == b"" or _status(sock) >= 400
    finally:
        for sock in idle:
            sock.close()


def test_with_the_defaults_110_idle_requests_do_not_starve_it(
    tmp_path: Path, store_url: str
) -> None:
    """The outside trial: 110 idle half-sent requests against the default settings
    (waitress's own default of 100 connections left the 111th waiting two minutes)."""
    with serve(tmp_path, store_url) as server:
        idle = [_connect(server) for _ in range(110)]
        try:
            for sock in idle:
                sock.sendall(b"POST /subscribe HTTP/1.1\r\nHost: news.example.org\r\n")
            answer = requests.get(f"{server.url}/healthz", timeout=15)
            assert answer.status_code == 200
        finally:
            for sock in idle:
                sock.close()
        assert server.tracebacks() == []

"""The API on a real ``syndicate serve`` (waitress on loopback): a reader added from
another site's form with retries, raw hostile requests, and no traceback in the log."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from syndicate.cli import main
from tests.support.webserver import Served, serve

DIGEST = """
[[feeds]]
name = "all"
path = "all"

[[digests]]
name = "weekly"
title = "Weekly"
feed = "all"
schedule = "0 8 * * MON"
"""


@pytest.fixture
def server(tmp_path: Path, store_url: str) -> Iterator[Served]:
    with serve(tmp_path, store_url, DIGEST) as served:
        yield served


def _token(server: Served, scopes: str) -> str:
    made = CliRunner().invoke(
        main, ["--config", str(server.config), "api-tokens", "create", "site-form", "--scope", scopes, "--json"]
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    return json.loads(made.output)["token"]


def _raw(server: Served, request: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), (request[:80], data[:200])
    return int(head.split(b" ", 2)[1]), body


def test_another_site_adds_a_reader_once_however_often_it_retries(server: Served) -> None:
    token = _token(server, "subscribers:read,subscribers:write")
    url = f"{server.url}/api/v1/subscribers"
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "form-4711",
               "Host": "news.example.org"}  # fmt: skip
    body = {"email": "new.reader@example.org", "name": "New Reader"}
    answers = [requests.post(url, json=body, headers=headers, timeout=30) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    listed = requests.get(url, headers=headers, timeout=30).json()
    assert [s["email"] for s in listed["items"]] == ["new.reader@example.org"]
    assert listed["items"][0]["status"] == "pending"
    document = requests.get(f"{server.url}/api/v1/openapi.json", headers=headers, timeout=30)
    assert document.json()["openapi"] == "3.1.0"
    assert server.tracebacks() == []


HOSTILE = [
    b"POST /api/v1/subscribers HTTP/1.1\r\nHost: news.example.org\r\nAuthorization: Bearer {t}\r\n"
    b"Content-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n\xff\xfe\x00{{}}",
    b"POST /api/v1/subscribers HTTP/1.1\r\nHost: news.example.org\r\nAuthorization: Bearer {t}\r\n"
    b"Content-Type: application/json\r\nContent-Length: 52428800\r\nConnection: close\r\n\r\n{{",
    b"POST /api/v1/subscribers HTTP/1.1\r\nHost: news.example.org\r\nAuthorization: Bearer {t}\r\n"
    b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    b"5\r\n[1,2]\r\n0\r\n\r\n",
    b"GET /api/v1/subscribers?limit=%FF%FE HTTP/1.1\r\nHost: news.example.org\r\n"
    b"Authorization: Bearer {t}\r\nConnection: close\r\n\r\n",
    b"GET /api/v1/subscribers HTTP/1.1\r\nHost: news.example.org\r\n"
    b"Authorization: Bearer \xc3\xa9\xff\r\nConnection: close\r\n\r\n",
    b"GET /api/v1/subscribers/1%00 HTTP/1.1\r\nHost: news.example.org\r\n"
    b"Authorization: Bearer {t}\r\nConnection: close\r\n\r\n",
    b"DELETE /api/v1/subscribers HTTP/1.1\r\nHost: news.example.org\r\n"
    b"Authorization: Bearer {t}\r\nConnection: close\r\n\r\n",
]


def test_raw_hostile_requests_get_4xx_and_no_traceback(server: Served) -> None:
    token = _token(server, "subscribers:read,subscribers:write").encode()
    for request in HOSTILE:
        status, body = _raw(
            server, request.replace(b"{t}", token).replace(b"{{", b"{").replace(b"}}", b"}")
        )
        assert 400 <= status < 500, (request[:60], status, body[:200])
    assert server.tracebacks() == []

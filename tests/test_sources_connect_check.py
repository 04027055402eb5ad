"""A source's private-address check runs before the connect: a name resolving to a
loopback address is never connected to (not even opened and closed) unless the source
sets allow_private."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from syndicate.core.errors import SourceError
from syndicate.intake.sources.fetch import Client, Policy


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A plain TCP listener on 127.0.0.1 that accepts nothing by itself: the kernel
    queues every completed connect, so ``connects`` sees each one afterwards."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    try:
        yield sock
    finally:
        sock.close()


def connects(listener: socket.socket) -> int:
    """How many TCP connections reached the listener (each accepted and closed)."""
    count = 0
    while True:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def test_a_name_resolving_to_loopback_is_never_connected(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    client = Client(Policy(user_agent="t", allow_private=False, timeout=2))
    with client, pytest.raises(SourceError, match=r"localhost is at .*private or local address"):
        client.get(f"http://localhost:{port}/feed.xml")
    assert connects(listener) == 0


def test_a_loopback_address_literal_is_never_connected(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    client = Client(Policy(user_agent="t", allow_private=False, timeout=2))
    with client, pytest.raises(SourceError, match=r"127\.0\.0\.1 is at 127\.0\.0\.1"):
        client.get(f"http://127.0.0.1:{port}/feed.xml")
    assert connects(listener) == 0


def test_allow_private_connects(listener: socket.socket) -> None:
    """The same request with allow_private reaches the listener (the counter counts)."""
    port = listener.getsockname()[1]
    client = Client(Policy(user_agent="t", allow_private=True, timeout=0.5))
    with client, pytest.raises(SourceError):  # the listener never answers
        client.get(f"http://127.0.0.1:{port}/feed.xml")
    assert connects(listener) == 1

"""How the web app is hosted: waitress options from ``[web]``, the one place they are set.

waitress's defaults (100 connections, 120 s idle timeout) let ~110 idle half-sent
requests starve the server. The body limit is enforced by waitress from the
Content-Length (or while reading a chunked body), so an oversized request is answered
413 without being read whole; Flask's MAX_CONTENT_LENGTH repeats it for other WSGI
servers. None of this replaces a reverse proxy in front (see docs/deploying.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server

from syndicate.core.config import WebSettings
from syndicate.service.context import App

THREADS = 8
MAX_HEADER_BYTES = 64 * 1024


def server_options(settings: WebSettings) -> dict[str, Any]:
    """Keyword arguments for ``waitress.create_server``."""
    return {
        "threads": THREADS,
        "connection_limit": settings.connection_limit,
        "channel_timeout": settings.channel_timeout_seconds,
        # Idle channels are swept this often: at least twice per timeout.
        "cleanup_interval": max(1, settings.channel_timeout_seconds // 2),
        "max_request_body_size": settings.max_body_bytes,
        "max_request_header_size": MAX_HEADER_BYTES,
        "ident": "syndicate",
    }


class _Channel(HTTPChannel):
    """waitress's channel, minus one invitation: a request already refused (e.g. its
    Content-Length is over the limit) with ``Expect: 100-continue`` got ``100 Continue``
    and then no answer at all until the idle timeout. It now gets its 413 at once."""

    def send_continue(self) -> None:
        if self.request is not None and self.request.error is not None:
            self.request.expect_continue = False
            return
        super().send_continue()


def make_server(app: Any, host: str, port: int, settings: WebSettings) -> BaseWSGIServer:
    """A waitress server for ``app`` with the limits from ``[web]``."""
    server = create_server(app, host=host, port=port, **server_options(settings))
    assert isinstance(server, BaseWSGIServer)  # one listen address, never a multi-socket one
    server.channel_class = _Channel
    return server


def stop_server(server: BaseWSGIServer) -> None:
    """Close ``server`` from inside its own loop: closing its sockets from another
    thread races the loop's select() (EBADF). Requests in hand finish first."""

    def close_everything() -> None:
        server.task_dispatcher.shutdown(timeout=5)
        wasyncore.close_all(server._map)  # type: ignore[attr-defined]  # waitress's own map; empties it, so the loop returns

    server.trigger.pull_trigger(close_everything)  # type: ignore[attr-defined]


@dataclass
class Served:
    """A bound server as the service drives it: ``run`` in a thread, ``close`` from another."""

    server: BaseWSGIServer

    @property
    def effective_port(self) -> int:
        return int(self.server.effective_port)  # type: ignore[attr-defined]

    def run(self) -> None:
        self.server.run()

    def close(self) -> None:
        stop_server(self.server)


def serve_app(app: App, host: str, port: int, surface: str = "all") -> Served:
    """``app``'s web app (or the part ``surface`` names, see ``create_app``) bound to
    ``host:port``, the way ``syndicate run`` serves it (its factory, and the console
    benchmark's server)."""
    # local: web.app imports every page module; this module stays light for its callers
    from syndicate.web.app import create_app

    if surface not in ("all", "public", "console"):
        raise ValueError(f"unknown web surface {surface!r}")
    return Served(make_server(create_app(app, surface=surface), host, port, app.settings.web))  # type: ignore[arg-type]

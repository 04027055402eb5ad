"""Showing a digest message to the operator as its subscriber will see it.

The message bytes are the ones the outbox would send; this module only reads them
back: a readable summary (headers + the decoded text part), the HTML part in a
browser (a file the browser opens, or a loopback HTTP server for a remote shell).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import http.server
import tempfile
import webbrowser
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import cast

from syndicate.core.errors import SyndicateError

SHOWN_HEADERS = ("From", "To", "Reply-To", "Subject", "List-Unsubscribe")


def parse(data: bytes) -> EmailMessage:
    return cast(EmailMessage, email.message_from_bytes(data, policy=email.policy.default))


def part(message: EmailMessage, kind: str) -> str:
    """The decoded ``text/<kind>`` body (quoted-printable and base64 undone)."""
    body = message.get_body((kind,))
    return "" if body is None else str(body.get_content())


def readable(data: bytes) -> str:
    """Headers a reader sees, then the text part, as plain text."""
    message = parse(data)
    head = [f"{name}: {message[name]}" for name in SHOWN_HEADERS if message[name]]
    return "\n".join(head) + "\n\n" + part(message, "plain")


def write_html(html: str, name: str) -> Path:
    """The HTML part in a file a browser can open (kept: the browser reads it later)."""
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", prefix=f"syndicate-{name}-", suffix=".html", delete=False
    ) as file:
        file.write(html)
    return Path(file.name)


def open_in_browser(html: str, name: str) -> Path:
    path = write_html(html, name)
    if not webbrowser.open(path.as_uri()):
        raise SyndicateError(
            f"no web browser could be started to open {path}",
            hint="open that file yourself, use --serve and open its URL, or set $BROWSER",
        )
    return path


def serve(html: str, *, port: int = 0, ready: Callable[[str], None]) -> None:
    """Serve the HTML at http://127.0.0.1:PORT/ until interrupted (Ctrl-C)."""
    body = html.encode("utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != "/":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    except OSError as exc:
        raise SyndicateError(
            f"cannot listen on 127.0.0.1:{port}: {exc.strerror}", hint="pick another --port"
        ) from None
    with server:
        ready(f"http://127.0.0.1:{server.server_address[1]}/")
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it ends
            server.serve_forever()

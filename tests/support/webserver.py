"""Web servers for tests: a real ``syndicate serve`` process on a loopback ephemeral port
(for raw HTTP), or a WSGI app served by waitress in this process (``running``)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from waitress import create_server

from tests.support import write_config
from tests.support.processes import SyndicateProcess

SECRET = "a-signing-secret-for-the-test-server-0123456789"


class Served:
    def __init__(self, process: SyndicateProcess, config: Path) -> None:
        self.process = process
        self.config = config
        line = process.wait_for(r"web app on http://127\.0\.0\.1:(\d+)/", timeout=60)
        self.port = int(re.search(r":(\d+)/", line)[1])  # type: ignore[index]
        self.url = f"http://127.0.0.1:{self.port}"

    def tracebacks(self) -> list[str]:
        """Log lines that show a traceback or an ERROR: none may appear for bad input."""
        return [
            line
            for line in self.process.lines
            if "Traceback" in line or " ERROR " in line or "Exception" in line
        ]


@contextmanager
def serve(
    directory: Path, db_url: str, extra: str = "", env: dict[str, str] | None = None
) -> Iterator[Served]:
    config = write_config(directory, db_url, extra)
    process = SyndicateProcess(config, "serve", env={"SYNDICATE_SECRET": SECRET, **(env or {})})
    try:
        yield Served(process, config)
    finally:
        process.stop()


@contextmanager
def running(wsgi_app: Flask) -> Iterator[str]:
    """Serve a WSGI app with waitress on an ephemeral loopback port; yields its base URL.

    The loop runs in short steps so the server is closed from its own thread.
    """
    server = create_server(wsgi_app, host="127.0.0.1", port=0, threads=2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)
        server.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop.set()
        thread.join(timeout=10)

"""A real ``syndicate serve`` on a loopback ephemeral port, for tests that speak raw HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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

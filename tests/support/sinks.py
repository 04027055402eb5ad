"""A Postmark-speaking batch endpoint for delivery tests with real worker processes."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support import write_config

TOKEN = "pm-test-token"


class BatchSink:
    """Postmark's /email/batch: checks the token and batch limit, records each message."""

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str]] = []  # (recipient, Message-ID)
        self.calls = 0  # answered
        self.in_flight = 0  # received, not yet answered

    def __call__(self, request: Request) -> Response:
        if request.headers.get("X-Postmark-Server-Token") != TOKEN:
            return Response(json.dumps({"ErrorCode": 10, "Message": "bad token"}), status=401)
        messages = json.loads(request.get_data())
        if len(messages) > 500:
            return Response(json.dumps({"ErrorCode": 300, "Message": "too many"}), status=422)
        with self.lock:
            self.in_flight += 1
        time.sleep(self.delay)  # a provider takes a moment: signals land mid-batch
        answer = []
        with self.lock:
            self.in_flight -= 1
            self.calls += 1
            for message in messages:
                headers = {h["Name"]: h["Value"] for h in message.get("Headers", [])}
                self.seen.append((message["To"], headers.get("Message-ID", "")))
                answer.append(
                    {"ErrorCode": 0, "Message": "OK", "MessageID": f"pm-{len(self.seen)}"}
                )
        return Response(json.dumps(answer), mimetype="application/json")


def postmark_config(
    directory: Path,
    db_url: str,
    httpserver: HTTPServer,
    *,
    batch_size: int,
    lease_seconds: int,
) -> Path:
    """The test config, sending through Postmark's API at ``httpserver`` as fast as allowed."""
    extra = f"""
[delivery]
batch_size = {batch_size}
lease_seconds = {lease_seconds}

[schedule]
deliver_every_seconds = 1
"""
    config = write_config(directory, db_url, extra)
    text = config.read_text(encoding="utf-8").replace(
        'provider = "maildir"', 'provider = "postmark"'
    )
    text = text.replace(
        'maildir = "outbox"',
        'maildir = "outbox"\nrate_per_second = 100000\nburst = 100000\n\n'
        f'[mail.postmark]\nbase_url = "{httpserver.url_for("/").rstrip("/")}"',
    )
    config.write_text(text, encoding="utf-8")
    return config

"""API tokens and webhooks in the console: owners create (shown once) and revoke
tokens; everyone sees receivers and attempts; editors replay; roles are enforced."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from syndicate.core.clock import FixedClock
from syndicate.core.db import transaction
from syndicate.delivery.hooks import drain
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from syndicate.web import create_app
from tests.api_helpers import Api
from tests.support.console import MONDAY, browser, make_operator


@pytest.fixture
def config_extra() -> str:
    # A receiver nobody listens on (port 9 on loopback): every attempt fails at once.
    return """
[[webhooks]]
url = "http://127.0.0.1:9/hook"
events = ["subscriber.confirmed"]
secret_env = "HOOK_SECRET"
allow_private = true
timeout = 2
"""


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture
def flask(app: App, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("SYNDICATE_SECRET", "s" * 32)
    monkeypatch.setenv("HOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    return create_app(app)


def test_owner_creates_a_token_shown_once_and_revokes_it(app: App, flask: Flask) -> None:
    owner = browser(flask, app, make_operator(app, "boss@example.org", "owner"))
    token = owner.csrf("/admin/api-tokens")
    made = owner.post("/admin/api-tokens", {"csrf": token, "name": "cms", "scope": ["stats:read"]})
    assert made.status_code == 200
    secret = re.search(r"<code class=\"secret\">(syn_[^<]+)</code>", made.text)[1]
    api = Api(flask.test_client(), secret)
    assert api.get("/stats").status_code == 200
    assert api.get("/subscribers").status_code == 403
    listed = owner.get("/admin/api-tokens")
    assert "cms" in listed.text and secret not in listed.text  # shown once
    owner.post("/admin/api-tokens/revoke", {"csrf": token, "name": "cms"})
    assert api.get("/stats").status_code == 401
    editor = browser(flask, app, make_operator(app, "ed@example.org", "editor"))
    assert editor.get("/admin/api-tokens").status_code == 403
    edit_token = editor.csrf()
    refused = editor.post(
        "/admin/api-tokens", {"csrf": edit_token, "name": "x", "scope": ["stats:read"]}
    )
    assert refused.status_code == 403


def test_webhooks_page_shows_attempts_and_editors_replay(app: App, flask: Flask) -> None:
    with transaction(app.engine) as conn:
        subs.add(conn, "a@example.org", digests=[], now=MONDAY)
    assert drain.drain_once(app)["pending"] == 1
    viewer = browser(flask, app, make_operator(app, "v@example.org", "viewer"))
    page = viewer.get("/admin/webhooks")
    assert page.status_code == 200
    assert "http://127.0.0.1:9/hook" in page.text and "subscriber.confirmed" in page.text
    assert "Replay backlog" not in page.text
    token = viewer.csrf("/admin/webhooks")
    assert (
        viewer.post(
            "/admin/webhooks/replay", {"csrf": token, "url": "http://127.0.0.1:9/hook"}
        ).status_code
        == 403
    )
    editor = browser(flask, app, make_operator(app, "e@example.org", "editor"))
    token = editor.csrf("/admin/webhooks")
    replayed = editor.post(
        "/admin/webhooks/replay", {"csrf": token, "url": "http://127.0.0.1:9/hook"}
    )
    assert replayed.status_code == 200 and "enabled again" in replayed.text
    other = editor.post("/admin/webhooks/replay", {"csrf": token, "url": "http://evil.example/"})
    assert other.status_code == 400

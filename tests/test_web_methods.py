"""Only an explicit POST changes anything, on every route.

Flask routes HEAD (and OPTIONS) to a GET view, so a view that asks "is this a GET?"
treats HEAD as a POST: a HEAD with the one-click body used to unsubscribe.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from syndicate.core.db import transaction
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from syndicate.web import create_app
from syndicate.web.app import ROUTES
from tests.support import T0
from tests.test_web import DIGESTS, maildir_messages

NOT_POST = ["HEAD", "GET", "OPTIONS", "PUT", "PATCH", "DELETE"]


@pytest.fixture
def config_extra() -> str:
    return DIGESTS


@pytest.fixture
def web(app: App) -> Flask:
    return create_app(app)


def _token(web: Flask, purpose: str, subject: int) -> str:
    return web.extensions["syndicate"].signer.make(purpose, subject, T0 + timedelta(days=5))


def _add(app: App, status: str) -> int:
    with transaction(app.engine) as conn:
        if status == "active":
            subscriber, _ = subs.add(conn, "ann@example.org", digests=["weekly"], now=T0)
        else:
            subscriber, _ = subs.request(
                conn, "ann@example.org", name="", digests=["weekly"], now=T0
            )
    return subscriber.id


def _state(app: App) -> tuple:
    with app.engine.connect() as conn:
        people = [
            (s.email, s.status, s.digests, s.timezone, s.name) for s in subs.list_subscribers(conn)
        ]
    return people, len(maildir_messages(app))


def _subscribe(web: Flask, app: App) -> tuple[str, dict]:
    return "/subscribe", {"email": "ann@example.org", "digest": ["weekly"]}


def _confirm(web: Flask, app: App) -> tuple[str, dict]:
    return f"/confirm/{_token(web, 'confirm', _add(app, 'pending'))}", {}


def _unsubscribe(web: Flask, app: App) -> tuple[str, dict]:
    url = f"/unsubscribe/{_token(web, 'unsubscribe', _add(app, 'active'))}"
    return url, {"List-Unsubscribe": "One-Click"}


def _preferences(web: Flask, app: App) -> tuple[str, dict]:
    url = f"/preferences/{_token(web, 'preferences', _add(app, 'active'))}"
    page = web.test_client().get(url).get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page)[1]
    return url, {"csrf": csrf, "digest": ["daily"], "timezone": "Asia/Tokyo", "name": "Zed"}


# Every route that accepts POST, with a body that changes something when POSTed.
CHANGING: dict[str, Callable[[Flask, App], tuple[str, dict]]] = {
    "subscribe": _subscribe,
    "confirm": _confirm,
    "unsubscribe": _unsubscribe,
    "preferences": _preferences,
}


def test_every_post_route_is_covered() -> None:
    """A new route that accepts POST must be added to CHANGING (and so to this test)."""
    posting = {r.endpoint for r in ROUTES if "POST" in r.methods and r.endpoint != "webhook"}
    assert posting == set(CHANGING)


@pytest.mark.parametrize("method", NOT_POST)
@pytest.mark.parametrize("endpoint", sorted(CHANGING))
def test_only_post_changes_anything(web: Flask, app: App, endpoint: str, method: str) -> None:
    url, form = CHANGING[endpoint](web, app)
    before = _state(app)
    client: FlaskClient = web.test_client()
    answer = client.open(url, method=method, data=form)
    assert answer.status_code in (200, 405)
    assert _state(app) == before
    # and the same body POSTed does change it: the case is a real one
    client.post(url, data=form, headers={"Origin": "https://news.example.org"})
    assert _state(app) != before


@pytest.mark.parametrize("method", NOT_POST)
def test_webhooks_take_only_post(web: Flask, method: str) -> None:
    for provider in ("mailgun", "sendgrid", "postmark", "ses"):
        answer = web.test_client().open(f"/webhooks/{provider}", method=method, data="{}")
        assert answer.status_code in (200, 405)
        assert method == "OPTIONS" or answer.status_code == 405

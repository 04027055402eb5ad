"""Non-ASCII and malformed input on the reader's pages: a 4xx and one log line, never a 500.

``hmac.compare_digest`` raises TypeError for non-ASCII ``str``; a time zone name reaches
the file system through ``ZoneInfo``. Each used to give a 500 with a traceback.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from syndicate.core.db import transaction
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from tests.support import T0
from tests.test_web import DIGESTS


@pytest.fixture
def config_extra() -> str:
    return DIGESTS


@pytest.fixture
def web(app: App) -> Flask:
    from syndicate.web import create_app

    return create_app(app)


@pytest.fixture
def client(web: Flask) -> FlaskClient:
    return web.test_client()


def _subscriber(app: App) -> int:
    with transaction(app.engine) as conn:
        subscriber, _ = subs.add(conn, "ann@example.org", name="Ann", digests=["weekly"], now=T0)
    return subscriber.id


def _token(web: Flask, purpose: str, subject: int) -> str:
    return web.extensions["syndicate"].signer.make(purpose, subject, T0 + timedelta(days=5))


def assert_clean(caplog: pytest.LogCaptureFixture) -> None:
    """Bad input is the visitor's problem: nothing at ERROR, no traceback."""
    for record in caplog.records:
        assert record.levelno < logging.ERROR, record.getMessage()
        assert record.exc_info is None, record.getMessage()


@pytest.mark.parametrize("purpose", ["confirm", "unsubscribe", "preferences"])
@pytest.mark.parametrize("mac", ["é" * 32, "ü", "\u202e" * 10, "𝔸" * 32])
def test_non_ascii_token_is_a_400(
    client: FlaskClient,
    web: Flask,
    app: App,
    caplog: pytest.LogCaptureFixture,
    purpose: str,
    mac: str,
) -> None:
    subscriber_id = _subscriber(app)
    payload = _token(web, purpose, subscriber_id).partition(".")[0]
    for method in (client.get, client.post):
        answer = method(f"/{purpose}/{payload}.{mac}", data={"List-Unsubscribe": "One-Click"})
        assert answer.status_code == 400
    with app.engine.connect() as conn:
        assert subs.get(conn, subscriber_id).status == "active"
    assert_clean(caplog)


@pytest.mark.parametrize("csrf", ["é" * 32, "\u0000" * 32, "Ω"])
def test_non_ascii_csrf_is_a_403(
    client: FlaskClient, web: Flask, app: App, caplog: pytest.LogCaptureFixture, csrf: str
) -> None:
    subscriber_id = _subscriber(app)
    url = f"/preferences/{_token(web, 'preferences', subscriber_id)}"
    answer = client.post(url, data={"digest": ["daily"], "csrf": csrf})
    assert answer.status_code == 403
    with app.engine.connect() as conn:
        assert subs.get(conn, subscriber_id).digests == ("weekly",)
    assert_clean(caplog)


@pytest.mark.parametrize(
    "zone",
    [
        "A" * 300,
        "Europe/" + "x" * 5000,
        "../../../../etc/passwd",
        "/etc/localtime",
        "Europe",
        "Europe/",
        "Eur\u00f6pe/Kyiv",
        "UTC\u0000",
        "posixrules/../UTC",
    ],
)
def test_weird_time_zones_are_a_400(
    client: FlaskClient, web: Flask, app: App, caplog: pytest.LogCaptureFixture, zone: str
) -> None:
    subscriber_id = _subscriber(app)
    url = f"/preferences/{_token(web, 'preferences', subscriber_id)}"
    page = client.get(url).get_data(as_text=True)
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    answer = client.post(url, data={"digest": ["daily"], "timezone": zone, "csrf": csrf})
    assert answer.status_code == 400
    with app.engine.connect() as conn:
        after = subs.get(conn, subscriber_id)
    assert after.digests == ("weekly",) and after.timezone is None
    assert_clean(caplog)


def test_an_unexpected_error_is_one_log_line(
    client: FlaskClient, app: App, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    """The last guard: a bug answers 500 with one ERROR line and no traceback in the log."""
    from syndicate.web import metrics

    def broken(_registry):
        raise RuntimeError("boom")

    monkeypatch.setattr(metrics, "generate_latest", broken)
    answer = client.get("/metrics")
    assert answer.status_code == 500 and "boom" not in answer.get_data(as_text=True)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "web request GET /metrics failed: RuntimeError: boom"
    ]
    assert all(r.exc_info is None for r in errors)

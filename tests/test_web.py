"""The reader's pages through Flask's test client: opt-in, one-click, preferences, hostile input."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email import policy

import pytest
from flask import Flask
from flask.testing import FlaskClient

from syndicate.core.clock import FixedClock
from syndicate.core.db import transaction
from syndicate.core.render import packaged_templates_dir
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from syndicate.web import create_app
from tests.support import T0

DIGESTS = """
[[digests]]
name = "weekly"
title = "Weekly"
description = "Every Monday."
schedule = "0 8 * * MON"

[[digests]]
name = "daily"
title = "Daily"
schedule = "0 7 * * *"
"""


@pytest.fixture
def config_extra() -> str:
    return DIGESTS


@pytest.fixture
def web(app: App) -> Flask:
    return create_app(app)


@pytest.fixture
def client(web: Flask) -> FlaskClient:
    return web.test_client()


def signer(web: Flask):
    return web.extensions["syndicate"].signer


def token(web: Flask, purpose: str, subject: int, days: int = 5) -> str:
    return signer(web).make(purpose, subject, T0 + timedelta(days=days))


def maildir_messages(app: App) -> list[email.message.EmailMessage]:
    folder = app.settings.resolve(app.settings.mail.maildir) / "new"
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def confirm_link(message: email.message.EmailMessage) -> str:
    text = message.get_body(("plain",)).get_content()
    match = re.search(r"https://news\.example\.org(/confirm/[A-Za-z0-9_.-]+)", text)
    assert match, text
    return match[1]


def add_active(app: App, address: str = "ann@example.org") -> int:
    with transaction(app.engine) as conn:
        subscriber, _ = subs.add(conn, address, name="Ann", digests=["weekly"], now=T0)
    return subscriber.id


def status_of(app: App, subscriber_id: int) -> str:
    with app.engine.connect() as conn:
        found = subs.get(conn, subscriber_id)
    return found.status if found else "gone"


# -- subscribe ----------------------------------------------------------------------------


def test_form_is_labelled_and_lists_the_digests(client: FlaskClient) -> None:
    page = client.get("/subscribe")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<label for="email">' in html and 'id="email"' in html
    assert 'value="weekly"' in html and 'value="daily"' in html and "Every Monday." in html
    assert 'name="website"' in html  # the honeypot
    csp = page.headers["Content-Security-Policy"]
    assert (
        "frame-ancestors 'none'" in csp and "script-src" not in csp and "default-src 'none'" in csp
    )
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_subscribe_sends_one_confirmation_and_answers_alike_for_everyone(
    client: FlaskClient, app: App
) -> None:
    form = {"email": "new@example.org", "name": "New", "digest": ["weekly"]}
    first = client.post("/subscribe", data=form)
    assert first.status_code == 200 and "Check your inbox" in first.get_data(as_text=True)
    [message] = maildir_messages(app)
    assert message["To"].addresses[0].addr_spec == "new@example.org"
    assert "List-Unsubscribe" not in message  # transactional: not on a list yet
    assert client.get(confirm_link(message)).status_code == 200
    with app.engine.connect() as conn:
        assert subs.find(conn, "new@example.org").status == "pending"  # GET changed nothing
    add_active(app, "old@example.org")
    answers = {
        client.post("/subscribe", data=form | {"email": address}).get_data(as_text=True)
        for address in ("new@example.org", "old@example.org", "other@example.org")
    }
    assert len(answers) == 1  # pending, active and new get the same page
    sent_to = [m["To"].addresses[0].addr_spec for m in maildir_messages(app)]
    assert "old@example.org" not in sent_to


def test_confirm_needs_a_post_and_then_is_idempotent(client: FlaskClient, app: App) -> None:
    client.post("/subscribe", data={"email": "cy@example.org", "digest": "daily"})
    link = confirm_link(maildir_messages(app)[0])
    page = client.get(link)
    assert 'method="post"' in page.get_data(as_text=True)
    with app.engine.connect() as conn:
        subscriber_id = subs.find(conn, "cy@example.org").id
    assert status_of(app, subscriber_id) == "pending"
    done = client.post(link)
    assert done.status_code == 200 and "You are subscribed" in done.get_data(as_text=True)
    assert status_of(app, subscriber_id) == "active"
    assert client.post(link).status_code == 200  # a second click is harmless
    with transaction(app.engine) as conn:
        subs.unsubscribe(conn, subscriber_id, T0)
    reused = client.post(link)
    assert reused.status_code == 400 and status_of(app, subscriber_id) == "unsubscribed"


def test_honeypot_and_invalid_address(client: FlaskClient, app: App) -> None:
    bot = client.post("/subscribe", data={"email": "bot@example.org", "website": "http://x"})
    assert bot.status_code == 200 and "Check your inbox" in bot.get_data(as_text=True)
    bad = client.post("/subscribe", data={"email": "not an address", "digest": "weekly"})
    assert bad.status_code == 400 and "valid email address" in bad.get_data(as_text=True)
    none = client.post("/subscribe", data={"email": "a@example.org"})
    assert none.status_code == 400 and "at least one" in none.get_data(as_text=True)
    with app.engine.connect() as conn:
        assert subs.list_subscribers(conn) == []
    assert maildir_messages(app) == []


def test_rate_limit_per_ip(client: FlaskClient, app: App, clock: FixedClock) -> None:
    limit = app.settings.web.subscribe_per_hour
    form = {"email": "x@example.org", "website": "bot"}
    codes = [client.post("/subscribe", data=form).status_code for _ in range(limit + 1)]
    assert codes == [200] * limit + [429]
    other = client.post("/subscribe", data=form, environ_base={"REMOTE_ADDR": "127.0.0.9"})
    assert other.status_code == 200
    clock.advance(hours=1)
    assert client.post("/subscribe", data=form).status_code == 200


def test_behind_a_proxy_the_limit_applies_to_the_forwarded_client(app: App) -> None:
    settings = app.settings.model_copy(
        update={"web": app.settings.web.model_copy(update={"proxies": 1})}
    )
    proxied = create_app(App(settings, clock=app.clock, _engine=app.engine)).test_client()
    form = {"email": "x@example.org", "website": "bot"}
    limit = settings.web.subscribe_per_hour
    for _ in range(limit):
        assert (
            proxied.post(
                "/subscribe", data=form, headers={"X-Forwarded-For": "203.0.113.7"}
            ).status_code
            == 200
        )
    assert (
        proxied.post(
            "/subscribe", data=form, headers={"X-Forwarded-For": "203.0.113.7"}
        ).status_code
        == 429
    )
    # every reader reaches the app from the proxy's address, yet each has their own limit
    assert (
        proxied.post(
            "/subscribe", data=form, headers={"X-Forwarded-For": "198.51.100.2"}
        ).status_code
        == 200
    )


def test_hostile_fields_are_bounded_escaped_and_stripped(client: FlaskClient, app: App) -> None:
    script = "<script>alert(1)</script>"
    page = client.post("/subscribe", data={"email": "bad" + script, "name": script})
    html = page.get_data(as_text=True)
    assert script not in html and "&lt;script&gt;" in html
    long = client.post("/subscribe", data={"email": "a" * 100_000 + "@example.org"})
    assert long.status_code == 400
    client.post(
        "/subscribe",
        data={"email": "eve@example.org", "name": "Eve\r\nBcc: all@example.org", "digest": "daily"},
    )
    [message] = maildir_messages(app)
    assert message["Bcc"] is None
    with app.engine.connect() as conn:
        assert subs.find(conn, "eve@example.org").name == "Eve Bcc: all@example.org"
    crlf = client.post("/subscribe", data={"email": "x@example.org\r\nBcc: y@example.org"})
    assert crlf.status_code == 400


# -- one-click unsubscribe ------------------------------------------------------------------


def test_get_never_unsubscribes(client: FlaskClient, web: Flask, app: App) -> None:
    subscriber_id = add_active(app)
    page = client.get(f"/unsubscribe/{token(web, 'unsubscribe', subscriber_id)}")
    assert page.status_code == 200 and 'value="One-Click"' in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert status_of(app, subscriber_id) == "active"


@pytest.mark.parametrize("encoding", ["form", "multipart"])
def test_one_click_post(client: FlaskClient, web: Flask, app: App, encoding: str) -> None:
    subscriber_id = add_active(app)
    url = f"/unsubscribe/{token(web, 'unsubscribe', subscriber_id)}"
    kwargs = (
        {"data": "List-Unsubscribe=One-Click", "content_type": "application/x-www-form-urlencoded"}
        if encoding == "form"
        else {"data": {"List-Unsubscribe": "One-Click"}, "content_type": "multipart/form-data"}
    )
    client._cookies.clear()  # type: ignore[attr-defined]
    for _ in range(2):  # repeating it is harmless
        response = client.post(url, **kwargs)
        assert response.status_code == 200 and "Location" not in response.headers
        assert "Set-Cookie" not in response.headers
        assert status_of(app, subscriber_id) == "unsubscribed"


def test_forged_expired_and_misused_tokens(
    client: FlaskClient, web: Flask, app: App, clock: FixedClock
) -> None:
    ann, bob = add_active(app), add_active(app, "bob@example.org")
    good = token(web, "unsubscribe", ann)
    payload, _, mac = good.partition(".")
    bob_payload = token(web, "unsubscribe", bob).partition(".")[0]
    for bad in (
        f"{bob_payload}.{mac}",  # one subscriber's signature on another's id
        f"{payload}.{'A' * len(mac)}",
        token(web, "confirm", ann),  # right key, wrong purpose
        "x" * 5000,
        "%00",
    ):
        response = client.post(f"/unsubscribe/{bad}", data={"List-Unsubscribe": "One-Click"})
        assert response.status_code in (400, 404)
    clock.advance(days=6)
    expired = client.post(f"/unsubscribe/{good}", data={"List-Unsubscribe": "One-Click"})
    assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)
    assert status_of(app, ann) == status_of(app, bob) == "active"


# -- preferences ----------------------------------------------------------------------------


def test_preferences_change_only_with_a_valid_same_origin_post(
    client: FlaskClient, web: Flask, app: App
) -> None:
    subscriber_id = add_active(app)
    url = f"/preferences/{token(web, 'preferences', subscriber_id)}"
    page = client.get(url).get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page)[1]
    assert 'value="weekly" checked' in page and "Europe/Kyiv" in page
    form = {"digest": ["daily"], "timezone": "Asia/Tokyo", "name": "Ann B", "csrf": csrf}
    assert client.post(url, data=form | {"csrf": "0" * 32}).status_code == 403
    foreign = client.post(url, data=form, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    cross = client.post(url, data=form, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    with app.engine.connect() as conn:
        assert subs.get(conn, subscriber_id).digests == ("weekly",)
    saved = client.post(url, data=form, headers={"Origin": "https://news.example.org"})
    assert saved.status_code == 200 and "saved" in saved.get_data(as_text=True)
    with app.engine.connect() as conn:
        after = subs.get(conn, subscriber_id)
    assert (after.digests, after.timezone, after.name) == (("daily",), "Asia/Tokyo", "Ann B")
    bad_zone = client.post(url, data=form | {"timezone": "Mars/Olympus"})
    assert bad_zone.status_code == 400


def test_script_in_a_name_is_shown_as_text(client: FlaskClient, web: Flask, app: App) -> None:
    with transaction(app.engine) as conn:
        s, _ = subs.add(
            conn, "zed@example.org", name="<img src=x onerror=alert(1)>", digests=["weekly"], now=T0
        )
    page = client.get(f"/preferences/{token(web, 'preferences', s.id)}").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_unknown_routes_and_methods(client: FlaskClient) -> None:
    assert client.get("/nope").status_code == 404
    assert client.get("/webhooks/mailgun").status_code == 405
    assert client.post("/webhooks/unknown").status_code == 404
    assert client.get("/unsubscribe").status_code == 200  # the archive's generic link
    page = client.get("//evil.example/")
    assert "evil.example" not in page.headers.get("Location", "")


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_packaged_templates_exist() -> None:
    folder = packaged_templates_dir()  # what the wheel ships, or the checkout
    for name in (
        "web/base.html",
        "web/subscribe.html",
        "web/web.css",
        "email/confirm.html",
        "email/confirm.txt",
    ):
        assert (folder / name).is_file(), name

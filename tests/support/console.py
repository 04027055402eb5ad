"""Shared by the console tests: operators with passwords, a seeded store, logged-in clients."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from syndicate.core.db import transaction
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from syndicate.web.console import operators as ops
from syndicate.web.console import sessions
from tests.support import EXAMPLES

BASE = "https://news.example.org"
PASSWORD = "correct horse battery staple"
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # after the example articles
COOKIE = "__Host-syndicate-admin"  # base_url is https in the test config

DIGESTS = """
[[feeds]]
name = "all"
path = "all"

[[digests]]
name = "weekly"
title = "Test News weekly"
feed = "all"
schedule = "0 8 * * MON"
lookback = "60d"
"""


def make_operator(app: App, email: str, role: str, password: str = PASSWORD) -> ops.Operator:
    with transaction(app.engine) as conn:
        operator, _ = ops.add(conn, email, role=role, now=app.clock.now(), password=password)
    return operator


def session_cookie(app: App, operator: ops.Operator) -> str:
    """A live session straight from the store (no login, so no throttle in the way)."""
    with transaction(app.engine) as conn:
        return sessions.create(conn, operator.id, app.clock.now())


@dataclass
class Browser:
    """A test client on the public https URL, remembering its cookies."""

    client: FlaskClient

    def get(self, path: str, **kw) -> TestResponse:
        return self.client.get(path, base_url=BASE, **kw)

    def post(self, path: str, data: dict | None = None, **kw) -> TestResponse:
        return self.client.post(path, base_url=BASE, data=data or {}, **kw)

    def cookie(self, name: str) -> str | None:
        found = self.client.get_cookie(name, domain="news.example.org")
        return found.value if found else None

    def csrf(self, path: str = "/admin/account") -> str:
        page = self.get(path)
        assert page.status_code == 200, page.status_code
        return form_csrf(page.text)

    def login(self, email: str, password: str = PASSWORD, code: str = "") -> TestResponse:
        token = form_csrf(self.get("/admin/login").text)
        return self.post(
            "/admin/login",
            {"csrf": token, "email": email, "password": password, "code": code, "next": "/admin/"},
        )


def form_csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def browser(flask: Flask, app: App | None = None, operator: ops.Operator | None = None) -> Browser:
    client = Browser(flask.test_client())
    if operator is not None and app is not None:
        client.client.set_cookie(COOKIE, session_cookie(app, operator), domain="news.example.org")
    return client


def seed(app: App) -> dict[str, int]:
    """Articles, two subscribers, one edition sent to them: ids for the route walk."""
    from syndicate.delivery.drain import drain
    from syndicate.intake.importers.pipeline import import_paths
    from syndicate.service.jobs import send_digest

    assert not import_paths(app.engine, app.settings, clock=app.clock, paths=[EXAMPLES]).failed
    with transaction(app.engine) as conn:
        reader, _ = subs.add(conn, "reader@example.org", name="Rea Der", digests=["weekly"],
                             now=app.clock.now())  # fmt: skip
        subs.add(conn, "other@example.org", digests=["weekly"], now=app.clock.now())
    run = send_digest(app, "weekly")
    assert run.status == "composed"
    assert drain(app.engine, app.settings, clock=app.clock, mailer=app.mailer, once=True).sent == 2
    from sqlalchemy import select

    from syndicate.core.db import articles, editions

    with app.engine.connect() as conn:
        edition_id = conn.execute(select(editions.c.id)).scalar_one()
        article_id = conn.execute(select(articles.c.id).limit(1)).scalar_one()
    return {"subscriber_id": reader.id, "edition_id": edition_id, "article_id": article_id}

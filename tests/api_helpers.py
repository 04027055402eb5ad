"""Shared by the API tests: tokens straight from the store, an authorised client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from syndicate.core.db import transaction
from syndicate.service.context import App
from syndicate.web.api import tokens as apitokens

BASE = "https://news.example.org"
ALL_SCOPES = ",".join(apitokens.SCOPES)


def make_token(app: App, name: str = "crm", scopes: str = ALL_SCOPES) -> str:
    with transaction(app.engine) as conn:
        _, token = apitokens.create(conn, name, scopes, app.clock.now())
    return token


@dataclass
class Api:
    """A test client that sends one bearer token to /api/v1/."""

    client: FlaskClient
    token: str | None

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> TestResponse:
        headers = dict(kw.pop("headers", {}))
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        if body is not None and "data" not in kw:
            kw["json"] = body
        return self.client.open(
            "/api/v1" + path, method=method, base_url=BASE, headers=headers, **kw
        )

    def get(self, path: str, **kw: Any) -> TestResponse:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> TestResponse:
        return self.call("POST", path, body, **kw)

"""The HTTP API: tokens and scopes, subscribers, editions, stats, pagination,
idempotent POSTs, and problem details for every bad input."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from syndicate.cli import main
from syndicate.core.clock import FixedClock
from syndicate.core.db import api_tokens, audit_log, events, subscribers, transaction
from syndicate.service.context import App
from syndicate.web import create_app
from syndicate.web.api import tokens as apitokens
from tests.api_helpers import Api, make_token
from tests.support.console import DIGESTS, MONDAY

DAILY = '\n[[digests]]\nname = "daily"\ntitle = "Daily"\nfeed = "all"\nschedule = "0 7 * * *"\n'


@pytest.fixture
def config_extra() -> str:
    return DIGESTS + DAILY


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture
def flask(app: App, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("SYNDICATE_SECRET", "s" * 32)
    return create_app(app)


@pytest.fixture
def api(app: App, flask: Flask) -> Api:
    return Api(flask.test_client(), make_token(app))


def _cli(app: App, *args: str):
    return CliRunner().invoke(main, ["--config", app.settings.config_file, *args])


def _count(app: App, table) -> int:
    with app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _maildir_count(app: App) -> int:
    folder = app.settings.resolve(app.settings.mail.maildir) / "new"
    return len(list(folder.iterdir())) if folder.exists() else 0


# -- tokens -----------------------------------------------------------------------------


def test_cli_token_is_shown_once_stored_hashed_listed_with_last_use_and_revocable(
    app: App, flask: Flask
) -> None:
    made = _cli(app, "api-tokens", "create", "crm", "--scope", "subscribers:read", "--json")
    assert made.exit_code == 0, made.output
    token = json.loads(made.output)["token"]
    assert token.startswith("syn_")
    with app.engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash)).scalar_one()
    assert stored == apitokens.digest(token) and token not in stored
    listed = json.loads(_cli(app, "api-tokens", "list", "--json").output)
    assert listed[0]["last_used_at"] is None and "token" not in listed[0]
    client = Api(flask.test_client(), token)
    assert client.get("/subscribers").status_code == 200
    listed = json.loads(_cli(app, "api-tokens", "list", "--json").output)
    assert listed[0]["last_used_at"] == MONDAY.isoformat()
    assert _cli(app, "api-tokens", "revoke", "crm").exit_code == 0
    refused = client.get("/subscribers")
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
    bad = _cli(app, "api-tokens", "create", "x", "--scope", "subscribers:delete")
    assert bad.exit_code == 1 and "unknown scope 'subscribers:delete'" in bad.output


def test_every_route_needs_a_token_with_its_scope(app: App, flask: Flask) -> None:
    from syndicate.web.api import API_ROUTES

    client = flask.test_client()
    no_token = Api(client, None)
    wrong = {  # a token with another scope than the route's
        scope: Api(client, make_token(app, f"not-{other.replace(':', '-')}", other))
        for scope, other in (("editions:read", "feeds:read"), ("*", "editions:read"))
    }
    garbage = Api(client, "syn_aaaaaaaa_" + "b" * 43)
    for route in API_ROUTES:
        path = re.sub(r"\{\w+\}", "1", route.path)
        other = wrong.get(route.scope, wrong["*"])
        for caller, status in ((no_token, 401), (garbage, 401), (other, 403)):
            answer = caller.call(route.method, path, {} if route.body else None)
            assert answer.status_code == status, (route.operation, caller.token)
            assert answer.json["status"] == status
        if route.scope.endswith(":write"):  # reading never allows writing
            reader = Api(client, make_token(app, f"r-{route.operation}", route.scope[:-5] + "read"))
            assert reader.call(route.method, path, {}).status_code == 403


# -- subscribers ------------------------------------------------------------------------


def test_create_pending_sends_one_confirmation_and_records_the_event(app: App, api: Api) -> None:
    made = api.post("/subscribers", {"email": "reader@Example.ORG", "name": "Ann"})
    assert made.status_code == 201, made.json
    assert made.json["status"] == "pending" and made.json["digests"] == ["daily", "weekly"]
    assert _maildir_count(app) == 1
    again = api.post("/subscribers", {"email": "reader@example.org"})
    assert again.status_code == 200 and again.json["id"] == made.json["id"]
    assert _maildir_count(app) == 1  # at most one confirmation per ten minutes
    with app.engine.connect() as conn:
        kinds = conn.execute(select(events.c.type)).scalars().all()
    assert kinds == ["subscriber.created"]


def test_create_confirmed_needs_consent_and_is_audited(app: App, api: Api) -> None:
    missing = api.post("/subscribers", {"email": "a@example.org", "status": "confirmed"})
    assert missing.status_code == 422
    assert missing.json["errors"] == [
        {"pointer": "/consent", "detail": "say how this person agreed (required when confirmed)"}
    ]
    made = api.post(
        "/subscribers",
        {"email": "a@example.org", "status": "confirmed", "consent": "signed up at the fair",
         "digests": ["weekly"], "timezone": "Europe/Berlin"},
    )  # fmt: skip
    assert made.status_code == 201 and made.json["status"] == "active"
    assert made.json["timezone"] == "Europe/Berlin" and made.json["digests"] == ["weekly"]
    assert _maildir_count(app) == 0
    with app.engine.connect() as conn:
        entry = conn.execute(select(audit_log)).mappings().one()
        kinds = conn.execute(select(events.c.type).order_by(events.c.id)).scalars().all()
    assert entry["actor"] == "api:crm" and entry["after"]["consent"] == "signed up at the fair"
    assert kinds == ["subscriber.created", "subscriber.confirmed"]


def test_get_update_unsubscribe_suppress_erase(app: App, api: Api) -> None:
    sid = api.post(
        "/subscribers", {"email": "b@example.org", "status": "confirmed", "consent": "form"}
    ).json["id"]
    assert api.get(f"/subscribers/{sid}").json["email"] == "b@example.org"
    changed = api.call(
        "PATCH",
        f"/subscribers/{sid}",
        {"name": "Bo", "timezone": "Asia/Tokyo", "digests": ["daily"]},
    )
    assert changed.status_code == 200, changed.json
    assert (changed.json["name"], changed.json["timezone"], changed.json["digests"]) == (
        "Bo", "Asia/Tokyo", ["daily"],
    )  # fmt: skip
    assert api.call("PATCH", f"/subscribers/{sid}", {"timezone": None}).json["timezone"] is None
    gone = api.post(f"/subscribers/{sid}/unsubscribe")
    assert gone.status_code == 200 and gone.json["status"] == "unsubscribed"
    other = api.post(
        "/subscribers", {"email": "c@example.org", "status": "confirmed", "consent": "x"}
    )
    stopped = api.post(f"/subscribers/{other.json['id']}/suppress", {"reason": "asked by phone"})
    assert stopped.json["status"] == "unsubscribed"
    assert stopped.json["status_reason"].startswith("asked by phone")
    assert api.call("DELETE", f"/subscribers/{sid}").status_code == 204
    assert api.get(f"/subscribers/{sid}").status_code == 404
    with app.engine.connect() as conn:
        kinds = conn.execute(select(events.c.type).order_by(events.c.id)).scalars().all()
    assert kinds.count("subscriber.unsubscribed") == 2


def test_list_pages_through_every_subscriber_once_with_filters(app: App, api: Api) -> None:
    now = app.clock.now()
    with transaction(app.engine) as conn:
        for i in range(10_000):
            conn.execute(
                subscribers.insert().values(
                    email=f"r{i}@example.org", email_key=f"r{i}@example.org", name="",
                    status="active" if i % 4 else "pending", soft_bounces=0, created_at=now,
                )
            )  # fmt: skip
    seen: list[int] = []
    cursor = None
    for _ in range(30):
        page = api.get(
            "/subscribers", query_string={"limit": 500, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200
        seen += [item["id"] for item in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 10_000 and seen == sorted(seen, reverse=True)
    pending = api.get("/subscribers", query_string={"status": "pending", "limit": 500})
    assert {i["status"] for i in pending.json["items"]} == {"pending"}
    found = api.get("/subscribers", query_string={"q": "r9999@"})
    assert [i["email"] for i in found.json["items"]] == ["r9999@example.org"]


# -- idempotency ------------------------------------------------------------------------


def test_a_retried_post_with_the_same_key_creates_nothing_twice(app: App, api: Api) -> None:
    body = {"email": "d@example.org", "status": "confirmed", "consent": "form"}
    key = {"Idempotency-Key": "retry-1"}
    first = api.post("/subscribers", body, headers=key)
    second = api.post("/subscribers", body, headers=key)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json == second.json and second.headers["Idempotent-Replayed"] == "true"
    assert _count(app, subscribers) == 1
    other = api.post("/subscribers", {**body, "email": "e@example.org"}, headers=key)
    assert other.status_code == 422 and other.json["errors"][0]["header"] == "Idempotency-Key"
    assert _count(app, subscribers) == 1
    pending = {"email": "f@example.org"}
    for _ in range(3):
        api.post("/subscribers", pending, headers={"Idempotency-Key": "k2"})
    assert _maildir_count(app) == 1 and _count(app, subscribers) == 2


# -- hostile input ----------------------------------------------------------------------


HOSTILE = [
    ("POST", "/subscribers", {"data": b"{not json", "content_type": "application/json"}, 400, None),
    ("POST", "/subscribers", {"json": {"email": 5}}, 422, "/email"),
    ("POST", "/subscribers", {"json": {"email": "x@example.org", "admin": True}}, 422, "/admin"),
    ("POST", "/subscribers", {"json": {"email": "not an address"}}, 422, "/email"),
    (
        "POST",
        "/subscribers",
        {"json": {"email": "x@example.org", "name": "a\r\nBcc: v@x.org"}},
        422,
        "/name",
    ),
    ("POST", "/subscribers", {"json": {"email": "x@example.org", "name": "a" * 201}}, 422, "/name"),
    ("POST", "/subscribers", {"json": {"email": "x@example.org\r\nBcc: v@x.org"}}, 422, "/email"),
    (
        "POST",
        "/subscribers",
        {"json": {"email": "x@example.org", "digests": ["nope"]}},
        422,
        "/digests/0",
    ),
    (
        "POST",
        "/subscribers",
        {"json": {"email": "x@example.org", "timezone": "../../etc/passwd"}},
        422,
        "/timezone",
    ),
    (
        "POST",
        "/subscribers",
        {"json": {"email": "x@example.org", "status": "active"}},
        422,
        "/status",
    ),
    ("POST", "/subscribers", {"json": ["a list"]}, 422, "/"),
    (
        "POST",
        "/subscribers",
        {"data": b"email=x", "content_type": "application/x-www-form-urlencoded"},
        415,
        None,
    ),
    (
        "POST",
        "/subscribers",
        {"data": b"{" + b" " * (2 * 1024 * 1024) + b"}", "content_type": "application/json"},
        413,
        None,
    ),
    ("GET", "/subscribers", {"query_string": {"cursor": "bm90LWEtY3Vyc29y"}}, 422, "cursor"),
    ("GET", "/subscribers", {"query_string": {"cursor": "%%%"}}, 422, "cursor"),
    (
        "GET",
        "/subscribers",
        {"query_string": {"cursor": "ZTo1"}},
        422,
        "cursor",
    ),  # an editions cursor
    ("GET", "/subscribers", {"query_string": {"limit": "many"}}, 422, "limit"),
    ("GET", "/subscribers", {"query_string": {"limit": "100000"}}, 422, "limit"),
    ("GET", "/subscribers", {"query_string": {"status": "deleted"}}, 422, "status"),
    ("GET", "/subscribers", {"query_string": {"sort": "email"}}, 422, "sort"),
    ("GET", "/subscribers/99999999999999999999", {}, 404, None),
    ("GET", "/subscribers/abc", {}, 404, None),
    ("GET", "/subscribers/12345", {}, 404, None),
    ("PUT", "/subscribers", {}, 405, None),
    ("GET", "/nothing-here", {}, 404, None),
    (
        "POST",
        "/subscribers",
        {"json": {"email": "x@example.org"}, "headers": {"Idempotency-Key": "a\x7fb"}},
        400,
        None,
    ),
    ("GET", "/editions/1/message", {"query_string": {"subscriber_id": "-1"}}, 422, "subscriber_id"),
    ("GET", "/editions/77", {}, 404, None),
]


@pytest.mark.parametrize(("method", "path", "kw", "status", "field"), HOSTILE)
def test_hostile_input_gets_a_4xx_problem_naming_the_field(
    api: Api, method: str, path: str, kw: dict, status: int, field: str | None
) -> None:
    kw = dict(kw)
    if "json" in kw:
        kw["data"], kw["content_type"] = json.dumps(kw.pop("json")), "application/json"
    answer = api.call(method, path, **kw)
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    assert answer.mimetype == "application/problem+json"
    problem = answer.json
    assert problem["status"] == status and problem["title"] and problem["detail"]
    if field is not None:
        named = [e.get("pointer") or e.get("parameter") for e in problem["errors"]]
        assert field in named, problem


def test_rate_limit_per_token_answers_429_with_retry_after(
    app: App, flask: Flask, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    flask.extensions["syndicate_api_limiter"].limit = 3
    first = Api(flask.test_client(), make_token(app, "one"))
    second = Api(flask.test_client(), make_token(app, "two"))
    assert [first.get("/stats").status_code for _ in range(3)] == [200] * 3
    over = first.get("/stats")
    assert over.status_code == 429 and 1 <= int(over.headers["Retry-After"]) <= 60
    assert second.get("/stats").status_code == 200  # per token
    clock.advance(seconds=int(over.headers["Retry-After"]))
    assert first.get("/stats").status_code == 200

"""The OpenAPI 3.1 document is generated from the route table and its models: it is a
valid document, it lists exactly the routes the app serves, and what the handlers
answer matches the schemas it publishes (so neither can drift from the other)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from syndicate.core.clock import FixedClock
from syndicate.digest import latest_slot
from syndicate.intake.importers.pipeline import import_paths
from syndicate.service.context import App
from syndicate.service.jobs import send_digest
from syndicate.web import create_app
from tests.api_helpers import Api, make_token
from tests.support import EXAMPLES
from tests.support.console import DIGESTS, MONDAY


@pytest.fixture
def config_extra() -> str:
    return DIGESTS


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture
def flask(app: App, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("SYNDICATE_SECRET", "s" * 32)
    return create_app(app)


def _document(flask: Flask) -> dict:
    answer = flask.test_client().get("/api/v1/openapi.json", base_url="https://news.example.org")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    return answer.json


def test_the_document_is_valid_openapi_3_1(flask: Flask) -> None:
    document = _document(flask)
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_document_lists_exactly_the_served_routes(flask: Flask) -> None:
    served = {
        (re.sub(r"<(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in flask.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint not in ("api_openapi",)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path, method) for path, item in _document(flask)["paths"].items() for method in item
    }
    assert served == documented


def _check(document: dict, path: str, method: str, answer) -> None:
    """The answer's body validates against the schema the document gives its status."""
    responses = document["paths"][path][method]["responses"]
    assert str(answer.status_code) in responses, (path, answer.status_code)
    content = responses[str(answer.status_code)].get("content")
    if content is None:
        assert answer.get_data() == b""
        return
    [(media_type, spec)] = content.items()
    assert answer.mimetype == media_type
    schema = {"components": document["components"], **spec["schema"]}
    Draft202012Validator(schema).validate(answer.json)


def test_every_answer_matches_its_documented_schema(app: App, flask: Flask) -> None:
    assert not import_paths(app.engine, app.settings, clock=app.clock, paths=[EXAMPLES]).failed
    api = Api(flask.test_client(), make_token(app))
    created = api.post(
        "/subscribers", {"email": "a@example.org", "status": "confirmed", "consent": "form"}
    )
    settings = app.settings.digest("weekly")
    slot = latest_slot(settings, app.settings.digest_timezone(settings), MONDAY)
    send_digest(app, "weekly", slot=slot)
    sid = created.json["id"]
    edition = api.get("/editions").json["items"][0]["id"]
    calls = [
        ("post", "/subscribers", created),
        ("get", "/subscribers", api.get("/subscribers")),
        ("get", "/subscribers/{subscriber_id}", api.get(f"/subscribers/{sid}")),
        ("get", "/subscribers/{subscriber_id}", api.get("/subscribers/999")),
        ("patch", "/subscribers/{subscriber_id}", api.call("PATCH", f"/subscribers/{sid}", {"name": "A"})),
        ("patch", "/subscribers/{subscriber_id}", api.call("PATCH", f"/subscribers/{sid}", {"nome": "A"})),
        ("get", "/editions", api.get("/editions")),
        ("get", "/editions/{edition_id}", api.get(f"/editions/{edition}")),
        ("get", "/editions/{edition_id}/message", api.get(f"/editions/{edition}/message", query_string={"subscriber_id": sid})),
        ("get", "/stats", api.get("/stats")),
        ("post", "/subscribers/{subscriber_id}/suppress", api.post(f"/subscribers/{sid}/suppress")),
        ("post", "/subscribers/{subscriber_id}/unsubscribe", api.post(f"/subscribers/{sid}/unsubscribe", {"reason": "r"})),
        ("delete", "/subscribers/{subscriber_id}", api.call("DELETE", f"/subscribers/{sid}")),
    ]  # fmt: skip
    document = _document(flask)
    for method, path, answer in calls:
        _check(document, "/api/v1" + path, method, answer)
    detail = calls[7][2].json
    assert detail["stats"]["total"] == 1 and detail["stats"]["deliveries"] == {"queued": 1}
    message = calls[8][2].json
    assert message["subject"] and "preview-not-a-working-link" in message["html"]
    assert api.get("/stats").json["editions"][0]["id"] == edition

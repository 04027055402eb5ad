"""The API's articles (through the file importer), feeds and sources (pull now),
with a feed source on a loopback server; a failing source is announced as an event."""

from __future__ import annotations

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from syndicate.core.db import events
from syndicate.service.context import App
from syndicate.service.jobs import build_feeds
from syndicate.web import create_app
from tests.api_helpers import Api, make_token
from tests.support.sources import serve, server, source_config  # noqa: F401

MARKDOWN = """---
title: Hello from the CMS
date: 2026-11-20T10:00:00Z
tags: [cms]
---
Some **bold** words and <script>alert(1)</script> a script.
"""


@pytest.fixture
def config_extra(server: HTTPServer) -> str:  # noqa: F811
    serve(server, "/feed.xml", "wordpress-full.xml")
    server.expect_request("/broken.xml").respond_with_data("nope", status=500)
    return (
        '[[feeds]]\nname = "all"\npath = "all"\n\n'
        + source_config(server, "blog", "/feed.xml")
        + "\n"
        + source_config(server, "broken", "/broken.xml")
    )


@pytest.fixture
def api(app: App, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("SYNDICATE_SECRET", "s" * 32)
    flask: Flask = create_app(app)
    return Api(flask.test_client(), make_token(app))


def test_articles_are_written_through_the_importer_and_read_back(app: App, api: Api) -> None:
    body = {"format": "markdown", "name": "hello.md", "content": MARKDOWN}
    made = api.post("/articles", body)
    assert made.status_code == 201, made.json
    article = made.json["article"]
    assert made.json["outcome"] == "imported" and article["title"] == "Hello from the CMS"
    assert "<strong>bold</strong>" in article["content_html"]
    assert "<script>" not in article["content_html"]  # sanitised like a file
    again = api.post("/articles", body)
    assert again.status_code == 200 and again.json["outcome"] == "unchanged"
    changed = api.post("/articles", {**body, "content": MARKDOWN.replace("Some", "More")})
    assert changed.json["outcome"] == "updated"
    assert changed.json["article"]["uid"] == article["uid"]  # identity minted once
    listed = api.get("/articles", query_string={"tag": "cms"})
    assert [a["id"] for a in listed.json["items"]] == [article["id"]]
    assert api.get(f"/articles/{article['id']}").json["slug"] == article["slug"]
    html = api.post("/articles", {"format": "html", "name": "page.html",
                                  "content": "<html><head><title>A page</title></head>"
                                  "<body><article><h1>A page</h1><p>Text.</p></article></body></html>"})  # fmt: skip
    assert html.status_code == 201 and html.json["article"]["title"] == "A page"
    bad = api.post("/articles", {**body, "name": "../etc/passwd"})
    assert bad.status_code == 422 and bad.json["errors"][0]["pointer"] == "/name"
    empty = api.post("/articles", {"format": "markdown", "name": "e.md", "content": "---\n---\n"})
    assert empty.status_code == 422 and empty.json["errors"][0]["pointer"] == "/content"


def test_feeds_list_and_status(app: App, api: Api) -> None:
    api.post("/articles", {"format": "markdown", "name": "hello.md", "content": MARKDOWN})
    before = api.get("/feeds").json["items"][0]
    assert before["name"] == "all" and set(before["files"].values()) == {None}
    build_feeds(app.engine, app.settings, clock=app.clock)
    after = api.get("/feeds").json["items"][0]
    assert all(after["files"].values())
    status = api.get("/feeds/status")
    assert status.status_code == 200 and "pushes" in status.json


def test_sources_list_and_pull_now(app: App, api: Api) -> None:
    listed = api.get("/sources").json["items"]
    assert [(s["name"], s["state"]) for s in listed] == [("blog", None), ("broken", None)]
    pulled = api.post("/sources/blog/pull", headers={"Idempotency-Key": "pull-1"})
    assert pulled.status_code == 200, pulled.json
    assert pulled.json["status"] == "ok" and pulled.json["source"]["state"] == "ok"
    assert api.get("/articles").json["items"]
    failed = api.post("/sources/broken/pull")
    assert failed.json["status"] == "failed" and failed.json["source"]["state"] == "failed"
    api.post("/sources/broken/pull")  # still failing: announced once
    with app.engine.connect() as conn:
        announced = conn.execute(
            select(events.c.payload).where(events.c.type == "source.failed")
        ).all()
    assert [a.payload["data"]["source"] for a in announced] == ["broken"]
    assert api.post("/sources/nope/pull").status_code == 404

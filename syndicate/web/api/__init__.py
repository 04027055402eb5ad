"""The HTTP API under ``/api/v1/``: one table names, for every route, its method, its
scope, the models it validates with and the one it answers with. ``register`` wraps
each view in the guard (token, scope, rate limit, validation, idempotency) and the
OpenAPI document is generated from the same table (``openapi.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, request
from pydantic import BaseModel
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter

from syndicate.web.api import content, editions, subscribers
from syndicate.web.api.guard import MinuteLimiter, endpoint
from syndicate.web.api.models import (
    ArticleDetail,
    ArticlePage,
    ArticleQuery,
    ArticleWrite,
    ArticleWritten,
    EditionDetail,
    EditionPage,
    EditionQuery,
    FeedList,
    FeedStatus,
    MessageOut,
    MessageQuery,
    PullOut,
    Reason,
    SourceList,
    StatsOut,
    SubscriberCreate,
    SubscriberOut,
    SubscriberPage,
    SubscriberQuery,
    SubscriberUpdate,
)
from syndicate.web.api.problems import Problem

PREFIX = "/api/v1"


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str  # OpenAPI style: /subscribers/{subscriber_id}
    operation: str
    view: Callable[..., Any]
    scope: str
    summary: str
    response: type[BaseModel] | None  # None: 204 No Content
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    created: bool = False  # may also answer 201
    params: dict[str, str] = field(default_factory=dict)  # path parameter -> int | str


SUB = {"subscriber_id": "int"}
ED = {"edition_id": "int"}

API_ROUTES = (
    ApiRoute("GET", "/subscribers", "listSubscribers", subscribers.list_, "subscribers:read",
             "Subscribers, newest first, filtered, in cursor pages.", SubscriberPage,
             query=SubscriberQuery),
    ApiRoute("POST", "/subscribers", "createSubscriber", subscribers.create, "subscribers:write",
             "Add a reader: pending with a confirmation email, or confirmed with consent.",
             SubscriberOut, body=SubscriberCreate, created=True),
    ApiRoute("GET", "/subscribers/{subscriber_id}", "getSubscriber", subscribers.get,
             "subscribers:read", "One subscriber.", SubscriberOut, params=SUB),
    ApiRoute("PATCH", "/subscribers/{subscriber_id}", "updateSubscriber", subscribers.update,
             "subscribers:write", "Change name, time zone or digests.", SubscriberOut,
             body=SubscriberUpdate, params=SUB),
    ApiRoute("POST", "/subscribers/{subscriber_id}/unsubscribe", "unsubscribeSubscriber",
             subscribers.unsubscribe, "subscribers:write", "Unsubscribe (repeating is harmless).",
             SubscriberOut, body=Reason, params=SUB),
    ApiRoute("POST", "/subscribers/{subscriber_id}/suppress", "suppressSubscriber",
             subscribers.suppress, "subscribers:write", "Stop mailing, with a reason.",
             SubscriberOut, body=Reason, params=SUB),
    ApiRoute("DELETE", "/subscribers/{subscriber_id}", "eraseSubscriber", subscribers.erase,
             "subscribers:write", "Erase the person and their address in past deliveries.",
             None, status=204, params=SUB),
    ApiRoute("GET", "/editions", "listEditions", editions.list_, "editions:read",
             "Editions, newest first, in cursor pages.", EditionPage, query=EditionQuery),
    ApiRoute("GET", "/editions/{edition_id}", "getEdition", editions.get, "editions:read",
             "One edition with its delivery numbers.", EditionDetail, params=ED),
    ApiRoute("GET", "/editions/{edition_id}/message", "getEditionMessage", editions.message,
             "editions:read", "The rendered message for one subscriber (or a sample).",
             MessageOut, query=MessageQuery, params=ED),
    ApiRoute("GET", "/stats", "getStats", editions.dashboard, "stats:read",
             "The dashboard's numbers.", StatsOut),
    ApiRoute("GET", "/articles", "listArticles", content.list_articles, "articles:read",
             "Articles, newest stored first, in cursor pages.", ArticlePage, query=ArticleQuery),
    ApiRoute("POST", "/articles", "writeArticle", content.write_article, "articles:write",
             "Create or update (same name) an article from Markdown or HTML.", ArticleWritten,
             body=ArticleWrite, created=True),
    ApiRoute("GET", "/articles/{article_id}", "getArticle", content.get_article, "articles:read",
             "One article with its sanitised HTML.", ArticleDetail, params={"article_id": "int"}),
    ApiRoute("GET", "/feeds", "listFeeds", content.list_feeds, "feeds:read",
             "The configured feeds and their built files.", FeedList),
    ApiRoute("GET", "/feeds/status", "feedStatus", content.feed_status, "feeds:read",
             "The last feed build and the newest push to each host.", FeedStatus),
    ApiRoute("GET", "/sources", "listSources", content.list_sources, "sources:read",
             "The configured sources and their last pull.", SourceList),
    ApiRoute("POST", "/sources/{name}/pull", "pullSource", content.pull_source, "sources:write",
             "Pull one source now.", PullOut, params={"name": "str"}),
)  # fmt: skip


def flask_rule(path: str) -> str:
    return PREFIX + re.sub(r"\{(\w+)\}", r"<\1>", path)


def register(flask: Flask) -> None:
    """Every API route behind its guard, the OpenAPI document, and a problem+json 404
    for any other path under /api/."""
    from syndicate.web.api.openapi import document

    flask.extensions["syndicate_api_limiter"] = MinuteLimiter(
        flask.extensions["syndicate"].app.settings.api.rate_per_minute
    )
    methods: dict[str, list[str]] = {}
    for route in API_ROUTES:
        rule = flask_rule(route.path)
        methods.setdefault(rule, []).append(route.method)
        flask.add_url_rule(rule, f"api_{route.operation}", endpoint(route), methods=[route.method])
    text = json.dumps(document(), ensure_ascii=False, indent=1)

    def openapi() -> Response:
        response = Response(text, mimetype="application/json")
        response.headers["Cache-Control"] = "public, max-age=300"
        return response

    flask.add_url_rule(f"{PREFIX}/openapi.json", "api_openapi", openapi)
    flask.add_url_rule("/api/<path:rest>", "api_unknown", _unknown, methods=ALL_METHODS)


ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _unknown(rest: str) -> Response:
    """404, or 405 with Allow when the path exists for other methods."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = [m for m in ("GET", "POST", "PATCH", "DELETE") if _routes_to(adapter, m)]
    if allowed:
        return http_problem(405, f"use {', '.join(allowed)}", ", ".join(allowed))
    return Problem(404, "no such API resource").response(request.path)


def _routes_to(adapter: MapAdapter, method: str) -> bool:
    found: str  # an endpoint name: Flask's url_map maps rules to names
    try:
        found, _ = adapter.match(request.path, method=method)
    except HTTPException:
        return False
    return found != "api_unknown"


def http_problem(status: int, description: str, allow: str | None) -> Response:
    """The app's HTTP errors (405, 413, ...) on an /api/ path, as problem+json."""
    headers = {"Allow": allow} if allow else {}
    return Problem(status, description, headers=headers).response(request.path)

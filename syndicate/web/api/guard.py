"""Every API request passes here: bearer token, the route's scope, the per-token rate
limit, path/query/body validation with the route's models, ``Idempotency-Key`` on
POST, and the error edge (everything becomes problem+json; nothing becomes a traceback).
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, current_app, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from syndicate.core.db import transaction
from syndicate.core.errors import BadInput, SyndicateError
from syndicate.service.context import App
from syndicate.web.api import idempotency
from syndicate.web.api import tokens as apitokens
from syndicate.web.api.problems import Problem, from_validation
from syndicate.web.api.tokens import ApiToken
from syndicate.web.context import Web, web

log = logging.getLogger(__name__)

_BEARER = re.compile(r"Bearer ([\x21-\x7e]{1,200})", re.IGNORECASE)
_ID = re.compile(r"[0-9]{1,18}")


class MinuteLimiter:
    """At most ``limit`` requests per token per clock minute, in this process's memory;
    says how many seconds until the next minute (``Retry-After``)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[int, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def wait(self, token_id: int, now: datetime) -> int:
        """0 when allowed (and counted), else seconds to wait."""
        minute = math.floor(now.timestamp() / 60)
        with self._lock:
            if len(self._counts) > 10_000:
                self._counts.clear()
            seen_minute, count = self._counts.get(token_id, (minute, 0))
            if seen_minute != minute:
                count = 0
            if count >= self.limit:
                return max(1, math.ceil((minute + 1) * 60 - now.timestamp()))
            self._counts[token_id] = (minute, count + 1)
            return 0


@dataclass
class ApiCtx:
    web: Web
    token: ApiToken
    body: Any
    query: Any

    @property
    def now(self) -> datetime:
        return self.web.app.clock.now()

    @property
    def app(self) -> App:
        return self.web.app


@dataclass(frozen=True)
class Result:
    """A view's answer when it is not the route's usual status."""

    status: int
    model: BaseModel | None


def limiter() -> MinuteLimiter:
    found: MinuteLimiter = current_app.extensions["syndicate_api_limiter"]
    return found


def authenticate(w: Web) -> ApiToken:
    header = request.headers.get("Authorization", "")
    match = _BEARER.fullmatch(header.strip())
    challenge = {"WWW-Authenticate": 'Bearer realm="syndicate"'}
    if not match:
        raise Problem(401, "send `Authorization: Bearer TOKEN`", headers=challenge)
    with transaction(w.app.engine) as conn:
        token = apitokens.authenticate(conn, match[1], w.app.clock.now())
    if token is None:
        raise Problem(
            401,
            "the token is not valid (unknown or revoked)",
            headers=challenge
            | {"WWW-Authenticate": 'Bearer realm="syndicate", error="invalid_token"'},
        )
    return token


def _path_values(params: dict[str, str], given: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, kind in params.items():
        raw = given[name]
        if kind == "int":
            if not _ID.fullmatch(raw):
                raise Problem(404, f"no such resource: {name} must be a number")
            values[name] = int(raw)
        else:
            values[name] = raw
    return values


def _query(model: type[BaseModel] | None) -> Any:
    args = request.args
    if model is None:
        if args:
            raise from_validation(_unknown_params(list(args)), "query")
        return None
    repeated = [name for name in args if len(args.getlist(name)) > 1]
    if repeated:
        raise Problem(
            422,
            f"query {repeated[0]}: give it once",
            kind="invalid-input",
            errors=[{"parameter": repeated[0], "detail": "given more than once"}],
        )
    try:
        return model.model_validate(args.to_dict())
    except ValidationError as exc:
        raise from_validation(exc, "query") from None


def _unknown_params(names: list[str]) -> ValidationError:
    class NoParameters(BaseModel):
        model_config = {"extra": "forbid"}

    try:
        NoParameters.model_validate(dict.fromkeys(names, ""))
    except ValidationError as exc:
        return exc
    raise AssertionError


def read_body(w: Web) -> bytes:
    limit = w.app.settings.api.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise Problem(413, f"the body is over the limit of {limit:,} bytes")
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise Problem(413, f"the body is over the limit of {limit:,} bytes")
    return data


def _body(model: type[BaseModel] | None, data: bytes) -> Any:
    if model is None:
        return None
    if not data.strip():  # no body: the model's defaults (a required field is named)
        data = b"{}"
    elif request.mimetype != "application/json":
        raise Problem(415, "send the body as application/json")
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        raise from_validation(exc, "body") from None


def json_response(status: int, model: BaseModel | None) -> Response:
    if model is None:
        return Response(status=204)
    text = json.dumps(model.model_dump(mode="json"), ensure_ascii=False)
    response = Response(text, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def endpoint(route: Any) -> Callable[..., Response]:
    """The Flask view for one API route (``route`` is an ``ApiRoute``)."""

    def view(**given: str) -> Response:
        try:
            return _handle(route, given)
        except Problem as problem:
            return problem.response(request.path)
        except HTTPException as exc:  # 413 from the server's own limit, and the like
            return Problem(exc.code or 400, exc.description or "bad request").response(request.path)
        except BadInput as exc:
            return Problem(422, exc.message, kind="invalid-input").response(request.path)
        except SyndicateError as exc:
            log.error("API %s %s failed: %s", request.method, request.path[:200], exc.message)
            return Problem(503, "temporarily unavailable; try again later").response(request.path)
        except Exception as exc:
            log.error(
                "API %s %s failed: %s: %s",
                request.method,
                request.path[:200],
                type(exc).__name__,
                str(exc)[:300],
            )
            log.debug("traceback", exc_info=exc)
            return Problem(500, "something went wrong").response(request.path)

    view.__name__ = f"api_{route.operation}"
    return view


def _handle(route: Any, given: dict[str, str]) -> Response:
    w = web()
    token = authenticate(w)
    if route.scope not in token.scopes:
        raise Problem(403, f"this token lacks the scope {route.scope}", kind="missing-scope")
    wait = limiter().wait(token.id, w.app.clock.now())
    if wait:
        raise Problem(
            429,
            f"over {limiter().limit} requests a minute for this token",
            headers={"Retry-After": str(wait)},
        )
    path = _path_values(route.params, given)
    query = _query(route.query)
    data = read_body(w)
    body = _body(route.body, data)
    ctx = ApiCtx(w, token, body, query)

    def work() -> Response:
        result = route.view(ctx, **path)
        if isinstance(result, Result):
            return json_response(result.status, result.model)
        return json_response(route.status, result)

    key = request.headers.get(idempotency.HEADER)
    if request.method == "POST" and key is not None:
        hashed = idempotency.request_hash(request.method, request.path, request.query_string, data)
        return idempotency.run(
            w.app.engine, token.id, idempotency.valid_key(key), hashed, w.app.clock.now(), work
        )
    return work()

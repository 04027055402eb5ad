"""RFC 9457 problem details: every API error is ``application/problem+json`` with a
title, the status, a one-line detail and, for bad input, each wrong field as a JSON
Pointer (``/email``) or a query parameter name, so a client can show it beside the field.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from pydantic import ValidationError

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://syndicate.invalid/problems/"
_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Temporarily unavailable",
}


class Problem(Exception):
    """Raised anywhere in an API view; becomes the response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind or _TITLES.get(status, "error").lower().replace(" ", "-")
        self.errors = errors or []
        self.headers = headers or {}

    def body(self, instance: str) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": TYPE_BASE + self.kind,
            "title": _TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.errors:
            document["errors"] = self.errors
        return document

    def response(self, instance: str) -> Response:
        response = Response(
            json.dumps(self.body(instance), ensure_ascii=False),
            status=self.status,
            mimetype=MEDIA_TYPE,
        )
        response.headers.update(self.headers)
        response.headers["Cache-Control"] = "no-store"
        return response


def _pointer(loc: tuple[Any, ...]) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in loc)


def from_validation(error: ValidationError, where: str) -> Problem:
    """Pydantic's errors -> one Problem naming every wrong field.

    ``where`` is ``body`` (fields as JSON Pointers) or ``query`` (parameter names).
    Broken JSON is a 400; wrong fields are 422."""
    items = error.errors(include_url=False, include_input=False)
    if any(item["type"] == "json_invalid" for item in items):
        return Problem(400, "the request body is not valid JSON", kind="invalid-json")
    errors = []
    for item in items:
        loc = tuple(p for p in item["loc"] if not str(p).startswith("function-"))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        if where == "body":
            errors.append({"pointer": _pointer(loc), "detail": message})
        else:
            errors.append({"parameter": ".".join(map(str, loc)) or "?", "detail": message})
    first = errors[0]
    name = first.get("pointer") or first.get("parameter")
    return Problem(
        422,
        f"{where} {name}: {first['detail']}"
        + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
        kind="invalid-input",
        errors=errors,
    )


def field_problem(field: str | tuple[Any, ...], detail: str, status: int = 422) -> Problem:
    """One wrong body field found after validation (an unknown digest, a bad address);
    ``field`` is a name or a path (``("digests", 0)``)."""
    pointer = _pointer(field if isinstance(field, tuple) else (field,))
    return Problem(
        status,
        f"body {pointer}: {detail}",
        kind="invalid-input",
        errors=[{"pointer": pointer, "detail": detail}],
    )

"""The OpenAPI 3.1 document, generated from the route table and its pydantic models
(the ones the guard validates with): a route or a model cannot change without the
document changing with it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, JsonSchemaValue, models_json_schema

from syndicate import __version__
from syndicate.web.api import API_ROUTES, PREFIX
from syndicate.web.api.models import ProblemOut
from syndicate.web.api.tokens import SCOPES

REF = "#/components/schemas/{model}"
PROBLEM = {"$ref": "#/components/schemas/ProblemOut"}
_ERRORS = {
    "400": "Malformed request (bad JSON, bad header).",
    "401": "No token, or an unknown or revoked one.",
    "403": "The token lacks the route's scope.",
    "404": "No such resource.",
    "413": "The body is too large.",
    "422": "A field or parameter is wrong; `errors` names each.",
    "429": "Over the token's rate limit; see Retry-After.",
}


def _schemas() -> tuple[dict[tuple[Any, JsonSchemaMode], JsonSchemaValue], dict[str, Any]]:
    models: list[tuple[type[BaseModel], Any]] = [(ProblemOut, "serialization")]
    for route in API_ROUTES:
        if route.body is not None:
            models.append((route.body, "validation"))
        if route.response is not None:
            models.append((route.response, "serialization"))
    unique = list(dict.fromkeys(models))
    keys, top = models_json_schema(unique, ref_template=REF)
    defs: dict[str, Any] = top.get("$defs", {})
    return keys, defs


def _ref(
    keys: dict[tuple[Any, JsonSchemaMode], JsonSchemaValue],
    model: type[BaseModel],
    mode: JsonSchemaMode,
) -> dict[str, Any]:
    return keys[(model, mode)]


def _query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def document() -> dict[str, Any]:
    keys, schemas = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in API_ROUTES:
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1}
                if kind == "int"
                else {"type": "string"},
            }
            for name, kind in route.params.items()
        ] + _query_parameters(route.query)
        responses: dict[str, Any] = {}
        if route.response is None:
            responses[str(route.status)] = {"description": "Done."}
        else:
            content = {"application/json": {"schema": _ref(keys, route.response, "serialization")}}
            responses[str(route.status)] = {"description": "OK.", "content": content}
            if route.created:
                responses["201"] = {"description": "Created.", "content": content}
        for status, text in _ERRORS.items():
            responses[status] = {
                "description": text,
                "content": {"application/problem+json": {"schema": PROBLEM}},
            }
        operation: dict[str, Any] = {
            "operationId": route.operation,
            "summary": route.summary,
            "security": [{"bearer": [route.scope]}],
            "parameters": parameters,
            "responses": responses,
        }
        if route.method == "POST":
            operation["parameters"].append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "Retries with the same key and body get the first "
                    "response; never a second record.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                }
            )
        if route.body is not None:
            operation["requestBody"] = {
                "required": route.method != "POST" or "required" in route.body.model_json_schema(),
                "content": {"application/json": {"schema": _ref(keys, route.body, "validation")}},
            }
        paths.setdefault(PREFIX + route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "syndicate API",
            "version": __version__,
            "description": "Subscribers, editions and their numbers. Scopes: "
            + ", ".join(SCOPES)
            + ".",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token from `syndicate api-tokens create`.",
                }
            },
        },
    }

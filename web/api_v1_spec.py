"""/api/v1 described once: each endpoint is declared with its parameters, body, answer and errors; that one
declaration registers the Flask route, checks the scope, validates query strings and bodies (the one place that
does), and is what the OpenAPI 3.1 document (`openapi_document`) is generated from, so the two cannot drift.

Errors are always `{"error": {"code", "message", "field"?}}` with the status of `CODES`.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Blueprint, current_app, g, jsonify, request

from web.forms import clean, has_surrogate

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
         500: "server_error"}
DESCRIPTIONS = {400: "The request is malformed (not JSON, an unreadable parameter).",
                401: "No token, or not a live one (unknown, revoked, or its user deactivated).",
                403: "The token's scope does not allow this (a read token cannot write).",
                404: "No such ticket or article.", 409: "The ticket cannot change as asked from its current state.",
                413: "The body is too large.", 415: "The body is not sent as application/json.",
                422: "A field's value is missing or not allowed (`field` names it).",
                429: "Too many requests with this token; wait and try again."}
_PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def error(status: int, message: str, field_name: str | None = None):
    """The JSON error answer of /api/v1."""
    body: dict[str, Any] = {"code": CODES.get(status, "error"), "message": message}
    if field_name:
        body["field"] = field_name
    response = jsonify(error=body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="kb"'
    return response


class ApiError(Exception):
    """Raised by a view to answer with `error(status, message, field)`."""

    def __init__(self, status: int, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field_name


@dataclass(frozen=True)
class Param:
    """A path or query parameter, or a body field: a string (with `enum`, `max_length`) or an integer (with
    `minimum`, `maximum`)."""

    name: str
    description: str
    type: str = "string"
    required: bool = False
    enum: tuple[str, ...] = ()
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    default: Any = None

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.type, "description": self.description}
        for key, value in (("enum", list(self.enum) or None), ("maxLength", self.max_length),
                           ("minimum", self.minimum), ("maximum", self.maximum), ("default", self.default)):
            if value is not None:
                schema[key] = value
        if self.type == "string" and self.required:
            schema["minLength"] = 1
        return schema

    def check(self, value: Any, status: int) -> Any:
        """`value` as this parameter takes it (query strings are text: integers are parsed), or ApiError."""
        if self.type == "integer":
            if isinstance(value, str):
                value = int(value) if value.isdigit() and len(value) < 10 else None
            if not isinstance(value, int) or isinstance(value, bool):
                raise ApiError(status, f"{self.name}: must be a whole number", self.name)
            low = self.minimum if self.minimum is not None else value
            high = self.maximum if self.maximum is not None else value
            if not low <= value <= high:
                raise ApiError(status, f"{self.name}: must be from {self.minimum} to {self.maximum}", self.name)
            return value
        if not isinstance(value, str):
            raise ApiError(status, f"{self.name}: must be a string", self.name)
        if has_surrogate(value):
            raise ApiError(status, f"{self.name}: holds a lone surrogate (\\ud800-\\udfff), which is not text",
                           self.name)
        value = clean(value)
        if self.required and not value.strip():
            raise ApiError(status, f"{self.name}: must not be empty", self.name)
        if self.max_length is not None and len(value) > self.max_length:
            raise ApiError(status, f"{self.name}: at most {self.max_length} characters", self.name)
        if self.enum and value not in self.enum:
            raise ApiError(status, f"{self.name}: must be one of {', '.join(self.enum)}", self.name)
        return value


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # Flask's form, e.g. /tickets/<ref>
    name: str
    summary: str
    scope: str | None  # "read", "write", or None (no token needed)
    response: str  # a name in SCHEMAS
    status: int = 200
    path_params: tuple[Param, ...] = ()
    query: tuple[Param, ...] = ()
    body: tuple[Param, ...] = ()
    errors: tuple[int, ...] = ()

    def all_errors(self) -> list[int]:
        found = set(self.errors) | ({401, 429} if self.scope else set())
        if self.scope == "write":
            found |= {403}
        if self.body:
            found |= {400, 413, 415, 422}
        if self.query:
            found |= {400}
        return sorted(found)


@dataclass
class Api:
    """The endpoints of one blueprint as declared, in declaration order."""

    bp: Blueprint
    operations: list[Operation] = field(default_factory=list)

    def endpoint(self, method: str, path: str, summary: str, scope: str | None, response: str,
                 **options: Any) -> Callable:
        def register(view: Callable) -> Callable:
            operation = Operation(method, path, view.__name__, summary, scope, response, **options)
            self.operations.append(operation)

            @functools.wraps(view)
            def checked(**path_values: Any):
                try:
                    if operation.scope == "write" and not g.api_token.can_write:
                        raise ApiError(403, "this token may only read; a token with scope write can do this")
                    for param in operation.path_params:
                        path_values[param.name] = param.check(path_values[param.name], 404)
                    return view(**path_values, data=_input(operation))
                except ApiError as exc:
                    return error(exc.status, exc.message, exc.field)

            self.bp.add_url_rule(path, view.__name__, checked, methods=[method])
            return checked
        return register


def _input(operation: Operation) -> dict[str, Any]:
    """The validated query string (GET) or JSON body: every declared parameter, with its default when absent."""
    if operation.body:
        if not request.is_json:
            raise ApiError(415, "send the body as JSON (Content-Type: application/json)")
        try:
            raw = current_app.json.loads(request.get_data(cache=True))
        except RecursionError:
            raise ApiError(400, "body: the JSON nests too deeply", "body") from None
        except ValueError:
            raise ApiError(400, "body: not valid JSON", "body") from None
        if not isinstance(raw, dict):
            raise ApiError(400, "body: must be a JSON object", "body")
        params, status = operation.body, 422
    else:
        raw, params, status = request.args, operation.query, 400
    known = {p.name for p in params}
    unknown = sorted(k for k in raw if k not in known)
    if unknown:
        raise ApiError(status, f"{unknown[0][:64]}: not a parameter of this endpoint", unknown[0][:64])
    data: dict[str, Any] = {}
    for param in params:
        if raw.get(param.name) in (None, "") and not param.required:
            data[param.name] = param.default
        elif param.name not in raw:
            raise ApiError(status, f"{param.name}: required", param.name)
        else:
            data[param.name] = param.check(raw[param.name], status)
    return data


# --- the OpenAPI document ---------------------------------------------------------------------------------------

def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


_TEXT, _TIME, _NULL_TEXT = {"type": "string"}, {"type": "string", "format": "date-time"}, {"type": ["string", "null"]}
_PERSON = {"type": ["object", "null"], "properties": {"email": _TEXT, "name": _TEXT}}
SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": _object({"error": _object({"code": _TEXT, "message": _TEXT, "field": _TEXT}, ["code", "message"])}),
    "Event": _object({"id": {"type": "integer"}, "kind": _TEXT, "author_kind": _TEXT, "author": _PERSON,
                      "body": _TEXT, "status_from": _NULL_TEXT, "status_to": _NULL_TEXT, "created_at": _TIME}),
    "TicketSummary": _object({"ref": _TEXT, "subject": _TEXT, "status": _TEXT, "category": _TEXT,
                              "agent_group": _TEXT, "customer": _PERSON, "organisation": _NULL_TEXT,
                              "created_at": _TIME, "updated_at": _TIME, "last_customer_at": _TIME}),
    "Ticket": {"allOf": [_ref("TicketSummary"), _object({
        "description": _TEXT, "predicted_category": _TEXT, "status_label": _TEXT,
        "next_statuses": {"type": "array", "items": _TEXT}, "events": {"type": "array", "items": _ref("Event")}})]},
    "TicketPage": _object({"tickets": {"type": "array", "items": _ref("TicketSummary")},
                           "next_cursor": _NULL_TEXT}),
    "Reply": _object({"event": _ref("Event"), "ticket": _ref("Ticket")}),
    "ArticleSummary": _object({"id": _TEXT, "title": _TEXT, "category": _TEXT, "lang": _TEXT, "audience": _TEXT,
                               "description": _TEXT, "url": _NULL_TEXT}),
    "Article": {"allOf": [_ref("ArticleSummary"), _object({
        "tags": {"type": "array", "items": _TEXT}, "html": _TEXT, "markdown": _NULL_TEXT})]},
    "ArticlePage": _object({"articles": {"type": "array", "items": _ref("ArticleSummary")},
                            "page": {"type": "integer"}, "pages": {"type": "integer"}, "total": {"type": "integer"}}),
    "SearchResults": _object({"query": _TEXT, "corrected_query": _NULL_TEXT, "did_you_mean": _NULL_TEXT,
                              "category": _NULL_TEXT, "confidence": {"type": "number"},
                              "confident": {"type": "boolean"},
                              "results": {"type": "array", "items": _object(
                                  {"id": _TEXT, "title": _TEXT, "category": _TEXT, "score": {"type": "number"},
                                   "anchor": _TEXT, "lang": _TEXT}, ["id", "title", "score"])}},
                             ["query", "results"]),
    "OpenApi": {"type": "object"},
}


def openapi_path(path: str) -> str:
    """`/tickets/<ref>` as OpenAPI writes it: `/tickets/{ref}`."""
    return _PATH_PARAM.sub(r"{\1}", path)


def _operation_doc(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {"operationId": op.name, "summary": op.summary,
                           "parameters": [{"name": p.name, "in": "path", "required": True, "description": p.description,
                                           "schema": p.schema()} for p in op.path_params]
                           + [{"name": p.name, "in": "query", "required": p.required, "description": p.description,
                               "schema": p.schema()} for p in op.query]}
    doc["security"] = [{"bearer": [op.scope]}] if op.scope else []
    if op.scope == "write":
        doc["description"] = "Needs a token with scope `write`."
    if op.body:
        doc["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": False, "properties": {p.name: p.schema() for p in op.body},
            "required": [p.name for p in op.body if p.required]}}}}
    doc["responses"] = {str(op.status): {"description": "Success.", "content": {
        "application/json": {"schema": _ref(op.response)}}}}
    for status in op.all_errors():
        doc["responses"][str(status)] = {"description": DESCRIPTIONS.get(status, CODES[status]), "content": {
            "application/json": {"schema": _ref("Error")}}}
    return doc


def openapi_document(api: Api, prefix: str, version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in api.operations:
        paths.setdefault(prefix + openapi_path(op.path), {})[op.method.lower()] = _operation_doc(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "kb API", "version": version, "description": (
            "Tickets and articles for other channels (a chat widget, a phone system, scripts). Every call but this "
            "document needs `Authorization: Bearer <token>` (a personal API token: `kb token create`, or the "
            "account's API tokens page); cookies are ignored. Errors are JSON: {\"error\": {\"code\", \"message\", "
            "\"field\"}}.")},
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {
            "type": "http", "scheme": "bearer", "description": "A personal API token (kb_...)."}}},
    }

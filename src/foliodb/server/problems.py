"""One error shape everywhere: RFC 9457 problem details (application/problem+json).

`{type, title, status, detail, code, errors: [{field, message, value?, line?, expected?}]}`.
Every foliodb error, every request the schema refuses, unknown routes and methods, oversized
bodies and unexpected failures answer in this shape; an unexpected failure says only that it
happened (the traceback goes to the server log, never to the client).
"""

from __future__ import annotations

import http
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from foliodb import errors
from foliodb.services.bootstrap import DatabaseUnavailableError, SchemaNotCurrentError

log = logging.getLogger("foliodb.server")

MEDIA_TYPE = "application/problem+json"

#: Status and machine-readable code of each foliodb error, most specific class first.
ERROR_STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (errors.SealedPackError, 409, "sealed_pack"),
    (errors.LedgerError, 422, "ledger_refused"),
    (errors.InputError, 422, "invalid_input"),
    (errors.NotFoundError, 404, "not_found"),
    (errors.ConflictError, 409, "conflict"),
    (errors.AuthenticationError, 401, "unauthenticated"),
    (errors.PermissionDeniedError, 403, "forbidden"),
    (errors.RateLimitedError, 429, "rate_limited"),
    (errors.FxRateMissingError, 422, "fx_rate_missing"),
    (errors.PriceMissingError, 422, "price_missing"),
    (errors.StorageError, 503, "storage_unavailable"),
    (DatabaseUnavailableError, 503, "database_unavailable"),
    (SchemaNotCurrentError, 503, "schema_not_current"),
    (errors.FoliodbError, 400, "bad_request"),
)

#: Fields whose values an error never echoes.
SECRET_FIELDS = frozenset({"password", "refresh_token", "secret", "token"})

#: Codes of the HTTP errors the framework raises itself.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}


def problem(
    status: int,
    code: str,
    detail: str,
    problems: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The response of one problem."""
    body = {
        "type": f"urn:foliodb:problem:{code}",
        "title": http.HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": list(problems),
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _item(
    field: str | None,
    message: str,
    value: object = None,
    line: int | None = None,
    expected: str | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {"field": field, "message": message}
    if value is not None:
        item["value"] = value if isinstance(value, str | int | float | bool) else str(value)
    if line is not None:
        item["line"] = line
    if expected is not None:
        item["expected"] = expected
    return item


def status_of(exc: Exception) -> tuple[int, str]:
    for kind, status, code in ERROR_STATUS:
        if isinstance(exc, kind):
            return status, code
    return 500, "internal_error"


def foliodb_error(_request: Request, exc: Exception) -> JSONResponse:
    status, code = status_of(exc)
    items: list[dict[str, Any]] = []
    headers: dict[str, str] = {}
    detail = str(exc)
    if isinstance(exc, errors.InputError):
        items = [_item(p.field, p.message, p.value, p.line, p.expected) for p in exc.problems]
        count = len(exc.problems)
        detail = str(exc.problems[0]) if count == 1 else f"{count} problems in the input"
    if isinstance(exc, errors.AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="foliodb"'
    if isinstance(exc, errors.RateLimitedError):
        headers["Retry-After"] = str(max(1, int(exc.retry_after)))
    if status >= 500:
        log.warning("%s: %s", type(exc).__name__, exc)
        detail = {
            503: "the database is unavailable or busy; nothing was written, try again later",
        }.get(status, detail)
    return problem(status, code, detail, items, headers or None)


def _field(location: Sequence[int | str]) -> str:
    """`quantity` for ('body', 'quantity'), `limit` for ('query', 'limit')."""
    parts = [str(p) for p in location[1:]] or [str(p) for p in location]
    return ".".join(parts)


def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = []
    for error in exc.errors():
        location = error.get("loc", ())
        value = error.get("input")
        secret = any(str(part) in SECRET_FIELDS for part in location)
        shown = value if isinstance(value, str | int | float | bool) and not secret else None
        if isinstance(shown, str) and len(shown) > 100:
            shown = shown[:100] + "..."
        items.append(
            _item(_field(error.get("loc", ())), str(error.get("msg", "is not valid")), shown)
        )
    count = len(items)
    detail = (
        f"{items[0]['field']}: {items[0]['message']}"
        if count == 1
        else f"{count} problems in the request"
    )
    return problem(422, "invalid_input", detail, items)


def http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = HTTP_CODES.get(status, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else http.HTTPStatus(status).phrase
    if status == 404 and detail == "Not Found":
        detail = "no such route"
    return problem(status, code, detail, headers=dict(exc.headers or {}))


def internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "internal_error", "an unexpected error occurred; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.FoliodbError, foliodb_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, internal_error)

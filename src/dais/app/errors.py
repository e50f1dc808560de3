"""One place that turns errors into ``application/problem+json`` replies."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dais.app.spa import SPA_ROUTE_NAME
from dais.core.errors import (
    DaisError,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
)
from dais.core.logging import request_id_var

log = logging.getLogger("dais.api")

PROBLEM = "application/problem+json"


def problem_response(
    error: DaisError, request: Request | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = error.to_problem(instance=request.url.path if request else None, request_id=request_id_var.get())
    extra = {**error.headers, **(headers or {})}
    if isinstance(error, Unauthenticated):
        extra.setdefault("WWW-Authenticate", 'Bearer realm="dais", Basic realm="dais"')
    return JSONResponse(body, status_code=error.status, media_type=PROBLEM, headers=extra)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        out.append(
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
        )
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DaisError)
    async def _dais(request: Request, exc: DaisError) -> JSONResponse:
        if exc.status >= 500:
            log.error("request failed: %s", exc.detail, extra={"code": exc.code})
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        fields = ", ".join(".".join(e["loc"][1:] or e["loc"]) for e in errors[:5])
        detail = f"The request is not valid: check {fields}." if fields else "The request is not valid."
        if any(e["type"] == "json_invalid" for e in errors):
            detail = "The request body is not valid JSON."
        return problem_response(InvalidInput(detail, errors=errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        error: DaisError
        if exc.status_code == 404 or (exc.status_code == 405 and _only_the_web_ui_matched(request)):
            error = NotFound(f"No such resource: {request.method} {request.url.path}")
            headers.pop("Allow", None)
        elif exc.status_code == 413:
            error = PayloadTooLarge(str(exc.detail))
        elif exc.status_code == 405:
            error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}.")
        else:
            error = DaisError(str(exc.detail))
            error.status = exc.status_code  # type: ignore[misc]
        return problem_response(error, request, headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(internal_error(), request)


def internal_error() -> DaisError:
    """What a caller is told about a bug: nothing of its internals, and where to look."""
    return DaisError(
        "Something went wrong on the server. The request id in this reply locates the details in the "
        "server log."
    )


def _only_the_web_ui_matched(request: Request) -> bool:
    """A 405 from the web UI's catch-all GET route means that no API route has this path."""
    return getattr(request.scope.get("route"), "name", None) == SPA_ROUTE_NAME

"""The one place the SDK speaks HTTP: route templates, URLs, auth, problem+json back to errors.

Every call names a :class:`Route` (a method and a path *template* such as
``/api/v1/workspaces/{workspace}/members``). Routes are declared at import time with :func:`route`,
so :func:`routes` lists every route the SDK can call, and a test checks each one against the
server's OpenAPI document.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from dais import __version__
from dais.core.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    DaisError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    QuotaExceeded,
    ServiceUnavailable,
    Unauthenticated,
    error_class_for,
)

_ROUTES: set[Route] = set()


@dataclass(frozen=True)
class Route:
    """An HTTP method and a path template of the Dais API."""

    method: str
    template: str

    def path(self, params: dict[str, str]) -> str:
        """The template filled in; ``{key}`` keeps its slashes, every other value is escaped whole."""
        names = [f for _, f, _, _ in string.Formatter().parse(self.template) if f]
        missing = [n for n in names if n not in params]
        if missing:
            raise ValueError(f"{self.template} needs {', '.join(missing)}")
        return self.template.format(
            **{n: quote(str(params[n]), safe="/" if n == "key" else "") for n in names}
        )


def route(method: str, template: str) -> Route:
    """Declare a route the SDK calls (kept for :func:`routes`)."""
    r = Route(method.upper(), template)
    _ROUTES.add(r)
    return r


def routes() -> set[Route]:
    """Every route the SDK can call (import :mod:`dais.client` first so all are declared)."""
    return set(_ROUTES)


class DaisConnectionError(ServiceUnavailable):
    """The server could not be reached at all."""

    code = "connection_failed"
    title = "Cannot reach the Dais server"


# The MLflow facade (``/api/2.0/mlflow``) answers ``{"error_code": ..., "message": ...}``: each code
# becomes the core class the native API raises for the same mistake (``mlflow_code`` keeps the code).
_MLFLOW_CODES: dict[str, type[DaisError]] = {
    "RESOURCE_DOES_NOT_EXIST": NotFound,
    "ENDPOINT_NOT_FOUND": NotFound,
    "INVALID_PARAMETER_VALUE": InvalidInput,
    "RESOURCE_ALREADY_EXISTS": AlreadyExists,
    "BAD_REQUEST": BadRequest,
    "MALFORMED_REQUEST": BadRequest,
    "INVALID_STATE": Conflict,
    "UNAUTHENTICATED": Unauthenticated,
    "PERMISSION_DENIED": PermissionDenied,
}
_BY_STATUS: dict[int, type[DaisError]] = {413: PayloadTooLarge, 429: QuotaExceeded, 503: ServiceUnavailable}


def error_from_response(response: httpx.Response) -> DaisError:
    """The :class:`DaisError` subclass a problem+json (or MLflow error JSON) reply stands for (a
    generic one otherwise)."""
    body: Any = None
    if "json" in response.headers.get("content-type", ""):
        try:
            body = response.json()
        except ValueError:
            body = None
    if isinstance(body, dict) and "code" in body:
        cls = error_class_for(str(body["code"]))
        error = cls(
            str(body.get("detail") or body.get("title") or cls.title),
            errors=list(body.get("errors") or []),
            request_id=body.get("request_id"),
            http_status=response.status_code,
        )
    elif isinstance(body, dict) and "error_code" in body:  # the MLflow REST facade's error JSON
        code = str(body["error_code"])
        mlflow_cls = _MLFLOW_CODES.get(code) or _BY_STATUS.get(response.status_code, DaisError)
        error = mlflow_cls(
            str(body.get("message") or mlflow_cls.title),
            request_id=response.headers.get("x-request-id"),
            http_status=response.status_code,
            mlflow_code=code,
        )
    else:
        text = response.text[:500].strip() or response.reason_phrase
        error = DaisError(f"HTTP {response.status_code} from {response.request.url}: {text}")
        error.extra["http_status"] = response.status_code
    return error


def request_id_of(error: DaisError) -> str | None:
    """The server's request id for a failed call (quote it when asking an operator)."""
    rid = error.extra.get("request_id")
    return str(rid) if rid else None


class Transport:
    """An ``httpx.Client`` (keep-alive) bound to one server and one credential."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        basic: tuple[str, str] | None = None,
        timeout: float = 30.0,
        page_size: int = 100,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        headers = {"User-Agent": f"dais-python/{__version__}", "Accept": "application/json"}
        auth: httpx.Auth | None = None
        if basic is not None:
            auth = httpx.BasicAuth(*basic)
        elif token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, auth=auth, timeout=timeout, follow_redirects=False
        )

    def close(self) -> None:
        self._http.close()

    def _build(
        self,
        r: Route,
        path: dict[str, str] | None,
        params: dict[str, Any] | None,
        json: Any,
        content: Any,
        headers: dict[str, str] | None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Request:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        for k, v in clean.items():
            if isinstance(v, bool):
                clean[k] = "true" if v else "false"
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        return self._http.build_request(
            r.method, r.path(path or {}), params=clean, json=json, content=content, headers=headers, **extra
        )

    def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        try:
            response = self._http.send(request, stream=stream)
        except httpx.TransportError as exc:
            raise DaisConnectionError(
                f"Cannot reach the Dais server at {self.base_url} ({type(exc).__name__}: {exc}). "
                "Is it running (`dais up`), and is the URL right (`dais login URL`, DAIS_URL)?"
            ) from exc
        if response.status_code >= 400:
            if stream:
                response.read()
                response.close()
            raise error_from_response(response)
        return response

    def call(
        self,
        r: Route,
        *,
        path: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; a 4xx/5xx reply raises the matching :class:`DaisError`."""
        return self._send(self._build(r, path, params, json, content, headers))

    @contextmanager
    def stream(
        self,
        r: Route,
        *,
        path: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        endless: bool = False,
    ) -> Iterator[httpx.Response]:
        """Send one request and stream the reply's body (``response.iter_bytes()``).

        ``endless``: the body may pause for as long as it likes (a followed log), so no read timeout.
        """
        timeout = None
        if endless:
            base = self._http.timeout
            timeout = httpx.Timeout(connect=base.connect, read=None, write=base.write, pool=base.pool)
        response = self._send(self._build(r, path, params, None, None, headers, timeout), stream=True)
        try:
            yield response
        finally:
            response.close()

    def pages(
        self,
        r: Route,
        *,
        path: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a cursor-paginated listing (at most ``limit``), fetching pages as needed."""
        page_size = self.page_size
        cursor: str | None = None
        seen = 0
        while True:
            size = page_size if limit is None else max(1, min(page_size, limit - seen))
            body = self.call(r, path=path, params={**(params or {}), "limit": size, "cursor": cursor}).json()
            for item in body["items"]:
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return
            cursor = body.get("next_cursor")
            if not cursor:
                return

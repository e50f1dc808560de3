"""What every MLflow facade route shares: auth, MLflow's error JSON, request parsing, fast JSON replies.

Routers of the facade are made with :func:`mlflow_router`: its routes answer every error as MLflow's
server does (``{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..."}`` with MLflow's HTTP
status), never problem+json. A route typically looks like::

    router = mlflow_router()

    @router.post("/runs/log-metric")
    async def log_metric(request: Request, access: MlflowAccess) -> Response:
        p = await read_params(request)
        run_id = param_str(p, "run_id", required=True)
        await in_thread(do_the_work, request, access, run_id)
        return json_response({})
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, ParamSpec, TypeVar

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

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
    RangeNotSatisfiable,
    Unauthenticated,
)
from dais.core.settings import Settings
from dais.db import Database
from dais.tenancy import AuditContext, WorkspaceAccess, require_workspace
from dais.tenancy.bootstrap import DEFAULT_WORKSPACE
from dais.tenancy.deps import authenticate, client_ip

log = logging.getLogger("dais.mlflow")

P = ParamSpec("P")
T = TypeVar("T")

WORKSPACE_HEADER = "x-mlflow-workspace"
#: Verified credentials are reused for this long: a revoked token or changed password (or a removed
#: membership) takes effect within this many seconds.
AUTH_CACHE_TTL_S = 30.0
AUTH_CACHE_MAX_ENTRIES = 4096

# MLflow error codes and the HTTP statuses MLflow's server answers them with (mlflow/exceptions.py).
HTTP_STATUS = {
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "BAD_REQUEST": 400,
    "INVALID_STATE": 500,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "NOT_IMPLEMENTED": 501,
    "INTERNAL_ERROR": 500,
}


class MlflowError(DaisError):
    """An error with an explicit MLflow ``error_code`` (status from MLflow's table unless given)."""

    code = "mlflow_error"
    status = 400
    title = "MLflow API error"

    def __init__(self, message: str, error_code: str = "INVALID_PARAMETER_VALUE", status: int | None = None):
        super().__init__(message)
        self.error_code = error_code
        self.http_status = status or HTTP_STATUS.get(error_code, 400)


def mlflow_error_of(exc: BaseException) -> tuple[str, int, str]:
    """``(error_code, http_status, message)`` MLflow's server would answer for ``exc``."""
    if isinstance(exc, MlflowError):
        return exc.error_code, exc.http_status, exc.detail
    if isinstance(exc, DaisError):
        explicit = getattr(exc, "mlflow_code", None)
        if isinstance(explicit, str):
            return explicit, HTTP_STATUS.get(explicit, exc.status), exc.detail
        if isinstance(exc, NotFound):
            return "RESOURCE_DOES_NOT_EXIST", 404, exc.detail
        if isinstance(exc, AlreadyExists):
            return "RESOURCE_ALREADY_EXISTS", 400, exc.detail
        if isinstance(exc, Conflict):
            return "INVALID_STATE", 409, exc.detail
        if isinstance(exc, InvalidInput | BadRequest | RangeNotSatisfiable):
            return "INVALID_PARAMETER_VALUE", 400, exc.detail
        if isinstance(exc, Unauthenticated):
            return "UNAUTHENTICATED", 401, exc.detail
        if isinstance(exc, PermissionDenied):
            return "PERMISSION_DENIED", 403, exc.detail
        if isinstance(exc, PayloadTooLarge):
            return "RESOURCE_EXHAUSTED", 413, exc.detail
        if isinstance(exc, QuotaExceeded):
            return "RESOURCE_EXHAUSTED", 429, exc.detail
        if exc.status < 500:
            return "BAD_REQUEST", exc.status, exc.detail
        return "INTERNAL_ERROR", exc.status, exc.detail
    if isinstance(exc, RequestValidationError):
        return "INVALID_PARAMETER_VALUE", 400, f"Invalid request: {exc.errors()[:3]}"
    if isinstance(exc, StarletteHTTPException):
        code = {404: "ENDPOINT_NOT_FOUND", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}
        return code.get(exc.status_code, "BAD_REQUEST"), exc.status_code, str(exc.detail)
    return (
        "INTERNAL_ERROR",
        500,
        "Something went wrong on the server. The request id in the X-Request-ID header of this reply "
        "locates the details in the server log.",
    )


def error_response(exc: BaseException) -> Response:
    """MLflow's error reply for ``exc``: ``{"error_code", "message"}`` with MLflow's status."""
    code, status, message = mlflow_error_of(exc)
    if status >= 500:
        log.error("mlflow facade error: %s", exc, exc_info=exc)
    headers = dict(exc.headers) if isinstance(exc, DaisError) else {}
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Basic realm="dais", Bearer realm="dais"')
    return Response(
        orjson.dumps({"error_code": code, "message": message}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


class MlflowRoute(APIRoute):
    """A route whose errors (in dependencies too) are answered in MLflow's JSON, not problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return error_response(exc)

        return route


def mlflow_router(**kwargs: Any) -> APIRouter:
    """An ``APIRouter`` for facade routes (MLflow error JSON; left out of Dais's OpenAPI document)."""
    kwargs.setdefault("include_in_schema", False)
    return APIRouter(route_class=MlflowRoute, **kwargs)


Handler = Callable[..., Awaitable[Response]]


@dataclass(frozen=True)
class FastRoute:
    """A route of a :class:`FastRouter`: ``handler(request, access)`` (``handler(request)`` if public)."""

    path: str
    handler: Handler
    public: bool

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            if self.public:
                response = await self.handler(request)
            else:
                response = await self.handler(request, await mlflow_access(request))
        except Exception as exc:  # every error becomes MLflow's error JSON
            response = error_response(exc)
        await response(scope, receive, send)


class FastRouter:
    """Facade routes served straight from the dispatcher, without FastAPI's per-request machinery.

    For the hot MLflow calls (``log-metric`` runs thousands of times a minute): no dependency
    solving, no exit stacks; a handler reads its own parameters (:func:`read_params`) and gets the
    caller's access from :func:`mlflow_access`. Paths are fixed (no path parameters); routes with
    path parameters belong on an :func:`mlflow_router`.
    """

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], FastRoute] = {}

    def api_route(
        self, path: str, methods: Collection[str], *, public: bool = False
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            route = FastRoute(path, handler, public)
            for method in methods:
                self.routes[(method, path)] = route
                if method == "GET":
                    self.routes[("HEAD", path)] = route
            return handler

        return register

    def get(self, path: str, *, public: bool = False) -> Callable[[Handler], Handler]:
        return self.api_route(path, ["GET"], public=public)

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self.api_route(path, ["POST"])


# -- replies -------------------------------------------------------------------------------------------


def json_response(payload: Any, status: int = 200) -> Response:
    """``payload`` as JSON via orjson (doubles must already go through :func:`proto_double`)."""
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def proto_double(value: float) -> float | str:
    """A double as proto3 JSON writes it: NaN and infinities as the strings protobuf parses."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


# -- requests ------------------------------------------------------------------------------------------


async def read_params(request: Request, repeated: Collection[str] = ()) -> dict[str, Any]:
    """The request's parameters the way MLflow clients send them.

    GET (and DELETE without a body): the query string; a key named in ``repeated`` is a list of
    all its values (``?experiment_ids=1&experiment_ids=2``), any other key its single value (a
    string: use the ``param_*`` readers to convert). Other methods: the JSON object in the body
    (an empty body is ``{}``).
    """
    if request.method in ("GET", "HEAD"):
        return _query(request, repeated)
    body = await request.body()
    if not body.strip():
        return _query(request, repeated) if request.method == "DELETE" else {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MlflowError(f"The request body is not valid JSON: {exc}", "MALFORMED_REQUEST", 400) from exc
    if not isinstance(data, dict):
        raise MlflowError("The request body must be a JSON object.", "MALFORMED_REQUEST", 400)
    return data


def _query(request: Request, repeated: Collection[str]) -> dict[str, Any]:
    q = request.query_params
    return {k: (q.getlist(k) if k in repeated else q[k]) for k in q}


def _missing(name: str) -> MlflowError:
    return MlflowError(
        f"Missing value for required parameter '{name}'. "
        "See the API docs for more information about request parameters."
    )


def _bad(name: str, value: Any, kind: str) -> MlflowError:
    return MlflowError(f"Invalid value {value!r} for parameter '{name}' supplied: it must be {kind}.")


def param_str(
    p: dict[str, Any], name: str, *, required: bool = False, default: str | None = None
) -> str | None:
    """A string parameter (``required``: missing or empty is INVALID_PARAMETER_VALUE)."""
    value = p.get(name)
    if value is None or value == "":
        if required:
            raise _missing(name)
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _bad(name, value, "a string")
    return str(value)


def require_str(p: dict[str, Any], name: str) -> str:
    """A required string parameter."""
    value = param_str(p, name, required=True)
    assert value is not None
    return value


def param_int(
    p: dict[str, Any], name: str, *, default: int | None = None, required: bool = False
) -> int | None:
    """An integer parameter (JSON number or numeric string, as int64 fields arrive in proto3 JSON)."""
    value = p.get(name)
    if value is None or value == "":
        if required:
            raise _missing(name)
        return default
    if isinstance(value, bool):
        raise _bad(name, value, "an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _bad(name, value, "an integer")


def param_float(p: dict[str, Any], name: str, *, required: bool = False) -> float | None:
    """A double parameter; accepts proto3 JSON's ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``."""
    value = p.get(name)
    if value is None or value == "":
        if required:
            raise _missing(name)
        return None
    if isinstance(value, bool):
        raise _bad(name, value, "a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise _bad(name, value, "a number")


def param_bool(p: dict[str, Any], name: str, *, default: bool = False) -> bool:
    """A boolean parameter (``true``/``false`` in a query string)."""
    value = p.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise MlflowError(f"Invalid boolean value: {value}, must be 'true' or 'false'.")


def param_list(p: dict[str, Any], name: str) -> list[Any]:
    """A repeated parameter: a list (a single value becomes a one-item list; missing is ``[]``)."""
    value = p.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


async def in_thread(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run blocking work (database, store) in the thread pool: one hop per request."""
    return await run_in_threadpool(fn, *args, **kwargs)


def app_db(request: Request) -> Database:
    """The app's metadata database."""
    db: Database = request.app.state.db
    return db


def audit_context(request: Request, access: WorkspaceAccess) -> AuditContext:
    """Who acts, for audited mutations (experiments, runs, models: not metrics, params or tags)."""
    from dais.core.logging import request_id_var

    user = access.principal.user
    return AuditContext(
        actor_id=user.id,
        actor_name=user.username,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        request_id=request_id_var.get(),
    )


# -- auth ----------------------------------------------------------------------------------------------


class _AuthCache:
    """Verified ``(Authorization, workspace header) -> WorkspaceAccess`` for a short TTL."""

    def __init__(self) -> None:
        self._entries: dict[bytes, tuple[float, WorkspaceAccess]] = {}
        self._lock = threading.Lock()

    def get(self, key: bytes) -> WorkspaceAccess | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            with self._lock:
                self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: bytes, access: WorkspaceAccess) -> None:
        with self._lock:
            if len(self._entries) >= AUTH_CACHE_MAX_ENTRIES:
                now = time.monotonic()
                self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
                if len(self._entries) >= AUTH_CACHE_MAX_ENTRIES:
                    self._entries.clear()
            self._entries[key] = (time.monotonic() + AUTH_CACHE_TTL_S, access)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def auth_cache(app: FastAPI) -> _AuthCache:
    """The app's credential cache (one per app: test apps on other databases never share it)."""
    cache: _AuthCache | None = getattr(app.state, "mlflow_auth_cache", None)
    if cache is None:
        cache = app.state.mlflow_auth_cache = _AuthCache()
    return cache


async def mlflow_access(request: Request) -> WorkspaceAccess:
    """The caller and the workspace they act in (a FastAPI dependency: use :data:`MlflowAccess`).

    Credentials: ``Authorization: Basic`` (username + password, or username + API token as the
    password: what ``MLFLOW_TRACKING_USERNAME``/``PASSWORD`` send), ``Bearer <token>``
    (``MLFLOW_TRACKING_TOKEN``), or the web UI's session cookie. Workspace: the
    ``X-MLFLOW-WORKSPACE`` header (slug or id), else the token's workspace, else the caller's
    ``default`` workspace. The caller needs at least the viewer role there; writes check editor.
    Header credentials are verified once per :data:`AUTH_CACHE_TTL_S` (argon2 is slow by design).
    """
    header = request.headers.get("authorization")
    workspace = (request.headers.get(WORKSPACE_HEADER) or "").strip()
    if not header:
        return await run_in_threadpool(_verify, request, workspace)
    key = hashlib.sha256(f"{header}\n{workspace}".encode()).digest()
    cache = auth_cache(request.app)
    access = cache.get(key)
    if access is None:
        access = await run_in_threadpool(_verify, request, workspace)
        cache.put(key, access)
    request.state.principal = access.principal
    return access


def _verify(request: Request, workspace: str) -> WorkspaceAccess:
    db = app_db(request)
    settings: Settings = request.app.state.settings
    principal = authenticate(request, db, settings)
    with db.session(write=False) as session:
        return resolve_workspace(session, principal, workspace)


def resolve_workspace(session: Session, principal: Any, workspace: str) -> WorkspaceAccess:
    """The workspace named by the header, else the token's, else the caller's ``default`` one."""
    if workspace:
        return require_workspace(session, principal, workspace)
    if principal.token_workspace_id:
        return require_workspace(session, principal, principal.token_workspace_id)
    try:
        return require_workspace(session, principal, DEFAULT_WORKSPACE)
    except (NotFound, PermissionDenied) as exc:
        raise MlflowError(
            "No workspace given: set the X-MLFLOW-WORKSPACE header (the MLFLOW_WORKSPACE environment "
            "variable does it for the mlflow client) or use a token made for one workspace; you are "
            f"not a member of the {DEFAULT_WORKSPACE!r} workspace.",
            "INVALID_PARAMETER_VALUE",
        ) from exc


MlflowAccess = Annotated[WorkspaceAccess, Depends(mlflow_access)]
"""The caller's :class:`~dais.tenancy.WorkspaceAccess` for a facade route (see :func:`mlflow_access`)."""


async def write_session(request: Request, fn: Callable[[Session], T]) -> T:
    """Run ``fn`` in a write transaction of the app's database, off the event loop."""
    db = app_db(request)

    def work() -> T:
        with db.session() as s:
            return fn(s)

    return await in_thread(work)


async def read_session(request: Request, fn: Callable[[Session], T]) -> T:
    """Run ``fn`` in a read-only session of the app's database, off the event loop."""
    db = app_db(request)

    def work() -> T:
        with db.session(write=False) as s:
            return fn(s)

    return await in_thread(work)

"""The MLflow REST facade: MLflow clients log to Dais unchanged (see :mod:`.common` for the shared parts).

:func:`install_mlflow_facade` mounts the facade's routers under ``/api/2.0/mlflow``,
``/api/2.0/mlflow-artifacts`` and the ``/ajax-api/2.0/...`` aliases; any other path under those
prefixes answers MLflow's ``ENDPOINT_NOT_FOUND`` (the client relies on it to fall back between
endpoint versions).
"""

from __future__ import annotations

import importlib
import importlib.util

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.routing import Match, Mount
from starlette.types import Receive, Scope, Send

from dais.tracking.mlflow.artifacts_routes import UPLOAD_ROUTE
from dais.tracking.mlflow.common import FastRoute, FastRouter, MlflowError, error_response

PREFIXES = ("/api/2.0", "/ajax-api/2.0")

# Routers written elsewhere in the facade, mounted when present: (module, attribute, prefix).
_OPTIONAL_ROUTERS = (
    ("dais.tracking.mlflow.registry_routes", "router", "/mlflow"),
    ("dais.tracking.mlflow.logged_models_routes", "router", "/mlflow"),
)


class FacadeDispatcher:
    """An ASGI app that finds a facade route by a dict lookup of (method, path).

    Mounted first on the app, it spares each MLflow call the walk through every route of the
    platform (the hottest calls, ``log-metric`` among them, are sub-millisecond work otherwise).
    Routes with path parameters are tried in order after the lookup; anything else answers
    MLflow's ``ENDPOINT_NOT_FOUND``. Routers given here hold plain routes (no nested includes).
    """

    def __init__(self, routers: list[APIRouter | FastRouter]) -> None:
        self.static: dict[tuple[str, str], APIRoute | FastRoute] = {}
        self.dynamic: list[APIRoute] = []
        for router in routers:
            if isinstance(router, FastRouter):
                for key, fast in router.routes.items():
                    self.static.setdefault(key, fast)
                continue
            for route in router.routes:
                if not isinstance(route, APIRoute):
                    raise TypeError(f"MLflow facade routers hold plain routes, not {route!r}")
                if route.param_convertors:
                    self.dynamic.append(route)
                    continue
                for method in route.methods or ():
                    self.static.setdefault((method, route.path), route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        route = self.static.get((scope["method"], get_route_path(scope)))
        if isinstance(route, FastRoute):
            scope["route"] = route
            await route.serve(scope, receive, send)
            return
        if route is not None:
            scope["route"] = route
            scope["path_params"] = {}
            await route.handle(scope, receive, send)
            return
        for candidate in self.dynamic:
            match, child = candidate.matches(scope)
            if match == Match.FULL:
                scope.update(child)
                await candidate.handle(scope, receive, send)
                return
        error = MlflowError(
            f"No such MLflow endpoint: {scope['method']} {scope['path']}", "ENDPOINT_NOT_FOUND", 404
        )
        await error_response(error)(scope, receive, send)


def facade_routers() -> list[tuple[APIRouter | FastRouter, str]]:
    """``(router, mount point)`` of every facade router: ``/mlflow`` and ``/mlflow-artifacts`` lie
    under ``/api/2.0`` (and ``/ajax-api/2.0``), ``/3.0/mlflow`` is ``/api/3.0/mlflow``."""
    from dais.tracking.mlflow import artifacts_routes, tracking_routes

    routers: list[tuple[APIRouter | FastRouter, str]] = [
        (tracking_routes.router, "/mlflow"),
        (artifacts_routes.tracking_router, "/mlflow"),
        (artifacts_routes.router, "/mlflow-artifacts"),
        (tracking_routes.server_router, "/3.0/mlflow"),
    ]
    for module, attribute, prefix in _OPTIONAL_ROUTERS:
        if importlib.util.find_spec(module) is not None:
            routers.append((getattr(importlib.import_module(module), attribute), prefix))
    return routers


def install_mlflow_facade(app: FastAPI) -> None:
    """Mount the facade on ``app``, ahead of every other route."""
    routers = facade_routers()
    mounts = []
    for base in ("/api", "/ajax-api"):
        for prefix in ("/2.0/mlflow", "/2.0/mlflow-artifacts", "/3.0/mlflow"):
            point = prefix.removeprefix("/2.0")
            dispatcher = FacadeDispatcher([r for r, p in routers if p == point])
            mounts.append(Mount(base + prefix, app=dispatcher))
    app.router.routes[0:0] = mounts


__all__ = ["PREFIXES", "UPLOAD_ROUTE", "FacadeDispatcher", "facade_routers", "install_mlflow_facade"]

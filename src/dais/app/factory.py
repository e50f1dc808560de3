"""The FastAPI application factory: one app object per process (and per test)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from dais import __version__
from dais.app.errors import install_error_handlers, problem_response
from dais.app.middleware import BodyLimitMiddleware, Metrics, RequestContextMiddleware
from dais.app.spa import find_web_dist, install_spa
from dais.core.errors import DaisError, ServiceUnavailable
from dais.core.settings import Settings
from dais.data.api import UPLOAD_CHUNK_ROUTE
from dais.data.api import router as data_router
from dais.db import Database, check_schema, create_database
from dais.jobs.api import router as jobs_router
from dais.jobs.notify.api import router as notify_router
from dais.jobs.schedule_api import router as schedules_router
from dais.pipelines.api import router as pipelines_router
from dais.storage import open_store
from dais.storage.api import UPLOAD_ROUTE
from dais.storage.api import router as storage_router
from dais.tenancy.api import login_link_router
from dais.tenancy.api import router as tenancy_router
from dais.tenancy.deps import authenticate
from dais.tracking.api import router as tracking_router
from dais.tracking.mlflow import UPLOAD_ROUTE as MLFLOW_UPLOAD_ROUTE
from dais.tracking.mlflow import install_mlflow_facade
from dais.training.api import router as training_router
from dais.training.tuning.api import router as tuning_router

OPENAPI_URL = "/api/v1/openapi.json"


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(
    settings: Settings, *, db: Database | None = None, check_db: bool = True, web_dist: Path | None = None
) -> FastAPI:
    """Build the API server for ``settings``; refuses a database whose schema is stale."""
    own_db = db is None
    db = db or create_database(
        settings.database_url,
        echo=settings.database.echo,
        busy_timeout_s=settings.database.sqlite_busy_timeout_s,
        pool_size=settings.database.pool_size,
    )
    if check_db:
        try:
            check_schema(db.engine)
        except BaseException:
            if own_db:
                db.dispose()  # do not leave its connections open behind the error
            raise

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        db.dispose()

    app = FastAPI(
        title="Dais",
        version=__version__,
        summary="An end-to-end machine-learning platform.",
        openapi_url=OPENAPI_URL,
        docs_url="/api/v1/docs",
        redoc_url=None,
        generate_unique_id_function=_operation_id,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.store = open_store(settings)
    metrics = Metrics()
    app.state.metrics = metrics

    install_error_handlers(app)
    app.include_router(tenancy_router)
    app.include_router(storage_router)
    app.include_router(jobs_router)
    app.include_router(notify_router)
    app.include_router(schedules_router)
    app.include_router(data_router)
    app.include_router(pipelines_router)
    app.include_router(tracking_router)
    app.include_router(training_router)
    app.include_router(tuning_router)
    app.include_router(login_link_router)
    install_mlflow_facade(app)
    _install_probes(app, db, settings, metrics)
    install_spa(app, web_dist or find_web_dist())

    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=settings.api.max_body_bytes,
        large_limit=settings.api.max_upload_bytes,
        large_routes=re.compile(f"{UPLOAD_ROUTE}|{UPLOAD_CHUNK_ROUTE}|{MLFLOW_UPLOAD_ROUTE}"),
    )
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app


def _install_probes(app: FastAPI, db: Database, settings: Settings, metrics: Metrics) -> None:
    @app.get("/healthz", tags=["probes"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["probes"], responses={503: {"description": "Not ready"}})
    async def readyz() -> Response:
        """Readiness: the metadata database answers, with the expected schema."""

        def probe() -> None:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            check_schema(db.engine)

        try:
            await asyncio.wait_for(run_in_threadpool(probe), timeout=5)
        except DaisError as exc:
            return problem_response(exc)
        except Exception as exc:
            return problem_response(ServiceUnavailable(f"The metadata database does not answer: {exc}"))
        return JSONResponse({"status": "ready"})

    @app.get(
        "/metrics",
        tags=["probes"],
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}}, 401: {"description": "Unauthenticated"}},
    )
    def prometheus_metrics(request: Request) -> Response:
        """Prometheus metrics (needs a token unless `DAIS_API_PUBLIC_METRICS=true`)."""
        if not settings.api.public_metrics:
            authenticate(request, db, settings)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

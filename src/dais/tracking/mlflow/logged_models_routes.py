"""MLflow 3's logged-models REST API: what ``mlflow.<flavor>.log_model`` calls (create, upload the
files through the artifacts proxy, finalize), plus get, delete, search, tags, params and the
artifact listing.

Paths are relative to ``/api/2.0/mlflow``. A logged model's files live at
``mlflow-artifacts:/<experiment>/models/<model_id>/artifacts``; its metrics are the run metrics
logged with its ``model_id`` (tracking keeps them; the registry keeps the model itself).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request, Response
from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from dais import registry
from dais.registry import LoggedModelView
from dais.storage import ArtifactStore, WorkspaceArtifacts, safe_key
from dais.tracking import service as tracking
from dais.tracking.errors import ResourceDoesNotExist
from dais.tracking.mlflow.common import (
    MlflowAccess,
    MlflowError,
    app_db,
    audit_context,
    in_thread,
    json_response,
    mlflow_router,
    param_bool,
    param_int,
    param_list,
    param_str,
    proto_double,
    read_params,
    require_str,
)
from dais.tracking.models import RunMetric

T = TypeVar("T")

router = mlflow_router()

#: Dais status -> MLflow's LoggedModelStatus enum name.
STATUS_NAMES = {
    "PENDING": "LOGGED_MODEL_PENDING",
    "READY": "LOGGED_MODEL_READY",
    "FAILED": "LOGGED_MODEL_UPLOAD_FAILED",
}
#: At most this many metric points are returned with one logged model.
MAX_METRICS = 1000
_OPS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


async def _run(request: Request, fn: Callable[[Session], T], *, write: bool) -> T:
    db = app_db(request)

    def work() -> T:
        with db.session(write=write) as s:
            return fn(s)

    return await in_thread(work)


def _pairs(p: dict[str, Any], name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, item in enumerate(param_list(p, name)):
        if not isinstance(item, dict):
            raise MlflowError(f"Invalid value for parameter '{name}[{i}]': it must be an object.")
        key = item.get("key")
        if not isinstance(key, str) or not key:
            raise MlflowError(f"Missing value for required parameter '{name}[{i}].key'.")
        value = item.get("value", "")
        out[key] = value if isinstance(value, str) else str(value)
    return out


def _metric_condition(key: str, op: str, value: float) -> ColumnElement[bool]:
    """A logged model whose metric ``key`` (any logged point) compares true against ``value``."""
    return exists().where(
        RunMetric.model_id == registry.LoggedModel.id,
        RunMetric.key == key,
        _OPS[op](RunMetric.value, value),
    )


# -- JSON shapes ----------------------------------------------------------------------------------


def _kv(items: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in items.items()]


def _metrics(s: Session, model_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    if not model_ids:
        return out
    rows = s.execute(
        select(
            RunMetric.model_id,
            RunMetric.run_id,
            RunMetric.key,
            RunMetric.value,
            RunMetric.is_nan,
            RunMetric.timestamp,
            RunMetric.step,
        )
        .where(RunMetric.model_id.in_(model_ids))
        .order_by(RunMetric.key, RunMetric.step, RunMetric.id)
        .limit(MAX_METRICS * len(model_ids))
    )
    for model_id, run_id, key, value, is_nan, timestamp, step in rows:
        assert model_id is not None
        points = out.setdefault(model_id, [])
        if len(points) < MAX_METRICS:
            points.append(
                {
                    "key": key,
                    "value": proto_double(float("nan") if is_nan else value),
                    "timestamp": timestamp,
                    "step": step,
                    "model_id": model_id,
                    "run_id": run_id,
                }
            )
    return out


def logged_model_json(v: LoggedModelView, metrics: list[dict[str, Any]]) -> dict[str, Any]:
    row = v.row
    info: dict[str, Any] = {
        "model_id": row.id,
        "experiment_id": str(row.experiment_id),
        "name": row.name,
        "creation_timestamp_ms": row.creation_timestamp,
        "last_updated_timestamp_ms": row.last_updated_timestamp,
        "artifact_uri": row.artifact_location,
        "status": STATUS_NAMES[row.status],
    }
    for name, value in (
        ("model_type", row.model_type),
        ("source_run_id", row.source_run_id),
        ("status_message", row.status_message),
    ):
        if value:
            info[name] = value
    if v.tags:
        info["tags"] = _kv(v.tags)
    if v.registrations:
        info["registrations"] = [{"name": n, "version": str(ver)} for n, ver in v.registrations]
    data: dict[str, Any] = {}
    if v.params:
        data["params"] = _kv(v.params)
    if metrics:
        data["metrics"] = metrics
    return {"info": info, "data": data}


def _models_json(s: Session, rows: list[registry.LoggedModel]) -> list[dict[str, Any]]:
    views = registry.logged_model_views(s, rows)
    metrics = _metrics(s, [r.id for r in rows])
    return [logged_model_json(v, metrics.get(v.row.id, [])) for v in views]


def _model_reply(s: Session, row: registry.LoggedModel) -> dict[str, Any]:
    return {"model": _models_json(s, [row])[0]}


# -- routes ---------------------------------------------------------------------------------------


@router.post("/logged-models")
async def create_logged_model(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    experiment_id = require_str(p, "experiment_id")
    name = param_str(p, "name")
    model_type = param_str(p, "model_type")
    source_run_id = param_str(p, "source_run_id")
    params = _pairs(p, "params")
    tags = _pairs(p, "tags")
    ctx = audit_context(request, access)

    def work(s: Session) -> dict[str, Any]:
        exp = tracking.get_experiment(s, access, experiment_id)
        if exp.lifecycle_stage != "active":
            raise MlflowError(
                f"The experiment {exp.id} must be in the 'active' state. "
                f"Current state is {exp.lifecycle_stage}."
            )
        row = registry.create_logged_model(
            s,
            access,
            exp.id,
            name=name,
            source_run_id=source_run_id,
            model_type=model_type,
            params=params,
            tags=tags,
            ctx=ctx,
        )
        return _model_reply(s, row)

    return json_response(await _run(request, work, write=True))


@router.post("/logged-models/search")
async def search_logged_models(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    experiment_ids = [str(e) for e in param_list(p, "experiment_ids")]
    if not experiment_ids:
        raise MlflowError("Missing value for required parameter 'experiment_ids'.")
    filter_ = param_str(p, "filter")
    max_results = param_int(p, "max_results")
    token = param_str(p, "page_token")
    if param_list(p, "datasets"):
        raise MlflowError("Searching logged models by dataset is not supported by this server.")
    order_by: list[tuple[str, bool]] = []
    for i, item in enumerate(param_list(p, "order_by")):
        if not isinstance(item, dict) or not isinstance(item.get("field_name"), str):
            raise MlflowError(f"Missing value for required parameter 'order_by[{i}].field_name'.")
        if item.get("dataset_name"):
            raise MlflowError(
                "Ordering logged models by a dataset's metrics is not supported by this server."
            )
        order_by.append((item["field_name"], bool(item.get("ascending", True))))

    def work(s: Session) -> dict[str, Any]:
        ids: list[int] = []
        for raw in experiment_ids:
            try:
                ids.append(tracking.get_experiment(s, access, raw).id)
            except ResourceDoesNotExist:
                continue  # like MLflow: an unknown experiment simply has no models
        rows, next_token = registry.search_logged_models(
            s,
            access,
            ids,
            filter=filter_,
            order_by=order_by,
            max_results=max_results,
            page_token=token,
            metric_condition=_metric_condition,
        )
        out: dict[str, Any] = {"models": _models_json(s, rows)} if rows else {}
        if next_token:
            out["next_page_token"] = next_token
        return out

    # Experiment "0" names the default experiment, which is created on first use.
    return json_response(await _run(request, work, write="0" in experiment_ids))


@router.get("/logged-models/{model_id}")
async def get_logged_model(model_id: str, request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    allow_deleted = param_bool(p, "allow_deleted")

    def work(s: Session) -> dict[str, Any]:
        return _model_reply(s, registry.get_logged_model(s, access, model_id, allow_deleted=allow_deleted))

    return json_response(await _run(request, work, write=False))


@router.patch("/logged-models/{model_id}")
async def finalize_logged_model(model_id: str, request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    status = p.get("status")
    if status in (None, "", "LOGGED_MODEL_STATUS_UNSPECIFIED", 0):
        raise MlflowError("Missing value for required parameter 'status'.")
    if not isinstance(status, str | int) or isinstance(status, bool):
        raise MlflowError(f"Invalid value {status!r} for parameter 'status'.")

    def work(s: Session) -> dict[str, Any]:
        return _model_reply(s, registry.finalize_logged_model(s, access, model_id, status))

    return json_response(await _run(request, work, write=True))


@router.delete("/logged-models/{model_id}")
async def delete_logged_model(model_id: str, request: Request, access: MlflowAccess) -> Response:
    ctx = audit_context(request, access)
    await _run(request, lambda s: registry.delete_logged_model(s, access, model_id, ctx=ctx), write=True)
    return json_response({})


@router.patch("/logged-models/{model_id}/tags")
async def set_logged_model_tags(model_id: str, request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    tags = _pairs(p, "tags")
    await _run(request, lambda s: registry.set_logged_model_tags(s, access, model_id, tags), write=True)
    return json_response({})


@router.delete("/logged-models/{model_id}/tags/{tag_key:path}")
async def delete_logged_model_tag(
    model_id: str, tag_key: str, request: Request, access: MlflowAccess
) -> Response:
    await _run(request, lambda s: registry.delete_logged_model_tag(s, access, model_id, tag_key), write=True)
    return json_response({})


@router.post("/logged-models/{model_id}/params")
async def log_logged_model_params(model_id: str, request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    params = _pairs(p, "params")
    await _run(request, lambda s: registry.log_logged_model_params(s, access, model_id, params), write=True)
    return json_response({})


@router.get("/logged-models/{model_id}/artifacts/directories")
async def list_logged_model_artifacts(model_id: str, request: Request, access: MlflowAccess) -> Response:
    """The direct children of a folder of the logged model's artifacts."""
    p = await read_params(request)
    folder = (param_str(p, "artifact_directory_path") or "").strip("/")
    store: ArtifactStore = request.app.state.store
    arts = WorkspaceArtifacts(store, access.workspace.id)

    def work(s: Session) -> dict[str, Any]:
        row = registry.get_logged_model(s, access, model_id)
        root = registry.artifact_key_for_uri(row.artifact_location)
        prefix = safe_key(f"{root}/{folder}" if folder else root) + "/"
        files = []
        for item in arts.list(prefix, recursive=False).items:
            name = item.key[len(prefix) :].rstrip("/")
            if not name:
                continue
            info: dict[str, Any] = {"path": f"{folder}/{name}" if folder else name, "is_dir": item.is_folder}
            if not item.is_folder:
                info["file_size"] = item.size
            files.append(info)
        out: dict[str, Any] = {"root_uri": row.artifact_location}
        if files:
            out["files"] = sorted(files, key=lambda f: f["path"])
        return out

    return json_response(await _run(request, work, write=False))

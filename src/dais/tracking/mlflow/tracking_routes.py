"""MLflow's tracking REST API (experiments, runs, metrics) over Dais's tracking store.

Paths are relative to ``/api/2.0/mlflow`` (and ``/ajax-api/2.0/mlflow``); request and reply
bodies are MLflow's proto3 JSON. Each route parses the request on the event loop, then does its
database work in one thread-pool hop and one transaction.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import orjson
from fastapi import Request, Response
from sqlalchemy.orm import Session

from dais.tenancy import WorkspaceAccess
from dais.tracking import history, service
from dais.tracking.entries import InputEntry, OutputEntry
from dais.tracking.mlflow.common import (
    FastRouter,
    MlflowAccess,
    MlflowError,
    audit_context,
    json_response,
    param_float,
    param_int,
    param_list,
    param_str,
    proto_double,
    read_params,
    read_session,
    require_str,
    write_session,
)
from dais.tracking.models import Experiment, Run

T = TypeVar("T")

router = FastRouter()  # mounted at .../2.0/mlflow
server_router = FastRouter()  # mounted at .../3.0/mlflow

_BOTH = ["GET", "POST"]


# -- plumbing --------------------------------------------------------------------------------------


def _run_id(p: dict[str, Any]) -> str:
    run_id = param_str(p, "run_id") or param_str(p, "run_uuid")
    if not run_id:
        raise MlflowError(
            "Missing value for required parameter 'run_id'. "
            "See the API docs for more information about request parameters."
        )
    return run_id


def _view(p: dict[str, Any], name: str) -> str:
    value = p.get(name)
    if value in (None, ""):
        return "ACTIVE_ONLY"
    if isinstance(value, int) and not isinstance(value, bool):
        return {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}.get(value, "?")
    return str(value).upper()


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


# -- JSON shapes (proto3 JSON, as MLflow's server writes it) ----------------------------------------------


def _kv(items: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in items.items()]


def experiment_json(exp: Experiment, tags: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "experiment_id": str(exp.id),
        "name": exp.name,
        "artifact_location": exp.artifact_location,
        "lifecycle_stage": exp.lifecycle_stage,
        "last_update_time": exp.last_update_time,
        "creation_time": exp.creation_time,
    }
    if tags:
        out["tags"] = _kv(tags)
    return out


def run_info_json(run: Run) -> dict[str, Any]:
    out: dict[str, Any] = {
        "run_id": run.id,
        "run_uuid": run.id,
        "run_name": run.name,
        "experiment_id": str(run.experiment_id),
        "user_id": run.user_id,
        "status": run.status,
        "artifact_uri": run.artifact_uri,
        "lifecycle_stage": run.lifecycle_stage,
    }
    if run.start_time is not None:
        out["start_time"] = run.start_time
    if run.end_time is not None:
        out["end_time"] = run.end_time
    return out


def metric_json(p: service.MetricPoint) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": p.key,
        "value": proto_double(p.value),
        "timestamp": p.timestamp,
        "step": p.step,
    }
    if p.model_id:
        out["model_id"] = p.model_id
    if p.run_id:
        out["run_id"] = p.run_id
    return out


def _dataset_input_json(i: InputEntry) -> dict[str, Any]:
    dataset: dict[str, Any] = {"name": i.name or "", "digest": i.digest or ""}
    for name in ("source_type", "source", "schema", "profile"):
        value = getattr(i, name)
        if value is not None:
            dataset[name] = value
    out: dict[str, Any] = {"dataset": dataset}
    if i.tags:
        out["tags"] = _kv(i.tags)
    return out


def _inputs_json(inputs: list[InputEntry]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    datasets = [_dataset_input_json(i) for i in inputs if i.model_id is None]
    models = [{"model_id": i.model_id} for i in inputs if i.model_id is not None]
    if datasets:
        out["dataset_inputs"] = datasets
    if models:
        out["model_inputs"] = models
    return out


def _outputs_json(outputs: list[OutputEntry]) -> dict[str, Any]:
    if not outputs:
        return {}
    return {"model_outputs": [{"model_id": o.model_id, "step": o.step} for o in outputs]}


def run_json(run: Run, data: service.RunData) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if data.metrics:
        body["metrics"] = [metric_json(m) for m in data.metrics.values()]
    if data.params:
        body["params"] = _kv(data.params)
    if data.tags:
        body["tags"] = _kv(data.tags)
    return {
        "info": run_info_json(run),
        "data": body,
        "inputs": _inputs_json(data.inputs),
        "outputs": _outputs_json(data.outputs),
    }


def _runs_json(s: Session, runs: list[Run]) -> list[dict[str, Any]]:
    data = service.run_data(s, [r.id for r in runs])
    return [run_json(r, data[r.id]) for r in runs]


def _experiment_reply(s: Session, exp: Experiment) -> dict[str, Any]:
    return {"experiment": experiment_json(exp, service.experiment_tags(s, [exp.id])[exp.id])}


# -- experiments -----------------------------------------------------------------------------------


@router.post("/experiments/create")
async def create_experiment(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = param_str(p, "name")
    if not name:
        raise MlflowError(f"Invalid experiment name: '{p.get('name') or ''}'")
    artifact_location = param_str(p, "artifact_location")
    tags = _pairs(p, "tags")
    ctx = audit_context(request, access)

    def work(s: Session) -> dict[str, Any]:
        exp = service.create_experiment(
            s, access, name, artifact_location=artifact_location, tags=tags, ctx=ctx
        )
        return {"experiment_id": str(exp.id)}

    return json_response(await write_session(request, work))


@router.api_route("/experiments/get", methods=_BOTH)
async def get_experiment(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    experiment_id = require_str(p, "experiment_id")

    def work(s: Session) -> dict[str, Any]:
        return _experiment_reply(s, service.get_experiment(s, access, experiment_id))

    run = write_session if experiment_id.strip() == "0" else read_session
    return json_response(await run(request, work))


@router.api_route("/experiments/get-by-name", methods=_BOTH)
async def get_experiment_by_name(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "experiment_name")
    return json_response(
        await read_session(
            request, lambda s: _experiment_reply(s, service.get_experiment_by_name(s, access, name))
        )
    )


@router.api_route("/experiments/search", methods=_BOTH)
async def search_experiments(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request, repeated=("order_by",))
    max_results = param_int(p, "max_results", default=service.SEARCH_MAX_RESULTS_DEFAULT)
    assert max_results is not None
    filter_ = param_str(p, "filter")
    order_by = [str(o) for o in param_list(p, "order_by")]
    view = _view(p, "view_type")
    token = param_str(p, "page_token")

    def work(s: Session) -> dict[str, Any]:
        exps, next_token = service.search_experiments(
            s, access, filter=filter_, order_by=order_by, view=view, max_results=max_results, page_token=token
        )
        tags = service.experiment_tags(s, [e.id for e in exps])
        out: dict[str, Any] = {"experiments": [experiment_json(e, tags[e.id]) for e in exps]}
        if next_token:
            out["next_page_token"] = next_token
        return out

    return json_response(await read_session(request, work))


@router.post("/experiments/update")
async def update_experiment(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    experiment_id = require_str(p, "experiment_id")
    new_name = param_str(p, "new_name")
    ctx = audit_context(request, access)
    if new_name:
        await write_session(
            request, lambda s: service.rename_experiment(s, access, experiment_id, new_name, ctx=ctx)
        )
    return json_response({})


@router.post("/experiments/delete")
async def delete_experiment(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    experiment_id = require_str(p, "experiment_id")
    ctx = audit_context(request, access)
    await write_session(request, lambda s: service.delete_experiment(s, access, experiment_id, ctx=ctx))
    return json_response({})


@router.post("/experiments/restore")
async def restore_experiment(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    experiment_id = require_str(p, "experiment_id")
    ctx = audit_context(request, access)
    await write_session(request, lambda s: service.restore_experiment(s, access, experiment_id, ctx=ctx))
    return json_response({})


@router.post("/experiments/set-experiment-tag")
async def set_experiment_tag(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    experiment_id, key = require_str(p, "experiment_id"), require_str(p, "key")
    value = param_str(p, "value", default="") or ""
    await write_session(request, lambda s: service.set_experiment_tag(s, access, experiment_id, key, value))
    return json_response({})


@router.post("/experiments/delete-experiment-tag")
async def delete_experiment_tag(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    experiment_id, key = require_str(p, "experiment_id"), require_str(p, "key")
    await write_session(request, lambda s: service.delete_experiment_tag(s, access, experiment_id, key))
    return json_response({})


# -- runs ------------------------------------------------------------------------------------------


@router.post("/runs/create")
async def create_run(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    experiment_id = param_str(p, "experiment_id") or "0"
    user_id = param_str(p, "user_id")
    run_name = param_str(p, "run_name")
    start_time = param_int(p, "start_time")
    tags = _pairs(p, "tags")
    ctx = audit_context(request, access)

    def work(s: Session) -> dict[str, Any]:
        run = service.create_run(
            s,
            access,
            experiment_id,
            name=run_name,
            start_time=start_time,
            tags=tags,
            user_id=user_id,
            ctx=ctx,
        )
        return {"run": run_json(run, service.new_run_data(run, tags))}

    return json_response(await write_session(request, work))


@router.api_route("/runs/get", methods=_BOTH)
async def get_run(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    run_id = _run_id(p)

    def work(s: Session) -> dict[str, Any]:
        run = service.get_run(s, access, run_id)
        return {"run": run_json(run, service.run_data(s, [run.id])[run.id])}

    return json_response(await read_session(request, work))


@router.post("/runs/update")
async def update_run(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    run_id = _run_id(p)
    status = param_str(p, "status")
    end_time = param_int(p, "end_time")
    run_name = param_str(p, "run_name")
    ctx = audit_context(request, access)

    def work(s: Session) -> dict[str, Any]:
        run = service.update_run(s, access, run_id, status=status, end_time=end_time, name=run_name, ctx=ctx)
        return {"run_info": run_info_json(run)}

    return json_response(await write_session(request, work))


@router.post("/runs/delete")
async def delete_run(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    run_id = _run_id(p)
    ctx = audit_context(request, access)
    await write_session(request, lambda s: service.delete_run(s, access, run_id, ctx=ctx))
    return json_response({})


@router.post("/runs/restore")
async def restore_run(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    run_id = _run_id(p)
    ctx = audit_context(request, access)
    await write_session(request, lambda s: service.restore_run(s, access, run_id, ctx=ctx))
    return json_response({})


@router.api_route("/runs/search", methods=_BOTH)
async def search_runs(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request, repeated=("experiment_ids", "order_by"))
    experiment_ids = [str(e) for e in param_list(p, "experiment_ids")]
    filter_ = param_str(p, "filter")
    view = _view(p, "run_view_type")
    max_results = param_int(p, "max_results", default=service.SEARCH_MAX_RESULTS_DEFAULT)
    assert max_results is not None
    order_by = [str(o) for o in param_list(p, "order_by")]
    token = param_str(p, "page_token")

    def work(s: Session) -> dict[str, Any]:
        runs, next_token = service.search_runs(
            s,
            access,
            experiment_ids,
            filter=filter_,
            view=view,
            max_results=max_results,
            order_by=order_by,
            page_token=token,
        )
        out: dict[str, Any] = {"runs": _runs_json(s, runs)} if runs else {}
        if next_token:
            out["next_page_token"] = next_token
        return out

    return json_response(await read_session(request, work))


async def _log(request: Request, access: WorkspaceAccess, run_id: str, **batch: Any) -> Response:
    await write_session(request, lambda s: service.log_batch(s, access, run_id, **batch))
    return json_response({})


def _metric_in(m: dict[str, Any], path: str) -> service.MetricIn:
    key, value, timestamp, step = m.get("key"), m.get("value"), m.get("timestamp"), m.get("step", 0)
    if (
        type(key) is str
        and type(value) in (float, int)
        and type(timestamp) is int
        and type(step) is int
        and "model_id" not in m
    ):
        return service.MetricIn(key, float(value), timestamp, step)  # type: ignore[arg-type] # JSON numbers
    for name in ("key", "value", "timestamp"):
        if m.get(name) is None or m.get(name) == "":
            raise MlflowError(f"Missing value for required parameter '{path}{name}'.")
    value = param_float(m, "value")
    timestamp = param_int(m, "timestamp")
    step = param_int(m, "step", default=0)
    assert value is not None
    assert timestamp is not None
    assert step is not None
    return service.MetricIn(str(m["key"]), value, timestamp, step, param_str(m, "model_id"))


@router.post("/runs/log-metric")
async def log_metric(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    run_id = _run_id(p)
    return await _log(request, access, run_id, metrics=[_metric_in(p, "")])


@router.post("/runs/log-parameter")
async def log_param(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    run_id, key = _run_id(p), require_str(p, "key")
    value = p.get("value")
    return await _log(
        request, access, run_id, params=[service.ParamIn(key, "" if value is None else str(value))]
    )


@router.post("/runs/set-tag")
async def set_tag(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    run_id, key = _run_id(p), require_str(p, "key")
    value = p.get("value")
    return await _log(request, access, run_id, tags=[service.TagIn(key, "" if value is None else str(value))])


@router.post("/runs/delete-tag")
async def delete_tag(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    run_id, key = _run_id(p), require_str(p, "key")
    await write_session(request, lambda s: service.delete_tag(s, access, run_id, key))
    return json_response({})


@router.post("/runs/log-batch")
async def log_batch(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    run_id = require_str(p, "run_id")
    metrics, params, tags = (param_list(p, n) for n in ("metrics", "params", "tags"))
    for name, items in (("metrics", metrics), ("params", params), ("tags", tags)):
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise MlflowError(f"Invalid value for parameter '{name}[{i}]': it must be an object.")
            if not item.get("key"):
                raise MlflowError(f"Missing value for required parameter '{name}[{i}].key'.")
    service.validate_batch_limits(len(metrics), len(params), len(tags))
    return await _log(
        request,
        access,
        run_id,
        metrics=[_metric_in(m, f"metrics[{i}].") for i, m in enumerate(metrics)],
        params=[service.ParamIn(str(x["key"]), _text(x.get("value"))) for x in params],
        tags=[service.TagIn(str(x["key"]), _text(x.get("value"))) for x in tags],
    )


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


@router.post("/runs/log-model")
async def log_model(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    run_id, model_json = require_str(p, "run_id"), require_str(p, "model_json")
    try:
        model = orjson.loads(model_json)
    except orjson.JSONDecodeError as exc:
        raise MlflowError(f"Malformed model info. \n {model_json} \n is not a valid JSON.") from exc
    if not isinstance(model, dict):
        raise MlflowError(f"Malformed model info. \n {model_json} \n is not a JSON object.")
    await write_session(request, lambda s: service.record_logged_model(s, access, run_id, model))
    return json_response({})


@router.post("/runs/log-inputs")
async def log_inputs(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    run_id = require_str(p, "run_id")
    datasets: list[service.DatasetInput] = []
    for i, item in enumerate(param_list(p, "datasets")):
        ds = item.get("dataset") if isinstance(item, dict) else None
        if not isinstance(ds, dict):
            raise MlflowError(f"Missing value for required parameter 'datasets[{i}].dataset'.")
        datasets.append(
            service.DatasetInput(
                name=_text(ds.get("name")),
                digest=_text(ds.get("digest")),
                source_type=_text(ds.get("source_type")),
                source=_text(ds.get("source")),
                schema=ds.get("schema"),
                profile=ds.get("profile"),
                tags=_pairs(item, "tags"),
            )
        )
    models = [
        str(m.get("model_id")) for m in param_list(p, "models") if isinstance(m, dict) and m.get("model_id")
    ]
    await write_session(request, lambda s: service.log_inputs(s, access, run_id, datasets, models))
    return json_response({})


@router.post("/runs/outputs")
async def log_outputs(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    run_id = require_str(p, "run_id")
    models: list[tuple[str, int]] = []
    for i, m in enumerate(param_list(p, "models")):
        if not isinstance(m, dict) or not m.get("model_id"):
            raise MlflowError(f"Missing value for required parameter 'models[{i}].model_id'.")
        models.append((str(m["model_id"]), param_int(m, "step", default=0) or 0))
    await write_session(request, lambda s: service.log_outputs(s, access, run_id, models))
    return json_response({})


# -- metrics ---------------------------------------------------------------------------------------


def _history_reply(points: list[service.MetricPoint], token: str | None) -> Response:
    metrics = [metric_json(p) for p in points]
    out: dict[str, Any] = {"metrics": metrics} if metrics else {}
    if token:
        out["next_page_token"] = token
    return json_response(out)


def _raw_history_reply(key: str, rows: list[history.RawPoint], token: str | None) -> Response:
    # Built in one tight loop: this reply can carry 25,000 points (the client's page size).
    metrics: list[dict[str, Any]] = []
    append = metrics.append
    for value, is_nan, timestamp, step, model_id, _ in rows:
        item: dict[str, Any] = {
            "key": key,
            "value": "NaN" if is_nan else value if math.isfinite(value) else proto_double(value),
            "timestamp": timestamp,
            "step": step,
        }
        if model_id:
            item["model_id"] = model_id
        append(item)
    out: dict[str, Any] = {"metrics": metrics} if metrics else {}
    if token:
        out["next_page_token"] = token
    return json_response(out)


@router.api_route("/metrics/get-history", methods=_BOTH)
async def get_metric_history(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    run_id, key = _run_id(p), require_str(p, "metric_key")
    max_results = param_int(p, "max_results")
    token = param_str(p, "page_token")
    rows, next_token = await read_session(
        request,
        lambda s: history.metric_history_page(
            s, access, run_id, key, max_results=max_results, page_token=token
        ),
    )
    return _raw_history_reply(key, rows, next_token)


@router.api_route("/metrics/get-history-bulk-interval", methods=_BOTH)
async def get_metric_history_bulk_interval(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request, repeated=("run_ids",))
    run_ids = [str(r) for r in param_list(p, "run_ids")]
    key = require_str(p, "metric_key")
    start_step, end_step = param_int(p, "start_step"), param_int(p, "end_step")
    max_results = param_int(p, "max_results", default=history.MAX_RESULTS_PER_RUN)
    assert max_results is not None
    points = await read_session(
        request,
        lambda s: history.metric_history_bulk_interval(
            s, access, run_ids, key, start_step=start_step, end_step=end_step, max_results=max_results
        ),
    )
    return _history_reply(points, None)


# -- server info --------------------------------------------------------------------------------------------


@server_router.get("/server-info", public=True)
async def server_info(request: Request) -> Response:
    """What MLflow 3 clients probe before using workspaces or multipart transfers (no login, as in
    MLflow: nothing in it is secret)."""
    return json_response(
        {
            "store_type": "SqlStore",
            "workspaces_enabled": True,
            "trace_archival_enabled": False,
            "multipart_uploads_enabled": True,
            "multipart_downloads_enabled": False,
            "presigned_upload_run_id_supported": False,
            "presigned_upload_model_id_supported": False,
            "features_enabled": {"gateway": False},
        }
    )


__all__ = ["experiment_json", "metric_json", "router", "run_info_json", "run_json", "server_router"]

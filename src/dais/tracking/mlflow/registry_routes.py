"""MLflow's model registry REST API (registered models, versions, tags, aliases, stages, download URIs)
over Dais's registry tables.

Paths are relative to ``/api/2.0/mlflow`` (and ``/ajax-api/2.0/mlflow``); bodies are MLflow's proto3
JSON (int64 timestamps as numbers, versions as strings, empty fields left out). A version's download
URI is ``mlflow-artifacts:/...`` so ``mlflow.pyfunc.load_model("models:/name@alias")`` fetches the
files through the facade's artifacts proxy. Each route does its database work in one thread-pool
hop and one transaction.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request, Response
from sqlalchemy.orm import Session

from dais import registry
from dais.registry import ModelVersion, ModelView, VersionView
from dais.tenancy import WorkspaceAccess
from dais.tracking import service as tracking
from dais.tracking.mlflow.common import (
    MlflowAccess,
    MlflowError,
    audit_context,
    json_response,
    mlflow_router,
    param_bool,
    param_int,
    param_list,
    param_str,
    read_params,
    read_session,
    require_str,
    write_session,
)

T = TypeVar("T")

router = mlflow_router()

_BOTH = ["GET", "POST"]


def _tags(p: dict[str, Any], name: str = "tags") -> dict[str, str]:
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


def run_resolver(s: Session, access: WorkspaceAccess) -> registry.RunArtifactResolver:
    """``run_id`` -> the run's artifact root key, for ``runs:/`` sources (404 for another workspace's)."""
    return lambda run_id: tracking.run_artifact_key(tracking.get_run(s, access, run_id))


# -- JSON shapes (proto3 JSON, as MLflow's server writes it) ----------------------------------------


def _kv(items: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in items.items()]


def version_json(v: VersionView) -> dict[str, Any]:
    row = v.row
    out: dict[str, Any] = {
        "name": v.name,
        "version": str(row.version),
        "creation_timestamp": row.creation_time,
        "last_updated_timestamp": row.last_updated_time,
        "current_stage": row.current_stage,
        "source": row.source,
        "status": row.status,
    }
    optional = {
        "user_id": row.user_id,
        "description": row.description,
        "run_id": row.run_id,
        "status_message": row.status_message,
        "run_link": row.run_link,
        "model_id": row.model_id,
    }
    out.update({k: val for k, val in optional.items() if val})
    if v.tags:
        out["tags"] = _kv(v.tags)
    if v.aliases:
        out["aliases"] = v.aliases
    return out


def model_json(m: ModelView) -> dict[str, Any]:
    row = m.row
    out: dict[str, Any] = {
        "name": row.name,
        "creation_timestamp": row.creation_time,
        "last_updated_timestamp": row.last_updated_time,
    }
    if row.user_id:
        out["user_id"] = row.user_id
    if row.description:
        out["description"] = row.description
    if m.latest_versions:
        out["latest_versions"] = [version_json(v) for v in m.latest_versions]
    if m.tags:
        out["tags"] = _kv(m.tags)
    if m.aliases:
        out["aliases"] = [{"alias": a, "version": str(n)} for a, n in m.aliases.items()]
    return out


def _model_reply(s: Session, row: registry.RegisteredModel) -> dict[str, Any]:
    return {"registered_model": model_json(registry.model_views(s, [row])[0])}


def _version_reply(s: Session, row: ModelVersion) -> dict[str, Any]:
    return {"model_version": version_json(registry.version_views(s, [row])[0])}


# -- registered models ----------------------------------------------------------------------------


@router.post("/registered-models/create")
async def create_registered_model(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    tags = _tags(p)
    description = param_str(p, "description")
    ctx = audit_context(request, access)

    def work(s: Session) -> dict[str, Any]:
        row = registry.create_registered_model(s, access, name, tags=tags, description=description, ctx=ctx)
        return _model_reply(s, row)

    return json_response(await write_session(request, work))


@router.api_route("/registered-models/get", methods=_BOTH)
async def get_registered_model(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    return json_response(
        await read_session(request, lambda s: _model_reply(s, registry.get_registered_model(s, access, name)))
    )


@router.post("/registered-models/rename")
async def rename_registered_model(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    new_name = require_str(p, "new_name")
    ctx = audit_context(request, access)

    def work(s: Session) -> dict[str, Any]:
        return _model_reply(s, registry.rename_registered_model(s, access, name, new_name, ctx=ctx))

    return json_response(await write_session(request, work))


@router.patch("/registered-models/update")
async def update_registered_model(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    description = param_str(p, "description")
    ctx = audit_context(request, access)

    def work(s: Session) -> dict[str, Any]:
        return _model_reply(s, registry.update_registered_model(s, access, name, description, ctx=ctx))

    return json_response(await write_session(request, work))


@router.delete("/registered-models/delete")
async def delete_registered_model(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    ctx = audit_context(request, access)
    await write_session(request, lambda s: registry.delete_registered_model(s, access, name, ctx=ctx))
    return json_response({})


@router.api_route("/registered-models/search", methods=_BOTH)
async def search_registered_models(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request, repeated=("order_by",))
    filter_ = param_str(p, "filter")
    max_results = param_int(p, "max_results")
    order_by = [str(o) for o in param_list(p, "order_by")]
    token = param_str(p, "page_token")

    def work(s: Session) -> dict[str, Any]:
        rows, next_token = registry.search_registered_models(
            s, access, filter=filter_, max_results=max_results, order_by=order_by, page_token=token
        )
        out: dict[str, Any] = {}
        if rows:
            out["registered_models"] = [model_json(m) for m in registry.model_views(s, rows)]
        if next_token:
            out["next_page_token"] = next_token
        return out

    return json_response(await read_session(request, work))


@router.api_route("/registered-models/get-latest-versions", methods=_BOTH)
async def get_latest_versions(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request, repeated=("stages",))
    name = require_str(p, "name")
    stages = [str(x) for x in param_list(p, "stages")]

    def work(s: Session) -> dict[str, Any]:
        rows = registry.get_latest_versions(s, access, name, stages)
        return {"model_versions": [version_json(v) for v in registry.version_views(s, rows)]} if rows else {}

    return json_response(await read_session(request, work))


@router.post("/registered-models/set-tag")
async def set_registered_model_tag(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    key = require_str(p, "key")
    value = param_str(p, "value", default="") or ""
    await write_session(request, lambda s: registry.set_registered_model_tag(s, access, name, key, value))
    return json_response({})


@router.delete("/registered-models/delete-tag")
async def delete_registered_model_tag(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    key = require_str(p, "key")
    await write_session(request, lambda s: registry.delete_registered_model_tag(s, access, name, key))
    return json_response({})


# -- aliases --------------------------------------------------------------------------------------


@router.post("/registered-models/alias")
async def set_alias(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    alias = require_str(p, "alias")
    version = require_str(p, "version")
    ctx = audit_context(request, access)
    await write_session(request, lambda s: registry.set_alias(s, access, name, alias, version, ctx=ctx))
    return json_response({})


@router.delete("/registered-models/alias")
async def delete_alias(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    alias = require_str(p, "alias")
    ctx = audit_context(request, access)
    await write_session(request, lambda s: registry.delete_alias(s, access, name, alias, ctx=ctx))
    return json_response({})


@router.get("/registered-models/alias")
async def get_version_by_alias(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    alias = require_str(p, "alias")
    return json_response(
        await read_session(
            request, lambda s: _version_reply(s, registry.get_version_by_alias(s, access, name, alias))
        )
    )


# -- versions -------------------------------------------------------------------------------------


@router.post("/model-versions/create")
async def create_model_version(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    source = require_str(p, "source")
    run_id = param_str(p, "run_id")
    model_id = param_str(p, "model_id")
    tags = _tags(p)
    run_link = param_str(p, "run_link")
    description = param_str(p, "description")
    ctx = audit_context(request, access)

    def work(s: Session) -> dict[str, Any]:
        row = registry.create_model_version(
            s,
            access,
            name,
            source,
            run_id=run_id,
            tags=tags,
            run_link=run_link,
            description=description,
            model_id=model_id,
            resolve_run=run_resolver(s, access),
            ctx=ctx,
        )
        return _version_reply(s, row)

    return json_response(await write_session(request, work))


@router.api_route("/model-versions/get", methods=_BOTH)
async def get_model_version(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    version = require_str(p, "version")
    return json_response(
        await read_session(
            request, lambda s: _version_reply(s, registry.get_model_version(s, access, name, version))
        )
    )


@router.patch("/model-versions/update")
async def update_model_version(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    version = require_str(p, "version")
    description = param_str(p, "description")

    def work(s: Session) -> dict[str, Any]:
        return _version_reply(s, registry.update_model_version(s, access, name, version, description))

    return json_response(await write_session(request, work))


@router.delete("/model-versions/delete")
async def delete_model_version(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    version = require_str(p, "version")
    ctx = audit_context(request, access)
    await write_session(request, lambda s: registry.delete_model_version(s, access, name, version, ctx=ctx))
    return json_response({})


@router.post("/model-versions/transition-stage")
async def transition_stage(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    version = require_str(p, "version")
    stage = require_str(p, "stage")
    archive = param_bool(p, "archive_existing_versions")
    ctx = audit_context(request, access)

    def work(s: Session) -> dict[str, Any]:
        row = registry.transition_stage(
            s, access, name, version, stage, archive_existing_versions=archive, ctx=ctx
        )
        return _version_reply(s, row)

    return json_response(await write_session(request, work))


@router.api_route("/model-versions/search", methods=_BOTH)
async def search_model_versions(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request, repeated=("order_by",))
    filter_ = param_str(p, "filter")
    max_results = param_int(p, "max_results")
    order_by = [str(o) for o in param_list(p, "order_by")]
    token = param_str(p, "page_token")

    def work(s: Session) -> dict[str, Any]:
        rows, next_token = registry.search_model_versions(
            s, access, filter=filter_, max_results=max_results, order_by=order_by, page_token=token
        )
        out: dict[str, Any] = {}
        if rows:
            out["model_versions"] = [version_json(v) for v in registry.version_views(s, rows)]
        if next_token:
            out["next_page_token"] = next_token
        return out

    return json_response(await read_session(request, work))


@router.api_route("/model-versions/get-download-uri", methods=_BOTH)
async def get_download_uri(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    version = require_str(p, "version")
    uri = await read_session(request, lambda s: registry.download_uri(s, access, name, version))
    return json_response({"artifact_uri": uri})


@router.post("/model-versions/set-tag")
async def set_model_version_tag(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    version = require_str(p, "version")
    key = require_str(p, "key")
    value = param_str(p, "value", default="") or ""
    await write_session(
        request, lambda s: registry.set_model_version_tag(s, access, name, version, key, value)
    )
    return json_response({})


@router.delete("/model-versions/delete-tag")
async def delete_model_version_tag(request: Request, access: MlflowAccess) -> Response:
    p = await read_params(request)
    name = require_str(p, "name")
    version = require_str(p, "version")
    key = require_str(p, "key")
    await write_session(request, lambda s: registry.delete_model_version_tag(s, access, name, version, key))
    return json_response({})

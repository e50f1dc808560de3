"""Model versions: register one from a source URI (resolved to a key in the workspace's artifacts),
read, describe, tag, delete, search, legacy stage transitions, version by alias, and the
``mlflow-artifacts:/`` URI MLflow clients download a version from.

A version's ``source`` is resolved once, when it is registered, to ``storage_key``; the MLflow
facade serves it as ``mlflow-artifacts:/<key without the mlflow/ prefix>`` through its artifacts proxy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import ColumnElement, delete, exists, func, select, update
from sqlalchemy.orm import Session

from dais.core.errors import DaisError
from dais.registry.errors import (
    LoggedModelNotFound,
    ModelVersionNotFound,
    RegistryInvalid,
)
from dais.registry.models import (
    LoggedModel,
    ModelAlias,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
)
from dais.registry.search import (
    all_of,
    compare,
    parse_filter,
    parse_order_by,
)
from dais.registry.service import (
    ACTIVE_STAGES,
    MLFLOW_ARTIFACTS_PREFIX,
    PROMPT_TAG,
    STAGES,
    VERSIONS_GRAMMAR,
    VERSIONS_MAX_RESULTS,
    RunArtifactResolver,
    audit,
    canonical_stage,
    checked_max_results,
    get_registered_model,
    now_ms,
    page_of,
    parse_version,
    prompt_filter,
    record_alias_move,
    require_editor,
    tag_clause,
    upsert_tag,
    validate_alias,
    validate_tag,
)
from dais.storage import safe_key
from dais.tenancy import AuditContext, WorkspaceAccess


def get_model_version(
    session: Session, access: WorkspaceAccess, name: str, version: str | int
) -> ModelVersion:
    number = parse_version(version)
    model = get_registered_model(session, access, name)
    row = session.scalar(
        select(ModelVersion).where(
            ModelVersion.registered_model_id == model.id, ModelVersion.version == number
        )
    )
    if row is None:
        raise ModelVersionNotFound(f"Model Version (name={name}, version={number}) not found")
    return row


def artifact_key_for_uri(uri: str) -> str:
    """The workspace key of an ``mlflow-artifacts:`` URI (``mlflow-artifacts:/1/r/artifacts/m`` ->
    ``mlflow/1/r/artifacts/m``); the host part of ``mlflow-artifacts://host/...`` is ignored."""
    parsed = urlparse(uri)
    if parsed.scheme != "mlflow-artifacts":
        raise RegistryInvalid(f"Not an mlflow-artifacts URI: '{uri}'.")
    return safe_storage_key(MLFLOW_ARTIFACTS_PREFIX + parsed.path.strip("/"), uri)


def download_uri_for_key(storage_key: str) -> str:
    """The ``mlflow-artifacts:/`` URI of a workspace key under ``mlflow/``."""
    if not storage_key.startswith(MLFLOW_ARTIFACTS_PREFIX):
        raise RegistryInvalid(
            f"The package at '{storage_key}' is not under the MLflow artifacts area; it cannot be "
            "downloaded through the MLflow artifacts proxy."
        )
    return "mlflow-artifacts:/" + storage_key[len(MLFLOW_ARTIFACTS_PREFIX) :]


def safe_storage_key(key: str, uri: str) -> str:
    try:
        return safe_key(key.rstrip("/"))
    except DaisError as exc:
        raise RegistryInvalid(f"Invalid model source '{uri}': {exc.detail}") from exc


@dataclass
class ResolvedSource:
    storage_key: str
    run_id: str | None = None
    model_id: str | None = None


def resolve_source(
    session: Session, access: WorkspaceAccess, source: str, *, resolve_run: RunArtifactResolver | None = None
) -> ResolvedSource:
    """Where the package named by ``source`` lies in the workspace's artifacts.

    ``runs:/<run_id>/<path>``, ``mlflow-artifacts:/<path>``, ``models:/<logged model id>``,
    ``models:/<name>/<version>``, ``models:/<name>@<alias>``; anything else -> RegistryInvalid.
    """
    if not source:
        raise RegistryInvalid("Missing value for required parameter 'source'.")
    parsed = urlparse(source)
    if parsed.scheme == "mlflow-artifacts":
        return ResolvedSource(artifact_key_for_uri(source))
    if parsed.scheme == "runs":
        run_id, _, path = parsed.path.strip("/").partition("/")
        if not run_id or parsed.netloc:
            raise RegistryInvalid(f"Invalid runs URI '{source}': use runs:/<run_id>/<path>.")
        if resolve_run is None:
            raise RegistryInvalid("A runs:/ source cannot be resolved here; register from the run's URI.")
        root = resolve_run(run_id)
        return ResolvedSource(safe_storage_key(f"{root}/{path}" if path else root, source), run_id=run_id)
    if parsed.scheme == "models":
        parts = parsed.path.strip("/").split("/")
        if parsed.netloc or not parts[0] or len(parts) > 2:
            raise RegistryInvalid(f"Invalid models URI '{source}'.")
        if len(parts) == 1 and "@" not in parts[0]:
            logged = session.scalar(
                select(LoggedModel).where(
                    LoggedModel.workspace_id == access.workspace.id,
                    LoggedModel.id == parts[0],
                    LoggedModel.lifecycle_stage == "active",
                )
            )
            if logged is None:
                raise LoggedModelNotFound(f"Logged model with ID '{parts[0]}' not found.")
            return ResolvedSource(
                artifact_key_for_uri(logged.artifact_location),
                run_id=logged.source_run_id,
                model_id=logged.id,
            )
        version = resolve_models_uri(session, access, source)
        if version.storage_key is None:
            raise RegistryInvalid(f"The model version named by '{source}' has no package to copy.")
        return ResolvedSource(version.storage_key, run_id=version.run_id, model_id=version.model_id)
    raise RegistryInvalid(
        f"Unsupported model source '{source}': give a runs:/, models:/ or mlflow-artifacts:/ URI."
    )


def resolve_models_uri(session: Session, access: WorkspaceAccess, uri: str) -> ModelVersion:
    """The version ``models:/<name>/<version|stage|latest>`` or ``models:/<name>@<alias>`` names."""
    parts = urlparse(uri).path.strip("/").split("/")
    if len(parts) == 1 and "@" in parts[0]:
        name, _, alias = parts[0].rpartition("@")
        return get_version_by_alias(session, access, name, alias)
    if len(parts) != 2:
        raise RegistryInvalid(
            f"Invalid models URI '{uri}': use models:/<name>/<version> or models:/<name>@<alias>."
        )
    name, ref = parts
    if ref.isdigit():
        return get_model_version(session, access, name, ref)
    stages = None if ref.lower() == "latest" else [ref]
    latest = get_latest_versions(session, access, name, stages)
    if not latest:
        raise ModelVersionNotFound(f"No version of model '{name}' matches '{ref}'.")
    return max(latest, key=lambda v: v.version)


def create_model_version(
    session: Session,
    access: WorkspaceAccess,
    name: str,
    source: str,
    *,
    run_id: str | None = None,
    tags: dict[str, str] | None = None,
    run_link: str | None = None,
    description: str | None = None,
    model_id: str | None = None,
    resolve_run: RunArtifactResolver | None = None,
    storage_key: str | None = None,
    runtime: str | None = None,
    signature: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    dataset_versions: list[Any] | None = None,
    ctx: AuditContext | None = None,
) -> ModelVersion:
    """A new version of ``name`` (status READY): its source resolved to a workspace artifact key.

    ``storage_key`` skips resolution (a package Dais itself uploaded); ``run_id`` and ``model_id``
    default to what the source names.
    """
    require_editor(access)
    checked = [validate_tag(k, v) for k, v in (tags or {}).items()]
    model = get_registered_model(session, access, name)
    if storage_key is not None:
        resolved = ResolvedSource(safe_storage_key(storage_key, storage_key))
    else:
        resolved = resolve_source(session, access, source, resolve_run=resolve_run)
    # The request's run_id / model_id must agree with what the source itself names (as MLflow checks).
    for given, found, what in (
        (run_id, resolved.run_id, "run_id"),
        (model_id, resolved.model_id, "model_id"),
    ):
        names_it = source.startswith("runs:") if what == "run_id" else source.startswith("models:")
        if names_it and given and found and given != found:
            raise RegistryInvalid(
                f"Invalid model version source: '{source}'. The {what} request parameter ('{given}') does "
                f"not match the source's ('{found}')."
            )
    if model_id and not resolved.model_id:
        resolved.model_id = model_id
    t = now_ms()
    number = session.execute(
        update(RegisteredModel)
        .where(RegisteredModel.id == model.id)
        .values(last_version=RegisteredModel.last_version + 1, last_updated_time=t)
        .returning(RegisteredModel.last_version)
    ).scalar_one()
    session.refresh(model)
    user = access.principal.user
    row = ModelVersion(
        workspace_id=access.workspace.id,
        registered_model_id=model.id,
        version=number,
        source=source,
        run_id=run_id or resolved.run_id,
        run_link=run_link or None,
        status="READY",
        description=description or None,
        current_stage="None",
        storage_key=resolved.storage_key,
        model_id=model_id or resolved.model_id,
        runtime=runtime,
        signature=signature,
        metrics=metrics,
        dataset_versions=dataset_versions,
        creation_time=t,
        last_updated_time=t,
        user_id=user.username,
        created_by=user.id,
    )
    session.add(row)
    session.flush()
    session.add_all(ModelVersionTag(version_id=row.id, key=k, value=v) for k, v in checked)
    session.flush()
    audit(
        session,
        access,
        ctx,
        "registry.version.create",
        model.id,
        {"name": name, "version": number, "source": source},
    )
    return row


def update_model_version(
    session: Session, access: WorkspaceAccess, name: str, version: str | int, description: str | None
) -> ModelVersion:
    require_editor(access)
    row = get_model_version(session, access, name, version)
    row.description = description or None
    row.last_updated_time = now_ms()
    session.flush()
    return row


def delete_model_version(
    session: Session,
    access: WorkspaceAccess,
    name: str,
    version: str | int,
    *,
    ctx: AuditContext | None = None,
) -> None:
    """Delete a version, its tags, and the aliases pointing at it (their removal is recorded)."""
    require_editor(access)
    row = get_model_version(session, access, name, version)
    t = now_ms()
    for alias in session.scalars(
        select(ModelAlias).where(
            ModelAlias.registered_model_id == row.registered_model_id, ModelAlias.version == row.version
        )
    ):
        record_alias_move(session, access, ctx, row.registered_model_id, alias.alias, alias.version, None, t)
        session.delete(alias)
    session.execute(delete(ModelVersionTag).where(ModelVersionTag.version_id == row.id))
    session.delete(row)
    session.execute(
        update(RegisteredModel)
        .where(RegisteredModel.id == row.registered_model_id)
        .values(last_updated_time=t)
    )
    session.flush()
    audit(
        session,
        access,
        ctx,
        "registry.version.delete",
        row.registered_model_id,
        {"name": name, "version": row.version},
    )


def set_model_version_tag(
    session: Session, access: WorkspaceAccess, name: str, version: str | int, key: str, value: str
) -> None:
    require_editor(access)
    key, value = validate_tag(key, value)
    row = get_model_version(session, access, name, version)
    upsert_tag(session, ModelVersionTag, ModelVersionTag.version_id, row.id, key, value)
    row.last_updated_time = now_ms()
    session.flush()


def delete_model_version_tag(
    session: Session, access: WorkspaceAccess, name: str, version: str | int, key: str
) -> None:
    require_editor(access)
    if not key:
        raise RegistryInvalid("Missing value for required parameter 'key'.")
    row = get_model_version(session, access, name, version)
    session.execute(
        delete(ModelVersionTag).where(ModelVersionTag.version_id == row.id, ModelVersionTag.key == key)
    )
    session.flush()


def transition_stage(
    session: Session,
    access: WorkspaceAccess,
    name: str,
    version: str | int,
    stage: str,
    *,
    archive_existing_versions: bool = False,
    ctx: AuditContext | None = None,
) -> ModelVersion:
    """MLflow's legacy stage transition (aliases replace stages; both work)."""
    require_editor(access)
    target = canonical_stage(stage)
    if archive_existing_versions and target not in ACTIVE_STAGES:
        raise RegistryInvalid(
            f"Model version transition cannot archive existing model versions because '{stage}' is not "
            f"an Active stage. Valid stages are {list(ACTIVE_STAGES)}"
        )
    row = get_model_version(session, access, name, version)
    t = now_ms()
    if archive_existing_versions:
        session.execute(
            update(ModelVersion)
            .where(
                ModelVersion.registered_model_id == row.registered_model_id,
                ModelVersion.version != row.version,
                ModelVersion.current_stage == target,
            )
            .values(current_stage="Archived", last_updated_time=t)
        )
    row.current_stage = target
    row.last_updated_time = t
    session.execute(
        update(RegisteredModel)
        .where(RegisteredModel.id == row.registered_model_id)
        .values(last_updated_time=t)
    )
    session.flush()
    audit(
        session,
        access,
        ctx,
        "registry.version.stage",
        row.registered_model_id,
        {"name": name, "version": row.version, "stage": target},
    )
    return row


def get_latest_versions(
    session: Session, access: WorkspaceAccess, name: str, stages: Iterable[str] | None = None
) -> list[ModelVersion]:
    """The newest version in each of ``stages`` (all stages when none are given)."""
    wanted = {canonical_stage(s) for s in stages or []} or set(STAGES)
    model = get_registered_model(session, access, name)
    latest = (
        select(ModelVersion.current_stage, func.max(ModelVersion.version).label("version"))
        .where(ModelVersion.registered_model_id == model.id, ModelVersion.current_stage.in_(wanted))
        .group_by(ModelVersion.current_stage)
        .subquery()
    )
    return list(
        session.scalars(
            select(ModelVersion)
            .join(latest, ModelVersion.version == latest.c.version)
            .where(ModelVersion.registered_model_id == model.id)
            .order_by(ModelVersion.version)
        )
    )


def search_model_versions(
    session: Session,
    access: WorkspaceAccess,
    *,
    filter: str | None = None,
    max_results: int | None = None,
    order_by: list[str] | None = None,
    page_token: str | None = None,
) -> tuple[list[ModelVersion], str | None]:
    """MLflow's SearchModelVersions: ``name = 'x'``, ``run_id = 'y'``, ``tags.k = 'v'``, ..."""
    limit = checked_max_results(max_results, 10_000, VERSIONS_MAX_RESULTS)
    comps, exclude_prompts = prompt_filter(parse_filter(filter, VERSIONS_GRAMMAR))
    ordering = parse_order_by(order_by, VERSIONS_GRAMMAR)
    dialect = session.get_bind().dialect.name
    columns: dict[str, Any] = {
        "name": RegisteredModel.name,
        "run_id": ModelVersion.run_id,
        "source_path": ModelVersion.source,
        "version_number": ModelVersion.version,
        "creation_timestamp": ModelVersion.creation_time,
        "last_updated_timestamp": ModelVersion.last_updated_time,
    }
    clauses: list[ColumnElement[bool]] = [ModelVersion.workspace_id == access.workspace.id]
    for c in comps:
        if c.entity == "attribute":
            clauses.append(compare(columns[c.key], c.op, c.value, dialect))
        else:
            clauses.append(
                tag_clause(ModelVersionTag, ModelVersionTag.version_id, ModelVersion.id, c, dialect)
            )
    if exclude_prompts:
        clauses.append(
            ~exists().where(
                RegisteredModelTag.model_id == ModelVersion.registered_model_id,
                RegisteredModelTag.key == PROMPT_TAG,
                RegisteredModelTag.value == "true",
            )
        )
    order: list[Any] = [columns[k].asc() if asc else columns[k].desc() for k, asc in ordering]
    if not any(k == "name" for k, _ in ordering):
        order.append(RegisteredModel.name.asc())
    if not any(k == "version_number" for k, _ in ordering):
        order.append(ModelVersion.version.desc())
    query = (
        select(ModelVersion)
        .join(RegisteredModel, RegisteredModel.id == ModelVersion.registered_model_id)
        .where(all_of(clauses))
        .order_by(*order)
    )
    return page_of(session, query, limit, page_token)


def download_uri(session: Session, access: WorkspaceAccess, name: str, version: str | int) -> str:
    """Where MLflow clients download the version's files: ``mlflow-artifacts:/...``."""
    row = get_model_version(session, access, name, version)
    if row.storage_key is None:
        raise RegistryInvalid(f"Model version {name}/{row.version} has no stored package.")
    return download_uri_for_key(row.storage_key)


def get_version_by_alias(session: Session, access: WorkspaceAccess, name: str, alias: str) -> ModelVersion:
    """The version ``alias`` names (``latest``: the highest version)."""
    validate_alias(alias)
    if alias.lower() == "latest":
        versions = get_latest_versions(session, access, name)
        if not versions:
            raise ModelVersionNotFound(f"Latest version not found for model {name}.")
        return max(versions, key=lambda v: v.version)
    model = get_registered_model(session, access, name)
    current = session.get(ModelAlias, (model.id, alias))
    if current is None:
        raise RegistryInvalid(f"Registered model alias {alias} not found.")
    row = session.scalar(
        select(ModelVersion).where(
            ModelVersion.registered_model_id == model.id, ModelVersion.version == current.version
        )
    )
    if row is None:
        raise ModelVersionNotFound(f"Model Version (name={name}, version={current.version}) not found")
    return row

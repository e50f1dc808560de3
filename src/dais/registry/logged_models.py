"""MLflow 3 logged models: a model package logged in an experiment (``mlflow.<flavor>.log_model``
creates one PENDING, uploads its files, then finalizes it READY or FAILED), with tags and params.

The registry keeps them because a version registered from ``models:/<model id>`` points at one.
Experiment ids are validated by the caller (tracking sits above the registry); a logged model's files
live at ``mlflow-artifacts:/<experiment_id>/models/<model_id>/artifacts``.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from dais.registry.errors import LoggedModelNotFound, RegistryInvalid
from dais.registry.models import LoggedModel, LoggedModelParam, LoggedModelTag, ModelVersion, RegisteredModel
from dais.registry.search import (
    Comparison,
    Grammar,
    all_of,
    compare,
    decode_page_token,
    encode_page_token,
    parse_filter,
)
from dais.registry.service import audit, now_ms, require_editor
from dais.tenancy import AuditContext, WorkspaceAccess

STATUSES = ("PENDING", "READY", "FAILED")
MAX_RESULTS = 1000
MAX_NAME_LENGTH = 500
MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000

GRAMMAR = Grammar(
    string_attributes=frozenset({"name", "model_id", "model_type", "status", "source_run_id"}),
    numeric_attributes=frozenset({"creation_timestamp", "last_updated_timestamp"}),
    entities=frozenset({"attribute", "tag", "param", "metric"}),
    order_keys=frozenset(
        {
            "name",
            "model_id",
            "model_type",
            "status",
            "source_run_id",
            "creation_timestamp",
            "last_updated_timestamp",
        }
    ),
    aliases={
        "creation_time": "creation_timestamp",
        "last_updated_time": "last_updated_timestamp",
        "run_id": "source_run_id",
    },
)
_COLUMNS = {
    "name": LoggedModel.name,
    "model_id": LoggedModel.id,
    "model_type": LoggedModel.model_type,
    "status": LoggedModel.status,
    "source_run_id": LoggedModel.source_run_id,
    "creation_timestamp": LoggedModel.creation_timestamp,
    "last_updated_timestamp": LoggedModel.last_updated_timestamp,
}

#: ``(metric key, comparator, value)`` -> a SQL condition on ``LoggedModel.id`` (an EXISTS over the
#: metrics logged for the model). Supplied by tracking, which keeps metrics.
MetricCondition = Callable[[str, str, float], ColumnElement[bool]]

_ADJECTIVES = (
    "able", "bold", "brave", "bright", "calm", "clever", "crisp", "eager", "fair", "gentle",
    "glad", "keen", "kind", "lively", "lucky", "merry", "neat", "proud", "quick", "quiet",
    "sharp", "smart", "steady", "sunny", "swift", "tidy", "warm", "wise",
)  # fmt: skip
_NOUNS = (
    "ant", "bass", "bear", "crane", "deer", "dove", "eel", "finch", "fox", "frog", "hawk",
    "heron", "lark", "lynx", "mole", "moth", "newt", "owl", "panda", "quail", "robin", "seal",
    "snail", "swan", "toad", "wolf", "wren", "yak",
)  # fmt: skip


def random_name() -> str:
    """A friendly default name, like MLflow's (``brave-owl-417``)."""
    rng = random.SystemRandom()
    return f"{rng.choice(_ADJECTIVES)}-{rng.choice(_NOUNS)}-{rng.randint(100, 999)}"


def normalize_status(status: str | int | None) -> str:
    """MLflow's enum (``LOGGED_MODEL_READY``, its number) or ours (``READY``) -> ours."""
    numbers = {1: "PENDING", 2: "READY", 3: "FAILED"}
    if isinstance(status, int):
        value = numbers.get(status)
    else:
        text = (status or "").upper().removeprefix("LOGGED_MODEL_")
        value = "FAILED" if text == "UPLOAD_FAILED" else text
    if value not in STATUSES:
        raise RegistryInvalid(f"Invalid logged model status '{status}': use READY or FAILED (or PENDING).")
    return value


@dataclass
class LoggedModelView:
    """A logged model with its tags, params and the registered versions made from it."""

    row: LoggedModel
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    registrations: list[tuple[str, int]] = field(default_factory=list)


def logged_model_views(session: Session, rows: Sequence[LoggedModel]) -> list[LoggedModelView]:
    if not rows:
        return []
    ids = [r.id for r in rows]
    views = {r.id: LoggedModelView(row=r) for r in rows}
    for mid, key, value in session.execute(
        select(LoggedModelTag.model_id, LoggedModelTag.key, LoggedModelTag.value).where(
            LoggedModelTag.model_id.in_(ids)
        )
    ):
        views[mid].tags[key] = value
    for mid, key, value in session.execute(
        select(LoggedModelParam.model_id, LoggedModelParam.key, LoggedModelParam.value).where(
            LoggedModelParam.model_id.in_(ids)
        )
    ):
        views[mid].params[key] = value
    for version_model_id, name, version in session.execute(
        select(ModelVersion.model_id, RegisteredModel.name, ModelVersion.version)
        .join(RegisteredModel, RegisteredModel.id == ModelVersion.registered_model_id)
        .where(ModelVersion.model_id.in_(ids))
        .order_by(RegisteredModel.name, ModelVersion.version)
    ):
        if version_model_id is not None:
            views[version_model_id].registrations.append((name, version))
    return [views[i] for i in ids]


def _check_key(key: str | None, what: str) -> str:
    if not key:
        raise RegistryInvalid(f"Missing value for required parameter '{what}'.")
    if len(key) > MAX_KEY_LENGTH:
        raise RegistryInvalid(
            f"{what.capitalize()} '{key[:40]}...' exceeds the maximum length of {MAX_KEY_LENGTH}."
        )
    return key


def _checked(items: dict[str, str] | None, what: str, max_value: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (items or {}).items():
        _check_key(key, f"{what} key")
        value = "" if value is None else str(value)
        if len(value) > max_value:
            raise RegistryInvalid(f"The value of {what} '{key}' exceeds the maximum length of {max_value}.")
        out[key] = value
    return out


def create_logged_model(
    session: Session,
    access: WorkspaceAccess,
    experiment_id: int,
    *,
    name: str | None = None,
    source_run_id: str | None = None,
    model_type: str | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    ctx: AuditContext | None = None,
) -> LoggedModel:
    """A new PENDING logged model in ``experiment_id`` (an active experiment the caller checked)."""
    require_editor(access)
    if name is not None and (not name.strip() or "/" in name or ":" in name or len(name) > MAX_NAME_LENGTH):
        raise RegistryInvalid(
            f"Invalid logged model name '{name}': no '/' or ':', 1 to {MAX_NAME_LENGTH} characters."
        )
    checked_params = _checked(params, "param", MAX_PARAM_VALUE_LENGTH)
    checked_tags = _checked(tags, "tag", MAX_TAG_VALUE_LENGTH)
    model_id = f"m-{uuid.uuid4().hex}"
    t = now_ms()
    row = LoggedModel(
        id=model_id,
        workspace_id=access.workspace.id,
        experiment_id=int(experiment_id),
        name=name or random_name(),
        source_run_id=source_run_id or None,
        status="PENDING",
        artifact_location=f"mlflow-artifacts:/{int(experiment_id)}/models/{model_id}/artifacts",
        model_type=model_type or None,
        creation_timestamp=t,
        last_updated_timestamp=t,
        lifecycle_stage="active",
        created_by=access.principal.user.id,
    )
    session.add(row)
    session.flush()
    session.add_all(LoggedModelParam(model_id=model_id, key=k, value=v) for k, v in checked_params.items())
    session.add_all(LoggedModelTag(model_id=model_id, key=k, value=v) for k, v in checked_tags.items())
    session.flush()
    record = {"name": row.name, "experiment_id": row.experiment_id}
    audit(session, access, ctx, "registry.logged_model.create", model_id, record, target_type="logged_model")
    return row


def get_logged_model(
    session: Session, access: WorkspaceAccess, model_id: str, *, allow_deleted: bool = False
) -> LoggedModel:
    row = session.scalar(
        select(LoggedModel).where(LoggedModel.workspace_id == access.workspace.id, LoggedModel.id == model_id)
    )
    if row is None or (row.lifecycle_stage == "deleted" and not allow_deleted):
        raise LoggedModelNotFound(f"Logged model with ID '{model_id}' not found.")
    return row


def finalize_logged_model(
    session: Session, access: WorkspaceAccess, model_id: str, status: str | int, *, message: str | None = None
) -> LoggedModel:
    require_editor(access)
    row = get_logged_model(session, access, model_id)
    row.status = normalize_status(status)
    row.status_message = message
    row.last_updated_timestamp = now_ms()
    session.flush()
    return row


def delete_logged_model(
    session: Session, access: WorkspaceAccess, model_id: str, *, ctx: AuditContext | None = None
) -> None:
    """Mark deleted (MLflow keeps the row; its files stay until garbage collection)."""
    require_editor(access)
    row = get_logged_model(session, access, model_id)
    row.lifecycle_stage = "deleted"
    row.last_updated_timestamp = now_ms()
    session.flush()
    audit(
        session,
        access,
        ctx,
        "registry.logged_model.delete",
        model_id,
        {"name": row.name},
        target_type="logged_model",
    )


def set_logged_model_tags(
    session: Session, access: WorkspaceAccess, model_id: str, tags: dict[str, str]
) -> None:
    require_editor(access)
    row = get_logged_model(session, access, model_id)
    checked = _checked(tags, "tag", MAX_TAG_VALUE_LENGTH)
    existing = {
        t.key: t
        for t in session.scalars(
            select(LoggedModelTag).where(LoggedModelTag.model_id == row.id, LoggedModelTag.key.in_(checked))
        )
    }
    for key, value in checked.items():
        if key in existing:
            existing[key].value = value
        else:
            session.add(LoggedModelTag(model_id=row.id, key=key, value=value))
    row.last_updated_timestamp = now_ms()
    session.flush()


def delete_logged_model_tag(session: Session, access: WorkspaceAccess, model_id: str, key: str) -> None:
    require_editor(access)
    row = get_logged_model(session, access, model_id)
    tag = session.get(LoggedModelTag, (row.id, key))
    if tag is None:
        raise LoggedModelNotFound(f"No tag with key {key!r} found for model with ID {model_id!r}.")
    session.delete(tag)
    row.last_updated_timestamp = now_ms()
    session.flush()


def log_logged_model_params(
    session: Session, access: WorkspaceAccess, model_id: str, params: dict[str, str]
) -> None:
    """Add params; logging a key again with the same value is a no-op, with another value an error."""
    require_editor(access)
    row = get_logged_model(session, access, model_id)
    checked = _checked(params, "param", MAX_PARAM_VALUE_LENGTH)
    existing: dict[str, str] = {
        row.key: row.value
        for row in session.execute(
            select(LoggedModelParam.key, LoggedModelParam.value).where(
                LoggedModelParam.model_id == row.id, LoggedModelParam.key.in_(checked)
            )
        )
    }
    for key, value in checked.items():
        if key in existing:
            if existing[key] != value:
                raise RegistryInvalid(
                    f"Changing param values is not allowed. Param with key='{key}' was already logged "
                    f"with value='{existing[key]}' for model ID='{model_id}'. Attempted logging new "
                    f"value '{value}'."
                )
            continue
        session.add(LoggedModelParam(model_id=row.id, key=key, value=value))
    session.flush()


def _condition(comp: Comparison, dialect: str, metric: MetricCondition | None) -> ColumnElement[bool]:
    if comp.entity == "attribute":
        value = comp.value
        if comp.key == "status" and isinstance(value, str) and comp.op in ("=", "!="):
            value = normalize_status(value)
        return compare(_COLUMNS[comp.key], comp.op, value, dialect)
    if comp.entity == "metric":
        if metric is None:
            raise RegistryInvalid("Filtering logged models by metrics is not available on this server.")
        assert isinstance(comp.value, (int, float))
        return metric(comp.key, comp.op, float(comp.value))
    table = LoggedModelTag if comp.entity == "tag" else LoggedModelParam
    return exists().where(
        table.model_id == LoggedModel.id,
        table.key == comp.key,
        compare(table.value, comp.op, comp.value, dialect),
    )


def search_logged_models(
    session: Session,
    access: WorkspaceAccess,
    experiment_ids: Sequence[int],
    *,
    filter: str | None = None,
    order_by: Sequence[tuple[str, bool]] = (),
    max_results: int | None = None,
    page_token: str | None = None,
    metric_condition: MetricCondition | None = None,
) -> tuple[list[LoggedModel], str | None]:
    """MLflow's SearchLoggedModels over the given experiments (active models only).

    ``order_by`` holds ``(field_name, ascending)`` pairs of attributes.
    """
    limit = max_results or 100
    if limit < 0 or limit > MAX_RESULTS:
        raise RegistryInvalid(
            f"Invalid value for max_results: it must be at most {MAX_RESULTS}, got {limit}."
        )
    dialect = session.get_bind().dialect.name
    clauses = [
        LoggedModel.workspace_id == access.workspace.id,
        LoggedModel.experiment_id.in_([int(e) for e in experiment_ids]),
        LoggedModel.lifecycle_stage == "active",
    ]
    clauses += [_condition(c, dialect, metric_condition) for c in parse_filter(filter, GRAMMAR)]
    order: list[Any] = []
    for field_name, ascending in order_by:
        key = GRAMMAR.aliases.get(
            field_name.removeprefix("attributes."), field_name.removeprefix("attributes.")
        )
        if key not in _COLUMNS:
            raise RegistryInvalid(
                f"Invalid order_by field '{field_name}': logged models order by {sorted(GRAMMAR.order_keys)}."
            )
        order.append(_COLUMNS[key].asc() if ascending else _COLUMNS[key].desc())
    order += [LoggedModel.creation_timestamp.desc(), LoggedModel.id]
    offset = decode_page_token(page_token)
    rows = list(
        session.scalars(
            select(LoggedModel).where(all_of(clauses)).order_by(*order).offset(offset).limit(limit + 1)
        )
    )
    token = encode_page_token(offset + limit) if len(rows) > limit else None
    return rows[:limit], token

"""Registry operations with MLflow's semantics: registered models (create, read, rename, describe,
delete, tags, search) and the checks and audit helpers the version and alias operations share.

Every function takes the session and the caller's :class:`~dais.tenancy.WorkspaceAccess`, reads and
writes only that workspace's rows (another workspace's model answers exactly like a missing one),
checks the role for changes (editor), flushes and never commits. Versions live in
:mod:`dais.registry.versions`, aliases in :mod:`dais.registry.aliases`, logged models in
:mod:`dais.registry.logged_models`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dais.core.errors import PermissionDenied
from dais.registry.errors import (
    RegisteredModelExists,
    RegisteredModelNotFound,
    RegistryInvalid,
)
from dais.registry.models import (
    ModelAlias,
    ModelAliasEvent,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
)
from dais.registry.search import (
    Comparison,
    Grammar,
    all_of,
    compare,
    decode_page_token,
    encode_page_token,
    parse_filter,
    parse_order_by,
)
from dais.tenancy import AuditContext, Role, WorkspaceAccess, record_audit

STAGES = ("None", "Staging", "Production", "Archived")
ACTIVE_STAGES = ("Staging", "Production")
VERSION_STATUSES = ("READY", "PENDING_REGISTRATION", "FAILED_REGISTRATION")
MAX_NAME_LENGTH = 256
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 100_000
MAX_ALIAS_LENGTH = 255
MODELS_MAX_RESULTS = 1000
VERSIONS_MAX_RESULTS = 200_000
PROMPT_TAG = "mlflow.prompt.is_prompt"
#: Where the MLflow facade keeps ``mlflow-artifacts:/<path>``: at workspace key ``mlflow/<path>``.
MLFLOW_ARTIFACTS_PREFIX = "mlflow/"

_ALIAS = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS = re.compile(r"^[vV]\d+$")

#: ``run_id`` -> the run's artifact root key (``mlflow/<experiment>/<run>/artifacts``) in the
#: caller's workspace; raises a NotFound error for a run the workspace does not have. Supplied by the
#: layer above (tracking), which the registry must not import.
RunArtifactResolver = Callable[[str], str]

MODELS_GRAMMAR = Grammar(
    string_attributes=frozenset({"name"}),
    list_attributes=frozenset({"name"}),
    order_keys=frozenset({"name", "creation_timestamp", "last_updated_timestamp"}),
    aliases={"timestamp": "last_updated_timestamp"},
)
VERSIONS_GRAMMAR = Grammar(
    string_attributes=frozenset({"name", "run_id", "source_path"}),
    numeric_attributes=frozenset({"version_number"}),
    list_attributes=frozenset({"name", "run_id"}),
    order_keys=frozenset({"name", "version_number", "creation_timestamp", "last_updated_timestamp"}),
    aliases={"timestamp": "creation_timestamp"},
)


def now_ms() -> int:
    return int(time.time() * 1000)


# -- checks --------------------------------------------------------------------------------------


def require_editor(access: WorkspaceAccess) -> None:
    if not access.allows(Role.editor):
        raise PermissionDenied(
            f"Your role in workspace {access.workspace.slug!r} is {access.role}; changing the model "
            "registry needs editor or higher."
        )


def _actor(access: WorkspaceAccess, ctx: AuditContext | None) -> AuditContext:
    if ctx is not None:
        return ctx
    user = access.principal.user
    return AuditContext(actor_id=user.id, actor_name=user.username)


def audit(
    session: Session,
    access: WorkspaceAccess,
    ctx: AuditContext | None,
    action: str,
    target_id: str,
    details: dict[str, Any],
    *,
    target_type: str = "registered_model",
) -> None:
    """Record a registry change in the audit log (``ctx`` None: the caller's user, no request data)."""
    record_audit(
        session,
        _actor(access, ctx),
        action,
        target_type=target_type,
        target_id=target_id,
        workspace_id=access.workspace.id,
        details=details,
    )


def validate_name(name: str | None, what: str = "name") -> str:
    """MLflow's rules for a registered model name: not empty, no '/' or ':', a normal path segment."""
    if name is None or not name.strip():
        raise RegistryInvalid(f"Missing value for required parameter '{what}'.")
    if "/" in name or ":" in name:
        raise RegistryInvalid(f"Invalid model name '{name}'. Names cannot contain '/' or ':'.")
    if name in (".", "..") or name.startswith(("..", "/")) or name != name.strip("\x00"):
        raise RegistryInvalid(f"Invalid value '{name}' for parameter '{what}'.")
    if len(name) > MAX_NAME_LENGTH:
        raise RegistryInvalid(f"Model name '{name[:40]}...' is longer than {MAX_NAME_LENGTH} characters.")
    return name


def parse_version(version: str | int | None) -> int:
    """A version number from MLflow's string form; anything else -> RegistryInvalid."""
    if version is None or version == "":
        raise RegistryInvalid("Missing value for required parameter 'version'.")
    try:
        number = int(version)
    except (TypeError, ValueError) as exc:
        raise RegistryInvalid(f"Parameter 'version' must be an integer, got '{version}'.") from exc
    return number


def validate_tag(key: str | None, value: str | None) -> tuple[str, str]:
    if key is None or key == "":
        raise RegistryInvalid("Missing value for required parameter 'key'.")
    if len(key) > MAX_TAG_KEY_LENGTH:
        raise RegistryInvalid(f"Tag key '{key[:40]}...' exceeds the maximum length of {MAX_TAG_KEY_LENGTH}.")
    if key.startswith("/") or ".." in key.split("/"):
        raise RegistryInvalid(f"Invalid tag key '{key}'.")
    value = "" if value is None else value
    if len(value) > MAX_TAG_VALUE_LENGTH:
        raise RegistryInvalid(f"Tag value of '{key}' exceeds the maximum length of {MAX_TAG_VALUE_LENGTH}.")
    return key, value


def validate_alias(alias: str | None, *, setting: bool = False) -> str:
    if not alias:
        raise RegistryInvalid("Registered model alias name cannot be empty.")
    if not _ALIAS.match(alias):
        raise RegistryInvalid(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, underscores (_), "
            "and dashes (-)."
        )
    if len(alias) > MAX_ALIAS_LENGTH:
        raise RegistryInvalid(
            f"Registered model alias name exceeds the maximum length of {MAX_ALIAS_LENGTH}."
        )
    if setting and alias.lower() == "latest":
        raise RegistryInvalid("'latest' alias name (case insensitive) is reserved.")
    if setting and _VERSION_ALIAS.match(alias):
        raise RegistryInvalid(f"Version alias name '{alias}' is reserved.")
    return alias


def canonical_stage(stage: str | None) -> str:
    mapping = {s.lower(): s for s in STAGES}
    if stage is None or stage.lower() not in mapping:
        raise RegistryInvalid(
            f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(STAGES)}."
        )
    return mapping[stage.lower()]


# -- alias history --------------------------------------------------------------------------------


def record_alias_move(
    session: Session,
    access: WorkspaceAccess,
    ctx: AuditContext | None,
    model_id: str,
    alias: str,
    from_version: int | None,
    to_version: int | None,
    at: int,
) -> None:
    actor = _actor(access, ctx)
    session.add(
        ModelAliasEvent(
            registered_model_id=model_id,
            alias=alias,
            from_version=from_version,
            to_version=to_version,
            actor=actor.actor_name,
            actor_id=actor.actor_id,
            at=at,
        )
    )


# -- registered models ---------------------------------------------------------------------------


def get_registered_model(session: Session, access: WorkspaceAccess, name: str) -> RegisteredModel:
    validate_name(name)
    row = session.scalar(
        select(RegisteredModel).where(
            RegisteredModel.workspace_id == access.workspace.id, RegisteredModel.name == name
        )
    )
    if row is None:
        raise RegisteredModelNotFound(f"Registered Model with name={name} not found")
    return row


def _name_free(session: Session, workspace_id: str, name: str) -> None:
    taken = session.scalar(
        select(RegisteredModel.id).where(
            RegisteredModel.workspace_id == workspace_id, RegisteredModel.name == name
        )
    )
    if taken is not None:
        raise RegisteredModelExists(f"Registered Model (name={name}) already exists.")


def create_registered_model(
    session: Session,
    access: WorkspaceAccess,
    name: str,
    *,
    tags: dict[str, str] | None = None,
    description: str | None = None,
    ctx: AuditContext | None = None,
) -> RegisteredModel:
    """A new registered model; RESOURCE_ALREADY_EXISTS if the workspace has one of that name."""
    require_editor(access)
    validate_name(name)
    checked = [validate_tag(k, v) for k, v in (tags or {}).items()]
    _name_free(session, access.workspace.id, name)
    t = now_ms()
    user = access.principal.user
    row = RegisteredModel(
        workspace_id=access.workspace.id,
        name=name,
        description=description or None,
        last_version=0,
        creation_time=t,
        last_updated_time=t,
        user_id=user.username,
        created_by=user.id,
    )
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent create of the same name won
        raise RegisteredModelExists(f"Registered Model (name={name}) already exists.") from exc
    session.add_all(RegisteredModelTag(model_id=row.id, key=k, value=v) for k, v in checked)
    session.flush()
    audit(session, access, ctx, "registry.model.create", row.id, {"name": name})
    return row


def rename_registered_model(
    session: Session, access: WorkspaceAccess, name: str, new_name: str, *, ctx: AuditContext | None = None
) -> RegisteredModel:
    require_editor(access)
    validate_name(new_name, "new_name")
    row = get_registered_model(session, access, name)
    if new_name == name:
        return row
    _name_free(session, access.workspace.id, new_name)
    row.name = new_name
    row.last_updated_time = now_ms()
    session.flush()
    audit(session, access, ctx, "registry.model.rename", row.id, {"from": name, "to": new_name})
    return row


def update_registered_model(
    session: Session,
    access: WorkspaceAccess,
    name: str,
    description: str | None,
    *,
    ctx: AuditContext | None = None,
) -> RegisteredModel:
    require_editor(access)
    row = get_registered_model(session, access, name)
    row.description = description or None
    row.last_updated_time = now_ms()
    session.flush()
    audit(session, access, ctx, "registry.model.update", row.id, {"name": name})
    return row


def delete_registered_model(
    session: Session, access: WorkspaceAccess, name: str, *, ctx: AuditContext | None = None
) -> None:
    """Delete the model, its versions, tags and aliases (the package files stay where they are)."""
    require_editor(access)
    row = get_registered_model(session, access, name)
    # Explicit deletes rather than only ON DELETE CASCADE: rows loaded in this session stay consistent.
    version_ids = select(ModelVersion.id).where(ModelVersion.registered_model_id == row.id)
    session.execute(delete(ModelVersionTag).where(ModelVersionTag.version_id.in_(version_ids)))
    for table in (ModelVersion, ModelAlias, ModelAliasEvent):
        session.execute(delete(table).where(table.registered_model_id == row.id))
    session.execute(delete(RegisteredModelTag).where(RegisteredModelTag.model_id == row.id))
    session.delete(row)
    session.flush()
    audit(session, access, ctx, "registry.model.delete", row.id, {"name": name})


def set_registered_model_tag(
    session: Session, access: WorkspaceAccess, name: str, key: str, value: str
) -> None:
    require_editor(access)
    key, value = validate_tag(key, value)
    row = get_registered_model(session, access, name)
    upsert_tag(session, RegisteredModelTag, RegisteredModelTag.model_id, row.id, key, value)
    row.last_updated_time = now_ms()
    session.flush()


def delete_registered_model_tag(session: Session, access: WorkspaceAccess, name: str, key: str) -> None:
    """Remove a tag (a missing key is a no-op, as in MLflow)."""
    require_editor(access)
    if not key:
        raise RegistryInvalid("Missing value for required parameter 'key'.")
    row = get_registered_model(session, access, name)
    session.execute(
        delete(RegisteredModelTag).where(RegisteredModelTag.model_id == row.id, RegisteredModelTag.key == key)
    )
    session.flush()


def upsert_tag(session: Session, table: Any, owner_col: Any, owner: str, key: str, value: str) -> None:
    existing = session.scalar(select(table).where(owner_col == owner, table.key == key))
    if existing is None:
        session.add(table(**{owner_col.key: owner, "key": key, "value": value}))
    else:
        existing.value = value


def tag_clause(
    tag_table: Any, owner_col: Any, outer_id: Any, comp: Comparison, dialect: str
) -> ColumnElement[bool]:
    return exists().where(
        owner_col == outer_id,
        tag_table.key == comp.key,
        compare(tag_table.value, comp.op, comp.value, dialect),
    )


def prompt_filter(comps: list[Comparison]) -> tuple[list[Comparison], bool]:
    """MLflow's rule for prompts (registered models tagged ``mlflow.prompt.is_prompt``): a search
    returns plain models only, unless its filter asks for prompts (``= 'true'`` / ``!= 'false'``).
    Returns the comparisons to apply and whether to exclude prompts."""
    asks = [c for c in comps if c.entity == "tag" and c.key == PROMPT_TAG]
    querying = any(
        (c.op == "=" and str(c.value).lower() == "true") or (c.op == "!=" and str(c.value).lower() == "false")
        for c in asks
    )
    if querying:
        return comps, False
    return [c for c in comps if c not in asks], True


def page_of(
    session: Session, query: Select[Any], max_results: int, page_token: str | None
) -> tuple[list[Any], str | None]:
    offset = decode_page_token(page_token)
    rows = list(session.scalars(query.offset(offset).limit(max_results + 1)))
    token = encode_page_token(offset + max_results) if len(rows) > max_results else None
    return rows[:max_results], token


def checked_max_results(value: int | None, default: int, limit: int) -> int:
    if value is None or value == 0:
        return default
    if value < 0 or value > limit:
        raise RegistryInvalid(
            "Invalid value for request parameter max_results. It must be at most "
            f"{limit}, but got value {value}"
        )
    return value


def search_registered_models(
    session: Session,
    access: WorkspaceAccess,
    *,
    filter: str | None = None,
    max_results: int | None = None,
    order_by: list[str] | None = None,
    page_token: str | None = None,
) -> tuple[list[RegisteredModel], str | None]:
    """MLflow's SearchRegisteredModels: ``name LIKE '%x%' AND tags.k = 'v'``, ordered, paged."""
    limit = checked_max_results(max_results, 100, MODELS_MAX_RESULTS)
    comps, exclude_prompts = prompt_filter(parse_filter(filter, MODELS_GRAMMAR))
    ordering = parse_order_by(order_by, MODELS_GRAMMAR)
    dialect = session.get_bind().dialect.name
    clauses: list[ColumnElement[bool]] = [RegisteredModel.workspace_id == access.workspace.id]
    for c in comps:
        if c.entity == "attribute":
            clauses.append(compare(RegisteredModel.name, c.op, c.value, dialect))
        else:
            clauses.append(
                tag_clause(RegisteredModelTag, RegisteredModelTag.model_id, RegisteredModel.id, c, dialect)
            )
    if exclude_prompts:
        clauses.append(
            ~exists().where(
                RegisteredModelTag.model_id == RegisteredModel.id,
                RegisteredModelTag.key == PROMPT_TAG,
                RegisteredModelTag.value == "true",
            )
        )
    columns = {
        "name": RegisteredModel.name,
        "creation_timestamp": RegisteredModel.creation_time,
        "last_updated_timestamp": RegisteredModel.last_updated_time,
    }
    order: list[Any] = [columns[k].asc() if asc else columns[k].desc() for k, asc in ordering]
    if not any(k == "name" for k, _ in ordering):
        order.append(RegisteredModel.name.asc())
    query = select(RegisteredModel).where(all_of(clauses)).order_by(*order)
    return page_of(session, query, limit, page_token)

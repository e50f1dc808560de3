"""Aliases (``production``, ``champion``...): set, move, remove, and the history of every move."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dais.registry.models import (
    ModelAlias,
    ModelAliasEvent,
    RegisteredModel,
)
from dais.registry.service import (
    audit,
    get_registered_model,
    now_ms,
    record_alias_move,
    require_editor,
    validate_alias,
)
from dais.registry.versions import get_model_version
from dais.tenancy import AuditContext, WorkspaceAccess


def set_alias(
    session: Session,
    access: WorkspaceAccess,
    name: str,
    alias: str,
    version: str | int,
    *,
    ctx: AuditContext | None = None,
) -> ModelAlias:
    """Point ``alias`` at ``version`` (moving it if it pointed elsewhere); the move is recorded."""
    require_editor(access)
    validate_alias(alias, setting=True)
    row = get_model_version(session, access, name, version)
    current = session.get(ModelAlias, (row.registered_model_id, alias))
    t = now_ms()
    if current is not None and current.version == row.version:
        return current
    previous = current.version if current is not None else None
    if current is None:
        current = ModelAlias(registered_model_id=row.registered_model_id, alias=alias, version=row.version)
        session.add(current)
    else:
        current.version = row.version
    record_alias_move(session, access, ctx, row.registered_model_id, alias, previous, row.version, t)
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
        "registry.alias.set",
        row.registered_model_id,
        {"name": name, "alias": alias, "from": previous, "to": row.version},
    )
    return current


def delete_alias(
    session: Session, access: WorkspaceAccess, name: str, alias: str, *, ctx: AuditContext | None = None
) -> None:
    """Remove ``alias`` (a missing alias is a no-op, as in MLflow); the removal is recorded."""
    require_editor(access)
    validate_alias(alias)
    model = get_registered_model(session, access, name)
    current = session.get(ModelAlias, (model.id, alias))
    if current is None:
        return
    t = now_ms()
    record_alias_move(session, access, ctx, model.id, alias, current.version, None, t)
    session.delete(current)
    model.last_updated_time = t
    session.flush()
    audit(
        session,
        access,
        ctx,
        "registry.alias.delete",
        model.id,
        {"name": name, "alias": alias, "from": current.version},
    )


def alias_history(
    session: Session, access: WorkspaceAccess, name: str, *, alias: str | None = None
) -> list[ModelAliasEvent]:
    """Every move of the model's aliases (or of one alias), oldest first."""
    model = get_registered_model(session, access, name)
    query = select(ModelAliasEvent).where(ModelAliasEvent.registered_model_id == model.id)
    if alias is not None:
        query = query.where(ModelAliasEvent.alias == alias)
    return list(session.scalars(query.order_by(ModelAliasEvent.at, ModelAliasEvent.id)))

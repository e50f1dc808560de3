"""Connection operations: create, read, update, delete, health; opening a connector for a connection.

Credentials are sealed with :mod:`dais.core.vault` (purpose ``data-connection-secrets``) before they
reach the database and are opened only to build a connector; replies carry their names only.
Dataset operations live in :mod:`dais.data.datasets_service`, source calls in :mod:`dais.data.sources`.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dais.core.errors import AlreadyExists, Conflict, NotFound
from dais.core.settings import Settings
from dais.core.vault import seal, secret_values, unseal
from dais.data.connectors import CheckResult, Connector, connectors, open_connector
from dais.data.models import DataConnection, Dataset
from dais.data.schemas import (
    CheckRead,
    ConnectionCreate,
    ConnectionRead,
    ConnectionUpdate,
    ConnectorRead,
    Health,
)
from dais.db import Page, paginate, utcnow
from dais.tenancy import AuditContext, WorkspaceAccess, record_audit

SECRETS_PURPOSE = "data-connection-secrets"


# -- connector kinds ---------------------------------------------------------------------------------


def list_connectors() -> list[ConnectorRead]:
    """Every connector kind with the JSON schemas of its config and secrets (drives the UI form)."""
    out = []
    reg = connectors()
    for info in reg.load_all():
        if info.error:
            out.append(
                ConnectorRead(
                    name=info.name,
                    description="",
                    capabilities=[],
                    available=False,
                    config_schema={},
                    secrets_schema={},
                    error=info.error,
                )
            )
            continue
        cls = reg.get(info.name)
        available, why = _availability(cls)
        out.append(
            ConnectorRead(
                name=info.name,
                description=cls.description or (cls.__doc__ or "").strip().split("\n")[0],
                capabilities=sorted(cls.capabilities),
                available=available,
                config_schema=cls.Config.model_json_schema(),
                secrets_schema=cls.Secrets.model_json_schema(),
                error=why,
            )
        )
    return out


def _availability(cls: type[Connector]) -> tuple[bool, str | None]:
    """Whether a kind works on this installation (hive and hdfs need extras), and why not.

    A kind says so with an ``available()`` classmethod, or (hive, hdfs) a module-level
    ``unavailable()`` that returns the error every call of it raises.
    """
    probe = getattr(cls, "available", None)
    if callable(probe):
        return bool(probe()), None
    module = sys.modules.get(cls.__module__)
    unavailable = getattr(module, "unavailable", None)
    if callable(unavailable):
        error = unavailable()
        return False, str(getattr(error, "detail", error))
    return True, None


def build_connector(
    kind: str, config: dict[str, Any], secrets: dict[str, str], settings: Settings
) -> Connector:
    """A connector for ``kind`` from plain values, validated (422 naming the field if they do not fit)."""
    return open_connector(kind, config, secrets, settings.data)


def open_connection(session: Session, connection_id: str, workspace_id: str, settings: Settings) -> Connector:
    """A connector for a saved connection of ``workspace_id``, its credentials opened."""
    conn = session.get(DataConnection, connection_id)
    if conn is None or conn.workspace_id != workspace_id:
        raise NotFound(f"Connection {connection_id!r} not found in this workspace.")
    return connector_for(conn, settings)


def connector_for(conn: DataConnection, settings: Settings) -> Connector:
    secrets = unseal(settings.secret_key(), conn.secrets_encrypted, purpose=SECRETS_PURPOSE)
    return open_connector(conn.kind, dict(conn.config or {}), secrets, settings.data)


# -- connections -------------------------------------------------------------------------------------


def connection_read(conn: DataConnection) -> ConnectionRead:
    """What the API shows of a connection: never a secret, only which ones are set."""
    return ConnectionRead(
        id=conn.id,
        workspace_id=conn.workspace_id,
        name=conn.name,
        kind=conn.kind,
        description=conn.description or "",
        config=dict(conn.config or {}),
        secrets_set=sorted(conn.secret_names or []),
        health=Health(conn.health or "unknown"),
        health_message=conn.health_message,
        health_checked_at=conn.health_checked_at,
        created_by=conn.created_by,
        created_at=conn.created_at,
        updated_at=conn.updated_at,
    )


def check_read(result: CheckResult) -> CheckRead:
    return CheckRead(
        ok=result.ok, message=result.message, latency_ms=result.latency_ms, details=result.details
    )


def _name_taken(session: Session, workspace_id: str, name: str, *, but: str | None = None) -> None:
    existing = session.scalar(
        select(DataConnection.id).where(
            DataConnection.workspace_id == workspace_id, DataConnection.name == name
        )
    )
    if existing is not None and existing != but:
        raise AlreadyExists(
            f"A connection named {name!r} already exists in this workspace.",
            errors=[{"loc": ["body", "name"], "msg": "taken"}],
        )


def create_connection(
    session: Session,
    ctx: AuditContext,
    access: WorkspaceAccess,
    spec: ConnectionCreate,
    *,
    settings: Settings,
) -> DataConnection:
    """Validate a connection's config (allowed roots, ...) and save it with its secrets sealed."""
    connector = build_connector(spec.kind, spec.config, spec.secrets, settings)
    values = secret_values(connector.secrets)
    _name_taken(session, access.workspace.id, spec.name)
    conn = DataConnection(
        workspace_id=access.workspace.id,
        name=spec.name,
        kind=spec.kind,
        description=spec.description,
        config=connector.config.model_dump(mode="json"),
        secrets_encrypted=seal(settings.secret_key(), values, purpose=SECRETS_PURPOSE),
        secret_names=sorted(values),
        health=Health.unknown,
        created_by=ctx.actor_id,
    )
    session.add(conn)
    session.flush()
    record_audit(
        session,
        ctx,
        "data.connection.create",
        target_type="data_connection",
        target_id=conn.id,
        workspace_id=access.workspace.id,
        details={
            "name": conn.name,
            "kind": conn.kind,
            "config": conn.config,
            "secrets_set": conn.secret_names,
        },
    )
    return conn


def get_connection(session: Session, access: WorkspaceAccess, ref: str) -> DataConnection:
    """A connection of this workspace by name or id; 404 otherwise (also for other workspaces')."""
    conn = session.scalar(
        select(DataConnection).where(
            DataConnection.workspace_id == access.workspace.id,
            or_(DataConnection.name == ref, DataConnection.id == ref),
        )
    )
    if conn is None:
        raise NotFound(f"Connection {ref!r} not found in this workspace.")
    return conn


def list_connections(
    session: Session,
    access: WorkspaceAccess,
    *,
    kind: str | None,
    q: str | None,
    limit: int,
    cursor: str | None,
) -> Page[DataConnection]:
    stmt = select(DataConnection).where(DataConnection.workspace_id == access.workspace.id)
    if kind:
        stmt = stmt.where(DataConnection.kind == kind)
    if q:
        stmt = stmt.where(DataConnection.name.contains(q.lower(), autoescape=True))
    return paginate(
        session,
        stmt,
        columns={"name": DataConnection.name, "created_at": DataConnection.created_at},
        id_column=DataConnection.id,
        sort="name",
        limit=limit,
        cursor=cursor,
    )


def update_connection(
    session: Session,
    ctx: AuditContext,
    access: WorkspaceAccess,
    ref: str,
    spec: ConnectionUpdate,
    *,
    settings: Settings,
) -> DataConnection:
    """Rename, merge config keys in, set or remove (``null``) secrets; validated as a whole."""
    conn = get_connection(session, access, ref)
    changed: list[str] = []
    if spec.name is not None and spec.name != conn.name:
        _name_taken(session, access.workspace.id, spec.name, but=conn.id)
        conn.name = spec.name
        changed.append("name")
    if spec.description is not None:
        conn.description = spec.description
        changed.append("description")
    if spec.config is not None or spec.secrets is not None:
        config = {**(conn.config or {}), **(spec.config or {})}
        secrets = unseal(settings.secret_key(), conn.secrets_encrypted, purpose=SECRETS_PURPOSE)
        for name, value in (spec.secrets or {}).items():
            if value is None:
                secrets.pop(name, None)
            else:
                secrets[name] = value
        connector = build_connector(conn.kind, config, secrets, settings)
        values = secret_values(connector.secrets)
        conn.config = connector.config.model_dump(mode="json")
        conn.secrets_encrypted = seal(settings.secret_key(), values, purpose=SECRETS_PURPOSE)
        conn.secret_names = sorted(values)
        # New settings: what the last test found no longer says anything.
        conn.health, conn.health_message, conn.health_checked_at = Health.unknown, None, None
        changed += [k for k in ("config", "secrets") if getattr(spec, k) is not None]
    conn.updated_at = utcnow()
    session.flush()
    record_audit(
        session,
        ctx,
        "data.connection.update",
        target_type="data_connection",
        target_id=conn.id,
        workspace_id=access.workspace.id,
        details={"name": conn.name, "changed": changed},
    )
    return conn


def delete_connection(session: Session, ctx: AuditContext, access: WorkspaceAccess, ref: str) -> None:
    """Delete a connection no dataset uses (409 naming the datasets that do)."""
    conn = get_connection(session, access, ref)
    users = list(session.scalars(select(Dataset.name).where(Dataset.connection_id == conn.id).limit(6)))
    if users:
        more = ", ..." if len(users) > 5 else ""
        raise Conflict(
            f"Connection {conn.name!r} is used by dataset(s) {', '.join(users[:5])}{more}: "
            "delete them first, or point them at another connection."
        )
    record_audit(
        session,
        ctx,
        "data.connection.delete",
        target_type="data_connection",
        target_id=conn.id,
        workspace_id=access.workspace.id,
        details={"name": conn.name, "kind": conn.kind},
    )
    session.delete(conn)
    session.flush()


def record_health(
    session: Session,
    ctx: AuditContext,
    access: WorkspaceAccess,
    connection_id: str,
    result: CheckResult,
    *,
    at: datetime | None = None,
) -> DataConnection:
    """Keep what a test found as the connection's health (``ok`` or ``failing`` with the message)."""
    conn = session.get(DataConnection, connection_id)
    if conn is None or conn.workspace_id != access.workspace.id:
        raise NotFound(f"Connection {connection_id!r} not found in this workspace.")
    conn.health = Health.ok if result.ok else Health.failing
    conn.health_message = result.message[:4000]
    conn.health_checked_at = at or utcnow()
    session.flush()
    record_audit(
        session,
        ctx,
        "data.connection.test",
        target_type="data_connection",
        target_id=conn.id,
        workspace_id=access.workspace.id,
        details={"name": conn.name, "ok": result.ok},
    )
    return conn

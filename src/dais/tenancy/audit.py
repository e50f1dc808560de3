"""The audit log: every mutation, who made it, when and from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dais.db import Page, paginate
from dais.tenancy.access import AuditContext
from dais.tenancy.models import AuditEvent

_SECRET_WORDS = ("password", "secret", "credential", "private_key", "access_key", "api_key")


def _is_secret(name: str) -> bool:
    name = name.lower()
    return name == "token" or any(w in name for w in _SECRET_WORDS)


def _scrub(details: dict[str, Any]) -> dict[str, Any]:
    """Audit details never carry a secret, whatever a caller passes."""
    return {k: ("***" if _is_secret(k) else v) for k, v in details.items()}


def record(
    session: Session,
    ctx: AuditContext,
    action: str,
    *,
    target_type: str,
    target_id: str | None,
    workspace_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event in the caller's transaction (it commits or rolls back with the change)."""
    event = AuditEvent(
        actor_id=ctx.actor_id,
        actor_name=ctx.actor_name,
        workspace_id=workspace_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=_scrub(details or {}),
        ip=ctx.ip,
        user_agent=(ctx.user_agent or "")[:255] or None,
        request_id=ctx.request_id,
    )
    session.add(event)
    return event


def list_events(
    session: Session,
    *,
    workspace_id: str | None,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sort: str = "-at",
    limit: int = 50,
    cursor: str | None = None,
    all_workspaces: bool = False,
) -> Page[AuditEvent]:
    stmt = select(AuditEvent)
    if not all_workspaces:
        stmt = stmt.where(AuditEvent.workspace_id == workspace_id)
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action))
    if actor:
        stmt = stmt.where(AuditEvent.actor_name == actor)
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until)
    return paginate(
        session,
        stmt,
        columns={"at": AuditEvent.at, "action": AuditEvent.action},
        id_column=AuditEvent.id,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )

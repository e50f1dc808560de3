"""Role checks and the audit trail shared by the tracking operations."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from dais.core.errors import PermissionDenied
from dais.tenancy import AuditContext, Role, WorkspaceAccess, record_audit


def require_editor(access: WorkspaceAccess) -> None:
    if not access.allows(Role.editor):
        raise PermissionDenied(
            f"Your role in workspace {access.workspace.slug!r} is {access.role}; logging to "
            "experiments and runs needs editor or higher."
        )


def audit_context(access: WorkspaceAccess, ctx: AuditContext | None) -> AuditContext:
    if ctx is not None:
        return ctx
    user = access.principal.user
    return AuditContext(actor_id=user.id, actor_name=user.username)


def audit(
    s: Session,
    access: WorkspaceAccess,
    ctx: AuditContext | None,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any] | None = None,
) -> None:
    record_audit(
        s,
        audit_context(access, ctx),
        action,
        target_type=target_type,
        target_id=target_id,
        workspace_id=access.workspace.id,
        details=details or {},
    )

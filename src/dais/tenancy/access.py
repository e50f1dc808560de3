"""Who is calling, and what they may do in a workspace."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dais.core.errors import NotFound, PermissionDenied
from dais.tenancy.models import Membership, User, Workspace
from dais.tenancy.roles import Role

# Annotators and reviewers read like viewers; the labeling domain grants them its own actions.
ROLE_RANK: dict[Role, int] = {
    Role.viewer: 10,
    Role.annotator: 10,
    Role.reviewer: 10,
    Role.editor: 20,
    Role.admin: 30,
    Role.owner: 40,
}


@dataclass
class Principal:
    """The authenticated caller of one request."""

    user: User
    via: str  # "session", "token" or "password"
    token_id: str | None = None
    token_workspace_id: str | None = None
    session_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.user.is_admin and self.token_workspace_id is None


@dataclass
class AuditContext:
    """Who acts and from where, for the audit trail."""

    actor_id: str | None
    actor_name: str
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None

    @classmethod
    def system(cls) -> AuditContext:
        return cls(actor_id=None, actor_name="system")


@dataclass
class WorkspaceAccess:
    """A workspace the caller reached, and their role in it (``None``: platform admin, no membership)."""

    workspace: Workspace
    role: Role | None
    principal: Principal

    def bind(self, session: Session) -> WorkspaceAccess:
        """The same access with its workspace attached to ``session`` (for changes to it)."""
        return WorkspaceAccess(session.merge(self.workspace, load=True), self.role, self.principal)

    def allows(self, min_role: Role) -> bool:
        if self.role is None:
            return self.principal.is_admin
        return ROLE_RANK[self.role] >= ROLE_RANK[min_role]


def find_workspace(session: Session, ref: str) -> Workspace | None:
    return session.scalar(select(Workspace).where(or_(Workspace.slug == ref.lower(), Workspace.id == ref)))


def require_workspace(
    session: Session, principal: Principal, ref: str, min_role: Role = Role.viewer
) -> WorkspaceAccess:
    """The workspace ``ref`` (slug or id) if the caller may act in it with at least ``min_role``.

    A workspace the caller cannot see answers 404 exactly like one that does not exist, so
    membership of other tenants never leaks; a visible one with too low a role answers 403.
    """
    ws = find_workspace(session, ref)
    missing = NotFound(f"Workspace {ref!r} not found (or you are not a member of it).")
    if ws is None:
        raise missing
    if principal.token_workspace_id is not None and principal.token_workspace_id != ws.id:
        raise missing
    membership = session.scalar(
        select(Membership).where(Membership.workspace_id == ws.id, Membership.user_id == principal.user.id)
    )
    if membership is None and not principal.is_admin:
        raise missing
    access = WorkspaceAccess(ws, Role(membership.role) if membership else None, principal)
    if not access.allows(min_role):
        raise PermissionDenied(
            f"Your role in workspace {ws.slug!r} is {access.role}; this needs {min_role} or higher. "
            "Ask a workspace admin or owner to change your role."
        )
    return access


def require_platform_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise PermissionDenied(
            "This needs a platform administrator (and a token not limited to one workspace)."
        )


def visible_workspace_ids(session: Session, principal: Principal) -> set[str] | None:
    """Ids of the workspaces the caller may see (``None``: all of them, for a platform admin)."""
    if principal.is_admin:
        return None
    if principal.token_workspace_id:
        return {principal.token_workspace_id}
    return set(
        session.scalars(select(Membership.workspace_id).where(Membership.user_id == principal.user.id))
    )

"""Tenancy operations: users, workspaces, members, quotas. Services flush; routes commit."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dais.core.errors import AlreadyExists, Conflict, InvalidInput, NotFound, PermissionDenied
from dais.db import Page, paginate, utcnow
from dais.tenancy import audit
from dais.tenancy.access import AuditContext, Principal, WorkspaceAccess, require_platform_admin
from dais.tenancy.models import Membership, Quota, User, Workspace
from dais.tenancy.roles import Role
from dais.tenancy.schemas import (
    MemberCreate,
    QuotaUpdate,
    UserCreate,
    UserUpdate,
    WorkspaceCreate,
    WorkspaceUpdate,
)
from dais.tenancy.security import hash_password

# -- users -----------------------------------------------------------------------------------------


def get_user(session: Session, ref: str) -> User:
    user = session.scalar(select(User).where(or_(User.username == ref, User.id == ref)))
    if user is None:
        raise NotFound(f"User {ref!r} not found.")
    return user


def create_user(session: Session, ctx: AuditContext, spec: UserCreate) -> User:
    if session.scalar(select(User.id).where(func.lower(User.username) == spec.username.lower())):
        raise AlreadyExists(
            f"A user named {spec.username!r} already exists.",
            errors=[{"loc": ["body", "username"], "msg": "already taken"}],
        )
    user = User(
        username=spec.username,
        email=spec.email,
        display_name=spec.display_name,
        is_admin=spec.is_admin,
        password_hash=hash_password(spec.password.get_secret_value()) if spec.password else None,
    )
    session.add(user)
    _flush_unique(session, f"A user named {spec.username!r} already exists.")
    audit.record(
        session,
        ctx,
        "user.create",
        target_type="user",
        target_id=user.id,
        details={"username": user.username, "is_admin": user.is_admin},
    )
    return user


def update_user(session: Session, ctx: AuditContext, user: User, spec: UserUpdate) -> User:
    changes = spec.model_dump(exclude_unset=True)
    if changes.get("is_admin") is False or changes.get("is_active") is False:
        _keep_one_admin(session, user)
    for field in ("email", "display_name", "is_admin", "is_active"):
        if field in changes:
            setattr(user, field, changes[field])
    if spec.password is not None:
        user.password_hash = hash_password(spec.password.get_secret_value())
    session.flush()
    audit.record(
        session,
        ctx,
        "user.update",
        target_type="user",
        target_id=user.id,
        details={k: v for k, v in changes.items() if k != "password"}
        | ({"password": "changed"} if spec.password else {}),
    )
    return user


def _keep_one_admin(session: Session, user: User) -> None:
    if not user.is_admin:
        return
    admins = session.scalar(
        select(func.count()).select_from(User).where(User.is_admin, User.is_active, User.id != user.id)
    )
    if not admins:
        raise Conflict("This is the last active platform administrator; make another user admin first.")


def list_users(session: Session, *, q: str | None, sort: str, limit: int, cursor: str | None) -> Page[User]:
    stmt = select(User)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(User.username).like(like),
                func.lower(User.email).like(like),
                func.lower(User.display_name).like(like),
            )
        )
    return paginate(
        session,
        stmt,
        columns={"username": User.username, "created_at": User.created_at},
        id_column=User.id,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )


# -- workspaces ------------------------------------------------------------------------------------


def create_workspace(session: Session, ctx: AuditContext, spec: WorkspaceCreate, *, owner: User) -> Workspace:
    if session.scalar(select(Workspace.id).where(Workspace.slug == spec.slug)):
        raise AlreadyExists(
            f"A workspace with slug {spec.slug!r} already exists; choose another slug.",
            errors=[{"loc": ["body", "slug"], "msg": "already taken"}],
        )
    ws = Workspace(slug=spec.slug, name=spec.name or spec.slug, description=spec.description)
    ws.quota = Quota()
    session.add(ws)
    _flush_unique(session, f"A workspace with slug {spec.slug!r} already exists; choose another slug.")
    session.add(Membership(workspace_id=ws.id, user_id=owner.id, role=Role.owner))
    session.flush()
    audit.record(
        session,
        ctx,
        "workspace.create",
        target_type="workspace",
        target_id=ws.id,
        workspace_id=ws.id,
        details={"slug": ws.slug, "owner": owner.username},
    )
    return ws


def update_workspace(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, spec: WorkspaceUpdate
) -> Workspace:
    ws = session.merge(access.workspace)
    changes = spec.model_dump(exclude_unset=True, exclude_none=True)
    for field, value in changes.items():
        setattr(ws, field, value)
    session.flush()
    audit.record(
        session,
        ctx,
        "workspace.update",
        target_type="workspace",
        target_id=ws.id,
        workspace_id=ws.id,
        details=changes,
    )
    return ws


def delete_workspace(session: Session, ctx: AuditContext, access: WorkspaceAccess) -> None:
    ws = session.merge(access.workspace)
    audit.record(
        session,
        ctx,
        "workspace.delete",
        target_type="workspace",
        target_id=ws.id,
        workspace_id=ws.id,
        details={"slug": ws.slug},
    )
    session.delete(ws)
    session.flush()


def list_workspaces(
    session: Session,
    principal: Principal,
    *,
    q: str | None,
    all_workspaces: bool,
    sort: str,
    limit: int,
    cursor: str | None,
) -> Page[Workspace]:
    """The caller's workspaces (every workspace for a platform admin who asks for ``all``)."""
    stmt = select(Workspace)
    if all_workspaces:
        require_platform_admin(principal)
    else:
        stmt = stmt.join(Membership, Membership.workspace_id == Workspace.id).where(
            Membership.user_id == principal.user.id
        )
        if principal.token_workspace_id:
            stmt = stmt.where(Workspace.id == principal.token_workspace_id)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(Workspace.slug.like(like), func.lower(Workspace.name).like(like)))
    return paginate(
        session,
        stmt,
        columns={"slug": Workspace.slug, "created_at": Workspace.created_at, "name": Workspace.name},
        id_column=Workspace.id,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )


def roles_of(session: Session, user: User, workspace_ids: list[str]) -> dict[str, Role]:
    rows = session.execute(
        select(Membership.workspace_id, Membership.role).where(
            Membership.user_id == user.id, Membership.workspace_id.in_(workspace_ids)
        )
    )
    return {ws_id: Role(role) for ws_id, role in rows}


def memberships_of(session: Session, user: User) -> list[Membership]:
    return list(
        session.scalars(
            select(Membership).join(Workspace).where(Membership.user_id == user.id).order_by(Workspace.slug)
        )
    )


# -- members ---------------------------------------------------------------------------------------


def _require_can_grant(access: WorkspaceAccess, role: Role) -> None:
    if role == Role.owner and access.role not in (Role.owner, None):
        raise PermissionDenied("Only a workspace owner can grant or take away the owner role.")


def add_member(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, spec: MemberCreate
) -> Membership:
    _require_can_grant(access, spec.role)
    user = session.scalar(select(User).where(User.username == spec.username))
    if user is None:
        raise NotFound(
            f"No user named {spec.username!r}; create the user first.",
            errors=[{"loc": ["body", "username"], "msg": "unknown user"}],
        )
    ws = access.workspace
    if session.scalar(
        select(Membership.id).where(Membership.workspace_id == ws.id, Membership.user_id == user.id)
    ):
        raise AlreadyExists(f"{user.username} is already a member of {ws.slug}; change their role instead.")
    member = Membership(workspace_id=ws.id, user_id=user.id, role=spec.role)
    session.add(member)
    _flush_unique(session, f"{user.username} is already a member of {ws.slug}.")
    audit.record(
        session,
        ctx,
        "member.add",
        target_type="member",
        target_id=member.id,
        workspace_id=ws.id,
        details={"username": user.username, "role": str(spec.role)},
    )
    return member


def get_member(session: Session, access: WorkspaceAccess, ref: str) -> Membership:
    member = session.scalar(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.workspace_id == access.workspace.id,
            or_(Membership.id == ref, User.username == ref, User.id == ref),
        )
    )
    if member is None:
        raise NotFound(f"{ref!r} is not a member of workspace {access.workspace.slug!r}.")
    return member


def _owners_left(session: Session, ws_id: str, excluding: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.workspace_id == ws_id, Membership.role == Role.owner, Membership.id != excluding
            )
        )
        or 0
    )


def update_member(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, member: Membership, role: Role
) -> Membership:
    _require_can_grant(access, role)
    if member.role == Role.owner:
        _require_can_grant(access, Role.owner)
        if role != Role.owner and not _owners_left(session, member.workspace_id, member.id):
            raise Conflict("A workspace needs at least one owner; make someone else owner first.")
    old = member.role
    member.role = role
    session.flush()
    audit.record(
        session,
        ctx,
        "member.update",
        target_type="member",
        target_id=member.id,
        workspace_id=member.workspace_id,
        details={"username": member.user.username, "from": old, "to": str(role)},
    )
    return member


def remove_member(session: Session, ctx: AuditContext, access: WorkspaceAccess, member: Membership) -> None:
    if member.role == Role.owner:
        _require_can_grant(access, Role.owner)
        if not _owners_left(session, member.workspace_id, member.id):
            raise Conflict("A workspace needs at least one owner; make someone else owner first.")
    audit.record(
        session,
        ctx,
        "member.remove",
        target_type="member",
        target_id=member.id,
        workspace_id=member.workspace_id,
        details={"username": member.user.username},
    )
    session.delete(member)
    session.flush()


def list_members(
    session: Session,
    access: WorkspaceAccess,
    *,
    role: Role | None,
    q: str | None,
    sort: str,
    limit: int,
    cursor: str | None,
) -> Page[Membership]:
    stmt = (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == access.workspace.id)
    )
    if role:
        stmt = stmt.where(Membership.role == role)
    if q:
        stmt = stmt.where(func.lower(User.username).like(f"%{q.lower()}%"))
    return paginate(
        session,
        stmt,
        columns={"created_at": Membership.created_at, "role": Membership.role},
        id_column=Membership.id,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )


# -- quotas ----------------------------------------------------------------------------------------


def update_quota(
    session: Session, ctx: AuditContext, principal: Principal, ws: Workspace, spec: QuotaUpdate
) -> Quota:
    """Quotas and priority are set by platform administrators, never by a workspace for itself."""
    require_platform_admin(principal)
    changes = spec.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput("Nothing to change: give at least one quota field or the priority.")
    quota = ws.quota
    for field, value in changes.items():
        if field == "priority":
            if value is None:
                raise InvalidInput(
                    "priority cannot be null.",
                    errors=[{"loc": ["body", "priority"], "msg": "must be an integer"}],
                )
            ws.priority = value
        else:
            setattr(quota, field, value)
    quota.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        ctx,
        "quota.update",
        target_type="workspace",
        target_id=ws.id,
        workspace_id=ws.id,
        details=changes,
    )
    return quota


def _flush_unique(session: Session, message: str) -> None:
    """Flush, turning a unique-constraint race (two creators at once) into a 409."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(message) from exc

"""Tenancy routes: auth, the caller, users, workspaces, members, quotas, tokens, audit, plugins.

Routes are thin: they own the transaction and turn ORM rows into read models.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from dais.core.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from dais.core.logging import request_id_var
from dais.core.plugins import all_registries
from dais.db import Page
from dais.tenancy import audit, auth, service
from dais.tenancy.access import AuditContext, Principal, find_workspace, require_platform_admin
from dais.tenancy.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    AdminAccess,
    AppSettings,
    Audit,
    Caller,
    Db,
    OwnerAccess,
    ViewerAccess,
    client_ip,
)
from dais.tenancy.identity import identity_providers
from dais.tenancy.models import ApiToken, AuditEvent, Membership, Workspace
from dais.tenancy.roles import Role
from dais.tenancy.schemas import (
    AuditPage,
    AuditRead,
    LoginLinkRead,
    LoginRequest,
    Me,
    MemberCreate,
    MemberPage,
    MemberRead,
    MembershipBrief,
    MemberUpdate,
    PasswordChange,
    PluginRead,
    QuotaRead,
    QuotaUpdate,
    TokenCreate,
    TokenCreated,
    TokenPage,
    TokenRead,
    UserCreate,
    UserPage,
    UserRead,
    UserUpdate,
    WorkspaceCreate,
    WorkspacePage,
    WorkspaceRead,
    WorkspaceUpdate,
)
from dais.tenancy.security import csrf_for

router = APIRouter(prefix="/api/v1")

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Cursor = Annotated[str | None, Query(description="The next_cursor of the previous page.")]
Search = Annotated[str | None, Query(max_length=200, description="Case-insensitive substring filter.")]


# -- read models -------------------------------------------------------------------------------------


def _ws_read(ws: Workspace, role: Role | None) -> WorkspaceRead:
    return WorkspaceRead.model_validate(ws).model_copy(update={"role": role})


def _member_read(m: Membership) -> MemberRead:
    return MemberRead(
        id=m.id,
        workspace_id=m.workspace_id,
        user_id=m.user_id,
        username=m.user.username,
        display_name=m.user.display_name,
        role=Role(m.role),
        created_at=m.created_at,
    )


def _token_read(t: ApiToken) -> TokenRead:
    return TokenRead(
        id=t.id,
        name=t.name,
        prefix=t.prefix,
        workspace_id=t.workspace_id,
        workspace_slug=t.workspace.slug if t.workspace else None,
        created_at=t.created_at,
        expires_at=t.expires_at,
        revoked_at=t.revoked_at,
        last_used_at=t.last_used_at,
        last_used_ip=t.last_used_ip,
    )


def _quota_read(ws: Workspace) -> QuotaRead:
    q = ws.quota
    return QuotaRead(
        workspace_id=ws.id,
        priority=ws.priority,
        max_concurrent_jobs=q.max_concurrent_jobs,
        max_cpus=q.max_cpus,
        max_memory_mb=q.max_memory_mb,
        max_gpus=q.max_gpus,
        updated_at=q.updated_at,
    )


def _audit_page(page: Page[AuditEvent]) -> AuditPage:
    return AuditPage(items=[AuditRead.model_validate(e) for e in page.items], next_cursor=page.next_cursor)


# -- auth ----------------------------------------------------------------------------------------------


def _set_session_cookies(response: Response, settings: AppSettings, secret: str, expires: datetime) -> None:
    max_age = int((expires - datetime.now(expires.tzinfo)).total_seconds())
    secure = settings.api.cookie_secure
    response.set_cookie(
        SESSION_COOKIE, secret, max_age=max_age, httponly=True, secure=secure, samesite="lax", path="/"
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf_for(settings.secret_key(), secret),
        max_age=max_age,
        httponly=False,
        secure=secure,
        samesite="strict",
        path="/",
    )


def _me(db: Db, principal: Principal) -> Me:
    with db.session(write=False) as session:
        memberships = service.memberships_of(session, principal.user)
        token_ws = None
        if principal.token_workspace_id:
            memberships = [m for m in memberships if m.workspace_id == principal.token_workspace_id]
            ws = session.get(Workspace, principal.token_workspace_id)
            token_ws = ws.slug if ws else None
        return Me(
            user=UserRead.model_validate(principal.user),
            workspaces=[
                MembershipBrief(
                    workspace_id=m.workspace_id,
                    slug=m.workspace.slug,
                    name=m.workspace.name,
                    role=Role(m.role),
                )
                for m in memberships
            ],
            auth=principal.via,
            token_workspace=token_ws,
        )


@router.post("/auth/login", tags=["auth"], responses={401: {"description": "Wrong username or password"}})
def login(body: LoginRequest, request: Request, response: Response, db: Db, settings: AppSettings) -> Me:
    """Log in with a password; sets the UI's HTTP-only session cookie and its CSRF companion."""
    ctx = AuditContext(
        None, body.username, client_ip(request), request.headers.get("user-agent"), request_id_var.get()
    )
    with db.session() as session:
        user = auth.authenticate_password(session, body.username, body.password.get_secret_value())
        ctx.actor_id = user.id
        record, secret = auth.create_session(
            session, ctx, user, ttl=timedelta(hours=settings.api.session_ttl_hours)
        )
    _set_session_cookies(response, settings, secret, record.expires_at)
    return _me(db, Principal(user, "session", session_id=record.id))


@router.post("/auth/logout", tags=["auth"], status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: Caller, ctx: Audit, db: Db) -> Response:
    """End the current browser session."""
    if principal.session_id:
        with db.session() as session:
            auth.end_session(session, ctx, principal.session_id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.post("/auth/login-links", tags=["auth"], status_code=status.HTTP_201_CREATED)
def create_login_link(
    principal: Caller,
    ctx: Audit,
    db: Db,
    settings: AppSettings,
    username: Annotated[str | None, Query(max_length=64)] = None,
) -> LoginLinkRead:
    """A one-time login link for yourself, or (platform admins) for another user."""
    with db.session() as session:
        user = principal.user
        if username and username != user.username:
            require_platform_admin(principal)
            user = service.get_user(session, username)
        link, code = auth.create_login_link(
            session, ctx, user, ttl=timedelta(minutes=settings.api.login_link_ttl_minutes)
        )
    return LoginLinkRead(url=f"{settings.api.base_url()}/login/link/{code}", expires_at=link.expires_at)


login_link_router = APIRouter()


@login_link_router.get("/login/link/{code}", include_in_schema=False)
def use_login_link(code: str, request: Request, db: Db, settings: AppSettings) -> Response:
    """Follow a one-time link: start a session and go to the UI (or to the login page if it is spent)."""
    try:
        with db.session() as session:
            user = auth.consume_login_link(session, code)
            ctx = AuditContext(
                user.id,
                user.username,
                client_ip(request),
                request.headers.get("user-agent"),
                request_id_var.get(),
            )
            record, secret = auth.create_session(
                session, ctx, user, ttl=timedelta(hours=settings.api.session_ttl_hours)
            )
    except Unauthenticated:
        return RedirectResponse("/login?link=expired", status_code=303)
    response = RedirectResponse("/", status_code=303)
    _set_session_cookies(response, settings, secret, record.expires_at)
    return response


# -- me --------------------------------------------------------------------------------------------


@router.get("/me", tags=["auth"])
def get_me(principal: Caller, db: Db) -> Me:
    """Who you are, how you authenticated, and your workspaces with your role in each."""
    return _me(db, principal)


@router.post("/me/password", tags=["auth"], status_code=status.HTTP_204_NO_CONTENT)
def change_password(body: PasswordChange, principal: Caller, ctx: Audit, db: Db) -> None:
    """Change your own password (needs the current one)."""
    with db.session() as session:
        try:
            auth.authenticate_password(
                session, principal.user.username, body.current_password.get_secret_value()
            )
        except Unauthenticated as exc:
            # 422, not 401: a mistyped current password must not end the caller's session.
            raise InvalidInput(
                "The current password is wrong.",
                errors=[{"loc": ["body", "current_password"], "msg": "wrong password"}],
            ) from exc
        user = session.merge(principal.user)
        service.update_user(session, ctx, user, UserUpdate(password=body.new_password))


# -- users ---------------------------------------------------------------------------------------------


@router.get("/users", tags=["users"])
def list_users(
    principal: Caller,
    db: Db,
    q: Search = None,
    sort: str = "username",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> UserPage:
    """Every user (platform admins only)."""
    require_platform_admin(principal)
    with db.session(write=False) as session:
        page = service.list_users(session, q=q, sort=sort, limit=limit, cursor=cursor)
        return UserPage(items=[UserRead.model_validate(u) for u in page.items], next_cursor=page.next_cursor)


@router.post("/users", tags=["users"], status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, principal: Caller, ctx: Audit, db: Db) -> UserRead:
    """Create a user (platform admins only)."""
    require_platform_admin(principal)
    with db.session() as session:
        return UserRead.model_validate(service.create_user(session, ctx, body))


@router.get("/users/{user}", tags=["users"])
def get_user(user: str, principal: Caller, db: Db) -> UserRead:
    """One user by username or id (yourself, or anyone for platform admins)."""
    if user not in (principal.user.username, principal.user.id):
        require_platform_admin(principal)
    with db.session(write=False) as session:
        return UserRead.model_validate(service.get_user(session, user))


@router.patch("/users/{user}", tags=["users"])
def update_user(user: str, body: UserUpdate, principal: Caller, ctx: Audit, db: Db) -> UserRead:
    """Change a user's details, password, admin flag or active flag (platform admins only)."""
    require_platform_admin(principal)
    with db.session() as session:
        return UserRead.model_validate(
            service.update_user(session, ctx, service.get_user(session, user), body)
        )


# -- workspaces ------------------------------------------------------------------------------------------


@router.get("/workspaces", tags=["workspaces"])
def list_workspaces(
    principal: Caller,
    db: Db,
    q: Search = None,
    all: Annotated[bool, Query(description="Every workspace (platform admins).")] = False,
    sort: str = "slug",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> WorkspacePage:
    """Workspaces you belong to, with your role in each."""
    with db.session(write=False) as session:
        page = service.list_workspaces(
            session, principal, q=q, all_workspaces=all, sort=sort, limit=limit, cursor=cursor
        )
        roles = service.roles_of(session, principal.user, [w.id for w in page.items])
        return WorkspacePage(
            items=[_ws_read(w, roles.get(w.id)) for w in page.items], next_cursor=page.next_cursor
        )


@router.post("/workspaces", tags=["workspaces"], status_code=status.HTTP_201_CREATED)
def create_workspace(body: WorkspaceCreate, principal: Caller, ctx: Audit, db: Db) -> WorkspaceRead:
    """Create a workspace; you become its owner."""
    if principal.token_workspace_id:
        raise PermissionDenied("A token limited to one workspace cannot create workspaces.")
    with db.session() as session:
        owner = session.merge(principal.user)
        return _ws_read(service.create_workspace(session, ctx, body, owner=owner), Role.owner)


@router.get("/workspaces/{workspace}", tags=["workspaces"])
def get_workspace(access: ViewerAccess) -> WorkspaceRead:
    """One workspace by slug or id."""
    return _ws_read(access.workspace, access.role)


@router.patch("/workspaces/{workspace}", tags=["workspaces"])
def update_workspace(body: WorkspaceUpdate, access: AdminAccess, ctx: Audit, db: Db) -> WorkspaceRead:
    """Rename or describe a workspace (workspace admins and owners)."""
    with db.session() as session:
        return _ws_read(service.update_workspace(session, ctx, access, body), access.role)


@router.delete("/workspaces/{workspace}", tags=["workspaces"], status_code=status.HTTP_204_NO_CONTENT)
def delete_workspace(access: OwnerAccess, ctx: Audit, db: Db) -> None:
    """Delete a workspace and everything in it (owners only)."""
    with db.session() as session:
        service.delete_workspace(session, ctx, access)


# -- members -------------------------------------------------------------------------------------------


@router.get("/workspaces/{workspace}/members", tags=["members"])
def list_members(
    access: ViewerAccess,
    db: Db,
    role: Role | None = None,
    q: Search = None,
    sort: str = "created_at",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> MemberPage:
    """Members of a workspace and their roles."""
    with db.session(write=False) as session:
        page = service.list_members(session, access, role=role, q=q, sort=sort, limit=limit, cursor=cursor)
        return MemberPage(items=[_member_read(m) for m in page.items], next_cursor=page.next_cursor)


@router.post("/workspaces/{workspace}/members", tags=["members"], status_code=status.HTTP_201_CREATED)
def add_member(body: MemberCreate, access: AdminAccess, ctx: Audit, db: Db) -> MemberRead:
    """Add a user to a workspace with a role (workspace admins and owners)."""
    with db.session() as session:
        return _member_read(service.add_member(session, ctx, access, body))


@router.patch("/workspaces/{workspace}/members/{member}", tags=["members"])
def update_member(member: str, body: MemberUpdate, access: AdminAccess, ctx: Audit, db: Db) -> MemberRead:
    """Change a member's role (by username, user id or membership id)."""
    with db.session() as session:
        m = service.get_member(session, access, member)
        return _member_read(service.update_member(session, ctx, access, m, body.role))


@router.delete(
    "/workspaces/{workspace}/members/{member}", tags=["members"], status_code=status.HTTP_204_NO_CONTENT
)
def remove_member(member: str, access: AdminAccess, ctx: Audit, db: Db) -> None:
    """Remove a member from a workspace."""
    with db.session() as session:
        service.remove_member(session, ctx, access, service.get_member(session, access, member))


# -- quotas --------------------------------------------------------------------------------------------


@router.get("/workspaces/{workspace}/quota", tags=["quotas"])
def get_quota(access: ViewerAccess) -> QuotaRead:
    """The workspace's resource quota and priority."""
    return _quota_read(access.workspace)


@router.patch("/workspaces/{workspace}/quota", tags=["quotas"])
def update_quota(body: QuotaUpdate, access: ViewerAccess, principal: Caller, ctx: Audit, db: Db) -> QuotaRead:
    """Set quota limits (null = unlimited) and priority (platform admins only)."""
    with db.session() as session:
        ws = session.merge(access.workspace)
        service.update_quota(session, ctx, principal, ws, body)
        return _quota_read(ws)


# -- tokens ----------------------------------------------------------------------------------------------


@router.get("/tokens", tags=["tokens"])
def list_tokens(
    principal: Caller,
    db: Db,
    include_revoked: bool = False,
    sort: str = "-created_at",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> TokenPage:
    """Your API tokens (never their secrets)."""
    with db.session(write=False) as session:
        page = auth.list_tokens(
            session, principal.user, include_revoked=include_revoked, sort=sort, limit=limit, cursor=cursor
        )
        return TokenPage(items=[_token_read(t) for t in page.items], next_cursor=page.next_cursor)


@router.post("/tokens", tags=["tokens"], status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, principal: Caller, ctx: Audit, db: Db) -> TokenCreated:
    """Create an API token. The secret is in this reply only: store it now."""
    with db.session() as session:
        token, secret = auth.create_token(session, ctx, principal, body)
        session.refresh(token)
        return TokenCreated(**_token_read(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", tags=["tokens"])
def revoke_token(token_id: str, principal: Caller, ctx: Audit, db: Db) -> TokenRead:
    """Revoke one of your tokens; it stops working at once."""
    with db.session() as session:
        token = auth.revoke_token(session, ctx, principal.user, token_id)
        return _token_read(token)


# -- audit -----------------------------------------------------------------------------------------------


@router.get("/workspaces/{workspace}/audit", tags=["audit"])
def list_workspace_audit(
    access: AdminAccess,
    db: Db,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sort: str = "-at",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> AuditPage:
    """The audit trail of one workspace (workspace admins and owners)."""
    with db.session(write=False) as session:
        return _audit_page(
            audit.list_events(
                session,
                workspace_id=access.workspace.id,
                action=action,
                actor=actor,
                since=since,
                until=until,
                sort=sort,
                limit=limit,
                cursor=cursor,
            )
        )


@router.get("/audit", tags=["audit"])
def list_audit(
    principal: Caller,
    db: Db,
    workspace: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sort: str = "-at",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> AuditPage:
    """The whole audit trail, across workspaces (platform admins only)."""
    require_platform_admin(principal)
    with db.session(write=False) as session:
        ws_id = None
        if workspace:
            ws = find_workspace(session, workspace)
            if ws is None:
                raise NotFound(f"Workspace {workspace!r} not found.")
            ws_id = ws.id
        return _audit_page(
            audit.list_events(
                session,
                workspace_id=ws_id,
                action=action,
                actor=actor,
                since=since,
                until=until,
                sort=sort,
                limit=limit,
                cursor=cursor,
                all_workspaces=workspace is None,
            )
        )


# -- plugins ---------------------------------------------------------------------------------------------


@router.get("/plugins", tags=["plugins"])
def list_plugins(principal: Caller) -> list[PluginRead]:
    """Every plugin of every kind, loaded or broken (platform admins only)."""
    require_platform_admin(principal)
    identity_providers()  # registries appear on first use; list this one even before a password login
    out: list[PluginRead] = []
    for reg in all_registries().values():
        out.extend(
            PluginRead(
                group=i.group, name=i.name, target=i.target, source=i.source, loaded=i.loaded, error=i.error
            )
            for i in reg.load_all()
        )
    return out

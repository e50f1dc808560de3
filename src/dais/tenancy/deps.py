"""FastAPI dependencies every domain's routes use: the database, the caller, workspace access.

Other domains import these through ``dais.tenancy``; an endpoint declares what it needs
(``Caller``, ``workspace_access(Role.editor)``, ``Db``) and gets a checked answer or a 401/403/404.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.exc import OperationalError

from dais.core.errors import Unauthenticated
from dais.core.logging import request_id_var
from dais.core.settings import Settings
from dais.db import Database
from dais.tenancy.access import AuditContext, Principal, WorkspaceAccess, require_workspace
from dais.tenancy.auth import authenticate_basic, authenticate_session, authenticate_token, touch_token
from dais.tenancy.roles import Role
from dais.tenancy.security import constant_equal, csrf_for

log = logging.getLogger(__name__)

SESSION_COOKIE = "dais_session"
CSRF_COOKIE = "dais_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Db = Annotated[Database, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def authenticate(request: Request, db: Db, settings: AppSettings) -> Principal:
    """The caller: a bearer token, HTTP Basic (password or token), or the UI's session cookie."""
    header = request.headers.get("authorization")
    due = False
    with db.session(write=False) as session:
        if header:
            scheme, _, value = header.partition(" ")
            scheme = scheme.lower()
            if scheme == "bearer" and value.strip():
                principal, due = authenticate_token(session, value.strip())
            elif scheme == "basic":
                username, password = _basic(value)
                principal, due = authenticate_basic(session, username, password)
            else:
                raise Unauthenticated("Use `Authorization: Bearer <token>` or HTTP Basic credentials.")
        elif cookie := request.cookies.get(SESSION_COOKIE):
            principal = authenticate_session(session, cookie)
            if request.method not in SAFE_METHODS:
                sent = request.headers.get(CSRF_HEADER, "")
                if not sent or not constant_equal(sent, csrf_for(settings.secret_key(), cookie)):
                    raise Unauthenticated(
                        "Missing or wrong CSRF token: send the dais_csrf cookie's value in the "
                        "X-CSRF-Token header (the web UI does this for you)."
                    )
        else:
            raise Unauthenticated("Log in, or send an API token as `Authorization: Bearer <token>`.")
    if due and principal.token_id:
        _touch(db, principal.token_id, client_ip(request))
    request.state.principal = principal
    return principal


def _touch(db: Database, token_id: str, ip: str | None) -> None:
    # Best effort: a busy database must never fail the request the token was used for.
    try:
        with db.session() as session:
            touch_token(session, token_id, ip)
    except OperationalError as exc:
        log.warning("could not record token use: %s", exc)


def _basic(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthenticated("The HTTP Basic credentials are not valid base64 of `user:password`.") from exc
    username, sep, password = decoded.partition(":")
    if not sep:
        raise Unauthenticated("The HTTP Basic credentials must be `user:password`.")
    return username, password


Caller = Annotated[Principal, Depends(authenticate)]


def audit_context(request: Request, principal: Caller) -> AuditContext:
    return AuditContext(
        actor_id=principal.user.id,
        actor_name=principal.user.username,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        request_id=request_id_var.get(),
    )


Audit = Annotated[AuditContext, Depends(audit_context)]

WorkspacePath = Annotated[str, Path(description="Workspace slug or id.", min_length=1, max_length=64)]


def workspace_access(min_role: Role = Role.viewer) -> Callable[..., WorkspaceAccess]:
    """A dependency: the ``{workspace}`` of the path, if the caller has at least ``min_role`` there."""

    def dependency(workspace: WorkspacePath, principal: Caller, db: Db) -> WorkspaceAccess:
        with db.session(write=False) as session:
            return require_workspace(session, principal, workspace, min_role)

    dependency.__name__ = f"workspace_{min_role}"
    return dependency


ViewerAccess = Annotated[WorkspaceAccess, Depends(workspace_access(Role.viewer))]
EditorAccess = Annotated[WorkspaceAccess, Depends(workspace_access(Role.editor))]
AdminAccess = Annotated[WorkspaceAccess, Depends(workspace_access(Role.admin))]
OwnerAccess = Annotated[WorkspaceAccess, Depends(workspace_access(Role.owner))]

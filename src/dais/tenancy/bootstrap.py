"""First start: an administrator and a default workspace, so a new instance is usable at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dais.tenancy.access import AuditContext
from dais.tenancy.models import User, Workspace
from dais.tenancy.schemas import UserCreate, WorkspaceCreate
from dais.tenancy.service import create_user, create_workspace

DEFAULT_WORKSPACE = "default"


@dataclass
class Bootstrap:
    admin: User
    created: bool
    generated_password: str | None


def ensure_admin(
    session: Session, *, username: str, password: str | None, email: str | None = None
) -> Bootstrap:
    """Create the first admin and the default workspace if there are no users yet.

    With ``password`` (``DAIS_ADMIN_PASSWORD``) the admin logs in with it; without, a random password
    is set that nobody sees, and the admin comes in through a one-time login link.
    """
    if session.scalar(select(func.count()).select_from(User)):
        admin = session.scalar(select(User).where(User.username == username)) or session.scalar(
            select(User).where(User.is_admin).order_by(User.created_at)
        )
        assert admin is not None
        return Bootstrap(admin, created=False, generated_password=None)
    ctx = AuditContext.system()
    generated = None if password else secrets.token_urlsafe(24)
    spec = UserCreate.model_validate(
        {"username": username, "password": password or generated, "email": email, "is_admin": True}
    )
    admin = create_user(session, ctx, spec)
    if not session.scalar(select(Workspace.id).where(Workspace.slug == DEFAULT_WORKSPACE)):
        create_workspace(session, ctx, WorkspaceCreate(slug=DEFAULT_WORKSPACE, name="Default"), owner=admin)
    return Bootstrap(admin, created=True, generated_password=generated)

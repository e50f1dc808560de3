"""Commands that act on the DAIS_HOME database directly, without a server (imports the server code)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dais.cli.embedded import browser_url
from dais.core.errors import NotFound
from dais.core.settings import load_settings
from dais.db import check_schema, create_database
from dais.tenancy.access import AuditContext
from dais.tenancy.auth import create_login_link
from dais.tenancy.models import User


def local_login_link(username: str | None) -> str:
    """A one-time login link made in the local database: for ``username``, else the first admin."""
    settings = load_settings()
    db = create_database(settings.database_url)
    try:
        check_schema(db.engine)
        with db.session() as session:
            if username:
                user = session.scalar(select(User).where(User.username == username))
            else:
                user = session.scalar(
                    select(User).where(User.username == settings.admin.user)
                ) or session.scalar(select(User).where(User.is_admin).order_by(User.created_at))
            if user is None:
                raise NotFound(f"No user {username or settings.admin.user!r} in {settings.database_url}.")
            ttl = timedelta(minutes=settings.api.login_link_ttl_minutes)
            ctx = AuditContext(None, "cli (local)")
            _, code = create_login_link(session, ctx, user, ttl=ttl)
    finally:
        db.dispose()
    return f"{browser_url(settings).rstrip('/')}/login/link/{code}"

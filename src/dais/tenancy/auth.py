"""Credentials: API tokens, browser sessions, one-time login links, and turning them into a caller."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dais.core.errors import NotFound, Unauthenticated
from dais.db import Page, paginate, utcnow
from dais.tenancy import audit
from dais.tenancy.access import AuditContext, Principal, find_workspace
from dais.tenancy.identity import identity_providers
from dais.tenancy.models import ApiToken, AuthSession, LoginLink, Membership, User
from dais.tenancy.schemas import TokenCreate
from dais.tenancy.security import TOKEN_PREFIX, digest, new_secret

# A token's last-used time is written at most this often, so reads do not turn into writes.
LAST_USED_GRANULARITY = timedelta(seconds=60)

_BAD_CREDENTIALS = "The username or password is wrong."


# -- tokens ----------------------------------------------------------------------------------------


def create_token(
    session: Session, ctx: AuditContext, principal: Principal, spec: TokenCreate
) -> tuple[ApiToken, str]:
    """A new token for the caller; the secret is returned once and kept only as a digest."""
    workspace_id = principal.token_workspace_id
    if spec.workspace:
        ws = find_workspace(session, spec.workspace)
        member = ws and session.scalar(
            select(Membership.id).where(
                Membership.workspace_id == ws.id, Membership.user_id == principal.user.id
            )
        )
        if (
            ws is None
            or (not member and not principal.user.is_admin)
            or (workspace_id is not None and workspace_id != ws.id)
        ):
            raise NotFound(
                f"Workspace {spec.workspace!r} not found (or you are not a member of it).",
                errors=[{"loc": ["body", "workspace"], "msg": "unknown workspace"}],
            )
        workspace_id = ws.id
    secret = new_secret()
    token = ApiToken(
        user_id=principal.user.id,
        workspace_id=workspace_id,
        name=spec.name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=digest(secret),
        expires_at=utcnow() + timedelta(days=spec.expires_in_days) if spec.expires_in_days else None,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        ctx,
        "token.create",
        target_type="token",
        target_id=token.id,
        workspace_id=workspace_id,
        details={"name": spec.name, "prefix": token.prefix},
    )
    return token, secret


def list_tokens(
    session: Session, user: User, *, include_revoked: bool, sort: str, limit: int, cursor: str | None
) -> Page[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == user.id)
    if not include_revoked:
        stmt = stmt.where(ApiToken.revoked_at.is_(None))
    return paginate(
        session,
        stmt,
        columns={"created_at": ApiToken.created_at, "name": ApiToken.name},
        id_column=ApiToken.id,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )


def revoke_token(session: Session, ctx: AuditContext, user: User, token_id: str) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if token is None:
        raise NotFound(f"Token {token_id!r} not found among your tokens.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        audit.record(
            session,
            ctx,
            "token.revoke",
            target_type="token",
            target_id=token.id,
            workspace_id=token.workspace_id,
            details={"name": token.name, "prefix": token.prefix},
        )
    return token


def _live(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is None or expires_at > now


def authenticate_token(session: Session, secret: str) -> tuple[Principal, bool]:
    """The caller a bearer token stands for, and whether its last-used time is due a write."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    now = utcnow()
    if token is None:
        raise Unauthenticated("The API token is not valid. Create a new one under Account > Tokens.")
    if token.revoked_at is not None:
        raise Unauthenticated("This API token has been revoked. Create a new one under Account > Tokens.")
    if not _live(token.expires_at, now):
        raise Unauthenticated("This API token has expired. Create a new one under Account > Tokens.")
    if not token.user.is_active:
        raise Unauthenticated("The account this token belongs to is deactivated.")
    due = token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY
    return Principal(token.user, "token", token_id=token.id, token_workspace_id=token.workspace_id), due


def touch_token(session: Session, token_id: str, ip: str | None) -> None:
    session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow(), last_used_ip=ip)
    )


def authenticate_password(session: Session, username: str, password: str) -> User:
    """Ask each identity provider in turn; the first that knows the user decides."""
    for name in identity_providers().names():
        provider = identity_providers().get(name)()
        user = provider.authenticate(session, username, password)
        if user is not None:
            return user
    raise Unauthenticated(_BAD_CREDENTIALS)


def authenticate_basic(session: Session, username: str, password: str) -> tuple[Principal, bool]:
    """HTTP Basic, as the MLflow client sends it: a password, or an API token in the password field."""
    if password.startswith(TOKEN_PREFIX):
        principal, due = authenticate_token(session, password)
        if principal.user.username != username and username not in ("", "token", "__token__"):
            raise Unauthenticated("This token belongs to another user than the one named.")
        return principal, due
    return Principal(authenticate_password(session, username, password), "password"), False


# -- browser sessions --------------------------------------------------------------------------------


def create_session(
    session: Session, ctx: AuditContext, user: User, *, ttl: timedelta
) -> tuple[AuthSession, str]:
    secret = new_secret("dais_s_")
    auth = AuthSession(
        user_id=user.id,
        token_hash=digest(secret),
        expires_at=utcnow() + ttl,
        ip=ctx.ip,
        user_agent=(ctx.user_agent or "")[:255] or None,
    )
    user.last_login_at = utcnow()
    session.add(auth)
    session.flush()
    audit.record(
        session, ctx, "auth.login", target_type="user", target_id=user.id, details={"username": user.username}
    )
    return auth, secret


def authenticate_session(session: Session, secret: str) -> Principal:
    auth = session.scalar(select(AuthSession).where(AuthSession.token_hash == digest(secret)))
    if auth is None or not _live(auth.expires_at, utcnow()) or not auth.user.is_active:
        raise Unauthenticated("Your session has ended. Log in again.")
    return Principal(auth.user, "session", session_id=auth.id)


def end_session(session: Session, ctx: AuditContext, session_id: str) -> None:
    auth = session.get(AuthSession, session_id)
    if auth is not None:
        audit.record(session, ctx, "auth.logout", target_type="user", target_id=auth.user_id)
        session.delete(auth)
        session.flush()


# -- one-time login links ------------------------------------------------------------------------------


def create_login_link(
    session: Session, ctx: AuditContext, user: User, *, ttl: timedelta
) -> tuple[LoginLink, str]:
    code = new_secret("dais_l_")
    link = LoginLink(user_id=user.id, code_hash=digest(code), expires_at=utcnow() + ttl)
    session.add(link)
    session.flush()
    audit.record(
        session,
        ctx,
        "auth.login_link",
        target_type="user",
        target_id=user.id,
        details={"username": user.username},
    )
    return link, code


def consume_login_link(session: Session, code: str) -> User:
    link = session.scalar(select(LoginLink).where(LoginLink.code_hash == digest(code)))
    now = utcnow()
    if link is None or link.used_at is not None or not _live(link.expires_at, now):
        raise Unauthenticated(
            "This login link is not valid any more (links work once, for a few minutes). "
            "Run `dais login-link` for a new one, or log in with your password."
        )
    # Mark used with a guarded update so two clicks at once cannot both succeed.
    result = session.execute(
        update(LoginLink).where(LoginLink.id == link.id, LoginLink.used_at.is_(None)).values(used_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Unauthenticated("This login link has already been used.")
    user = session.get(User, link.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("The account this link belongs to is deactivated.")
    return user


# -- job tokens ------------------------------------------------------------------------------------------


def issue_job_token(
    session: Session, *, user_id: str, workspace_id: str, name: str, ttl: timedelta
) -> tuple[str, str]:
    """A short-lived token for a running job: the job owner's identity, limited to the job's workspace.

    Not audited one by one (jobs start often); it is revoked when the attempt ends.
    """
    secret = new_secret()
    token = ApiToken(
        user_id=user_id,
        workspace_id=workspace_id,
        name=name[:128],
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=digest(secret),
        expires_at=utcnow() + ttl,
    )
    session.add(token)
    session.flush()
    return token.id, secret


def revoke_job_token(session: Session, token_id: str) -> None:
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )

"""The SDK's own read models: small pydantic copies of what the API answers.

They ignore fields they do not know, so a newer server does not break an older SDK.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Base of every SDK model: lenient about new fields, immutable."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class User(Model):
    """A user account."""

    id: str
    username: str
    email: str | None = None
    display_name: str | None = None
    is_admin: bool = False
    is_active: bool = True
    provider: str = "local"
    created_at: datetime
    last_login_at: datetime | None = None


class Workspace(Model):
    """A workspace (the tenant boundary), with the caller's role in it."""

    id: str
    slug: str
    name: str
    description: str = ""
    priority: int = 0
    created_at: datetime
    updated_at: datetime
    role: str | None = None


class Member(Model):
    """A user's membership of a workspace."""

    id: str
    workspace_id: str
    user_id: str
    username: str
    display_name: str | None = None
    role: str
    created_at: datetime


class Token(Model):
    """An API token (never its secret)."""

    id: str
    name: str
    prefix: str
    workspace_id: str | None = None
    workspace_slug: str | None = None
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    last_used_ip: str | None = None


class TokenCreated(Token):
    """A new token: ``token`` is the secret, shown only once."""

    token: str


class Quota(Model):
    """A workspace's resource limits (``None``: unlimited) and its priority."""

    workspace_id: str
    priority: int
    max_concurrent_jobs: int | None = None
    max_cpus: float | None = None
    max_memory_mb: int | None = None
    max_gpus: int | None = None
    updated_at: datetime


class AuditEvent(Model):
    """One entry of the audit log."""

    id: str
    at: datetime
    actor_id: str | None = None
    actor_name: str
    workspace_id: str | None = None
    action: str
    target_type: str
    target_id: str | None = None
    details: dict[str, Any] = {}
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


class MembershipBrief(Model):
    """A workspace the caller belongs to, and their role there."""

    workspace_id: str
    slug: str
    name: str
    role: str


class Me(Model):
    """The caller: user, workspaces, and how the request authenticated."""

    user: User
    workspaces: list[MembershipBrief]
    auth: str
    token_workspace: str | None = None


class LoginLink(Model):
    """A one-time login link."""

    url: str
    expires_at: datetime


class Artifact(Model):
    """An artifact (or, in a non-recursive listing, a folder) in a workspace."""

    key: str
    size: int
    etag: str | None = None
    modified: datetime | None = None
    is_folder: bool = False


class Plugin(Model):
    """A plugin the server knows, loaded or broken."""

    group: str
    name: str
    target: str
    source: str
    loaded: bool
    error: str | None = None

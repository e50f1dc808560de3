"""The tenancy API contract (pydantic): the ``XCreate / XUpdate / XRead / XPage`` family."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, SecretStr, StringConstraints

from dais.tenancy.roles import Role

Slug = Annotated[
    str,
    # pydantic checks the pattern before it lowers the case, so the pattern admits upper case.
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$", to_lower=True, strip_whitespace=True),
    Field(
        description="Letters, digits and dashes, kept lower-case; starts with a letter or digit; at most 63."
    ),
]
Username = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$", strip_whitespace=True),
    Field(description="Letters, digits, '_', '.', '@' and '-'; at most 64."),
]
Password = Annotated[SecretStr, Field(min_length=8, max_length=256, description="At least 8 characters.")]


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Problem(BaseModel):
    """An RFC 9457 problem document, as every error of the API is answered."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[dict[str, Any]] | None = None


# -- users -----------------------------------------------------------------------------------------


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: Password | None = None
    email: EmailStr | None = None
    display_name: str | None = Field(default=None, max_length=128)
    is_admin: bool = False


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr | None = None
    display_name: str | None = Field(default=None, max_length=128)
    password: Password | None = None
    is_admin: bool | None = None
    is_active: bool | None = None


class UserRead(ReadModel):
    id: str
    username: str
    email: str | None
    display_name: str | None
    is_admin: bool
    is_active: bool
    provider: str
    created_at: datetime
    last_login_at: datetime | None


class UserPage(BaseModel):
    items: list[UserRead]
    next_cursor: str | None


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: SecretStr
    new_password: Password


# -- workspaces ------------------------------------------------------------------------------------


class QuotaFields(BaseModel):
    max_concurrent_jobs: int | None = Field(default=None, ge=0, le=100_000)
    max_cpus: float | None = Field(default=None, ge=0, le=1_000_000)
    max_memory_mb: int | None = Field(default=None, ge=0, le=1_000_000_000)
    max_gpus: int | None = Field(default=None, ge=0, le=100_000)


class QuotaRead(QuotaFields, ReadModel):
    workspace_id: str
    priority: int
    updated_at: datetime


class QuotaUpdate(QuotaFields):
    """Set quota limits (null = unlimited) and the workspace priority; omitted fields stay."""

    model_config = ConfigDict(extra="forbid")

    priority: int | None = Field(default=None, ge=-100, le=100)


class WorkspaceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: Slug
    name: str | None = Field(default=None, max_length=128)
    description: str = Field(default="", max_length=4000)


class WorkspaceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=128)
    description: str | None = Field(default=None, max_length=4000)


class WorkspaceRead(ReadModel):
    id: str
    slug: str
    name: str
    description: str
    priority: int
    created_at: datetime
    updated_at: datetime
    role: Role | None = Field(default=None, description="The caller's role here (None: platform admin only).")


class WorkspacePage(BaseModel):
    items: list[WorkspaceRead]
    next_cursor: str | None


# -- members ---------------------------------------------------------------------------------------


class MemberCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    role: Role = Role.viewer


class MemberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class MemberRead(ReadModel):
    id: str
    workspace_id: str
    user_id: str
    username: str
    display_name: str | None
    role: Role
    created_at: datetime


class MemberPage(BaseModel):
    items: list[MemberRead]
    next_cursor: str | None


# -- tokens ----------------------------------------------------------------------------------------


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    workspace: str | None = Field(
        default=None, description="Slug of the one workspace this token may act in; omit for all of yours."
    )
    expires_in_days: float | None = Field(default=90, gt=0, le=3650, description="null: never expires.")


class TokenRead(ReadModel):
    id: str
    name: str
    prefix: str
    workspace_id: str | None
    workspace_slug: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None


class TokenCreated(TokenRead):
    token: str = Field(description="The secret, shown only in this reply.")


class TokenPage(BaseModel):
    items: list[TokenRead]
    next_cursor: str | None


# -- auth ------------------------------------------------------------------------------------------


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=254)
    password: SecretStr


class MembershipBrief(BaseModel):
    workspace_id: str
    slug: str
    name: str
    role: Role


class Me(BaseModel):
    user: UserRead
    workspaces: list[MembershipBrief]
    auth: str = Field(description="How this request authenticated: session, token or password.")
    token_workspace: str | None = Field(default=None, description="Slug the token is limited to, if any.")


class LoginLinkRead(BaseModel):
    url: str
    expires_at: datetime


# -- audit -----------------------------------------------------------------------------------------


class AuditRead(ReadModel):
    id: str
    at: datetime
    actor_id: str | None
    actor_name: str
    workspace_id: str | None
    action: str
    target_type: str
    target_id: str | None
    details: dict[str, Any]
    ip: str | None
    user_agent: str | None
    request_id: str | None


class AuditPage(BaseModel):
    items: list[AuditRead]
    next_cursor: str | None


class PluginRead(BaseModel):
    group: str
    name: str
    target: str
    source: str
    loaded: bool
    error: str | None

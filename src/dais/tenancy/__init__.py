"""Tenancy: users, workspaces (the tenant boundary), roles, API tokens, quotas, the audit log.

Other domains use these names only: the request dependencies that authenticate callers and check
their role in a workspace, and the audit recorder.
"""

from dais.tenancy.access import (
    AuditContext,
    Principal,
    WorkspaceAccess,
    require_platform_admin,
    require_workspace,
    visible_workspace_ids,
)
from dais.tenancy.audit import record as record_audit
from dais.tenancy.auth import issue_job_token, revoke_job_token
from dais.tenancy.deps import (
    AdminAccess,
    AppSettings,
    Audit,
    Caller,
    Db,
    EditorAccess,
    OwnerAccess,
    ViewerAccess,
    workspace_access,
)
from dais.tenancy.models import Quota, User, Workspace
from dais.tenancy.roles import Role

__all__ = [
    "AdminAccess",
    "AppSettings",
    "Audit",
    "AuditContext",
    "Caller",
    "Db",
    "EditorAccess",
    "OwnerAccess",
    "Principal",
    "Quota",
    "Role",
    "User",
    "ViewerAccess",
    "Workspace",
    "WorkspaceAccess",
    "issue_job_token",
    "record_audit",
    "require_platform_admin",
    "require_workspace",
    "revoke_job_token",
    "visible_workspace_ids",
    "workspace_access",
]

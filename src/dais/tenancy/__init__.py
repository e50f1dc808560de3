"""Tenancy: users, workspaces (the tenant boundary), roles, API tokens, quotas, the audit log.

Other domains use these names only: the request dependencies that authenticate callers and check
their role in a workspace, and the audit recorder.
"""

from dais.tenancy.access import AuditContext, Principal, WorkspaceAccess, require_platform_admin
from dais.tenancy.audit import record as record_audit
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
    "Role",
    "ViewerAccess",
    "WorkspaceAccess",
    "record_audit",
    "require_platform_admin",
    "workspace_access",
]

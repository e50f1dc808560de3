"""The Dais Python SDK: ``dais.Client`` over the REST API (httpx, keep-alive), one module per domain.

Errors come back as the same :class:`dais.core.errors.DaisError` subclasses the server raised
(``NotFound``, ``PermissionDenied``, ``InvalidInput`` with its field ``errors``, ...).
"""

from dais.client.client import Client
from dais.client.config import Profile, config_path, load_config, save_profile, use_profile
from dais.client.http import DaisConnectionError, Route, request_id_of, routes
from dais.client.models import (
    Artifact,
    AuditEvent,
    Dag,
    Job,
    JobAttempt,
    JobKindInfo,
    LoginLink,
    Me,
    Member,
    MembershipBrief,
    Plugin,
    Quota,
    Schedule,
    ScheduleRun,
    Token,
    TokenCreated,
    User,
    WorkerInfo,
    Workspace,
)

__all__ = [
    "Artifact",
    "AuditEvent",
    "Client",
    "Dag",
    "DaisConnectionError",
    "Job",
    "JobAttempt",
    "JobKindInfo",
    "LoginLink",
    "Me",
    "Member",
    "MembershipBrief",
    "Plugin",
    "Profile",
    "Quota",
    "Route",
    "Schedule",
    "ScheduleRun",
    "Token",
    "TokenCreated",
    "User",
    "WorkerInfo",
    "Workspace",
    "config_path",
    "load_config",
    "request_id_of",
    "routes",
    "save_profile",
    "use_profile",
]

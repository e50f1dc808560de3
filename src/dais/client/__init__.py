"""The Dais Python SDK: ``dais.Client`` over the REST API (httpx, keep-alive), one module per domain.

Errors come back as the same :class:`dais.core.errors.DaisError` subclasses the server raised
(``NotFound``, ``PermissionDenied``, ``InvalidInput`` with its field ``errors``, ...).
"""

from dais.client.client import Client
from dais.client.config import Profile, config_path, load_config, save_profile, use_profile
from dais.client.connections import CheckResult, Connection, ConnectorKind, SourceEntry
from dais.client.datasets import (
    ColumnSchema,
    ColumnStats,
    Dataset,
    DatasetVersion,
    Inspection,
    Lineage,
    LineageEdge,
    MediaItem,
    Partition,
    PartitionInfo,
    Registration,
)
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
from dais.client.uploads import Upload

__all__ = [
    "Artifact",
    "AuditEvent",
    "CheckResult",
    "Client",
    "ColumnSchema",
    "ColumnStats",
    "Connection",
    "ConnectorKind",
    "Dag",
    "DaisConnectionError",
    "Dataset",
    "DatasetVersion",
    "Inspection",
    "Job",
    "JobAttempt",
    "JobKindInfo",
    "Lineage",
    "LineageEdge",
    "LoginLink",
    "Me",
    "MediaItem",
    "Member",
    "MembershipBrief",
    "Partition",
    "PartitionInfo",
    "Plugin",
    "Profile",
    "Quota",
    "Registration",
    "Route",
    "Schedule",
    "ScheduleRun",
    "SourceEntry",
    "Token",
    "TokenCreated",
    "Upload",
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

"""The SDK's own read models: small pydantic copies of what the API answers.

They ignore fields they do not know, so a newer server does not break an older SDK.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, PrivateAttr

if TYPE_CHECKING:
    from dais.client.jobs import Jobs as JobsApi


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


FINISHED_STATES = frozenset({"succeeded", "failed", "cancelled", "upstream_failed"})
"""Job states after which a job changes no more (unless it is retried)."""


class JobAttempt(Model):
    """One run of a job on a worker."""

    number: int
    worker_id: str
    state: str
    started_at: datetime
    finished_at: datetime | None = None
    exit_code: int | None = None
    error: str | None = None


class Job(Model):
    """A job: its kind and spec, where it is in its life, its progress, result or error.

    A job returned by :class:`dais.client.jobs.Jobs` is bound to that client, so it can
    :meth:`refresh`, :meth:`wait`, stream its :meth:`logs`, :meth:`cancel` and :meth:`retry` itself.
    """

    id: str
    workspace_id: str
    owner_id: str | None = None
    name: str
    kind: str
    spec: dict[str, Any] = {}
    priority: int = 0
    cpus: float = 1.0
    memory_mb: int = 512
    gpus: int = 0
    labels: dict[str, Any] = {}
    state: str
    wait_reason: str | None = None
    attempt: int = 0
    max_attempts: int = 1
    timeout_s: float | None = None
    dag_id: str | None = None
    dag_node: str | None = None
    depends_on: list[str] = []
    result: dict[str, Any] | None = None
    error: str | None = None
    progress: float | None = None
    progress_message: str | None = None
    cancel_requested: bool = False
    lease_owner: str | None = None
    gpu_ids: list[Any] | None = None
    created_at: datetime
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: list[JobAttempt] = []
    """Filled by ``get`` (and so by :meth:`refresh` and :meth:`wait`); empty in listings."""

    _jobs: JobsApi | None = PrivateAttr(default=None)

    @property
    def finished(self) -> bool:
        """True once the job succeeded, failed, was cancelled or its upstream failed."""
        return self.state in FINISHED_STATES

    @property
    def succeeded(self) -> bool:
        """True if the job ran to success."""
        return self.state == "succeeded"

    def bind(self, jobs: JobsApi) -> Job:
        """Attach the client's jobs API (done for you by every SDK call that returns a job)."""
        self._jobs = jobs
        return self

    def _api(self) -> JobsApi:
        if self._jobs is None:
            raise RuntimeError("this Job is not bound to a client; get it through client.jobs")
        return self._jobs

    def refresh(self) -> Job:
        """The job as the server has it now (a new object; this one does not change)."""
        return self._api().get(self.workspace_id, self.id)

    def wait(self, timeout: float | None = None, poll: float = 0.5) -> Job:
        """Block until the job finished (see :meth:`dais.client.jobs.Jobs.wait`)."""
        return self._api().wait(self.workspace_id, self.id, timeout=timeout, poll=poll)

    def logs(
        self, follow: bool = False, tail: int | None = None, attempt: int | None = None
    ) -> Iterator[str]:
        """The job's output lines, streamed (``follow``: live, until the job ends)."""
        return self._api().logs(self.workspace_id, self.id, follow=follow, tail=tail, attempt=attempt)

    def cancel(self) -> Job:
        """Cancel the job (a running one is stopped)."""
        return self._api().cancel(self.workspace_id, self.id)

    def retry(self) -> Job:
        """Run a failed, cancelled or upstream-failed job again."""
        return self._api().retry(self.workspace_id, self.id)


class Dag(Model):
    """A group of jobs with dependencies: its jobs and the (upstream, downstream) job id pairs."""

    dag_id: str
    name: str
    jobs: list[Job]
    edges: list[tuple[str, str]] = []

    def job(self, node: str) -> Job:
        """The job of the node named ``node``."""
        for j in self.jobs:
            if j.dag_node == node:
                return j
        raise KeyError(node)


class WorkerInfo(Model):
    """A worker of the resource pool: its capacity, what it runs now and what that uses."""

    id: str
    name: str
    host: str
    pid: int
    executor: str
    cpus: float
    memory_mb: int
    gpu_ids: list[Any] = []
    labels: dict[str, Any] = {}
    slots: int
    state: str
    started_at: datetime
    heartbeat_at: datetime
    alive: bool = False
    running: list[str] = []
    used_cpus: float = 0
    used_memory_mb: int = 0
    used_gpus: int = 0


class JobKindInfo(Model):
    """A job kind the server can run, with the JSON schema of its spec."""

    name: str
    description: str = ""
    spec_schema: dict[str, Any] = {}
    error: str | None = None


class Schedule(Model):
    """A schedule: when it fires (a cron expression in a time zone, or an interval) and what it submits.

    ``template`` is ``{"job": {...}}`` or ``{"dag": {...}}`` with its ``${variables}`` left in;
    ``next_runs`` are the next few run times (empty while paused).
    """

    id: str
    workspace_id: str
    owner_id: str | None = None
    name: str
    description: str = ""
    cron: str | None = None
    interval_s: float | None = None
    timezone: str = "UTC"
    template: dict[str, Any] = {}
    variables: dict[str, Any] = {}
    catchup: str = "skip"
    paused: bool = False
    next_run_at: datetime | None = None
    last_run_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime
    next_runs: list[datetime] = []


class ScheduleRun(Model):
    """One run a schedule fired: the job or DAG it submitted, or why it could not submit."""

    id: str
    schedule_id: str
    logical_date: datetime
    fired_at: datetime
    job_id: str | None = None
    dag_id: str | None = None
    error: str | None = None

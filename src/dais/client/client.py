"""``dais.Client``: the entry point of the Python SDK."""

from __future__ import annotations

import os
from types import TracebackType

from dais.client.artifacts import Artifacts
from dais.client.audit import Audit
from dais.client.auth import Auth
from dais.client.config import resolve
from dais.client.connections import Connections
from dais.client.datasets import Datasets
from dais.client.experiments import Experiments
from dais.client.http import Transport
from dais.client.jobs import Jobs
from dais.client.members import Members
from dais.client.models import Me
from dais.client.notifications import Notifications
from dais.client.pipelines import Pipelines
from dais.client.plugins import Plugins
from dais.client.quotas import Quotas
from dais.client.runs import Runs
from dais.client.schedules import Schedules
from dais.client.studies import Studies
from dais.client.tokens import Tokens
from dais.client.training import Training
from dais.client.uploads import Uploads
from dais.client.users import Users
from dais.client.workers import Workers
from dais.client.workspaces import Workspaces


class Client:
    """A connection to a Dais server.

    ``url`` and ``token`` come from the arguments, else ``DAIS_URL`` / ``DAIS_TOKEN``, else a profile
    of the config file (``profile``, else the current one; see :mod:`dais.client.config`). Give
    ``username`` and ``password`` instead of a token to use HTTP Basic (as ``dais login`` does to
    create its token). Listings fetch ``page_size`` items per request. Use it as a context
    manager, or call :meth:`close`::

        with dais.Client() as client:
            for ws in client.workspaces.list():
                print(ws.slug, ws.role)

    Inside a job, ``DAIS_URL`` and ``DAIS_TOKEN`` are set (a token limited to the job's workspace,
    whose id is in ``DAIS_WORKSPACE``), so ``dais.Client()`` needs no arguments there.

    ``workspace`` (else ``DAIS_WORKSPACE``) is the workspace the data and pipeline calls use when none
    is named (``client.datasets.get("sales")``); the other domains always name theirs.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        profile: str | None = None,
        timeout: float = 30.0,
        username: str | None = None,
        password: str | None = None,
        page_size: int = 100,
        workspace: str | None = None,
    ) -> None:
        basic = (username, password) if username is not None and password is not None else None
        self.url, self.token = resolve(url, None if basic else token, profile)
        if basic:
            self.token = None
        self._transport = Transport(
            self.url, token=self.token, basic=basic, timeout=timeout, page_size=page_size
        )
        self.auth = Auth(self._transport)
        self.workspaces = Workspaces(self._transport)
        self.users = Users(self._transport)
        self.members = Members(self._transport)
        self.tokens = Tokens(self._transport)
        self.quotas = Quotas(self._transport)
        self.audit = Audit(self._transport)
        self.artifacts = Artifacts(self._transport)
        self.plugins = Plugins(self._transport)
        self.jobs = Jobs(self._transport)
        self.notifications = Notifications(self._transport)
        self.schedules = Schedules(self._transport)
        self.workers = Workers(self._transport)
        self.workspace = workspace
        self.connections = Connections(self._transport, self._default_workspace)
        self.uploads = Uploads(self._transport, self._default_workspace)
        self.datasets = Datasets(self._transport, self._default_workspace, self.jobs)
        self.pipelines = Pipelines(self._transport, self._default_workspace)
        self.studies = Studies(self._transport, self._default_workspace)
        self.training = Training(self._transport, self._default_workspace, self.jobs)
        self.runs = Runs(self._transport, self._default_workspace)
        self.experiments = Experiments(self._transport, self._default_workspace, self.runs)
        self.runs.experiments = self.experiments

    def _default_workspace(self) -> str | None:
        return self.workspace or os.environ.get("DAIS_WORKSPACE") or None

    def me(self) -> Me:
        """Who this client is (shortcut for ``client.auth.me()``)."""
        return self.auth.me()

    def close(self) -> None:
        """Close the connection pool."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(url={self.url!r})"

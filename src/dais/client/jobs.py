"""Jobs: submit one job, a batch or a DAG, follow it, read its logs (streamed), cancel and retry it."""

from __future__ import annotations

import builtins
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from dais.client._base import Resource
from dais.client.artifacts import LIST as ARTIFACTS
from dais.client.http import route
from dais.client.models import Dag, Job, JobKindInfo

SUBMIT = route("POST", "/api/v1/workspaces/{workspace}/jobs")
LIST = route("GET", "/api/v1/workspaces/{workspace}/jobs")
GET = route("GET", "/api/v1/workspaces/{workspace}/jobs/{job_id}")
CANCEL = route("POST", "/api/v1/workspaces/{workspace}/jobs/{job_id}/cancel")
RETRY = route("POST", "/api/v1/workspaces/{workspace}/jobs/{job_id}/retry")
LOGS = route("GET", "/api/v1/workspaces/{workspace}/jobs/{job_id}/logs")
SUBMIT_MANY = route("POST", "/api/v1/workspaces/{workspace}/jobs:batch")
SUBMIT_DAG = route("POST", "/api/v1/workspaces/{workspace}/dags")
GET_DAG = route("GET", "/api/v1/workspaces/{workspace}/dags/{dag_id}")
KINDS = route("GET", "/api/v1/job-kinds")

_MIN_TAIL_BYTES = 64 * 1024  # bytes asked for first when tailing
_TAIL_BYTES_PER_LINE = 256
_MAX_TAIL_BYTES = 100 * 1024 * 1024


def split_lines(chunks: Iterable[bytes]) -> Iterator[tuple[str, int]]:
    """Text lines (without their line end) from byte chunks, each with the byte offset it ends at.

    Only the line being assembled is held in memory, however long the stream. (A newline byte never
    occurs inside a multi-byte UTF-8 character, so splitting bytes first is safe.)
    """
    partial: list[bytes] = []  # pieces of the line not ended yet
    offset = 0
    for chunk in chunks:
        start = 0
        while (cut := chunk.find(b"\n", start)) >= 0:
            partial.append(chunk[start:cut])
            yield b"".join(partial).decode(errors="replace").removesuffix("\r"), offset + cut + 1
            partial, start = [], cut + 1
        if start < len(chunk):
            partial.append(chunk[start:])
        offset += len(chunk)
    if partial:
        yield b"".join(partial).decode(errors="replace").removesuffix("\r"), offset


class Jobs(Resource):
    """Submit, list, follow, cancel and retry jobs and DAGs of jobs."""

    def submit(
        self,
        workspace: str,
        kind: str,
        spec: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        priority: int = 0,
        resources: Mapping[str, Any] | None = None,
        max_attempts: int = 1,
        backoff_s: float | None = None,
        timeout_s: float | None = None,
        depends_on: Sequence[str] = (),
    ) -> Job:
        """Submit a job of ``kind`` (see :meth:`kinds`) with its ``spec``; it is queued at once.

        ``resources`` takes ``cpus``, ``memory_mb``, ``gpus`` and ``labels`` (worker labels the job
        needs); ``depends_on`` lists ids of jobs that must succeed first. The returned job can
        :meth:`~dais.client.models.Job.wait` and stream its :meth:`~dais.client.models.Job.logs`::

            job = client.jobs.submit("team", "script", {"command": ["echo", "hi"]})
            for line in job.logs(follow=True):
                print(line)
            assert job.wait().succeeded
        """
        body: dict[str, Any] = {
            "kind": kind,
            "spec": dict(spec or {}),
            "name": name,
            "priority": priority,
            "max_attempts": max_attempts,
            "timeout_s": timeout_s,
            "depends_on": list(depends_on),
        }
        if resources is not None:
            body["resources"] = dict(resources)
        if backoff_s is not None:
            body["backoff_s"] = backoff_s
        return self._job(self._t.call(SUBMIT, path={"workspace": workspace}, json=body).json())

    def submit_many(self, workspace: str, jobs: Sequence[Mapping[str, Any]]) -> builtins.list[Job]:
        """Submit up to 1,000 independent jobs in one request: all are queued, or none is.

        Each job is a mapping of what :meth:`submit` takes (``kind``, ``spec``, ``name``,
        ``priority``, ``resources``, ...). Far cheaper than a :meth:`submit` each for a sweep::

            jobs = client.jobs.submit_many("team", [{"kind": "script", "spec": s} for s in specs])
        """
        body = {"jobs": [dict(j) for j in jobs]}
        items = self._t.call(SUBMIT_MANY, path={"workspace": workspace}, json=body).json()["items"]
        return [self._job(item) for item in items]

    def submit_dag(self, workspace: str, nodes: Sequence[Mapping[str, Any]], *, name: str = "dag") -> Dag:
        """Submit a DAG: each node is a job (``kind``, ``spec``, ...) with a unique ``node`` name and
        an ``after`` list of the nodes that must succeed first."""
        body = {"name": name, "nodes": [dict(n) for n in nodes]}
        return self._dag(self._t.call(SUBMIT_DAG, path={"workspace": workspace}, json=body).json())

    def dag(self, workspace: str, dag_id: str) -> Dag:
        """A DAG's jobs and edges."""
        return self._dag(self._t.call(GET_DAG, path={"workspace": workspace, "dag_id": dag_id}).json())

    def get(self, workspace: str, job_id: str) -> Job:
        """One job with its attempts."""
        return self._job(self._t.call(GET, path={"workspace": workspace, "job_id": job_id}).json())

    def list(
        self,
        workspace: str,
        *,
        state: str | Sequence[str] | None = None,
        kind: str | None = None,
        dag_id: str | None = None,
        q: str | None = None,
        sort: str = "-created_at",
        limit: int | None = None,
    ) -> Iterator[Job]:
        """Jobs of ``workspace`` (newest first by default), across all pages.

        ``state`` is one state or several; ``q`` matches part of the name.
        """
        states = [state] if isinstance(state, str) else list(state) if state else None
        params = {"state": states, "kind": kind, "dag_id": dag_id, "q": q, "sort": sort}
        for item in self._t.pages(LIST, path={"workspace": workspace}, params=params, limit=limit):
            yield self._job(item)

    def cancel(self, workspace: str, job_id: str) -> Job:
        """Cancel a job; a running one is stopped (its whole process tree killed) by its worker."""
        return self._job(self._t.call(CANCEL, path={"workspace": workspace, "job_id": job_id}).json())

    def retry(self, workspace: str, job_id: str) -> Job:
        """Run a failed, cancelled or upstream-failed job again; its DAG continues from there."""
        return self._job(self._t.call(RETRY, path={"workspace": workspace, "job_id": job_id}).json())

    def wait(self, workspace: str, job_id: str, timeout: float | None = None, poll: float = 0.5) -> Job:
        """The job once it finished (succeeded, failed, cancelled or upstream-failed).

        Polls every ``poll`` seconds; raises :class:`TimeoutError` after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.get(workspace, job_id)
            if job.finished:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"Job {job_id} is still {job.state} after {timeout:g} s.")
            time.sleep(poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic())))

    def logs(
        self,
        workspace: str,
        job_id: str,
        follow: bool = False,
        tail: int | None = None,
        attempt: int | None = None,
    ) -> Iterator[str]:
        """The output (stdout and stderr) of an attempt (default: the latest), line by line.

        Streamed, never loaded whole. ``follow``: wait for the job to start, stream its output live
        and stop when it finished (going on to the next attempt when a failed one is retried, unless
        ``attempt`` is given). ``tail``: start with only the last ``tail`` lines of what is there.
        """
        path = {"workspace": workspace, "job_id": job_id}
        if tail is not None and tail < 0:
            raise ValueError("tail must be 0 or more")
        if not follow:
            if tail is None:
                yield from self._lines(path, {"attempt": attempt})
            else:
                yield from self._tail(path, attempt, tail)
            return
        # Following: wait for the job to start, and go on to the next attempt when one fails and the
        # job is retried (unless one attempt was asked for).
        current = attempt or self._next_attempt(workspace, job_id, after=0)
        while current is not None:
            yield from self._follow(path, workspace, job_id, current, tail)
            if attempt is not None:
                return
            current, tail = self._next_attempt(workspace, job_id, after=current), None

    def kinds(self) -> builtins.list[JobKindInfo]:
        """Every job kind the server knows, with the JSON schema of its spec."""
        return [JobKindInfo.model_validate(k) for k in self._t.call(KINDS).json()]

    # -- helpers ---------------------------------------------------------------------------------------

    def _job(self, body: dict[str, Any]) -> Job:
        return Job.model_validate(body).bind(self)

    def _dag(self, body: dict[str, Any]) -> Dag:
        dag = Dag.model_validate(body)
        for job in dag.jobs:
            job.bind(self)
        return dag

    def _lines(self, path: dict[str, str], params: dict[str, Any], *, endless: bool = False) -> Iterator[str]:
        with self._t.stream(LOGS, path=path, params=params, endless=endless) as r:
            for line, _ in split_lines(r.iter_bytes()):
                yield line

    def _tail(self, path: dict[str, str], attempt: int | None, lines: int) -> Iterator[str]:
        """The last ``lines`` lines, asking the server for more bytes until they hold enough lines."""
        if lines == 0:
            return
        want: int | None = max(_MIN_TAIL_BYTES, (lines + 1) * _TAIL_BYTES_PER_LINE)
        while True:
            # One line more than asked for: the first line of a cut log is most likely cut itself.
            kept: deque[str] = deque(maxlen=lines + 1)
            received = 0
            with self._t.stream(LOGS, path=path, params={"attempt": attempt, "tail": want}) as r:
                for line, end in split_lines(r.iter_bytes()):
                    kept.append(line)
                    received = end
            if want is None or received < want or len(kept) > lines:
                yield from list(kept)[-lines:]
                return
            want = want * 4 if want * 4 <= _MAX_TAIL_BYTES else None

    def _next_attempt(self, workspace: str, job_id: str, *, after: int, poll: float = 0.5) -> int | None:
        """The first attempt after ``after`` once it started; ``None`` if the job finishes without one."""
        while True:
            job = self.get(workspace, job_id)
            if job.attempt > after:
                return job.attempt
            if job.finished:
                return None
            time.sleep(poll)

    def _follow(
        self, path: dict[str, str], workspace: str, job_id: str, attempt: int, tail: int | None
    ) -> Iterator[str]:
        """One attempt's output, live; with ``tail``, only the last lines of what is there already."""
        params = {"attempt": attempt, "follow": True}
        if tail is None:
            yield from self._lines(path, params, endless=True)
            return
        # What is there now streams past, only its last ``tail`` lines kept; then new output follows.
        present = self._log_size(workspace, job_id, attempt)
        kept: deque[str] = deque(maxlen=tail or None)
        flushed = present == 0
        with self._t.stream(LOGS, path=path, params=params, endless=True) as r:
            for line, end in split_lines(r.iter_bytes()):
                if flushed:
                    yield line
                    continue
                if tail:
                    kept.append(line)
                if end >= present:
                    yield from kept
                    flushed = True
        if not flushed:
            yield from kept

    def _log_size(self, workspace: str, job_id: str, attempt: int) -> int:
        """Bytes of the attempt's log shipped so far (its chunks under the attempt's artifact prefix)."""
        prefix = f"jobs/{job_id}/attempt-{attempt}/log/"
        body = self._t.call(
            ARTIFACTS, path={"workspace": workspace}, params={"prefix": prefix, "recursive": False}
        ).json()
        return sum(int(i["size"]) for i in body["items"] if not i.get("is_folder"))

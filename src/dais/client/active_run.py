"""Logging to tracked runs with calls named like MLflow's::

    with client.runs.start(experiment="churn", name="lgbm-1") as run:
        run.log_params({"learning_rate": 0.05, "num_leaves": 31})
        for step, loss in enumerate(train()):
            run.log_metric("train/loss", loss, step=step)  # buffered, sent in batches
        run.log_metric("auc", 0.91)
        run.log_artifact("confusion.png", artifact_path="plots")
    # FINISHED here; FAILED had the block raised

Writes go through the server's MLflow REST API (``/api/2.0/mlflow``, its fast path) with the
workspace in the ``X-MLFLOW-WORKSPACE`` header; reads (``run.refresh()``, ``metric_history``) use
the native API. An :class:`ActiveRun` keeps metrics in a buffer and sends them in ``log-batch``
calls of up to 1,000 points: when the buffer is full, at the first logging call more than
:attr:`ActiveRun.flush_interval_s` after the last send, on :meth:`ActiveRun.flush` and at the end.
Params and tags are sent at once, so a param logged again with another value raises right there.
"""

from __future__ import annotations

import json
import math
import os
import posixpath
import re
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, Self
from urllib.parse import urlparse

import yaml

from dais.client.http import DaisConnectionError, Route, Transport
from dais.client.models import Model
from dais.core.errors import InvalidInput

if TYPE_CHECKING:
    from dais.client.runs import MetricSeries, Runs, TrackedRunDetail

# Routes of the MLflow facade. It is left out of the OpenAPI document, so these are not declared
# with ``route()`` (whose routes a test checks against that document); a test of their own checks
# that the facade serves each of them.
_MLFLOW = "/api/2.0/mlflow"
CREATE_RUN = Route("POST", f"{_MLFLOW}/runs/create")
UPDATE_RUN = Route("POST", f"{_MLFLOW}/runs/update")
LOG_BATCH = Route("POST", f"{_MLFLOW}/runs/log-batch")
LOG_METRIC = Route("POST", f"{_MLFLOW}/runs/log-metric")
LOG_PARAM = Route("POST", f"{_MLFLOW}/runs/log-parameter")
SET_TAG = Route("POST", f"{_MLFLOW}/runs/set-tag")
DELETE_TAG = Route("POST", f"{_MLFLOW}/runs/delete-tag")
PUT_ARTIFACT = Route("PUT", "/api/2.0/mlflow-artifacts/artifacts/{key}")
FACADE_ROUTES = (CREATE_RUN, UPDATE_RUN, LOG_BATCH, LOG_METRIC, LOG_PARAM, SET_TAG, DELETE_TAG, PUT_ARTIFACT)

WORKSPACE_HEADER = "X-MLFLOW-WORKSPACE"
PARENT_RUN_TAG = "mlflow.parentRunId"
# MLflow's log-batch limits (the server refuses a call over any of them).
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_KEY_LENGTH = 250
END_STATUSES = ("FINISHED", "FAILED", "KILLED")
_KEY_RE = re.compile(r"^[/\w.\- :]*$")


def now_ms() -> int:
    return int(time.time() * 1000)


def check_key(key: Any, what: str) -> str:
    """A param, metric or tag name as MLflow allows it (refused here, before anything is buffered)."""
    if not isinstance(key, str) or not key:
        raise InvalidInput(f"A {what} name must be a non-empty string, not {key!r}.")
    if len(key) > MAX_KEY_LENGTH or not _KEY_RE.match(key):
        raise InvalidInput(
            f"Invalid {what} name {key!r}: at most {MAX_KEY_LENGTH} characters, only letters, digits, "
            "underscores (_), dashes (-), periods (.), spaces, colons (:) and slashes (/)."
        )
    return key


def metric_point(key: str, value: Any, step: int | None, timestamp: int | None) -> dict[str, Any]:
    """One metric point as the facade takes it (proto3 JSON: NaN and infinities as strings)."""
    check_key(key, "metric")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"Metric {key!r}: {value!r} is not a number.") from exc
    shown: float | str = number
    if not math.isfinite(number):
        shown = "NaN" if math.isnan(number) else "Infinity" if number > 0 else "-Infinity"
    return {
        "key": key,
        "value": shown,
        "timestamp": now_ms() if timestamp is None else int(timestamp),
        "step": 0 if step is None else int(step),
    }


def _pairs(items: Mapping[str, Any], what: str) -> list[dict[str, str]]:
    return [{"key": check_key(k, what), "value": str(v)} for k, v in items.items()]


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _artifact_root(artifact_uri: str) -> str:
    """``mlflow-artifacts:/3/<run>/artifacts`` -> ``3/<run>/artifacts`` (the proxy's path)."""
    parsed = urlparse(artifact_uri)
    if parsed.scheme != "mlflow-artifacts":
        raise InvalidInput(
            f"This run's artifacts live at {artifact_uri!r}; the SDK writes only to the server's "
            "artifact proxy (mlflow-artifacts:/...)."
        )
    return parsed.path.strip("/")


def _artifact_dest(artifact_path: str | None, name: str = "") -> str:
    """A relative path under the run's artifacts (``..`` or an absolute path are refused)."""
    joined = posixpath.join((artifact_path or "").replace(os.sep, "/"), name).strip("/")
    norm = posixpath.normpath(joined) if joined else ""
    if norm in ("", ".") or norm.startswith("..") or (artifact_path or "").startswith("/"):
        raise InvalidInput(
            f"Invalid artifact path {joined!r}: give a relative path inside the run's artifacts."
        )
    return norm


class RunInfo(Model):
    """A run's own fields, named as MLflow's ``RunInfo`` (``run.info.run_id``, ``.status``)."""

    run_id: str
    run_name: str = ""
    experiment_id: str
    user_id: str = ""
    status: str
    start_time: int | None = None
    end_time: int | None = None
    artifact_uri: str = ""
    lifecycle_stage: str = "active"


class RunWriter:
    """The facade calls that write runs; each names its workspace in the ``X-MLFLOW-WORKSPACE`` header.

    The logging methods of :class:`ActiveRun`, of runs read back and of ``client.runs`` use it;
    every call splits its items into batches within MLflow's limits.
    """

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def _post(self, r: Route, workspace: str, body: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = self._t.call(r, json=body, headers={WORKSPACE_HEADER: workspace}).json()
        return reply

    def create(
        self, workspace: str, experiment_id: str, *, name: str | None, tags: Mapping[str, str]
    ) -> RunInfo:
        body: dict[str, Any] = {
            "experiment_id": experiment_id,
            "start_time": now_ms(),
            "tags": _pairs(tags, "tag"),
        }
        if name:
            body["run_name"] = name
        return RunInfo.model_validate(self._post(CREATE_RUN, workspace, body)["run"]["info"])

    def update(
        self,
        workspace: str,
        run_id: str,
        *,
        status: str,
        end_time: int | None = None,
        name: str | None = None,
    ) -> RunInfo:
        body: dict[str, Any] = {"run_id": run_id, "status": status}
        if end_time is not None:
            body["end_time"] = end_time
        if name:
            body["run_name"] = name
        return RunInfo.model_validate(self._post(UPDATE_RUN, workspace, body)["run_info"])

    def log_metric(self, workspace: str, run_id: str, point: dict[str, Any]) -> None:
        self._post(LOG_METRIC, workspace, {"run_id": run_id, **point})

    def log_metrics(self, workspace: str, run_id: str, points: Sequence[dict[str, Any]]) -> None:
        for chunk in _chunks(points, MAX_METRICS_PER_BATCH):
            self._post(LOG_BATCH, workspace, {"run_id": run_id, "metrics": list(chunk)})

    def log_param(self, workspace: str, run_id: str, key: str, value: Any) -> None:
        self._post(
            LOG_PARAM, workspace, {"run_id": run_id, "key": check_key(key, "param"), "value": str(value)}
        )

    def log_params(self, workspace: str, run_id: str, params: Mapping[str, Any]) -> None:
        for chunk in _chunks(_pairs(params, "param"), MAX_PARAMS_TAGS_PER_BATCH):
            self._post(LOG_BATCH, workspace, {"run_id": run_id, "params": list(chunk)})

    def set_tag(self, workspace: str, run_id: str, key: str, value: Any) -> None:
        self._post(SET_TAG, workspace, {"run_id": run_id, "key": check_key(key, "tag"), "value": str(value)})

    def set_tags(self, workspace: str, run_id: str, tags: Mapping[str, Any]) -> None:
        for chunk in _chunks(_pairs(tags, "tag"), MAX_PARAMS_TAGS_PER_BATCH):
            self._post(LOG_BATCH, workspace, {"run_id": run_id, "tags": list(chunk)})

    def delete_tag(self, workspace: str, run_id: str, key: str) -> None:
        self._post(DELETE_TAG, workspace, {"run_id": run_id, "key": key})

    def upload(self, workspace: str, artifact_uri: str, dest: str, content: bytes | BinaryIO) -> None:
        """Put ``content`` (bytes, or a file streamed as it is read) at ``dest`` under the run's artifacts."""
        self._t.call(
            PUT_ARTIFACT,
            path={"key": f"{_artifact_root(artifact_uri)}/{dest}"},
            content=content,
            headers={WORKSPACE_HEADER: workspace, "Content-Type": "application/octet-stream"},
        )

    def log_artifact(
        self, workspace: str, artifact_uri: str, local_path: str | os.PathLike[str], artifact_path: str | None
    ) -> None:
        source = Path(local_path)
        if not source.is_file():
            raise InvalidInput(f"No file at {str(source)!r} to log as an artifact.")
        with source.open("rb") as fh:
            self.upload(workspace, artifact_uri, _artifact_dest(artifact_path, source.name), fh)

    def log_artifacts(
        self, workspace: str, artifact_uri: str, local_dir: str | os.PathLike[str], artifact_path: str | None
    ) -> None:
        root = Path(local_dir)
        if not root.is_dir():
            raise InvalidInput(f"No folder at {str(root)!r} to log as artifacts.")
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            relative = Path(folder).relative_to(root).as_posix()
            under = posixpath.join(artifact_path or "", "" if relative == "." else relative)
            for name in sorted(files):
                with (Path(folder) / name).open("rb") as fh:
                    self.upload(workspace, artifact_uri, _artifact_dest(under, name), fh)

    def log_text(self, workspace: str, artifact_uri: str, text: str, artifact_file: str) -> None:
        self.upload(workspace, artifact_uri, _artifact_dest(artifact_file), text.encode("utf-8"))

    def log_dict(self, workspace: str, artifact_uri: str, dictionary: Any, artifact_file: str) -> None:
        if artifact_file.endswith((".yaml", ".yml")):
            text = yaml.safe_dump(dictionary, indent=2, default_flow_style=False, sort_keys=False)
        else:
            text = json.dumps(dictionary, indent=2)
        self.log_text(workspace, artifact_uri, text, artifact_file)


class RunLogging:
    """The MLflow-named logging calls, for anything that names a run: an :class:`ActiveRun`, or a
    run read back with ``client.runs.get`` (there each call is sent at once, unbuffered)."""

    def _logging_target(self) -> tuple[Runs, str, str, str]:
        """(the client's runs API, workspace, run id, artifact URI)."""
        raise NotImplementedError

    def _artifact_target(self) -> tuple[Runs, str, str, str]:
        """As :meth:`_logging_target`, its artifact URI known (read from the server if need be)."""
        return self._logging_target()

    def _writer(self) -> tuple[RunWriter, str, str]:
        runs, ws, run_id, _ = self._logging_target()
        return runs.writer, ws, run_id

    def log_param(self, key: str, value: Any) -> None:
        """Log a param (its value as a string); logging it again with another value raises
        :class:`~dais.core.errors.InvalidInput`, with the same value does nothing."""
        writer, ws, run_id = self._writer()
        writer.log_param(ws, run_id, key, value)

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log several params (in batches of 100)."""
        writer, ws, run_id = self._writer()
        writer.log_params(ws, run_id, params)

    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Log a metric point (``step`` 0 and the time now, in epoch milliseconds, when not given)."""
        writer, ws, run_id = self._writer()
        writer.log_metric(ws, run_id, metric_point(key, value, step, timestamp))

    def log_metrics(
        self, metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Log several metrics at one step and time."""
        writer, ws, run_id = self._writer()
        ts = now_ms() if timestamp is None else timestamp
        writer.log_metrics(ws, run_id, [metric_point(k, v, step, ts) for k, v in metrics.items()])

    def set_tag(self, key: str, value: Any) -> None:
        """Set a tag (tags, unlike params, can change)."""
        writer, ws, run_id = self._writer()
        writer.set_tag(ws, run_id, key, value)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set several tags (in batches of 100)."""
        writer, ws, run_id = self._writer()
        writer.set_tags(ws, run_id, tags)

    def delete_tag(self, key: str) -> None:
        writer, ws, run_id = self._writer()
        writer.delete_tag(ws, run_id, key)

    def log_artifact(self, local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        """Upload a file (streamed) to ``artifact_path/<its name>`` under the run's artifacts."""
        runs, ws, _, uri = self._artifact_target()
        runs.writer.log_artifact(ws, uri, local_path, artifact_path)

    def log_artifacts(self, local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        """Upload every file under a folder, keeping its layout, to ``artifact_path``."""
        runs, ws, _, uri = self._artifact_target()
        runs.writer.log_artifacts(ws, uri, local_dir, artifact_path)

    def log_dict(self, dictionary: Any, artifact_file: str) -> None:
        """Save ``dictionary`` as the artifact ``artifact_file`` (YAML for ``.yaml``/``.yml``, else JSON)."""
        runs, ws, _, uri = self._artifact_target()
        runs.writer.log_dict(ws, uri, dictionary, artifact_file)

    def log_text(self, text: str, artifact_file: str) -> None:
        """Save ``text`` (UTF-8) as the artifact ``artifact_file``."""
        runs, ws, _, uri = self._artifact_target()
        runs.writer.log_text(ws, uri, text, artifact_file)


class ActiveRun(RunLogging):
    """A run being logged to, from ``client.runs.start(...)``: buffered metrics, params and tags
    sent at once, artifacts. As a context manager it ends the run FINISHED, or FAILED when the
    block raises (as ``mlflow.start_run`` does); otherwise call :meth:`end`.
    """

    flush_interval_s: ClassVar[float] = 0.5
    """A logging call sends the buffered metrics when the last send is older than this."""

    def __init__(self, runs: Runs, workspace: str, info: RunInfo) -> None:
        self._runs = runs
        self._workspace = workspace
        self._info = info
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()
        self._ended = False

    def _logging_target(self) -> tuple[Runs, str, str, str]:
        return self._runs, self._workspace, self._info.run_id, self._info.artifact_uri

    @property
    def id(self) -> str:
        """The run id (32 hex digits, as MLflow's)."""
        return self._info.run_id

    @property
    def info(self) -> RunInfo:
        """The run's own fields as last written (its status after :meth:`end`)."""
        return self._info

    @property
    def workspace(self) -> str:
        return self._workspace

    @property
    def pending(self) -> int:
        """Metric points buffered, not sent yet."""
        return len(self._pending)

    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Buffer a metric point (``step`` 0 and the time now when not given)."""
        self._add([metric_point(key, value, step, timestamp)])

    def log_metrics(
        self, metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Buffer several metrics at one step and time."""
        ts = now_ms() if timestamp is None else timestamp
        self._add([metric_point(k, v, step, ts) for k, v in metrics.items()])

    def _add(self, points: list[dict[str, Any]]) -> None:
        with self._lock:
            self._pending.extend(points)
            due = (
                self._ended
                or len(self._pending) >= MAX_METRICS_PER_BATCH
                or time.monotonic() - self._last_flush >= self.flush_interval_s
            )
        if due:
            self.flush()

    def flush(self) -> None:
        """Send the buffered metrics now. A batch that cannot reach the server stays buffered (the
        next flush retries it); one the server refuses is dropped, and its error raised."""
        with self._lock:
            points, self._pending = self._pending, []
        writer = self._runs.writer
        try:
            for start in range(0, len(points), MAX_METRICS_PER_BATCH):
                try:
                    writer.log_metrics(
                        self._workspace, self.id, points[start : start + MAX_METRICS_PER_BATCH]
                    )
                except DaisConnectionError:
                    with self._lock:
                        self._pending[0:0] = points[start:]
                    raise
        finally:
            self._last_flush = time.monotonic()  # counted from the end of a send, however slow it was

    def end(self, status: str = "FINISHED") -> None:
        """Send what is buffered and end the run as ``status`` (FINISHED, FAILED or KILLED); a second
        call does nothing. Logging afterwards still works, unbuffered."""
        if status not in END_STATUSES:
            raise InvalidInput(f"A run ends as one of {', '.join(END_STATUSES)}, not {status!r}.")
        if self._ended:
            return
        try:
            self.flush()
        finally:
            self._ended = True
            self._info = self._runs.writer.update(self._workspace, self.id, status=status, end_time=now_ms())

    def refresh(self) -> TrackedRunDetail:
        """The whole run as the server has it now (buffered metrics are sent first)."""
        self.flush()
        return self._runs.get(self.id, workspace=self._workspace)

    def metric_history(self, key: str, *, max_points: int = 1000) -> MetricSeries:
        """A metric's points so far (buffered ones are sent first)."""
        self.flush()
        return self._runs.metric_history(self.id, key, max_points=max_points, workspace=self._workspace)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.end("FINISHED")
            return
        try:
            self.end("FAILED")
        except Exception as failure:  # the block's own error matters more: keep it, note this one
            exc.add_note(f"Ending run {self.id} as FAILED failed too: {failure}")

    def __repr__(self) -> str:
        return f"ActiveRun(id={self.id!r}, name={self._info.run_name!r}, status={self._info.status!r})"


__all__ = ["FACADE_ROUTES", "ActiveRun", "RunInfo", "RunLogging", "RunWriter"]

"""What a notification says: the JSON payload (kept with the delivery) and the text people read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dais.core.settings import Settings
from dais.jobs.models import Job
from dais.jobs.notify.notifiers import Message
from dais.tenancy import Workspace

MAX_ERROR_CHARS = 4000

_VERBS = {
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "was cancelled",
    "upstream_failed": "did not run: an upstream job did not succeed",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def duration_text(seconds: float) -> str:
    """``3725`` -> ``"1h 2m 5s"``."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h"] if hours else []
    if minutes or hours:
        parts.append(f"{minutes}m")
    parts.append(f"{secs}s")
    return " ".join(parts)


def job_payload(
    job: Job,
    workspace: Workspace | None,
    event: str,
    *,
    delivery_id: str,
    rule_id: str | None,
    rule_name: str | None,
    now: datetime,
    threshold_s: float | None = None,
) -> dict[str, Any]:
    """The event as JSON: the webhook body, and what e-mails are written from."""
    error = job.error
    if error and len(error) > MAX_ERROR_CHARS:
        error = error[:MAX_ERROR_CHARS] + "\n[...]"
    payload: dict[str, Any] = {
        "delivery_id": delivery_id,
        "event": event,
        "occurred_at": now.isoformat(),
        "workspace": {"id": job.workspace_id, "slug": workspace.slug if workspace else None},
        "rule": {"id": rule_id, "name": rule_name} if rule_id else None,
        "job": {
            "id": job.id,
            "name": job.name,
            "kind": job.kind,
            "state": str(job.state),
            "attempt": job.attempt,
            "max_attempts": job.max_attempts,
            "error": error,
            "dag_id": job.dag_id,
            "dag_node": job.dag_node,
            "created_at": _iso(job.created_at),
            "started_at": _iso(job.started_at),
            "finished_at": _iso(job.finished_at),
        },
    }
    if threshold_s is not None:
        payload["running_longer_than_s"] = threshold_s
        if job.started_at:
            payload["running_for_s"] = round((now - job.started_at).total_seconds(), 3)
    return payload


def channel_test_payload(
    channel_name: str, workspace: Workspace, *, delivery_id: str, now: datetime
) -> dict[str, Any]:
    """The payload of a test message sent from the API or ``dais notify channels test``."""
    return {
        "delivery_id": delivery_id,
        "event": "test",
        "occurred_at": now.isoformat(),
        "workspace": {"id": workspace.id, "slug": workspace.slug},
        "channel": channel_name,
        "rule": None,
        "job": None,
    }


def render(payload: dict[str, Any], settings: Settings) -> Message:
    """The message a notifier sends for ``payload``."""
    event = str(payload.get("event", ""))
    ws = (payload.get("workspace") or {}).get("slug") or (payload.get("workspace") or {}).get("id")
    delivery_id = payload.get("delivery_id")
    job = payload.get("job")
    if event == "test" or not isinstance(job, dict):
        text = (
            f"This is a test message from Dais for the channel {payload.get('channel')!r} "
            f"of workspace {ws}.\nIf you can read it, the channel works.\n"
        )
        return Message(event, "Test notification", text, payload, delivery_id)
    name = job.get("name")
    if event == "running_longer":
        limit = duration_text(float(payload.get("running_longer_than_s") or 0))
        verb = f"has been running for more than {limit}"
    else:
        verb = _VERBS.get(event, event)
    subject = f"Job {name} {verb} (workspace {ws})"
    lines = [
        f"Job {name} {verb} in workspace {ws}.",
        "",
        f"Job:       {name} ({job.get('id')})",
        f"Kind:      {job.get('kind')}",
        f"State:     {job.get('state')}",
        f"Attempt:   {job.get('attempt')} of {job.get('max_attempts')}",
    ]
    if job.get("dag_id"):
        lines.append(f"DAG:       {job.get('dag_id')} (node {job.get('dag_node')})")
    lines.append(f"Started:   {job.get('started_at') or '-'}")
    if job.get("finished_at"):
        lines.append(f"Finished:  {job.get('finished_at')}")
    started, finished = job.get("started_at"), job.get("finished_at")
    if started and finished:
        spent = datetime.fromisoformat(finished) - datetime.fromisoformat(started)
        lines.append(f"Duration:  {duration_text(spent.total_seconds())}")
    if payload.get("running_for_s") is not None:
        lines.append(f"Running:   {duration_text(float(payload['running_for_s']))}")
    if job.get("error"):
        lines += ["", "Error:", *("  " + line for line in str(job["error"]).splitlines())]
    lines += [
        "",
        f"Details: {settings.api.base_url()}/api/v1/workspaces/{ws}/jobs/{job.get('id')}",
        f"Logs:    dais jobs logs {job.get('id')} -w {ws}",
    ]
    return Message(event, subject, "\n".join(lines) + "\n", payload, delivery_id)

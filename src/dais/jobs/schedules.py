"""Schedules: cron expressions (in a time zone) and intervals that submit a job or a DAG template.

A schedule is desired state in the database; the scheduler (one leader at a time) fires what is
due. Each firing inserts a ``schedule_runs`` row unique on (schedule, logical date) before it
submits, so no run ever fires twice, across restarts or with two schedulers alive at once. After
downtime, ``catchup="all"`` fires every missed run and ``"skip"`` only the latest.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dais.core.errors import AlreadyExists, DaisError, InvalidInput, NotFound
from dais.core.templating import date_variables, render_value
from dais.db import Page, paginate, utcnow
from dais.jobs.models import Schedule, ScheduleRun
from dais.jobs.schemas import DagSubmit, JobSubmit, ScheduleCreate, ScheduleTemplate, ScheduleUpdate
from dais.jobs.service import submit_dag, submit_job
from dais.tenancy import AuditContext, Principal, Role, User, WorkspaceAccess, record_audit, require_workspace

log = logging.getLogger(__name__)

MAX_CATCHUP = 1000  # missed runs fired per schedule per tick (the rest follow on the next ticks)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"Unknown time zone {name!r}; use an IANA name such as Europe/Paris or UTC.",
            errors=[{"loc": ["body", "timezone"], "msg": "unknown time zone"}],
        ) from exc


def check_timing(cron: str | None, interval_s: float | None, timezone: str) -> None:
    if (cron is None) == (interval_s is None):
        raise InvalidInput(
            "Give exactly one of `cron` and `interval_s`.",
            errors=[{"loc": ["body", "cron"], "msg": "cron or interval_s"}],
        )
    _zone(timezone)
    if cron is not None and not croniter.is_valid(cron):
        raise InvalidInput(
            f"{cron!r} is not a valid cron expression (five fields: minute hour day month weekday).",
            errors=[{"loc": ["body", "cron"], "msg": "invalid cron expression"}],
        )


def next_after(s: Schedule, after: datetime) -> datetime:
    """The first run time of ``s`` strictly after ``after`` (UTC)."""
    if s.interval_s:
        anchor = s.created_at if s.created_at.tzinfo else s.created_at.replace(tzinfo=UTC)
        if s.next_run_at is not None:
            anchor = s.next_run_at
        step = timedelta(seconds=s.interval_s)
        if after < anchor:
            return anchor
        return anchor + step * (int((after - anchor) / step) + 1)
    zone = _zone(s.timezone)
    it = croniter(s.cron, after.astimezone(zone))
    nxt: datetime = it.get_next(datetime)
    return nxt.astimezone(UTC)


def upcoming(s: Schedule, count: int = 5) -> list[datetime]:
    if s.paused or s.next_run_at is None:
        return []
    out = [s.next_run_at]
    while len(out) < count:
        out.append(next_after(s, out[-1]))
    return out


def _check_template(template: ScheduleTemplate, variables: dict[str, str], now: datetime) -> dict[str, Any]:
    if (template.job is None) == (template.dag is None):
        raise InvalidInput(
            "The template holds exactly one of `job` and `dag`.",
            errors=[{"loc": ["body", "template"], "msg": "job or dag"}],
        )
    raw = template.model_dump(mode="json", exclude_none=True)
    render_value(raw, {**variables, **date_variables(now)}, where="template")  # unknown ${names} -> 422
    return raw


def create_schedule(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, spec: ScheduleCreate
) -> Schedule:
    check_timing(spec.cron, spec.interval_s, spec.timezone)
    now = utcnow()
    template = _check_template(spec.template, spec.variables, now)
    if session.scalar(
        select(Schedule.id).where(Schedule.workspace_id == access.workspace.id, Schedule.name == spec.name)
    ):
        raise AlreadyExists(f"A schedule named {spec.name!r} already exists in this workspace.")
    s = Schedule(
        workspace_id=access.workspace.id,
        owner_id=ctx.actor_id,
        name=spec.name,
        description=spec.description,
        cron=spec.cron,
        interval_s=spec.interval_s,
        timezone=spec.timezone,
        template=template,
        variables=spec.variables,
        catchup=spec.catchup,
        paused=spec.paused,
        created_at=now,
    )
    start = spec.start_at or now
    if spec.interval_s:
        s.next_run_at = start if spec.start_at else start + timedelta(seconds=spec.interval_s)
    else:
        s.next_run_at = next_after(s, start - timedelta(microseconds=1) if spec.start_at else start)
    session.add(s)
    session.flush()
    record_audit(
        session,
        ctx,
        "schedule.create",
        target_type="schedule",
        target_id=s.id,
        workspace_id=s.workspace_id,
        details={"name": s.name, "cron": s.cron, "interval_s": s.interval_s},
    )
    return s


def get_schedule(session: Session, access: WorkspaceAccess, ref: str) -> Schedule:
    s = session.scalar(
        select(Schedule).where(
            Schedule.workspace_id == access.workspace.id, (Schedule.id == ref) | (Schedule.name == ref)
        )
    )
    if s is None:
        raise NotFound(f"Schedule {ref!r} not found in workspace {access.workspace.slug!r}.")
    return s


def update_schedule(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, ref: str, spec: ScheduleUpdate
) -> Schedule:
    s = get_schedule(session, access, ref)
    changes = spec.model_dump(exclude_unset=True)
    cron = changes.get("cron", s.cron)
    interval = changes.get("interval_s", s.interval_s)
    if "cron" in changes and changes["cron"] is not None and "interval_s" not in changes:
        interval = None
    if "interval_s" in changes and changes["interval_s"] is not None and "cron" not in changes:
        cron = None
    check_timing(cron, interval, changes.get("timezone") or s.timezone)
    variables = changes.get("variables", s.variables) or {}
    if spec.template is not None:
        s.template = _check_template(spec.template, variables, utcnow())
    else:
        _check_template(ScheduleTemplate.model_validate(s.template), variables, utcnow())
    timing_changed = (cron, interval, changes.get("timezone") or s.timezone) != (
        s.cron,
        s.interval_s,
        s.timezone,
    )
    s.cron, s.interval_s = cron, interval
    for field in ("description", "timezone", "variables", "catchup"):
        if changes.get(field) is not None:
            setattr(s, field, changes[field])
    if timing_changed:
        s.next_run_at = None
        s.next_run_at = next_after(s, utcnow())
    session.flush()
    record_audit(
        session,
        ctx,
        "schedule.update",
        target_type="schedule",
        target_id=s.id,
        workspace_id=s.workspace_id,
        details={k: v for k, v in changes.items() if k != "template"},
    )
    return s


def set_paused(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, ref: str, paused: bool
) -> Schedule:
    s = get_schedule(session, access, ref)
    if s.paused != paused:
        s.paused = paused
        if not paused:
            # Resuming never fires the runs missed while paused; it starts from now.
            s.next_run_at = (
                next_after(s, utcnow()) if s.cron else utcnow() + timedelta(seconds=s.interval_s or 0)
            )
        record_audit(
            session,
            ctx,
            "schedule.pause" if paused else "schedule.resume",
            target_type="schedule",
            target_id=s.id,
            workspace_id=s.workspace_id,
        )
        session.flush()
    return s


def delete_schedule(session: Session, ctx: AuditContext, access: WorkspaceAccess, ref: str) -> None:
    s = get_schedule(session, access, ref)
    record_audit(
        session,
        ctx,
        "schedule.delete",
        target_type="schedule",
        target_id=s.id,
        workspace_id=s.workspace_id,
        details={"name": s.name},
    )
    session.delete(s)
    session.flush()


def list_schedules(
    session: Session, access: WorkspaceAccess, *, sort: str, limit: int, cursor: str | None
) -> Page[Schedule]:
    stmt = select(Schedule).where(Schedule.workspace_id == access.workspace.id)
    return paginate(
        session,
        stmt,
        columns={
            "name": Schedule.name,
            "created_at": Schedule.created_at,
            "next_run_at": Schedule.next_run_at,
        },
        id_column=Schedule.id,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )


def list_runs(session: Session, schedule: Schedule, *, limit: int, cursor: str | None) -> Page[ScheduleRun]:
    stmt = select(ScheduleRun).where(ScheduleRun.schedule_id == schedule.id)
    return paginate(
        session,
        stmt,
        columns={"logical_date": ScheduleRun.logical_date},
        id_column=ScheduleRun.id,
        sort="-logical_date",
        limit=limit,
        cursor=cursor,
    )


# -- firing ------------------------------------------------------------------------------------------


def fire(session: Session, s: Schedule, logical_date: datetime, *, now: datetime) -> ScheduleRun | None:
    """Submit the schedule's template for ``logical_date``; ``None`` if that run already fired."""
    run = ScheduleRun(schedule_id=s.id, logical_date=logical_date, fired_at=now)
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        return None  # another scheduler (or an earlier life of this one) fired it
    try:
        with session.begin_nested():
            owner = session.get(User, s.owner_id) if s.owner_id else None
            if owner is None or not owner.is_active:
                raise InvalidInput("the schedule's owner no longer exists or is deactivated")
            access = require_workspace(session, Principal(owner, "schedule"), s.workspace_id, Role.editor)
            ctx = AuditContext(actor_id=owner.id, actor_name=owner.username, user_agent=f"schedule {s.name}")
            variables = {**(s.variables or {}), **date_variables(logical_date)}
            rendered = render_value(s.template, variables, where=f"schedule {s.name}")
            if "job" in rendered:
                job_spec = JobSubmit.model_validate(rendered["job"])
                if not job_spec.name:
                    job_spec.name = f"{s.name} {logical_date:%Y-%m-%d %H:%M}"
                run.job_id = submit_job(session, ctx, access, job_spec).id
            else:
                dag_spec = DagSubmit.model_validate(rendered["dag"])
                jobs = submit_dag(session, ctx, access, dag_spec)
                run.dag_id = jobs[0].dag_id
        s.last_error = None
    except (DaisError, ValueError) as exc:
        detail = exc.detail if isinstance(exc, DaisError) else str(exc)
        run.error = s.last_error = f"could not submit: {detail}"
        log.warning("schedule %s (%s): %s", s.name, s.id, run.error)
    s.last_run_at = now
    session.flush()
    return run


def fire_due(session: Session, *, now: datetime | None = None, limit: int = 100) -> int:
    """Fire every run that is due; the number of runs fired."""
    now = now or utcnow()
    stmt = (
        select(Schedule)
        .where(Schedule.paused.is_(False), Schedule.next_run_at <= now)
        .order_by(Schedule.next_run_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    fired = 0
    for s in list(session.scalars(stmt)):
        assert s.next_run_at is not None
        due: list[datetime] = []
        t = s.next_run_at
        while t <= now and len(due) < MAX_CATCHUP:
            due.append(t)
            t = next_after(s, t)
        if s.catchup == "skip":
            due = due[-1:]
        for logical in due:
            if fire(session, s, logical, now=now) is not None:
                fired += 1
        s.next_run_at = t
        session.flush()
    return fired


def trigger_now(session: Session, ctx: AuditContext, access: WorkspaceAccess, ref: str) -> ScheduleRun:
    s = get_schedule(session, access, ref)
    now = utcnow()
    run = fire(session, s, now, now=now)
    if run is None:
        raise AlreadyExists("A run for this very moment already fired; try again.")
    record_audit(
        session,
        ctx,
        "schedule.trigger",
        target_type="schedule",
        target_id=s.id,
        workspace_id=s.workspace_id,
        details={"logical_date": now.isoformat()},
    )
    return run

"""Schedule routes: create, list (with next run times), get, update, pause, resume, trigger, delete, runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from dais.jobs import schedules
from dais.jobs.models import Schedule
from dais.jobs.schemas import (
    ScheduleCreate,
    SchedulePage,
    ScheduleRead,
    ScheduleRunPage,
    ScheduleRunRead,
    ScheduleUpdate,
)
from dais.tenancy import Audit, Db, EditorAccess, ViewerAccess

router = APIRouter(prefix="/api/v1/workspaces/{workspace}/schedules", tags=["schedules"])

Limit = Annotated[int, Query(ge=1, le=500)]


def _read(s: Schedule) -> ScheduleRead:
    return ScheduleRead.model_validate(s).model_copy(update={"next_runs": schedules.upcoming(s)})


@router.post("", status_code=status.HTTP_201_CREATED)
def create_schedule(body: ScheduleCreate, access: EditorAccess, ctx: Audit, db: Db) -> ScheduleRead:
    """Create a schedule that submits a job or a DAG on a cron expression or an interval."""
    with db.session() as s:
        return _read(schedules.create_schedule(s, ctx, access, body))


@router.get("")
def list_schedules(
    access: ViewerAccess, db: Db, sort: str = "name", limit: Limit = 50, cursor: str | None = None
) -> SchedulePage:
    """Schedules of the workspace, each with its next run times."""
    with db.session(write=False) as s:
        page = schedules.list_schedules(s, access, sort=sort, limit=limit, cursor=cursor)
        return SchedulePage(items=[_read(x) for x in page.items], next_cursor=page.next_cursor)


@router.get("/{schedule}")
def get_schedule(schedule: str, access: ViewerAccess, db: Db) -> ScheduleRead:
    """One schedule by id or name."""
    with db.session(write=False) as s:
        return _read(schedules.get_schedule(s, access, schedule))


@router.patch("/{schedule}")
def update_schedule(
    schedule: str, body: ScheduleUpdate, access: EditorAccess, ctx: Audit, db: Db
) -> ScheduleRead:
    """Change a schedule's timing, template, variables or catch-up policy."""
    with db.session() as s:
        return _read(schedules.update_schedule(s, ctx, access, schedule, body))


@router.post("/{schedule}/pause")
def pause_schedule(schedule: str, access: EditorAccess, ctx: Audit, db: Db) -> ScheduleRead:
    """Stop firing until resumed."""
    with db.session() as s:
        return _read(schedules.set_paused(s, ctx, access, schedule, True))


@router.post("/{schedule}/resume")
def resume_schedule(schedule: str, access: EditorAccess, ctx: Audit, db: Db) -> ScheduleRead:
    """Fire again from now on (runs missed while paused are not fired)."""
    with db.session() as s:
        return _read(schedules.set_paused(s, ctx, access, schedule, False))


@router.post("/{schedule}/trigger", status_code=status.HTTP_201_CREATED)
def trigger_schedule(schedule: str, access: EditorAccess, ctx: Audit, db: Db) -> ScheduleRunRead:
    """Fire one run now (logical date = now), whatever the timing says."""
    with db.session() as s:
        return ScheduleRunRead.model_validate(schedules.trigger_now(s, ctx, access, schedule))


@router.delete("/{schedule}", status_code=status.HTTP_204_NO_CONTENT)
def delete_schedule(schedule: str, access: EditorAccess, ctx: Audit, db: Db) -> None:
    """Delete a schedule (jobs it submitted stay)."""
    with db.session() as s:
        schedules.delete_schedule(s, ctx, access, schedule)


@router.get("/{schedule}/runs")
def list_schedule_runs(
    schedule: str, access: ViewerAccess, db: Db, limit: Limit = 50, cursor: str | None = None
) -> ScheduleRunPage:
    """The runs a schedule fired, newest first, with the job or DAG each submitted."""
    with db.session(write=False) as s:
        page = schedules.list_runs(s, schedules.get_schedule(s, access, schedule), limit=limit, cursor=cursor)
        return ScheduleRunPage(
            items=[ScheduleRunRead.model_validate(r) for r in page.items], next_cursor=page.next_cursor
        )

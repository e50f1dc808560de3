"""Tuning routes: studies over a preset's params or a script's declared space, auto models, their
trials, optimisation history, parameter importance and leaderboard; stop; promote.

``POST .../studies`` and ``POST .../studies:auto`` check the request first (422 naming the field:
an unknown algorithm or param, a bound the preset refuses, no budget), then write the study and its
parent run and queue the coordinator job; they answer 202 at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from dais.storage import ArtifactStore
from dais.tenancy import Audit, Db, EditorAccess, ViewerAccess
from dais.training.tuning import promotion, service, views
from dais.training.tuning.schemas import (
    AutoModelCreate,
    Promoted,
    StudyCreate,
    StudyCreated,
    StudyDetail,
    StudyPage,
    StudyPromote,
    StudyRead,
)

router = APIRouter(prefix="/api/v1", tags=["tuning"])

WS = "/workspaces/{workspace}"
S = f"{WS}/studies/{{study}}"


def _created(study: object) -> StudyCreated:
    from dais.training.tuning.models import Study

    assert isinstance(study, Study)
    assert study.parent_run_id is not None
    assert study.coordinator_job_id is not None
    return StudyCreated(
        id=study.id,
        name=study.name,
        state=study.state,
        experiment_id=str(study.experiment_id),
        parent_run_id=study.parent_run_id,
        coordinator_job_id=study.coordinator_job_id,
        max_trials=study.max_trials,
    )


@router.post(f"{WS}/studies", status_code=status.HTTP_202_ACCEPTED)
def create_study(body: StudyCreate, access: EditorAccess, ctx: Audit, db: Db) -> StudyCreated:
    """Tune a preset's params on a dataset (``algorithm``), or a script's declared ``space``
    (``script``: each trial gets its params in ``DAIS_PARAMS``/``DAIS_PARAM_<NAME>`` and in place of
    ``{name}`` in its args, and logs the objective ``metric`` with the MLflow client). Trials run as
    jobs, each a child run of the study's parent run, up to ``concurrency`` at once, until the budget
    (``max_trials``, ``max_wall_time_s``) is spent."""
    with db.session() as s:
        return _created(service.create_study(s, ctx, access, body))


@router.post(f"{WS}/studies:auto", status_code=status.HTTP_202_ACCEPTED)
def create_auto_model(body: AutoModelCreate, access: EditorAccess, ctx: Audit, db: Db) -> StudyCreated:
    """An auto model: try the task's presets (or ``algorithms``), each over its own search space,
    within ``max_wall_time_s``; the study's leaderboard ranks what was tried."""
    with db.session() as s:
        return _created(service.create_auto_study(s, ctx, access, body))


@router.get(f"{WS}/studies")
def list_studies(
    access: ViewerAccess,
    db: Db,
    state: Annotated[str | None, Query(max_length=16)] = None,
    kind: Annotated[str | None, Query(max_length=16, description="preset, auto or script.")] = None,
    sort: str = "-created_at",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> StudyPage:
    """Studies of the workspace (newest first), each with its trial counts and best value."""
    with db.session(write=False) as s:
        page = service.list_studies(s, access, state=state, kind=kind, sort=sort, limit=limit, cursor=cursor)
        return StudyPage(items=views.study_reads(s, page.items), next_cursor=page.next_cursor)


@router.get(S)
def get_study(study: str, access: ViewerAccess, db: Db) -> StudyDetail:
    """A study (by id or name) with its trials, optimisation history, parameter importance and
    leaderboard, computed from its trials on request."""
    with db.session(write=False) as s:
        return views.study_detail(s, service.get_study(s, access, study))


@router.post(f"{S}/stop")
def stop_study(study: str, access: EditorAccess, ctx: Audit, db: Db) -> StudyRead:
    """Stop the study: no new trials, the running ones cancelled; what completed stays."""
    with db.session() as s:
        found = service.stop_study(s, ctx, access, study)
        return views.study_reads(s, [found])[0]


@router.post(f"{S}/promote")
def promote_trial(
    study: str, body: StudyPromote, request: Request, access: EditorAccess, ctx: Audit, db: Db
) -> Promoted:
    """Register the best trial's model (or trial ``trial``'s) as a new version of ``name``."""
    store: ArtifactStore = request.app.state.store
    with db.session() as s:
        return promotion.promote(s, ctx, access, store, study, body)

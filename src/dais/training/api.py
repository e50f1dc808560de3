"""Training routes: the preset algorithms, and launching a training run (a preset or a script).

``POST /training/runs`` checks the request against the workspace's data first (422 naming the field),
then creates the tracking run (SCHEDULED) and queues its job, and answers 202 at once: the run is
then watched through the tracking routes, the job through the jobs routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from dais.tenancy import Audit, Caller, Db, EditorAccess
from dais.training import service
from dais.training.schemas import AlgorithmRead, TrainingRunCreate, TrainingRunCreated

router = APIRouter(prefix="/api/v1", tags=["training"])

WS = "/workspaces/{workspace}"


@router.get("/algorithms")
def list_algorithms(
    principal: Caller,
    task: Annotated[str | None, Query(max_length=32, description="Only this task's algorithms.")] = None,
) -> list[AlgorithmRead]:
    """Every preset algorithm with the JSON schema of its params (the launcher's form) and its search
    space; a plugin that fails to load is listed with its error."""
    return service.algorithm_reads(task)


@router.post(f"{WS}/training/runs", status_code=status.HTTP_202_ACCEPTED)
def launch_training_run(
    body: TrainingRunCreate, access: EditorAccess, ctx: Audit, db: Db
) -> TrainingRunCreated:
    """Train a preset on a dataset version, or run your own training script with the MLflow client
    pointed at the new run (``MLFLOW_TRACKING_URI``, ``MLFLOW_TRACKING_TOKEN``, ``MLFLOW_RUN_ID``,
    ``MLFLOW_EXPERIMENT_ID`` are set). Checked first; then the run is created (SCHEDULED) and its
    job queued."""
    with db.session() as s:
        return service.launch_run(s, ctx, access, body)

"""Launching training: check everything the request names, create the tracking run (SCHEDULED),
queue its job.

Nothing is queued for a request that cannot train: an unknown dataset, target or feature, a text
feature without transforms, a split with an empty side, params out of range answer 422 naming the
field (``errors[].loc``) before any run or job exists. An image classification preset trains on an
image dataset instead (its ``label`` column is the target, the images are the features).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from dais.core.errors import DaisError, InvalidInput
from dais.jobs.schemas import JobSubmit
from dais.jobs.service import submit_job
from dais.tenancy import AuditContext, WorkspaceAccess
from dais.training.algorithms import AlgorithmInfo, get_algorithm, list_algorithms
from dais.training.data import (
    check_stats,
    check_time_split,
    find_version,
    known_rows,
    plan_columns,
    stats_by_column,
    transforms_of,
    version_schema,
)
from dais.training.image_data import IMAGE_TASK, is_media, labelled_images, plan_images
from dais.training.jobs import TrainScriptSpec, TrainSpec, default_split
from dais.training.schemas import AlgorithmRead, TrainingRunCreate, TrainingRunCreated
from dais.training.splits import TimeSplit, check_sizes

TRAIN_KIND = "train.run"
SCRIPT_KIND = "train.script"


def algorithm_reads(task: str | None = None) -> list[AlgorithmRead]:
    return [_algorithm_read(i) for i in list_algorithms(task)]


def _algorithm_read(info: AlgorithmInfo) -> AlgorithmRead:
    return AlgorithmRead(
        name=info.name,
        title=info.title or info.name,
        description=info.description,
        task=info.task,
        runtime=info.runtime,
        params_schema=info.params_schema,
        search_space=info.search_space,
        handles_missing=info.handles_missing,
        iterative=info.iterative,
        error=info.error,
    )


def _experiment(s: Session, access: WorkspaceAccess, ref: str | None) -> Any:
    """The experiment ``ref`` names (an id, else a name: created if new), or the default one."""
    from dais.tracking import service as tracking

    if not ref:
        return tracking.default_experiment(s, access)
    if ref.isdigit():
        try:
            return tracking.get_experiment(s, access, ref)
        except DaisError:
            pass
    try:
        return tracking.get_experiment_by_name(s, access, ref)
    except DaisError:
        return tracking.create_experiment(s, access, ref)


def check_preset(s: Session, access: WorkspaceAccess, body: TrainingRunCreate) -> TrainSpec:
    """Everything a preset run names, checked against the workspace's data; the job's spec."""
    assert body.algorithm is not None
    assert body.dataset is not None
    algo = get_algorithm(body.algorithm)
    params = algo.parse_params(body.params)
    split = body.split or default_split(algo.task)
    ds, v = find_version(s, access.workspace.id, body.dataset, body.version)
    if algo.task == IMAGE_TASK:
        plan = plan_images(
            ds, target=body.target, features=body.features, split=split, transforms=body.transforms
        )
        images = labelled_images(s, ds, v)
        if images is not None:
            check_sizes(split, images)
    else:
        if is_media(ds):
            raise InvalidInput(
                f"{ds.name!r} is a media dataset: train an image algorithm on it (GET "
                f"/algorithms?task={IMAGE_TASK}).",
                errors=[{"loc": ["body", "dataset"], "msg": "a media dataset"}],
            )
        chain = transforms_of(s, access.workspace.id, body.transforms) if body.transforms else None
        plan = plan_columns(
            version_schema(ds, v),
            task=algo.task,
            target=body.target,
            features=body.features,
            time_column=split.column if isinstance(split, TimeSplit) else None,
            chain=chain,
            stats=stats_by_column(ds, v, transformed=chain is not None),
        )
        rows = known_rows(ds, v)
        if rows is not None:
            check_sizes(split, rows)
        check_stats(
            ds, v, plan, task=algo.task, handles_missing=algo.handles_missing, transformed=chain is not None
        )
        check_time_split(ds, v, plan, split, transformed=chain is not None)
    try:
        return TrainSpec(
            dataset=ds.name,
            version=v.number,
            transforms=body.transforms,
            target=plan.target,
            features=body.features,
            split=split,
            algorithm=algo.name,
            params=params.model_dump(mode="json"),
            seed=body.seed,
            threads=max(1, math.ceil(body.resources.cpus)),
            register_as=body.register_as,
            model_name=body.model_name,
            tags=body.tags,
        )
    except ValidationError as exc:  # the body's own validation makes this unlikely
        raise InvalidInput(f"The training run cannot be described: {exc.errors()[0]['msg']}") from exc


def launch_run(
    s: Session, ctx: AuditContext, access: WorkspaceAccess, body: TrainingRunCreate
) -> TrainingRunCreated:
    """Validate, create the run (SCHEDULED), queue its job; what the caller watches."""
    from dais.tracking import service as tracking

    if body.script is not None:
        return _launch_script(s, ctx, access, body)
    spec = check_preset(s, access, body)
    exp = _experiment(s, access, body.experiment)
    tags = {"dais.algorithm": spec.algorithm, **body.tags}
    run = tracking.create_run(s, access, exp.id, name=body.run_name, tags=tags, status="SCHEDULED", ctx=ctx)
    spec.run_id = run.id
    job = submit_job(
        s,
        ctx,
        access,
        _job(body, TRAIN_KIND, f"train {spec.algorithm} on {spec.dataset} ({run.name})", spec),
    )
    run.job_id = job.id
    s.flush()
    return TrainingRunCreated(
        run_id=run.id, experiment_id=str(exp.id), job_id=job.id, run_name=run.name, status=run.status
    )


def _job(body: TrainingRunCreate, kind: str, name: str, spec: BaseModel) -> JobSubmit:
    return JobSubmit(
        kind=kind,
        name=name[:128],
        spec=spec.model_dump(mode="json", exclude_none=True),
        resources=body.resources,
        timeout_s=body.timeout_s,
        max_attempts=body.max_attempts,
        priority=body.priority,
    )


def _launch_script(
    s: Session, ctx: AuditContext, access: WorkspaceAccess, body: TrainingRunCreate
) -> TrainingRunCreated:
    from dais.tracking import service as tracking

    assert body.script is not None
    exp = _experiment(s, access, body.experiment)
    fields = body.script.model_dump(exclude_none=True)
    try:
        TrainScriptSpec.model_validate({**fields, "run_id": "0", "experiment_id": str(exp.id)})
    except ValidationError as exc:
        errors = [
            {"loc": ["body", "script", *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        raise InvalidInput(f"The script does not fit: {errors[0]['msg']}", errors=errors) from exc
    run = tracking.create_run(
        s, access, exp.id, name=body.run_name, tags=dict(body.tags), status="SCHEDULED", ctx=ctx
    )
    spec = TrainScriptSpec.model_validate(
        {**fields, "run_id": run.id, "experiment_id": str(exp.id), "workspace": access.workspace.slug}
    )
    job = submit_job(s, ctx, access, _job(body, SCRIPT_KIND, f"train script ({run.name})", spec))
    run.job_id = job.id
    s.flush()
    return TrainingRunCreated(
        run_id=run.id, experiment_id=str(exp.id), job_id=job.id, run_name=run.name, status=run.status
    )

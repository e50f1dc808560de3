"""Tuning operations: create a study (checked first: the preset, its space, the data, the budget),
an auto model, stop one, close one, and promote a trial's model to the registry.

Creating a study writes the study row, its parent tracking run (SCHEDULED) and queues its
coordinator job (kind ``train.tune``) in one transaction; the coordinator then runs the trials.
Nothing is queued for a request that cannot run: an unknown algorithm or param, a bound the preset
refuses, a grid over a float without a step, a study with no budget answer 422 naming the field.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dais.core.errors import AlreadyExists, Conflict, DaisError, InvalidInput, NotFound
from dais.core.ids import new_id
from dais.db import Page, paginate, utcnow
from dais.jobs.schemas import JobSubmit, Resources
from dais.jobs.service import cancel_job, check_placeable, live_workers, submit_job
from dais.tenancy import AuditContext, WorkspaceAccess, record_audit
from dais.training.algorithms import Algorithm, get_algorithm, list_algorithms
from dais.training.jobs import TrainScriptSpec
from dais.training.schemas import TrainingRunCreate
from dais.training.service import check_preset
from dais.training.tuning import spaces
from dais.training.tuning.models import STUDY_FINAL, Study, Trial
from dais.training.tuning.schemas import AutoModelCreate, StudyCreate, TrialJob

if TYPE_CHECKING:
    pass

TUNE_KIND = "train.tune"
TRAIN_KIND = "train.run"
SCRIPT_KIND = "train.script"
#: The coordinator mostly waits: it asks for little, so it never keeps a trial from a slot's CPUs.
COORDINATOR_RESOURCES = Resources(cpus=0.1, memory_mb=384)
#: A coordinator whose worker dies is run again (it continues the study from its trials).
COORDINATOR_ATTEMPTS = 5

MAXIMIZE, MINIMIZE = "maximize", "minimize"
#: The final metrics each task's presets log, and which way each improves.
TASK_METRICS: dict[str, dict[str, str]] = {
    "classification": {
        "accuracy": MAXIMIZE,
        "roc_auc": MAXIMIZE,
        "log_loss": MINIMIZE,
        "f1_macro": MAXIMIZE,
        "precision_macro": MAXIMIZE,
        "recall_macro": MAXIMIZE,
        "f1": MAXIMIZE,
        "precision": MAXIMIZE,
        "recall": MAXIMIZE,
        "average_precision": MAXIMIZE,
        "fit_seconds": MINIMIZE,
    },
    "regression": {"rmse": MINIMIZE, "mae": MINIMIZE, "r2": MAXIMIZE, "fit_seconds": MINIMIZE},
    "clustering": {
        "silhouette": MAXIMIZE,
        "davies_bouldin": MINIMIZE,
        "calinski_harabasz": MAXIMIZE,
        "fit_seconds": MINIMIZE,
    },
}
DEFAULT_METRIC = {"classification": "accuracy", "regression": "rmse", "clustering": "silhouette"}
#: Metric names whose direction is known whatever logs them (a script's objective).
KNOWN_DIRECTIONS = {k: v for metrics in TASK_METRICS.values() for k, v in metrics.items()} | {
    "loss": MINIMIZE,
    "val_loss": MINIMIZE,
    "mse": MINIMIZE,
}


# -- checking a request --------------------------------------------------------------------------------


def objective(task: str | None, metric: str | None, direction: str | None) -> tuple[str, str]:
    """The study's metric and direction (a preset's metric must be one its task logs)."""
    if task is not None:
        known = TASK_METRICS.get(task, {})
        metric = metric or DEFAULT_METRIC.get(task)
        if metric not in known:
            raise InvalidInput(
                f"{metric!r} is not a metric {task} presets log; pick one of {', '.join(known)}.",
                errors=[{"loc": ["body", "metric"], "msg": "unknown metric"}],
            )
        return metric, direction or known[metric]
    if not metric:
        raise InvalidInput(
            "A script study needs the `metric` its runs log (the objective).",
            errors=[{"loc": ["body", "metric"], "msg": "required"}],
        )
    direction = direction or KNOWN_DIRECTIONS.get(metric)
    if direction is None:
        raise InvalidInput(
            f"Say whether {metric!r} should be minimized or maximized (`direction`).",
            errors=[{"loc": ["body", "direction"], "msg": "required for this metric"}],
        )
    return metric, direction


def _budget(max_trials: int | None, max_wall_time_s: float | None) -> None:
    if max_trials is None and max_wall_time_s is None:
        raise InvalidInput(
            "A study needs a budget: `max_trials`, `max_wall_time_s` or both.",
            errors=[{"loc": ["body", "max_trials"], "msg": "no budget"}],
        )


def _trial_placeable(s: Session, trial_job: TrialJob) -> None:
    check_placeable(
        live_workers(s), JobSubmit(kind=TRAIN_KIND, resources=trial_job.resources), ["body", "trial_job"]
    )


def _experiment(s: Session, access: WorkspaceAccess, ref: str | None, default: str) -> Any:
    """The experiment ``ref`` names (an id, else a name: created if new); ``default`` by name if none."""
    from dais.tracking import service as tracking

    ref = ref or default
    if ref.isdigit():
        try:
            return tracking.get_experiment(s, access, ref)
        except DaisError:
            pass
    try:
        return tracking.get_experiment_by_name(s, access, ref)
    except DaisError:
        return tracking.create_experiment(s, access, ref)


def _name_free(s: Session, access: WorkspaceAccess, name: str) -> None:
    taken = s.scalar(select(Study.id).where(Study.workspace_id == access.workspace.id, Study.name == name))
    if taken is not None:
        raise AlreadyExists(
            f"A study named {name!r} exists in this workspace; pick another name.",
            errors=[{"loc": ["body", "name"], "msg": "taken"}],
        )


def _default_name(prefix: str) -> str:
    return f"{prefix.replace('_', '-')}-{new_id()[-6:].lower()}"


def _train_request(
    body: StudyCreate | AutoModelCreate, algorithm: str, params: dict[str, Any]
) -> TrainingRunCreate:
    try:
        return TrainingRunCreate(
            algorithm=algorithm,
            params=params,
            dataset=body.dataset,
            version=body.version,
            transforms=body.transforms,
            target=body.target,
            features=body.features,
            split=body.split,
            seed=body.train_seed,
            resources=body.trial_job.resources,
        )
    except ValidationError as exc:
        raise InvalidInput(f"The study's training run cannot be described: {exc.errors()[0]['msg']}") from exc


def _pruner(body: StudyCreate) -> dict[str, Any]:
    p = body.pruner.model_dump()
    if p["kind"] == "none":
        return {"kind": "none"}
    return p


# -- creating studies ------------------------------------------------------------------------------------


def create_study(s: Session, ctx: AuditContext, access: WorkspaceAccess, body: StudyCreate) -> Study:
    """Check the request, then write the study, its parent run, and queue its coordinator."""
    if body.script is not None:
        return _create_script_study(s, ctx, access, body)
    assert body.algorithm is not None
    algo = get_algorithm(body.algorithm)
    metric, direction = objective(algo.task, body.metric, body.direction)
    space = spaces.check_preset_space(algo, body.space, body.params, ["body", "space"])
    if not space:
        raise InvalidInput(
            f"Nothing to search: {algo.name!r} has no search space left (every param is fixed).",
            errors=[{"loc": ["body", "space"], "msg": "empty"}],
        )
    spec = check_preset(s, access, _train_request(body, algo.name, body.params))
    base = spec.model_dump(mode="json", exclude_none=True)
    base["params"] = dict(body.params)  # each trial's params are checked with the fixed ones merged
    return _create(
        s,
        ctx,
        access,
        body,
        kind="preset",
        name=body.name or _default_name(algo.name),
        metric=metric,
        direction=direction,
        space=space,
        base=base,
        job_kind=TRAIN_KIND,
    )


def _create_script_study(s: Session, ctx: AuditContext, access: WorkspaceAccess, body: StudyCreate) -> Study:
    assert body.script is not None
    assert body.space is not None
    metric, direction = objective(None, body.metric, body.direction)
    space = {name: spaces.check_param(name, p, ["body", "space", name]) for name, p in body.space.items()}
    fields = body.script.model_dump(exclude_none=True)
    try:
        TrainScriptSpec.model_validate({**fields, "run_id": "0", "experiment_id": "0"})
    except ValidationError as exc:
        errors = [
            {"loc": ["body", "script", *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        raise InvalidInput(f"The script does not fit: {errors[0]['msg']}", errors=errors) from exc
    fields["workspace"] = access.workspace.slug
    return _create(
        s,
        ctx,
        access,
        body,
        kind="script",
        name=body.name or _default_name("script"),
        metric=metric,
        direction=direction,
        space=space,
        base=fields,
        job_kind=SCRIPT_KIND,
    )


def _auto_candidates(body: AutoModelCreate) -> list[Algorithm]:
    if body.algorithms is None:
        names = [
            i.name
            for i in list_algorithms(body.task)
            if not i.error and i.task == body.task and i.runtime != "torch"
        ]
    else:
        names = list(dict.fromkeys(body.algorithms))
    out: list[Algorithm] = []
    for i, name in enumerate(names):
        algo = get_algorithm(name, loc=("body", "algorithms", str(i)))
        if algo.task != body.task:
            raise InvalidInput(
                f"{name!r} is a {algo.task} preset, not {body.task}.",
                errors=[{"loc": ["body", "algorithms", i], "msg": "another task"}],
            )
        out.append(algo)
    if not out:
        raise InvalidInput(
            f"No {body.task} preset can be tried here.",
            errors=[{"loc": ["body", "task"], "msg": "no presets"}],
        )
    return out


def create_auto_study(s: Session, ctx: AuditContext, access: WorkspaceAccess, body: AutoModelCreate) -> Study:
    """An auto model: a study whose first param is the preset, each with its own space."""
    metric, direction = objective(body.task, body.metric, body.direction)
    candidates = _auto_candidates(body)
    usable: list[Algorithm] = []
    first_error: InvalidInput | None = None
    base: dict[str, Any] | None = None
    for algo in candidates:
        try:
            spec = check_preset(s, access, _train_request(body, algo.name, {}))
        except InvalidInput as exc:
            if body.algorithms is not None:  # the caller named it: say why it cannot run
                raise
            first_error = first_error or exc  # the defaults: leave out what this data does not suit
            continue
        usable.append(algo)
        if base is None:
            base = spec.model_dump(mode="json", exclude_none=True)
    if base is None:
        assert first_error is not None
        raise first_error
    base["params"] = {}
    space = spaces.auto_space(usable)
    return _create(
        s,
        ctx,
        access,
        body,
        kind="auto",
        name=body.name or _default_name(f"auto-{body.task}"),
        metric=metric,
        direction=direction,
        space=space,
        base=base,
        job_kind=TRAIN_KIND,
    )


def _create(
    s: Session,
    ctx: AuditContext,
    access: WorkspaceAccess,
    body: StudyCreate | AutoModelCreate,
    *,
    kind: str,
    name: str,
    metric: str,
    direction: str,
    space: dict[str, Any],
    base: dict[str, Any],
    job_kind: str,
) -> Study:
    from dais.tracking import service as tracking

    _name_free(s, access, name)
    _trial_placeable(s, body.trial_job)
    max_trials = body.max_trials
    enqueued: list[dict[str, Any]] = []
    pruner: dict[str, Any] = {"kind": "none"}
    if isinstance(body, StudyCreate):
        pruner = _pruner(body)
        if body.enqueue:
            if body.sampler == "grid":
                raise InvalidInput(
                    "A grid study enumerates its grid itself: leave out `enqueue`.",
                    errors=[{"loc": ["body", "enqueue"], "msg": "not with a grid"}],
                )
            enqueued = spaces.check_enqueued(space, body.enqueue, ["body", "enqueue"])
        if body.sampler == "grid":
            size = spaces.grid_size(spaces.grid(space, ["body", "space"]))
            max_trials = min(max_trials or size, size)  # a grid is a budget of its own
    _budget(max_trials, body.max_wall_time_s)
    exp = _experiment(s, access, body.experiment, name)
    study = Study(
        workspace_id=access.workspace.id,
        name=name,
        kind=kind,
        experiment_id=exp.id,
        metric=metric,
        direction=direction,
        sampler=body.sampler,
        seed=body.seed,
        pruner=pruner,
        space=space,
        base_spec={"kind": job_kind, "spec": base},
        trial_job=body.trial_job.model_dump(mode="json"),
        enqueued=enqueued,
        max_trials=max_trials,
        max_wall_time_s=body.max_wall_time_s,
        concurrency=body.concurrency,
        promote_to=body.promote_to,
        state="queued",
        created_by=ctx.actor_id,
        created_at=utcnow(),
    )
    s.add(study)
    s.flush()
    tags = {
        "dais.study_id": study.id,
        "dais.study": name,
        "dais.study_kind": kind,
        "dais.metric": metric,
        "dais.direction": direction,
    }
    if kind == "preset":
        tags["dais.algorithm"] = str(base.get("algorithm"))
    run = tracking.create_run(s, access, exp.id, name=name, tags=tags, status="SCHEDULED", ctx=ctx)
    study.parent_run_id = run.id
    job = submit_job(
        s,
        ctx,
        access,
        JobSubmit(
            kind=TUNE_KIND,
            name=f"tune {name}"[:128],
            spec={"study_id": study.id},
            resources=COORDINATOR_RESOURCES,
            max_attempts=COORDINATOR_ATTEMPTS,
            backoff_s=1.0,
        ),
    )
    study.coordinator_job_id = job.id
    run.job_id = job.id
    record_audit(
        s,
        ctx,
        "study.create",
        target_type="study",
        target_id=study.id,
        workspace_id=access.workspace.id,
        details={"name": name, "kind": kind, "metric": metric, "sampler": body.sampler},
    )
    s.flush()
    return study


# -- reading -----------------------------------------------------------------------------------------------


def get_study(s: Session, access: WorkspaceAccess, ref: str) -> Study:
    """The study ``ref`` (an id or a name) of the workspace; 404 otherwise."""
    study = s.scalar(
        select(Study).where(
            Study.workspace_id == access.workspace.id, (Study.id == ref) | (Study.name == ref)
        )
    )
    if study is None:
        raise NotFound(f"Study {ref!r} not found in workspace {access.workspace.slug!r}.")
    return study


def list_studies(
    s: Session,
    access: WorkspaceAccess,
    *,
    state: str | None,
    kind: str | None,
    sort: str,
    limit: int,
    cursor: str | None,
) -> Page[Study]:
    stmt = select(Study).where(Study.workspace_id == access.workspace.id)
    if state:
        stmt = stmt.where(Study.state == state)
    if kind:
        stmt = stmt.where(Study.kind == kind)
    return paginate(
        s,
        stmt,
        columns={"created_at": Study.created_at, "name": Study.name, "state": Study.state},
        id_column=Study.id,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )


def trials_of(s: Session, study_id: str) -> list[Trial]:
    return list(s.scalars(select(Trial).where(Trial.study_id == study_id).order_by(Trial.number)))


# -- stopping and closing --------------------------------------------------------------------------------


def stop_study(s: Session, ctx: AuditContext, access: WorkspaceAccess, ref: str) -> Study:
    """Ask the study to stop: its coordinator cancels the running trials and ends it (a study whose
    coordinator has not started yet ends at once)."""
    from dais.jobs.models import Job
    from dais.jobs.states import JobState

    study = get_study(s, access, ref)
    if study.state in STUDY_FINAL:
        raise Conflict(f"Study {study.name!r} already ended ({study.state}); nothing to stop.")
    study.stop_requested = True
    job = s.get(Job, study.coordinator_job_id) if study.coordinator_job_id else None
    if job is None or job.state != JobState.running:
        if job is not None and not JobState(job.state).finished:
            cancel_job(s, ctx, access, job.id)
        close_study(s, ctx, access, study, "stopped")
    record_audit(
        s, ctx, "study.stop", target_type="study", target_id=study.id, workspace_id=access.workspace.id
    )
    s.flush()
    return study


def cancel_trial_job(s: Session, ctx: AuditContext, access: WorkspaceAccess, job_id: str) -> None:
    """Cancel a trial's job if it has not ended (an ended one is left as it is)."""
    with contextlib.suppress(Conflict, NotFound):
        cancel_job(s, ctx, access, job_id)


def close_study(
    s: Session,
    ctx: AuditContext,
    access: WorkspaceAccess,
    study: Study,
    state: str,
    error: str | None = None,
    *,
    trial_error: str | None = None,
) -> None:
    """End the study: running trials are cancelled (failed, with ``trial_error``), the parent run
    gets its end status."""
    from dais.tracking import service as tracking

    now = utcnow()
    why = trial_error or f"the study {state}"
    for trial in s.scalars(select(Trial).where(Trial.study_id == study.id, Trial.state == "running")):
        if trial.job_id:
            cancel_trial_job(s, ctx, access, trial.job_id)
        trial.state, trial.error, trial.ended_at = "failed", why, now
    study.state, study.error, study.ended_at = state, error, now
    if study.parent_run_id:
        status = {"completed": "FINISHED", "stopped": "KILLED"}.get(state, "FAILED")
        # a deleted parent run does not keep the study open
        with contextlib.suppress(DaisError):
            tracking.update_run(s, access, study.parent_run_id, status=status, end_time=tracking.now_ms())
    s.flush()

"""What a ``train.run`` job does, step by step (called by :class:`dais.training.jobs.TrainRunKind`).

1. Start the tracking run (the one the API created, or a new one) and log params, tags and the
   dataset version as the run's input.
2. Read the version's columns (streamed), apply the pipeline's transforms, build the arrays. An
   image dataset's listing (path, label) is read instead: each image becomes a reference that reads
   its file from the dataset's connection when the algorithm needs its pixels, so the connection
   stays open until the job ends.
3. Split; fit (k-fold: once per fold, then a refit on every row), with per-iteration metrics going
   to the run in batches; evaluate on the validation rows (k-fold: on the out-of-fold predictions).
4. Log the final metrics; write ``evaluation.json`` and the model package under the run's
   artifacts; record a logged model (and a model version when ``register_as`` is set); FINISHED.

Everything that a user could get wrong was checked by the API before the job was queued; the same
checks run here (the data may have changed), and their errors fail the run before any fit.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import TYPE_CHECKING, Any

from dais.core.errors import DaisError, InvalidInput
from dais.jobs.kinds import JobContext
from dais.training.algorithms import Algorithm, TrainData, TrainLogger, get_algorithm
from dais.training.data import (
    LoadedData,
    apply_chain,
    carried_transforms,
    find_version,
    load_arrays,
    missing_values,
    plan_columns,
    read_table,
    stats_by_column,
    transforms_of,
    version_schema,
)
from dais.training.evaluate import Evaluation, evaluate
from dais.training.image_data import IMAGE_TASK, load_images, plan_images, unreadable_images
from dais.training.jobs import MetricSink, Progress, TrainSpec, cpu_threads, default_split, job_access
from dais.training.records import MODEL_PATH, dataset_input, publish, run_params, run_tags
from dais.training.splits import Fold, KFoldSplit, NoSplit, TimeSplit, make_folds

if TYPE_CHECKING:
    import numpy as np
    from pydantic import BaseModel
    from sqlalchemy.orm import Session

    from dais.core.settings import Settings
    from dais.db import Database
    from dais.pipelines.transforms import TransformChain
    from dais.tenancy import WorkspaceAccess
    from dais.tracking.models import Run
    from dais.training.data import ColumnPlan


def train(ctx: JobContext, spec: TrainSpec, settings: Settings, db: Database) -> dict[str, Any]:
    """Run one training job; its result names the run, the metrics and what was registered."""
    access = job_access(db, ctx.workspace_id, ctx.job_id)
    algo = get_algorithm(spec.algorithm)
    params = algo.parse_params(spec.params)
    with db.session() as s:
        run = _start_run(s, access, spec, ctx.job_id)
    run_id = run.id
    try:
        return _train(ctx, spec, settings, db, access, run, algo, params)
    except BaseException as exc:
        _fail(db, access, run_id, exc)
        raise


def _start_run(s: Session, access: WorkspaceAccess, spec: TrainSpec, job_id: str) -> Run:
    from dais.tracking import service as tracking

    if spec.run_id:
        run = tracking.get_run(s, access, spec.run_id)
        run.job_id = job_id
        run = tracking.update_run(s, access, run.id, status="RUNNING")
        run.end_time = None
        s.flush()
        return run
    if spec.experiment:
        try:
            exp = tracking.get_experiment(s, access, spec.experiment)
        except DaisError:
            exp = tracking.get_experiment_by_name(s, access, spec.experiment)
    else:
        exp = tracking.default_experiment(s, access)
    return tracking.create_run(s, access, exp.id, name=spec.run_name, job_id=job_id, tags=dict(spec.tags))


def _fail(db: Database, access: WorkspaceAccess, run_id: str, exc: BaseException) -> None:
    """Mark the run FAILED with the error as a tag (best effort: the worker's hook is the backstop)."""
    from dais.tracking import service as tracking

    message = exc.detail if isinstance(exc, DaisError) else f"{type(exc).__name__}: {exc}"
    try:
        with db.session() as s:
            tracking.log_batch(s, access, run_id, tags=[tracking.TagIn("dais.error", message[:8000])])
            tracking.update_run(s, access, run_id, status="FAILED", end_time=tracking.now_ms())
    except Exception as err:  # the job's own error matters more
        print(f"could not mark the run failed: {err}", flush=True)


def _train(
    ctx: JobContext,
    spec: TrainSpec,
    settings: Settings,
    db: Database,
    access: WorkspaceAccess,
    run: Run,
    algo: Algorithm,
    params: BaseModel,
) -> dict[str, Any]:
    from dais.data import open_version
    from dais.tracking import service as tracking

    clock = _Clock()
    progress = Progress(ctx)
    progress.set_stage("checking the data", 0.0, 0.02)
    split = spec.split or default_split(algo.task)
    time_column = split.column if isinstance(split, TimeSplit) else None
    images = algo.task == IMAGE_TASK
    unreadable: set[str] = set()
    with db.session(write=False) as s:
        ds, v = find_version(s, ctx.workspace_id, spec.dataset, spec.version)
        if images:
            chain = carried = None
            plan = plan_images(
                ds, target=spec.target, features=spec.features, split=split, transforms=spec.transforms
            )
            unreadable = unreadable_images(s, ds, v)
        else:
            chain = transforms_of(s, ctx.workspace_id, spec.transforms) if spec.transforms else None
            carried = chain if chain is not None else carried_transforms(s, ctx.workspace_id, v)
            plan = plan_columns(
                version_schema(ds, v),
                task=algo.task,
                target=spec.target,
                features=spec.features,
                time_column=time_column,
                chain=chain,
                stats=stats_by_column(ds, v, transformed=chain is not None),
            )
        opened = open_version(s, ds, v, settings)
        dataset = {"name": ds.name, "version": v.number, "id": v.id, "dataset_id": ds.id}
        fingerprint = json.dumps(v.fingerprint or {}, sort_keys=True, default=str)
    with db.session() as s:
        tracking.log_batch(
            s, access, run.id, params=run_params(spec, algo, params, split, dataset, plan.features)
        )
        tracking.log_batch(s, access, run.id, tags=run_tags(spec, algo, ctx, left_out=plan.left_out))
        tracking.log_inputs(s, access, run.id, [dataset_input(dataset, fingerprint, plan.features)])

    _say(
        f"run {run.name} ({run.id}) of experiment {run.experiment_id}; job {ctx.job_id} attempt {ctx.attempt}"
    )
    through = (
        f", through the transforms of pipeline run {spec.transforms.pipeline_run}" if spec.transforms else ""
    )
    _say(f"dataset {ds.name} v{v.number} ({v.id}){through}")
    if not images:
        target = repr(plan.target) if plan.target else "none"
        _say(f"target {target}; {len(plan.features)} feature(s): {_names(plan.features)}")
    if plan.left_out:
        _say(
            f"left out identifier column(s) from the default features: {_names(plan.left_out)} "
            "(name them in `features` to train on them)"
        )
    _say(f"algorithm {algo.name} ({algo.title}): {_params_line(algo.param_strings(params))}")
    clock.lap("checked the request and logged params")
    progress.set_stage(f"reading {ds.name} v{v.number}", 0.02, 0.1)
    timeout = settings.data.source_timeout_s
    with contextlib.ExitStack() as source:
        source.callback(opened.connector.close)
        reader = opened.open(timeout)
        if images:  # the listing only: each image is read when training needs its pixels
            table = read_table(reader, plan.read)
            data = load_images(table, plan, opened.connector, timeout_s=timeout, unreadable=unreadable)
            clock.lap(f"listed {len(data.X):,} labelled images in {len(data.classes or [])} classes")
        else:
            if chain is not None:
                table = apply_chain(reader, chain, plan.columns, ctx.scratch / "transforms")
            else:
                table = read_table(reader, plan.read)
            source.close()  # every row is in memory now: let the source go
            data = load_arrays(table, plan, task=algo.task)
            clock.lap(
                f"read {data.rows_read:,} rows of {ds.name} v{v.number} "
                f"({len(data.X):,} x {len(data.feature_names)} features)"
            )
        del table
        for reason, count in (data.dropped or {"without a target value": data.rows_dropped}).items():
            if count:
                print(f"left out {count} row(s): {reason}", flush=True)
        _check_data(algo, data)
        return _fit_and_publish(
            ctx,
            spec,
            settings,
            db,
            access,
            run,
            algo,
            params,
            split,
            plan,
            data,
            carried,
            dataset,
            clock,
            progress,
        )


def _fit_and_publish(
    ctx: JobContext,
    spec: TrainSpec,
    settings: Settings,
    db: Database,
    access: WorkspaceAccess,
    run: Run,
    algo: Algorithm,
    params: BaseModel,
    split: BaseModel,
    plan: ColumnPlan,
    data: LoadedData,
    carried: TransformChain | None,
    dataset: dict[str, Any],
    clock: _Clock,
    progress: Progress,
) -> dict[str, Any]:
    """Split, fit, evaluate, log the final metrics, publish the evaluation and the package."""
    from dais.tracking import service as tracking

    folds = make_folds(
        split,
        len(data.X),
        y=data.y if algo.task in _CLASSIFYING else None,
        time=data.time,
        time_temporal=plan.time_column is not None and plan.time_temporal,
    )

    _say(_split_line(split, folds, len(data.X)))
    sink = MetricSink(db, access, run.id)
    logger = TrainLogger(sink, on_progress=progress, echo=_say)
    threads = cpu_threads(spec.threads)
    _say(f"training {algo.name} on {threads} thread(s)")
    started = time.perf_counter()
    if isinstance(split, KFoldSplit):
        model, ev = _kfold(algo, params, data, folds, spec, threads, logger, progress)
    else:
        progress.set_stage(f"training {algo.title}", 0.1, 0.85)
        fold = folds[0]
        fit_data = _fit_data(data, fold, spec.seed, threads, with_valid=not isinstance(split, NoSplit))
        model = algo.fit(fit_data, params, logger)
        logger.flush()
        progress.set_stage("evaluating", 0.85, 0.9)
        ev = _evaluate(algo, model, data, fold.valid, spec.seed)
    fit_seconds = time.perf_counter() - started
    clock.lap(f"trained and evaluated {algo.name} ({fit_seconds:.2f} s)")
    metrics = dict(ev.metrics)
    now = tracking.now_ms()
    final = [tracking.MetricIn(k, v, now, 0) for k, v in metrics.items()]
    final.append(tracking.MetricIn("fit_seconds", round(fit_seconds, 3), now, 0))
    sink_batch(db, access, run.id, final)
    _say(f"metrics: {_metrics_line(metrics)}")

    progress.set_stage("writing the model package", 0.9, 1.0)
    ev.data["split"] = split.model_dump(mode="json")
    if isinstance(split, KFoldSplit):
        ev.data["rows"] = {"total": len(data.X), "folds": len(folds)}
    else:
        ev.data["rows"] = {"total": len(data.X), "train": len(folds[0].train), "valid": len(folds[0].valid)}
    result = publish(ctx, spec, settings, db, access, run, algo, params, model, data, ev, carried, dataset)
    clock.lap("wrote evaluation.json and the model package, recorded the model")
    _say(f"model package: {result['model_uri']} ({run.artifact_uri}/{MODEL_PATH})")
    _say(f"logged model {result['logged_model_id']}")
    if result.get("model_version") is not None:
        _say(f"registered as {result['registered_model']} version {result['model_version']}")
    with db.session() as s:
        tracking.update_run(s, access, run.id, status="FINISHED", end_time=tracking.now_ms())
    ctx.progress(1.0, "finished")
    _say(f"run {run.id} FINISHED")
    return {"run_id": run.id, "experiment_id": str(run.experiment_id), "metrics": metrics, **result}


#: Tasks whose target is a class: stratified splits, probabilities, classification metrics.
_CLASSIFYING = ("classification", IMAGE_TASK)


def _say(line: str) -> None:
    """A line in the job's log (its stdout)."""
    print(line, flush=True)


def _names(names: list[str], limit: int = 20) -> str:
    shown = ", ".join(names[:limit])
    return f"{shown}, ... ({len(names) - limit} more)" if len(names) > limit else shown


def _params_line(params: dict[str, str], limit: int = 2000) -> str:
    line = ", ".join(f"{key}={value}" for key, value in params.items()) or "(no params)"
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _metrics_line(metrics: dict[str, float]) -> str:
    return "  ".join(f"{key}={value:.6g}" for key, value in sorted(metrics.items())) or "(none)"


def _split_line(split: BaseModel, folds: list[Fold], rows: int) -> str:
    if isinstance(split, KFoldSplit):
        sizes = ", ".join(str(len(f.valid)) for f in folds)
        return f"split: {len(folds)}-fold cross-validation over {rows:,} rows (validation folds of {sizes})"
    if isinstance(split, NoSplit):
        return f"split: none ({rows:,} rows train and are scored)"
    kind = split.model_dump().get("kind", "holdout")
    return f"split: {kind}, {len(folds[0].train):,} rows train, {len(folds[0].valid):,} validate"


class _Clock:
    """Lines in the job's log saying how long each stage took."""

    def __init__(self) -> None:
        self.last = time.perf_counter()

    def lap(self, what: str) -> None:
        now = time.perf_counter()
        print(f"{what} in {now - self.last:.2f} s", flush=True)
        self.last = now


def sink_batch(db: Database, access: WorkspaceAccess, run_id: str, metrics: list[Any]) -> None:
    from dais.tracking import service as tracking

    with db.session() as s:
        for i in range(0, len(metrics), tracking.MAX_METRICS_PER_BATCH):
            tracking.log_batch(s, access, run_id, metrics=metrics[i : i + tracking.MAX_METRICS_PER_BATCH])


def _check_data(algo: Algorithm, data: LoadedData) -> None:
    if len(data.X) == 0:
        raise InvalidInput(
            "No image has a label: put the images in one folder per class (the folder's name is the "
            "label) and register the parent folder."
            if algo.task == IMAGE_TASK
            else "No row has a target value: nothing to train on.",
            errors=[{"loc": ["body", "target"], "msg": "no values"}],
        )
    if algo.task != IMAGE_TASK and not algo.handles_missing:
        found = missing_values(data.X, data.feature_names)
        if found is not None:
            j, name, count = found
            raise InvalidInput(
                f"The feature {name!r} has {count} missing value(s) and {algo.name} does not accept them: "
                "impute them in a pipeline, or pick an algorithm that handles them (random forest, "
                "LightGBM, XGBoost).",
                errors=[{"loc": ["body", "features", j], "msg": "missing values"}],
            )
    if algo.task in _CLASSIFYING and len(data.classes or []) < 2:
        raise InvalidInput(
            "The target has a single value: classification needs at least two classes.",
            errors=[{"loc": ["body", "target"], "msg": "single class"}],
        )


def _fit_data(data: LoadedData, fold: Fold, seed: int, threads: int, *, with_valid: bool) -> TrainData:
    return TrainData(
        X=data.X[fold.train],
        y=data.y[fold.train] if data.y is not None else None,
        feature_names=data.feature_names,
        X_valid=data.X[fold.valid] if with_valid else None,
        y_valid=data.y[fold.valid] if with_valid and data.y is not None else None,
        classes=data.classes,
        seed=seed,
        threads=threads,
    )


def _predictions(algo: Algorithm, model: Any, x: np.ndarray, classes: list[Any] | None) -> dict[str, Any]:
    if algo.task in _CLASSIFYING:
        return {"proba": algo.predict_proba(model, x, classes)}
    if algo.task == "clustering":
        return {"pred": algo.predict(model, x), "x": algo.scoring_space(model, x)}
    return {"pred": algo.predict(model, x)}


def _evaluation(task: str, **kwargs: Any) -> Evaluation:
    """:func:`evaluate` for ``task``: an image classifier is scored as any classifier is."""
    ev = evaluate("classification" if task == IMAGE_TASK else task, **kwargs)
    ev.data["task"] = task
    return ev


def _evaluate(algo: Algorithm, model: Any, data: LoadedData, rows: np.ndarray, seed: int) -> Evaluation:
    return _evaluation(
        algo.task,
        y=data.y[rows] if data.y is not None else None,
        classes=data.classes,
        feature_names=data.feature_names,
        importance=algo.feature_importance(model),
        seed=seed,
        **_predictions(algo, model, data.X[rows], data.classes),
    )


def _kfold(
    algo: Algorithm,
    params: BaseModel,
    data: LoadedData,
    folds: list[Fold],
    spec: TrainSpec,
    threads: int,
    logger: TrainLogger,
    progress: Progress,
) -> tuple[Any, Evaluation]:
    """Fit and score each fold (fold metrics logged as ``fold_<metric>`` at step = fold number), then
    refit on every row. The metrics are the folds' means (with ``<metric>_std``); the charts come
    from the out-of-fold predictions."""
    import numpy as np

    from dais.tracking import service as tracking

    k = len(folds)
    span = 0.75 / (k + 1)
    per_fold: list[dict[str, float]] = []
    oof: dict[str, np.ndarray] = {}
    quiet = TrainLogger(None, on_progress=progress)  # fold fits log no curves, only progress
    for i, fold in enumerate(folds, start=1):
        progress.set_stage(f"fold {i} of {k}", 0.1 + span * (i - 1), 0.1 + span * i)
        model = algo.fit(_fit_data(data, fold, spec.seed, threads, with_valid=True), params, quiet)
        ev = _evaluate(algo, model, data, fold.valid, spec.seed)
        _say(f"fold {i}/{k}: {_metrics_line(ev.metrics)}")
        per_fold.append(ev.metrics)
        now = tracking.now_ms()
        if logger.sink is not None:
            logger.sink([_point(f"fold_{key}", value, i, now) for key, value in ev.metrics.items()])
        for name, values in _predictions(algo, model, data.X[fold.valid], data.classes).items():
            if name == "x":
                continue
            if name not in oof:
                oof[name] = np.zeros((len(data.X), *values.shape[1:]), dtype=values.dtype)
            oof[name][fold.valid] = values
    progress.set_stage("training on every row", 0.1 + span * k, 0.85)
    every = np.arange(len(data.X))
    final = algo.fit(
        _fit_data(data, Fold(every, every), spec.seed, threads, with_valid=False), params, logger
    )
    logger.flush()
    progress.set_stage("evaluating", 0.85, 0.9)
    extra: dict[str, Any] = {"x": algo.scoring_space(final, data.X)} if algo.task == "clustering" else {}
    ev = _evaluation(
        algo.task,
        y=data.y,
        classes=data.classes,
        feature_names=data.feature_names,
        importance=algo.feature_importance(final),
        seed=spec.seed,
        **oof,
        **extra,
    )
    keys = sorted({key for m in per_fold for key in m})
    means: dict[str, float] = {}
    for key in keys:
        values = [m[key] for m in per_fold if key in m]
        means[key] = float(np.mean(values))
        means[f"{key}_std"] = float(np.std(values))
    ev.data["oof_metrics"] = ev.data.get("metrics", {})
    ev.data["metrics"] = {key: round(value, 8) for key, value in means.items()}
    ev.data["folds"] = [{k2: round(v2, 8) for k2, v2 in m.items()} for m in per_fold]
    ev.metrics = means
    return final, ev


def _point(key: str, value: float, step: int, now: int) -> Any:
    from dais.training.algorithms import MetricPoint

    return MetricPoint(key, float(value), step, now)

"""Experiments and runs with MLflow's semantics: the operations the MLflow facade and the native API share.

Every function takes the session (the caller owns the transaction) and the caller's
:class:`~dais.tenancy.WorkspaceAccess`; reads need the viewer role, writes the editor role. Rows of
other workspaces are invisible (they answer "does not exist"). Metric, param and tag writes go
through Core statements (bulk inserts and upserts, :mod:`dais.tracking.batch`), never ORM objects
one by one, and are not audited one by one; creating, renaming, deleting and restoring experiments
and runs are. Experiments live in :mod:`dais.tracking.experiments`, MLflow's limits in
:mod:`dais.tracking.validation`; this module is the one entry point (it re-exports them).
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    CompoundSelect,
    Float,
    Select,
    Text,
    delete,
    insert,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from dais.tenancy import AuditContext, WorkspaceAccess
from dais.tracking import search
from dais.tracking.batch import (
    active_run_check,
    dialect_name,
    log_metrics,
    log_params,
    set_tags,
    upsert_insert,
)
from dais.tracking.entries import (
    DatasetInput,
    InputEntry,
    MetricIn,
    MetricPoint,
    OutputEntry,
    ParamIn,
    RunData,
    TagIn,
    now_ms,
)
from dais.tracking.errors import InvalidParameterValue, ResourceDoesNotExist
from dais.tracking.experiments import (
    create_experiment,
    default_experiment,
    default_experiment_id,
    delete_experiment,
    delete_experiment_tag,
    experiment_artifact_location,
    experiment_tags,
    get_experiment,
    get_experiment_by_name,
    rename_experiment,
    require_active_experiment,
    restore_experiment,
    search_experiments,
    set_experiment_tag,
)
from dais.tracking.guards import audit, require_editor
from dais.tracking.models import (
    ACTIVE,
    DELETED,
    RUN_STATUSES,
    Run,
    RunInput,
    RunLatestMetric,
    RunOutput,
    RunParam,
    RunTag,
)
from dais.tracking.validation import (
    DATASET_CONTEXT_TAG,
    DEFAULT_EXPERIMENT_NAME,
    LOGGED_MODELS_TAG,
    MAX_DATASET_DIGEST_SIZE,
    MAX_DATASET_NAME_SIZE,
    MAX_DATASET_SOURCE_SIZE,
    MAX_ENTITIES_PER_BATCH,
    MAX_INPUT_TAG_KEY_SIZE,
    MAX_INPUT_TAG_VALUE_SIZE,
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_TAGS_PER_BATCH,
    MAX_RUN_NAME_LENGTH,
    PARENT_RUN_TAG,
    RUN_NAME_TAG,
    SEARCH_MAX_RESULTS_DEFAULT,
    SEARCH_MAX_RESULTS_THRESHOLD,
    USER_TAG,
    check_max_results,
    max_length,
    parse_experiment_id,
    validate_batch_limits,
    validate_key,
    validate_metric,
    validate_param,
    validate_tag,
    view_stages,
)

# -- values in and out -----------------------------------------------------------------------------


# -- access ----------------------------------------------------------------------------------------


# -- validation (MLflow's rules and messages) ----------------------------------------------------------------


# -- experiments -----------------------------------------------------------------------------------


# -- runs ------------------------------------------------------------------------------------------

_ADJECTIVES = (  # noqa: SIM905
    "able amber bold brave bright calm clever cool crisp curious daring eager fair fast fierce "
    "gentle glad golden grand happy honest keen kind lively loud lucky merry mighty neat noble "
    "polite proud quick quiet rare rich sharp shiny silent sleek smart snappy steady sunny swift "
    "tidy vivid warm wise witty young zesty"
).split()
_NOUNS = (  # noqa: SIM905
    "ant bear bee bird carp cat colt crab crane crow deer dog dove duck eel elk finch fox frog "
    "goat gull hare hawk hen heron horse jay koala lamb lark lion lynx mole moth mouse newt owl "
    "ox panda pig pony quail ram rat raven robin seal shark sheep shrew skunk slug snail snake "
    "squid stag swan tern toad trout wasp whale wolf worm wren yak zebra"
).split()


def random_run_name() -> str:
    """A friendly run name like MLflow's (``brave-owl-417``)."""
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(100, 999)}"  # noqa: S311


def run_artifact_uri(experiment_id: int, run_id: str) -> str:
    return f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"


def run_artifact_key(run: Run, path: str = "") -> str:
    """The workspace artifact key of ``path`` under the run's artifacts (the folder for ``""``)."""
    base = f"mlflow/{run.experiment_id}/{run.id}/artifacts"
    path = path.strip("/")
    return f"{base}/{path}" if path else base


def create_run(
    s: Session,
    access: WorkspaceAccess,
    experiment_id: str | int,
    *,
    name: str | None = None,
    start_time: int | None = None,
    tags: dict[str, str] | None = None,
    user_id: str | None = None,
    parent_run_id: str | None = None,
    job_id: str | None = None,
    status: str = "RUNNING",
    ctx: AuditContext | None = None,
) -> Run:
    """A new run in the experiment (``"0"``: the default one); a random friendly name when none."""
    require_editor(access)
    tags = dict(tags or {})
    for i, (key, value) in enumerate(tags.items()):
        validate_tag(TagIn(key, value), f"tags[{i}]")
    exp = get_experiment(s, access, experiment_id)
    require_active_experiment(exp)
    tag_name = tags.get(RUN_NAME_TAG)
    if name and tag_name and name != tag_name:
        raise InvalidParameterValue(
            "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values "
            f"(run_name='{name}', mlflow.runName='{tag_name}')."
        )
    name = name or tag_name or random_run_name()
    max_length("run_name", name, MAX_RUN_NAME_LENGTH)
    tags[RUN_NAME_TAG] = name
    parent_run_id = parent_run_id or tags.get(PARENT_RUN_TAG) or None
    if parent_run_id:
        tags[PARENT_RUN_TAG] = parent_run_id
    if status not in RUN_STATUSES:
        raise InvalidParameterValue(f"Invalid run status '{status}'. Valid values are {list(RUN_STATUSES)}.")
    run_id = uuid.uuid4().hex
    run = Run(
        id=run_id,
        workspace_id=access.workspace.id,
        experiment_id=exp.id,
        name=name,
        status=status,
        start_time=start_time if start_time is not None else now_ms(),
        end_time=None,
        lifecycle_stage=ACTIVE,
        user_id=user_id or tags.get(USER_TAG) or access.principal.user.username,
        created_by=access.principal.user.id,
        artifact_uri=run_artifact_uri(exp.id, run_id),
        parent_run_id=parent_run_id,
        job_id=job_id,
    )
    s.add(run)
    s.flush()
    s.execute(insert(RunTag), [{"run_id": run_id, "key": k, "value": v} for k, v in tags.items()])
    audit(
        s, access, ctx, "run.create", "run", run_id, {"experiment_id": exp.id, "name": name, "job_id": job_id}
    )
    return run


def new_run_data(run: Run, tags: dict[str, str] | None) -> RunData:
    """What :func:`run_data` would read for a run :func:`create_run` just made with ``tags``: those
    tags with the run's name (and parent), nothing else (no second read for the reply)."""
    written = dict(tags or {})
    written[RUN_NAME_TAG] = run.name
    if run.parent_run_id:
        written[PARENT_RUN_TAG] = run.parent_run_id
    return RunData(tags=written)


def get_run(s: Session, access: WorkspaceAccess, run_id: str) -> Run:
    """The run (any lifecycle stage) if it is in the caller's workspace."""
    run = s.scalar(select(Run).where(Run.id == run_id, Run.workspace_id == access.workspace.id))
    if run is None:
        raise ResourceDoesNotExist(f"Run with id={run_id} not found")
    return run


def _require_active_run(run: Run) -> None:
    if run.lifecycle_stage != ACTIVE:
        raise InvalidParameterValue(
            f"The run {run.id} must be in the 'active' state. Current state is {run.lifecycle_stage}."
        )


def run_data(s: Session, run_ids: Sequence[str], *, inputs: bool = True) -> dict[str, RunData]:
    """Params, tags, latest metrics (and inputs/outputs) of each run: one ``UNION ALL`` of plain rows
    per 500 runs, and a read of the inputs only for runs that have some."""
    out = {rid: RunData() for rid in run_ids}
    for chunk_start in range(0, len(run_ids), 500):
        ids = list(run_ids[chunk_start : chunk_start + 500])
        with_inputs: set[str] = set()
        for kind, rid, key, text, num, is_nan, ts, step in s.execute(_run_data_statement(ids, inputs)):
            data = out[rid]
            if kind == _PARAM:
                data.params[key] = text
            elif kind == _TAG:
                data.tags[key] = text
            elif kind == _METRIC:
                data.metrics[key] = MetricPoint(key, math.nan if is_nan else num, ts, step)
            elif kind == _OUTPUT:
                data.outputs.append(OutputEntry(key, step))
            else:
                with_inputs.add(rid)
        if with_inputs:
            i = RunInput
            for row in s.execute(
                select(
                    i.run_id,
                    i.name,
                    i.digest,
                    i.source_type,
                    i.source,
                    i.schema,
                    i.profile,
                    i.context,
                    i.tags,
                    i.dataset_version_id,
                    i.model_id,
                ).where(i.run_id.in_(sorted(with_inputs)))
            ):
                out[row[0]].inputs.append(InputEntry(*row[1:]))
    return out


_PARAM, _TAG, _METRIC, _OUTPUT, _INPUT = range(5)


def _run_data_statement(ids: list[str], inputs: bool) -> CompoundSelect[Any]:
    """Rows ``(kind, run_id, key, text, number, is_nan, timestamp, step)`` of the runs' params, tags,
    latest metrics and (with ``inputs``) outputs, plus one bare ``_INPUT`` row per input."""
    no_text, no_num = null().cast(Text), null().cast(Float)
    no_bool, no_int = null().cast(Boolean), null().cast(BigInteger)
    p, t, m = RunParam, RunTag, RunLatestMetric
    parts = [
        select(literal(_PARAM), p.run_id, p.key, p.value, no_num, no_bool, no_int, no_int).where(
            p.run_id.in_(ids)
        ),
        select(literal(_TAG), t.run_id, t.key, t.value, no_num, no_bool, no_int, no_int).where(
            t.run_id.in_(ids)
        ),
        select(literal(_METRIC), m.run_id, m.key, no_text, m.value, m.is_nan, m.timestamp, m.step).where(
            m.run_id.in_(ids)
        ),
    ]
    if inputs:
        o, i = RunOutput, RunInput
        parts.append(
            select(literal(_OUTPUT), o.run_id, o.model_id, no_text, no_num, no_bool, no_int, o.step).where(
                o.run_id.in_(ids)
            )
        )
        parts.append(
            select(literal(_INPUT), i.run_id, no_text, no_text, no_num, no_bool, no_int, no_int).where(
                i.run_id.in_(ids)
            )
        )
    return union_all(*parts)


def update_run(
    s: Session,
    access: WorkspaceAccess,
    run_id: str,
    *,
    status: str | None = None,
    end_time: int | None = None,
    name: str | None = None,
    ctx: AuditContext | None = None,
) -> Run:
    """Change a run's status, end time or name (MLflow's ``UpdateRun``)."""
    require_editor(access)
    run = get_run(s, access, run_id)
    _require_active_run(run)
    if status is not None:
        if status not in RUN_STATUSES:
            raise InvalidParameterValue(
                f"Invalid run status '{status}'. Valid values are {list(RUN_STATUSES)}."
            )
        if status != run.status:
            audit(s, access, ctx, "run.status", "run", run.id, {"from": run.status, "to": status})
        run.status = status
    if end_time is not None:
        run.end_time = end_time
    if name:
        max_length("run_name", name, MAX_RUN_NAME_LENGTH)
        _set_run_name(s, run, name)
    s.flush()
    return run


def _set_run_name(s: Session, run: Run, name: str) -> None:
    run.name = name
    ins = upsert_insert(s, RunTag.__table__)
    s.execute(
        ins.values(run_id=run.id, key=RUN_NAME_TAG, value=name).on_conflict_do_update(
            index_elements=["run_id", "key"], set_={"value": ins.excluded.value}
        )
    )


def delete_run(s: Session, access: WorkspaceAccess, run_id: str, *, ctx: AuditContext | None = None) -> Run:
    require_editor(access)
    run = get_run(s, access, run_id)
    run.lifecycle_stage, run.deleted_time = DELETED, now_ms()
    s.flush()
    audit(s, access, ctx, "run.delete", "run", run.id, {"name": run.name})
    return run


def restore_run(s: Session, access: WorkspaceAccess, run_id: str, *, ctx: AuditContext | None = None) -> Run:
    require_editor(access)
    run = get_run(s, access, run_id)
    run.lifecycle_stage, run.deleted_time = ACTIVE, None
    s.flush()
    audit(s, access, ctx, "run.restore", "run", run.id, {"name": run.name})
    return run


def mark_job_runs(s: Session, job_id: str, status: str, end_time: int) -> int:
    """Runs of a finished job still RUNNING or SCHEDULED get ``status`` (their metrics stay)."""
    result = s.execute(
        update(Run)
        .where(Run.job_id == job_id, Run.status.in_(("RUNNING", "SCHEDULED")))
        .values(status=status, end_time=end_time)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- logging ---------------------------------------------------------------------------------------


def log_batch(
    s: Session,
    access: WorkspaceAccess,
    run_id: str,
    *,
    metrics: Sequence[MetricIn] = (),
    params: Sequence[ParamIn] = (),
    tags: Sequence[TagIn] = (),
) -> None:
    """MLflow's ``LogBatch``: limits, validation, immutable params, latest metrics kept in step."""
    require_editor(access)
    validate_batch_limits(len(metrics), len(params), len(tags))
    single = len(metrics) + len(params) + len(tags) == 1
    valid_keys: set[str] = set()  # a batch repeats its few keys: check each name once
    for i, m in enumerate(metrics):
        if (
            m.key in valid_keys
            and type(m.value) in (float, int)
            and type(m.timestamp) is int
            and m.timestamp >= 0
            and type(m.step) is int
        ):
            continue  # the common case, checked in one line
        validate_metric(m, "" if single else f"metrics[{i}]", valid_keys)
    for i, p in enumerate(params):
        validate_param(p, "" if single else f"params[{i}]")
    for i, t in enumerate(tags):
        validate_tag(t, "" if single else f"tags[{i}]")
    keys = [p.key for p in params]
    if len(set(keys)) != len(keys):
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        raise InvalidParameterValue(
            f"Duplicate parameter keys have been submitted: {dupes}. Please ensure the request contains "
            "only one param value per param key."
        )
    if len(metrics) == 1 and not params and not tags:
        # log_metric, the hottest call: the run check rides on the insert (one round trip fewer).
        log_metrics(s, run_id, metrics, guard=access.workspace.id)
        return
    active_run_check(s, access.workspace.id, run_id)
    if params:
        log_params(s, run_id, params)
    if tags:
        set_tags(s, run_id, tags)
    if metrics:
        log_metrics(s, run_id, metrics)


def log_metric(s: Session, access: WorkspaceAccess, run_id: str, metric: MetricIn) -> None:
    log_batch(s, access, run_id, metrics=[metric])


def log_param(s: Session, access: WorkspaceAccess, run_id: str, key: str, value: str) -> None:
    log_batch(s, access, run_id, params=[ParamIn(key, value)])


def set_tag(s: Session, access: WorkspaceAccess, run_id: str, key: str, value: str) -> None:
    log_batch(s, access, run_id, tags=[TagIn(key, value)])


def delete_tag(s: Session, access: WorkspaceAccess, run_id: str, key: str) -> None:
    require_editor(access)
    active_run_check(s, access.workspace.id, run_id)
    result = s.execute(delete(RunTag).where(RunTag.run_id == run_id, RunTag.key == key))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise ResourceDoesNotExist(f"No tag with name: {key} in run with id {run_id}")


def record_logged_model(s: Session, access: WorkspaceAccess, run_id: str, model: dict[str, Any]) -> None:
    """MLflow's ``LogModel``: append the model's JSON to the run's ``mlflow.log-model.history`` tag."""
    require_editor(access)
    missing = {"artifact_path", "flavors", "utc_time_created", "run_id"} - set(model)
    if missing:
        raise InvalidParameterValue(f"Model json is missing mandatory fields: {sorted(missing)}")
    if not model["flavors"]:
        raise InvalidParameterValue("Model json must have at least one flavor")
    active_run_check(s, access.workspace.id, run_id)
    current = s.scalar(select(RunTag.value).where(RunTag.run_id == run_id, RunTag.key == LOGGED_MODELS_TAG))
    history: list[Any] = []
    if current:
        try:
            loaded = json.loads(current)
            history = loaded if isinstance(loaded, list) else []
        except ValueError:
            history = []
    history.append(model)
    ins = upsert_insert(s, RunTag.__table__)
    s.execute(
        ins.values(run_id=run_id, key=LOGGED_MODELS_TAG, value=json.dumps(history)).on_conflict_do_update(
            index_elements=["run_id", "key"], set_={"value": ins.excluded.value}
        )
    )


def log_inputs(
    s: Session,
    access: WorkspaceAccess,
    run_id: str,
    datasets: Sequence[DatasetInput] = (),
    models: Sequence[str] = (),
) -> None:
    """Datasets (and MLflow 3 model inputs) a run consumed; logging the same one again is a no-op."""
    require_editor(access)
    if len(datasets) > 1000:
        raise InvalidParameterValue(
            f"A batch logging request can contain at most 1000 datasets. Got {len(datasets)} datasets."
        )
    for d in datasets:
        if not d.name:
            raise InvalidParameterValue("Missing value for required parameter 'datasets.dataset.name'.")
        if not d.digest:
            raise InvalidParameterValue("Missing value for required parameter 'datasets.dataset.digest'.")
        max_length("name", d.name, MAX_DATASET_NAME_SIZE)
        max_length("digest", d.digest, MAX_DATASET_DIGEST_SIZE)
        max_length("source", d.source, MAX_DATASET_SOURCE_SIZE)
        for k, v in d.tags.items():
            max_length("key", k, MAX_INPUT_TAG_KEY_SIZE)
            max_length("value", v, MAX_INPUT_TAG_VALUE_SIZE)
    active_run_check(s, access.workspace.id, run_id)
    have = {
        (r.name, r.digest, r.context, r.model_id)
        for r in s.execute(
            select(RunInput.name, RunInput.digest, RunInput.context, RunInput.model_id).where(
                RunInput.run_id == run_id
            )
        )
    }
    for d in datasets:
        context = d.tags.get(DATASET_CONTEXT_TAG)
        if (d.name, d.digest, context, None) in have:
            continue
        have.add((d.name, d.digest, context, None))
        s.add(
            RunInput(
                run_id=run_id,
                name=d.name,
                digest=d.digest,
                source_type=d.source_type[:64] or None,
                source=d.source,
                schema=d.schema,
                profile=d.profile,
                context=(context or None) and context[:64],
                tags=dict(d.tags),
                dataset_version_id=d.dataset_version_id,
            )
        )
    for model_id in models:
        if (None, None, None, model_id) not in have:
            have.add((None, None, None, model_id))
            s.add(RunInput(run_id=run_id, model_id=model_id, tags={}))
    s.flush()


def log_outputs(s: Session, access: WorkspaceAccess, run_id: str, models: Sequence[tuple[str, int]]) -> None:
    """Logged models a run produced (MLflow 3's ``LogOutputs``)."""
    require_editor(access)
    active_run_check(s, access.workspace.id, run_id)
    if not models:
        return
    ins = upsert_insert(s, RunOutput.__table__)
    s.execute(
        ins.on_conflict_do_update(index_elements=["run_id", "model_id"], set_={"step": ins.excluded.step}),
        [{"run_id": run_id, "model_id": m, "step": step} for m, step in models],
    )


# -- search ----------------------------------------------------------------------------------------


def _experiment_scope(s: Session, access: WorkspaceAccess, experiment_ids: Iterable[str | int]) -> list[int]:
    ids: list[int] = []
    for raw in experiment_ids:
        exp_id = parse_experiment_id(raw)
        if exp_id == 0:
            default = default_experiment_id(s, access)
            if default is None:
                continue
            exp_id = default
        ids.append(exp_id)
    return ids


def _run_scope(
    s: Session, access: WorkspaceAccess, experiment_ids: Iterable[str | int], view: str
) -> list[ColumnElement[bool]]:
    """Conditions picking the runs a search looks at: the experiments' runs in the view's stages
    (the two an index answers alone), of the caller's workspace."""
    ids = _experiment_scope(s, access, experiment_ids)
    return [
        Run.experiment_id.in_(ids),
        Run.lifecycle_stage.in_(view_stages(view)),
        Run.workspace_id == access.workspace.id,
    ]


def _runs_statement(
    s: Session, access: WorkspaceAccess, experiment_ids: Iterable[str | int], filter: str | None, view: str
) -> Select[Run]:
    scope = _run_scope(s, access, experiment_ids, view)
    clauses = search.parse_run_filter(filter)
    return select(Run).where(*scope, *search.run_conditions(clauses, dialect_name(s)))


def search_runs(
    s: Session,
    access: WorkspaceAccess,
    experiment_ids: Sequence[str | int],
    *,
    filter: str | None = None,
    view: str = "ACTIVE_ONLY",
    max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
    order_by: Sequence[str] = (),
    page_token: str | None = None,
) -> tuple[list[Run], str | None]:
    """Runs of the experiments matching MLflow's filter, ordered, a page at a time (SQL does it all)."""
    limit = check_max_results(max_results)
    offset = search.decode_page_token(page_token)
    stmt = _runs_statement(s, access, experiment_ids, filter, view)
    clauses, joins = search.run_ordering(search.parse_run_order_by(tuple(order_by)))
    for table, on in joins:
        stmt = stmt.outerjoin(table, on)
    rows: list[Run] = list(s.scalars(stmt.order_by(*clauses).offset(offset).limit(limit + 1)))
    token = search.encode_page_token(offset + limit) if len(rows) > limit else None
    return rows[:limit], token


def count_runs(
    s: Session,
    access: WorkspaceAccess,
    experiment_ids: Sequence[str | int],
    filter: str | None = None,
    view: str = "ACTIVE_ONLY",
) -> int:
    """How many runs :func:`search_runs` would find (for paging totals)."""
    scope = _run_scope(s, access, experiment_ids, view)
    return search.count_runs(s, scope, search.parse_run_filter(filter), scope=2)


__all__ = [
    "DATASET_CONTEXT_TAG",
    "DEFAULT_EXPERIMENT_NAME",
    "LOGGED_MODELS_TAG",
    "MAX_ENTITIES_PER_BATCH",
    "MAX_METRICS_PER_BATCH",
    "MAX_PARAMS_TAGS_PER_BATCH",
    "PARENT_RUN_TAG",
    "RUN_NAME_TAG",
    "SEARCH_MAX_RESULTS_DEFAULT",
    "SEARCH_MAX_RESULTS_THRESHOLD",
    "USER_TAG",
    "DatasetInput",
    "MetricIn",
    "MetricPoint",
    "ParamIn",
    "RunData",
    "TagIn",
    "count_runs",
    "create_experiment",
    "create_run",
    "default_experiment",
    "delete_experiment",
    "delete_experiment_tag",
    "delete_run",
    "delete_tag",
    "experiment_artifact_location",
    "experiment_tags",
    "get_experiment",
    "get_experiment_by_name",
    "get_run",
    "log_batch",
    "log_inputs",
    "log_metric",
    "log_outputs",
    "log_param",
    "mark_job_runs",
    "new_run_data",
    "now_ms",
    "parse_experiment_id",
    "random_run_name",
    "record_logged_model",
    "rename_experiment",
    "restore_experiment",
    "restore_run",
    "run_artifact_key",
    "run_artifact_uri",
    "run_data",
    "search_experiments",
    "search_runs",
    "set_experiment_tag",
    "set_tag",
    "update_run",
    "validate_batch_limits",
    "validate_key",
]

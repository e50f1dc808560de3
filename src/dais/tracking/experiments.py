"""Experiments with MLflow's semantics: names unique per workspace, soft delete, tags, the default one."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dais.tenancy import AuditContext, WorkspaceAccess
from dais.tracking import search
from dais.tracking.batch import dialect_name, upsert_insert
from dais.tracking.entries import now_ms
from dais.tracking.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from dais.tracking.guards import audit, require_editor
from dais.tracking.models import ACTIVE, DELETED, Experiment, ExperimentTag, Run
from dais.tracking.validation import (
    DEFAULT_EXPERIMENT_NAME,
    MAX_EXPERIMENT_TAG_VAL_LENGTH,
    SEARCH_MAX_RESULTS_DEFAULT,
    check_max_results,
    max_length,
    parse_experiment_id,
    validate_experiment_name,
    validate_key,
    view_stages,
)


def experiment_artifact_location(experiment_id: int) -> str:
    return f"mlflow-artifacts:/{experiment_id}"


def check_artifact_location(artifact_location: str | None) -> None:
    """Only an empty location or an ``mlflow-artifacts:`` URI: runs always write to Dais's own store."""
    if not artifact_location:
        return
    max_length("artifact_location", artifact_location, 1000)
    scheme, colon, _ = artifact_location.partition(":")
    if not colon or scheme.lower() != "mlflow-artifacts":
        raise InvalidParameterValue(
            f"Invalid artifact_location '{artifact_location}': Dais keeps run artifacts in its own "
            "artifact store (runs write to mlflow-artifacts:/<experiment id>/<run id>/artifacts), so an "
            "experiment's artifact_location can only be left empty or be an mlflow-artifacts: URI."
        )


def create_experiment(
    s: Session,
    access: WorkspaceAccess,
    name: str,
    *,
    artifact_location: str | None = None,
    tags: dict[str, str] | None = None,
    ctx: AuditContext | None = None,
) -> Experiment:
    """A new experiment; its name must be unused in the workspace (deleted experiments keep theirs).

    ``artifact_location``: empty or an ``mlflow-artifacts:`` URI (anything else is refused); the
    experiment's location is ``mlflow-artifacts:/<id>`` either way, where its runs' artifacts go.
    """
    require_editor(access)
    validate_experiment_name(name)
    for key, value in (tags or {}).items():
        validate_key(key)
        max_length("value", value, MAX_EXPERIMENT_TAG_VAL_LENGTH)
    check_artifact_location(artifact_location)
    existing = s.scalar(
        select(Experiment).where(Experiment.workspace_id == access.workspace.id, Experiment.name == name)
    )
    if existing is not None:
        raise _exists(existing)
    now = now_ms()
    exp = Experiment(
        workspace_id=access.workspace.id,
        name=name,
        artifact_location="",  # set below from the id: where its runs' artifacts really go
        lifecycle_stage=ACTIVE,
        created_by=access.principal.user.id,
        creation_time=now,
        last_update_time=now,
    )
    try:
        with s.begin_nested():
            s.add(exp)
            s.flush()
    except IntegrityError as exc:  # a concurrent create of the same name won
        raise ResourceAlreadyExists(f"Experiment(name={name}) already exists.") from exc
    exp.artifact_location = experiment_artifact_location(exp.id)
    if tags:
        s.execute(
            insert(ExperimentTag),
            [{"experiment_id": exp.id, "key": k, "value": v} for k, v in tags.items()],
        )
    s.flush()
    audit(s, access, ctx, "experiment.create", "experiment", str(exp.id), {"name": name})
    return exp


def _exists(existing: Experiment) -> ResourceAlreadyExists:
    if existing.lifecycle_stage == DELETED:
        return ResourceAlreadyExists(
            f"Experiment '{existing.name}' already exists in deleted state. You can restore the "
            "experiment, or permanently delete the experiment to create a new one with the same name."
        )
    return ResourceAlreadyExists(f"Experiment(name={existing.name}) already exists.")


def default_experiment(s: Session, access: WorkspaceAccess) -> Experiment:
    """The workspace's ``Default`` experiment (MLflow's experiment ``0``), created on first use."""
    exp = s.scalar(
        select(Experiment).where(
            Experiment.workspace_id == access.workspace.id, Experiment.name == DEFAULT_EXPERIMENT_NAME
        )
    )
    if exp is not None:
        return exp
    require_editor(access)
    try:
        return create_experiment(s, access, DEFAULT_EXPERIMENT_NAME)
    except ResourceAlreadyExists:
        exp = s.scalar(
            select(Experiment).where(
                Experiment.workspace_id == access.workspace.id, Experiment.name == DEFAULT_EXPERIMENT_NAME
            )
        )
        assert exp is not None
        return exp


def default_experiment_id(s: Session, access: WorkspaceAccess) -> int | None:
    return s.scalar(
        select(Experiment.id).where(
            Experiment.workspace_id == access.workspace.id, Experiment.name == DEFAULT_EXPERIMENT_NAME
        )
    )


def get_experiment(s: Session, access: WorkspaceAccess, experiment_id: str | int) -> Experiment:
    """The experiment (any lifecycle stage); ``"0"`` is the workspace's default experiment."""
    exp_id = parse_experiment_id(experiment_id)
    if exp_id == 0:
        return default_experiment(s, access)
    exp = s.scalar(
        select(Experiment).where(Experiment.id == exp_id, Experiment.workspace_id == access.workspace.id)
    )
    if exp is None:
        raise ResourceDoesNotExist(f"No Experiment with id={experiment_id} exists")
    return exp


def get_experiment_by_name(s: Session, access: WorkspaceAccess, name: str) -> Experiment:
    exp = s.scalar(
        select(Experiment).where(Experiment.workspace_id == access.workspace.id, Experiment.name == name)
    )
    if exp is None:
        raise ResourceDoesNotExist(f"Could not find experiment with name '{name}'")
    return exp


def experiment_tags(s: Session, experiment_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """Tags of each experiment, by experiment id."""
    out: dict[int, dict[str, str]] = {i: {} for i in experiment_ids}
    if experiment_ids:
        rows = s.execute(
            select(ExperimentTag.experiment_id, ExperimentTag.key, ExperimentTag.value).where(
                ExperimentTag.experiment_id.in_(experiment_ids)
            )
        )
        for exp_id, key, value in rows:
            out[exp_id][key] = value
    return out


def search_experiments(
    s: Session,
    access: WorkspaceAccess,
    *,
    filter: str | None = None,
    order_by: Sequence[str] = (),
    view: str = "ACTIVE_ONLY",
    max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
    page_token: str | None = None,
) -> tuple[list[Experiment], str | None]:
    """Experiments of the workspace matching MLflow's experiment filter, a page at a time."""
    limit = check_max_results(max_results)
    offset = search.decode_page_token(page_token)
    stmt = (
        select(Experiment)
        .where(
            Experiment.workspace_id == access.workspace.id,
            Experiment.lifecycle_stage.in_(view_stages(view)),
            *search.experiment_conditions(search.parse_experiment_filter(filter), dialect_name(s)),
        )
        .order_by(*search.experiment_ordering(tuple(order_by)))
        .offset(offset)
        .limit(limit + 1)
    )
    rows = list(s.scalars(stmt))
    token = search.encode_page_token(offset + limit) if len(rows) > limit else None
    return rows[:limit], token


def rename_experiment(
    s: Session,
    access: WorkspaceAccess,
    experiment_id: str | int,
    new_name: str,
    *,
    ctx: AuditContext | None = None,
) -> Experiment:
    require_editor(access)
    validate_experiment_name(new_name)
    exp = get_experiment(s, access, experiment_id)
    require_active_experiment(exp)
    if new_name == exp.name:
        return exp
    other = s.scalar(
        select(Experiment).where(Experiment.workspace_id == access.workspace.id, Experiment.name == new_name)
    )
    if other is not None:
        raise _exists(other)
    old, exp.name, exp.last_update_time = exp.name, new_name, now_ms()
    s.flush()
    audit(s, access, ctx, "experiment.rename", "experiment", str(exp.id), {"from": old, "to": new_name})
    return exp


def require_active_experiment(exp: Experiment) -> None:
    if exp.lifecycle_stage != ACTIVE:
        raise InvalidParameterValue(
            f"The experiment {exp.id} must be in the 'active' state. Current state is {exp.lifecycle_stage}."
        )


def delete_experiment(
    s: Session, access: WorkspaceAccess, experiment_id: str | int, *, ctx: AuditContext | None = None
) -> Experiment:
    """Mark the experiment and its runs deleted (restorable), as MLflow does."""
    require_editor(access)
    exp = get_experiment(s, access, experiment_id)
    now = now_ms()
    exp.lifecycle_stage, exp.last_update_time = DELETED, now
    s.execute(
        update(Run)
        .where(Run.experiment_id == exp.id, Run.lifecycle_stage == ACTIVE)
        .values(lifecycle_stage=DELETED, deleted_time=now)
    )
    s.flush()
    audit(s, access, ctx, "experiment.delete", "experiment", str(exp.id), {"name": exp.name})
    return exp


def restore_experiment(
    s: Session, access: WorkspaceAccess, experiment_id: str | int, *, ctx: AuditContext | None = None
) -> Experiment:
    """Restore a deleted experiment and the runs its deletion deleted."""
    require_editor(access)
    exp = get_experiment(s, access, experiment_id)
    if exp.lifecycle_stage != DELETED:
        raise InvalidParameterValue(
            f"Cannot restore an experiment that is not deleted (experiment {exp.id} is "
            f"{exp.lifecycle_stage})."
        )
    deleted_at = exp.last_update_time
    exp.lifecycle_stage, exp.last_update_time = ACTIVE, now_ms()
    s.execute(
        update(Run)
        .where(Run.experiment_id == exp.id, Run.lifecycle_stage == DELETED, Run.deleted_time >= deleted_at)
        .values(lifecycle_stage=ACTIVE, deleted_time=None)
    )
    s.flush()
    audit(s, access, ctx, "experiment.restore", "experiment", str(exp.id), {"name": exp.name})
    return exp


def set_experiment_tag(
    s: Session, access: WorkspaceAccess, experiment_id: str | int, key: str, value: str
) -> None:
    require_editor(access)
    validate_key(key)
    max_length("value", value, MAX_EXPERIMENT_TAG_VAL_LENGTH)
    exp = get_experiment(s, access, experiment_id)
    require_active_experiment(exp)
    ins = upsert_insert(s, ExperimentTag.__table__)
    s.execute(
        ins.values(experiment_id=exp.id, key=key, value=value).on_conflict_do_update(
            index_elements=["experiment_id", "key"], set_={"value": ins.excluded.value}
        )
    )


def delete_experiment_tag(s: Session, access: WorkspaceAccess, experiment_id: str | int, key: str) -> None:
    require_editor(access)
    exp = get_experiment(s, access, experiment_id)
    require_active_experiment(exp)
    result = s.execute(
        delete(ExperimentTag).where(ExperimentTag.experiment_id == exp.id, ExperimentTag.key == key)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise ResourceDoesNotExist(f"No tag with name: {key} in experiment with id {experiment_id}")

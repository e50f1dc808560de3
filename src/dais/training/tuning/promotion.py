"""Promotion: a complete trial's model package registered as a new version of a registered model
(by hand through the API, or by the coordinator at the end of a study with ``promote_to``)."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dais.core.errors import Conflict, DaisError, InvalidInput
from dais.tenancy import AuditContext, WorkspaceAccess, record_audit
from dais.training.tuning.models import Study, Trial
from dais.training.tuning.schemas import Promoted, StudyPromote
from dais.training.tuning.service import get_study

if TYPE_CHECKING:
    from dais.storage import ArtifactStore


def promote(
    s: Session, ctx: AuditContext, access: WorkspaceAccess, store: ArtifactStore, ref: str, body: StudyPromote
) -> Promoted:
    """Register a complete trial's model (default: the best) as a new version of ``body.name``."""
    study = get_study(s, access, ref)
    if study.kind == "script":
        raise InvalidInput(
            "A script study's trials log their own models: register one from its run.",
            errors=[{"loc": ["body", "name"], "msg": "script study"}],
        )
    number = body.trial if body.trial is not None else study.best_trial_number
    if number is None:
        raise Conflict(f"Study {study.name!r} has no complete trial yet: nothing to promote.")
    trial = s.scalar(select(Trial).where(Trial.study_id == study.id, Trial.number == number))
    if trial is None or trial.state != "complete" or not trial.run_id:
        raise InvalidInput(
            f"Trial {number} of {study.name!r} is not a complete trial.",
            errors=[{"loc": ["body", "trial"], "msg": "not complete"}],
        )
    promoted = register_trial(s, ctx, access, store, study, trial, body.name)
    record_audit(
        s,
        ctx,
        "study.promote",
        target_type="study",
        target_id=study.id,
        workspace_id=access.workspace.id,
        details=promoted.model_dump(),
    )
    return promoted


def register_trial(
    s: Session,
    ctx: AuditContext,
    access: WorkspaceAccess,
    store: ArtifactStore,
    study: Study,
    trial: Trial,
    name: str,
) -> Promoted:
    """A new model version of ``name`` (created if new) from the trial run's model package."""
    from dais import registry
    from dais.tracking import service as tracking
    from dais.tracking.models import RunInput, RunOutput

    assert trial.run_id is not None
    run = tracking.get_run(s, access, trial.run_id)
    data = tracking.run_data(s, [run.id], inputs=False)[run.id]
    metrics = {k: m.value for k, m in data.metrics.items() if not math.isnan(m.value)}
    model_id = s.scalar(select(RunOutput.model_id).where(RunOutput.run_id == run.id).limit(1))
    datasets = [
        {"id": v}
        for v in s.scalars(select(RunInput.dataset_version_id).where(RunInput.run_id == run.id))
        if v
    ]
    key = tracking.run_artifact_key(run, "model")
    try:
        registry.get_registered_model(s, access, name)
    except registry.RegisteredModelNotFound:
        registry.create_registered_model(s, access, name, ctx=ctx)
    version = registry.create_model_version(
        s,
        access,
        name,
        f"runs:/{run.id}/model",
        run_id=run.id,
        model_id=model_id,
        storage_key=key,
        runtime=data.tags.get("dais.runtime"),
        signature=_signature(store, access.workspace.id, key),
        metrics=metrics,
        dataset_versions=datasets,
        tags={"dais.study": study.name, "dais.trial": str(trial.number)},
        description=f"Trial {trial.number} of study {study.name} ({study.metric} = {trial.value})",
        ctx=ctx,
    )
    promoted = Promoted(name=name, version=version.version, trial=trial.number, run_id=run.id)
    study.promoted = promoted.model_dump()
    s.flush()
    return promoted


def _signature(store: ArtifactStore, workspace_id: str, key: str) -> dict[str, Any] | None:
    """The signature in the package's ``MLmodel`` (``None`` if it cannot be read)."""
    import yaml

    from dais.storage import WorkspaceArtifacts

    arts = WorkspaceArtifacts(store, workspace_id)
    try:
        text = b"".join(arts.read(f"{key}/MLmodel")).decode()
        raw = (yaml.safe_load(text) or {}).get("signature")
    except (DaisError, OSError, ValueError, yaml.YAMLError):
        return None
    if not isinstance(raw, dict):
        return None
    out: dict[str, Any] = {}
    for part in ("inputs", "outputs", "params"):
        value = raw.get(part)
        out[part] = json.loads(value) if isinstance(value, str) else value
    return out

"""The ``train.tune`` job kind: a study's coordinator (see :mod:`dais.training.tuning.coordinator`).

A trusted platform kind (``platform_access``): it opens the metadata database itself, reads the
trials' runs from the tracking tables and submits the trials' jobs through the jobs service. It is
retried when its worker dies, and a new attempt continues the study from its trials table. When the
last attempt ends without closing the study (it failed for good, or was cancelled), the worker's
:meth:`TuneKind.on_finished` hook closes it: running trials cancelled, the parent run ended.

This module stays light (the worker's launchers import every job kind): Optuna is imported by the
handler, and preloaded by the "training" launcher.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from dais.jobs.kinds import AttemptEnded, JobContext, JobKind

if TYPE_CHECKING:
    from dais.db import Database

log = logging.getLogger(__name__)


class TuneSpec(BaseModel):
    """The study the coordinator runs."""

    model_config = ConfigDict(extra="forbid")

    study_id: str = Field(min_length=1, max_length=26)


class TuneKind(JobKind):
    """Coordinates a tuning study: asks Optuna for trials, runs each as a job, prunes, tells results."""

    name = "train.tune"
    Spec = TuneSpec
    api_access = False
    platform_access = True
    preload = (
        "optuna",
        "optuna.samplers",
        "optuna.pruners",
        "dais.training.tuning.coordinator",
    )
    warm_group = "training"

    def run(self, ctx: JobContext, spec: Any) -> dict[str, Any] | None:
        from dais.core.settings import load_settings
        from dais.db import create_database
        from dais.training.tuning.coordinator import coordinate

        settings = load_settings()
        db = create_database(
            settings.database_url, busy_timeout_s=settings.database.sqlite_busy_timeout_s, pool_size=2
        )
        try:
            return coordinate(ctx, spec.study_id, settings, db)
        finally:
            db.dispose()

    @classmethod
    def on_finished(cls, db: Database, ended: AttemptEnded) -> None:
        """Close a study whose coordinator ended for good without closing it."""
        if ended.retrying or ended.state in ("succeeded", "lost"):
            return
        study_id = str(ended.spec.get("study_id", ""))
        state = "stopped" if ended.state == "cancelled" else "failed"
        error = (
            None if state == "stopped" else f"the coordinator job {ended.state}: {ended.error or ''}".strip()
        )
        close_abandoned(db, ended.workspace_id, ended.job_id, study_id, state, error)


def close_abandoned(
    db: Database, workspace_id: str, job_id: str, study_id: str, state: str, error: str | None
) -> bool:
    """End ``study_id`` if it is still open (its trials cancelled); whether it was."""
    from dais.tenancy import AuditContext
    from dais.training.jobs import job_access
    from dais.training.tuning.models import STUDY_FINAL, Study
    from dais.training.tuning.service import close_study

    access = job_access(db, workspace_id, job_id)
    user = access.principal.user
    ctx = AuditContext(actor_id=user.id, actor_name=user.username)
    with db.session() as s:
        study = s.get(Study, study_id)
        if study is None or study.workspace_id != workspace_id or study.state in STUDY_FINAL:
            return False
        close_study(s, ctx, access, study, state, error, trial_error=f"the study {state}")
        return True

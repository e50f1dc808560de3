"""The study coordinator: what a ``train.tune`` job does.

It drives an in-memory Optuna study with the ask/tell interface. The trials table is the durable
record: on start the Optuna study is rebuilt from it (finished trials added with
``optuna.trial.create_trial`` + ``study.add_trial``, running ones added as running), so a
coordinator that restarts after its worker died continues the study instead of repeating it. A
seeded sampler is reseeded with the number of trials already made, so a restart draws new points.

Each tick (one short transaction):

1. reads the state of the running trials' jobs, and the new points of the pruning metric their
   runs logged (from the tracking tables; nothing in the training code knows it is a trial);
2. reports those values to Optuna at rising steps ("rungs": 0, 1, 2, 3, 4, 6, 8, 12, ...), never
   past the last rung a complete trial reached, so the median pruner compares a running trial with
   finished ones at a step they have; a trial Optuna says to prune has its job cancelled;
3. tells Optuna how ended trials ended (the objective read from the run's logged metric);
4. enforces the budget (trials, wall time, a stop request) and asks Optuna for new trials up to
   the concurrency, each a child run of the study's parent run with its own job.

A crash anywhere loses nothing: the transaction of the tick rolls back, the job is retried, and
the rebuilt study picks up from the table.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dais.core.errors import DaisError, NotFound
from dais.db import utcnow
from dais.jobs.kinds import JobContext
from dais.jobs.schemas import JobSubmit, Resources
from dais.jobs.service import submit_job
from dais.tenancy import AuditContext, WorkspaceAccess
from dais.training.tuning import spaces
from dais.training.tuning.following import PRUNE_METRICS, Live, objective, points
from dais.training.tuning.models import STUDY_FINAL, Study, Trial
from dais.training.tuning.promotion import register_trial
from dais.training.tuning.service import SCRIPT_KIND, cancel_trial_job, close_study, trials_of

if TYPE_CHECKING:
    import optuna
    from optuna.trial import TrialState

    from dais.core.settings import Settings
    from dais.db import Database
    from dais.storage import ArtifactStore

log = logging.getLogger(__name__)

#: Seconds between ticks.
POLL_S = 0.25
#: With no trial complete yet, this many failed trials end the study (the data or the space is wrong).
FAIL_FAST = 3
_FINISHED_JOB = {"succeeded", "failed", "cancelled", "upstream_failed"}


class Coordinator:
    """Runs one study to its end (or until its process dies: a new one continues)."""

    def __init__(self, ctx: JobContext, study_id: str, db: Database, store: ArtifactStore) -> None:
        from dais.training.jobs import job_access

        self.ctx, self.study_id, self.db, self.store = ctx, study_id, db, store
        self.access: WorkspaceAccess = job_access(db, ctx.workspace_id, ctx.job_id)
        user = self.access.principal.user
        self.actx = AuditContext(actor_id=user.id, actor_name=user.username)
        self.live: dict[int, Live] = {}
        self.config = _Config(same_direction=True)
        self.optuna: optuna.Study  # set by _load
        self.horizon = -1  # the last rung a complete trial reached
        self.trials_made = 0
        self.completed = 0
        self.failed = 0
        self.first_error: str | None = None
        self._last_progress: tuple[float | None, str] | None = None

    # -- start -------------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        with self.db.session() as s:
            study = self._study(s)
            if study.state in STUDY_FINAL:
                return self._result(study)
            if study.stop_requested:
                close_study(s, self.actx, self.access, study, "stopped")
                return self._result(study)
            study.state = "running"
            study.started_at = study.started_at or utcnow()
            self._start_parent(s, study)
            self._load(study, trials_of(s, study.id))
        while True:
            with self.db.session() as s:
                study = self._study(s)
                done = self._tick(s, study)
                result = self._result(study)
            if done:
                return result
            time.sleep(POLL_S)

    def _study(self, s: Session) -> Study:
        study = s.get(Study, self.study_id)
        if study is None or study.workspace_id != self.ctx.workspace_id:
            raise NotFound(f"Study {self.study_id} not found.")
        return study

    def _start_parent(self, s: Session, study: Study) -> None:
        from dais.tracking import service as tracking

        if not study.parent_run_id:
            return
        try:
            run = tracking.get_run(s, self.access, study.parent_run_id)
            if run.status != "RUNNING":
                tracking.update_run(s, self.access, run.id, status="RUNNING")
                run.end_time = None
        except DaisError as exc:
            log.warning("the parent run of study %s cannot be started: %s", study.id, exc)

    def _load(self, study: Study, rows: list[Trial]) -> None:
        """The Optuna study rebuilt from the trials table; running trials followed again."""
        import optuna
        from optuna.distributions import json_to_distribution
        from optuna.trial import TrialState, create_trial

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.config = _Config.of(study)
        self.optuna = optuna.create_study(
            direction=spaces.study_direction(study.direction),
            sampler=self._sampler(study, len(rows)),
            pruner=self._pruner(study),
        )
        self.horizon = max(
            (max(map(int, r.intermediate), default=-1) for r in rows if r.state == "complete"), default=-1
        )
        states = {
            "complete": TrialState.COMPLETE,
            "pruned": TrialState.PRUNED,
            "failed": TrialState.FAIL,
            "running": TrialState.RUNNING,
        }
        for row in rows:
            rungs = {int(k): float(v) for k, v in row.intermediate.items()}
            shown = {k: self.config.to_optuna(v) for k, v in rungs.items()}
            if row.state == "running":
                shown = {k: v for k, v in shown.items() if k <= self.horizon}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frozen = create_trial(
                    state=states[row.state],
                    value=row.value if row.state == "complete" else None,
                    params=row.params,
                    distributions={k: json_to_distribution(v) for k, v in row.distributions.items()},
                    system_attrs=row.system_attrs,
                    intermediate_values=shown,
                )
                self.optuna.add_trial(frozen)
            self.trials_made += 1
            if row.state == "complete":
                self.completed += 1
            elif row.state == "failed":
                self.failed += 1
                self.first_error = self.first_error or row.error
            elif row.state == "running":
                added = self.optuna.get_trials(deepcopy=False)[-1]
                live = Live(
                    row.number,
                    row.id,
                    row.job_id,
                    row.run_id,
                    optuna.Trial(self.optuna, added._trial_id),
                    rungs=rungs,
                    seen_step=max(rungs, default=-1),
                    last_value=rungs[max(rungs)] if rungs else None,
                    reported=max(shown, default=-1),
                )
                self.live[row.number] = live
        for params in study.enqueued[len(rows) :]:
            self.optuna.enqueue_trial(params, skip_if_exists=False)

    def _sampler(self, study: Study, made: int) -> optuna.samplers.BaseSampler:
        from optuna.samplers import GridSampler, RandomSampler, TPESampler

        # A restarted coordinator must not draw the points its first run drew: reseed with the count.
        seed = None if study.seed is None else study.seed + made
        if study.sampler == "grid":
            return GridSampler(spaces.grid(study.space, ["space"]), seed=seed)
        if study.sampler == "random":
            return RandomSampler(seed=seed)
        return TPESampler(seed=seed)

    @staticmethod
    def _pruner(study: Study) -> optuna.pruners.BasePruner:
        from optuna.pruners import MedianPruner, NopPruner

        p = study.pruner or {}
        if p.get("kind") != "median":
            return NopPruner()
        return MedianPruner(
            n_startup_trials=int(p.get("n_startup_trials", 5)),
            n_warmup_steps=int(p.get("n_warmup_steps", 0)),
            n_min_trials=int(p.get("n_min_trials", 1)),
        )

    # -- one tick ------------------------------------------------------------------------------------

    def _tick(self, s: Session, study: Study) -> bool:
        """Follow the running trials, enforce the budget, start new trials; whether the study ended."""
        if study.state in STUDY_FINAL:  # closed by someone else (its job cancelled)
            return True
        self._follow(s, study)
        if study.stop_requested:
            return self._close(s, study, "stopped", trial_error="the study was stopped")
        if self._out_of_time(study):
            return self._close(s, study, "completed", trial_error="the study's time budget ran out")
        if self.completed == 0 and self.failed >= FAIL_FAST:
            error = f"the first {self.failed} trials failed; the first said: {self.first_error}"
            return self._close(s, study, "failed", error, trial_error="the study failed")
        # At most `concurrency` new trials a tick: a trial refused at once does not make a busy loop.
        for _ in range(study.concurrency):
            if len(self.live) >= study.concurrency or not self._may_ask(study):
                break
            self._start_trial(s, study)
        if not self.live and not self._may_ask(study):
            return self._close(s, study, "completed")
        self._progress(study)
        return False

    def _out_of_time(self, study: Study) -> bool:
        if study.max_wall_time_s is None or study.started_at is None:
            return False
        return utcnow() >= study.started_at + timedelta(seconds=study.max_wall_time_s)

    def _may_ask(self, study: Study) -> bool:
        return study.max_trials is None or self.trials_made < study.max_trials

    def _progress(self, study: Study) -> None:
        best = "" if study.best_value is None else f", best {study.metric} {study.best_value:.6g}"
        done = self.completed
        fraction = min(self.trials_made / study.max_trials, 1.0) if study.max_trials else None
        message = f"{done} complete, {len(self.live)} running{best}"
        if (fraction, message) != self._last_progress:
            self._last_progress = (fraction, message)
            self.ctx.progress(fraction, message)

    # -- following running trials ------------------------------------------------------------------------

    def _follow(self, s: Session, study: Study) -> None:
        if not self.live:
            return
        from dais.jobs.models import Job

        job_ids = [lv.job_id for lv in self.live.values() if lv.job_id]
        jobs = {
            jid: (state, error)
            for jid, state, error in s.execute(
                select(Job.id, Job.state, Job.error).where(Job.id.in_(job_ids))
            )
        }
        metric = self._prune_metric(s, study)
        for live in list(self.live.values()):
            state, error = jobs.get(live.job_id or "", ("failed", "its job is gone"))
            if metric and live.run_id:
                live.add_points(points(s, live.run_id, metric, live.seen_step))
            if state in _FINISHED_JOB:
                self._ended(s, study, live, state, error)
            elif metric and self._should_prune(live):
                self._prune(s, study, live)
            elif live.changed:
                self._save_rungs(s, live)

    def _prune_metric(self, s: Session, study: Study) -> str | None:
        """The per-step metric the pruner judges (found in the first run that logs one, if unnamed)."""
        p = study.pruner or {}
        if p.get("kind") != "median":
            return None
        if p.get("metric"):
            return str(p["metric"])
        from dais.tracking.models import RunLatestMetric

        run_ids = [lv.run_id for lv in self.live.values() if lv.run_id]
        keys = set(
            s.scalars(
                select(RunLatestMetric.key).where(
                    RunLatestMetric.run_id.in_(run_ids), RunLatestMetric.key.like("valid%")
                )
            )
        )
        found = next((k for k in PRUNE_METRICS if k in keys), None)
        if found is not None:
            study.pruner = {**p, "metric": found}
        return found

    def _should_prune(self, live: Live) -> bool:
        pending = sorted(r for r in live.rungs if live.reported < r <= self.horizon)
        if not pending:
            return False
        for r in pending:
            live.trial.report(self.config.to_optuna(live.rungs[r]), r)
            live.reported = r
        return bool(live.trial.should_prune())

    def _save_rungs(self, s: Session, live: Live) -> Trial:
        row = s.get(Trial, live.row_id)
        assert row is not None
        row.intermediate = {str(k): v for k, v in sorted(live.rungs.items())}
        live.changed = False
        return row

    def _prune(self, s: Session, study: Study, live: Live) -> None:
        from optuna.trial import TrialState

        row = self._save_rungs(s, live)
        if live.job_id:
            cancel_trial_job(s, self.actx, self.access, live.job_id)
        self._tag(s, live.run_id, "pruned")
        row.state, row.ended_at = "pruned", utcnow()
        row.error = f"pruned at step {live.reported}: worse than the median of the finished trials"
        self._tell(live.number, state=TrialState.PRUNED)
        del self.live[live.number]

    def _ended(self, s: Session, study: Study, live: Live, job_state: str, job_error: str | None) -> None:
        from optuna.trial import TrialState

        row = self._save_rungs(s, live)
        row.ended_at = utcnow()
        value = objective(s, live.run_id, study.metric) if job_state == "succeeded" else None
        if job_state == "succeeded" and value is not None:
            for r in sorted(r for r in live.rungs if r > live.reported):
                live.trial.report(self.config.to_optuna(live.rungs[r]), r)
            row.state, row.value = "complete", value
            self._tell(live.number, value)
            self.completed += 1
            self.horizon = max(self.horizon, max(live.rungs, default=-1))
            self._record_best(s, study, row)
            self._tag(s, live.run_id, "complete")
        else:
            if job_state == "succeeded":
                row.error = f"the run logged no {study.metric!r} metric (the objective)"
            else:
                row.error = job_error or f"its job {job_state}"
            row.state = "failed"
            self._tell(live.number, state=TrialState.FAIL)
            self.failed += 1
            self.first_error = self.first_error or row.error
            self._tag(s, live.run_id, "failed")
        del self.live[live.number]

    def _tell(self, number: int, value: float | None = None, state: TrialState | None = None) -> None:
        """Tell Optuna how a trial ended. A grid sampler calls ``Study.stop`` once its grid is done,
        which Optuna refuses outside ``optimize``; the trial's end is stored before that, and the
        coordinator stops on its own budget, so that refusal is ignored."""
        try:
            self.optuna.tell(number, value, state=state)
        except RuntimeError as exc:
            if "Study.stop" not in str(exc):
                raise

    def _record_best(self, s: Session, study: Study, row: Trial) -> None:
        from dais.tracking import service as tracking

        assert row.value is not None
        better = study.best_value is None or (
            row.value > study.best_value if study.direction == "maximize" else row.value < study.best_value
        )
        if not better:
            return
        study.best_trial_number, study.best_value = row.number, row.value
        if study.parent_run_id:
            try:
                tracking.log_batch(
                    s,
                    self.access,
                    study.parent_run_id,
                    metrics=[
                        tracking.MetricIn(f"best_{study.metric}", row.value, tracking.now_ms(), row.number)
                    ],
                    tags=[tracking.TagIn("dais.best_trial", str(row.number))]
                    + ([tracking.TagIn("dais.best_run_id", row.run_id)] if row.run_id else []),
                )
            except DaisError as exc:
                log.warning("could not log the best value to the parent run: %s", exc)

    def _tag(self, s: Session, run_id: str | None, state: str) -> None:
        from dais.tracking import service as tracking

        if not run_id:
            return
        with contextlib.suppress(DaisError):
            tracking.set_tag(s, self.access, run_id, "dais.trial_state", state)

    # -- starting trials -----------------------------------------------------------------------------

    def _start_trial(self, s: Session, study: Study) -> None:
        from optuna.distributions import distribution_to_json
        from optuna.trial import TrialState

        trial = self.optuna.ask()
        params = spaces.suggest(trial, study.space, auto=study.kind == "auto")
        frozen = self.optuna.get_trials(deepcopy=False)[trial.number]
        row = Trial(
            study_id=study.id,
            number=trial.number,
            params=params,
            distributions={k: distribution_to_json(d) for k, d in trial.distributions.items()},
            system_attrs=_jsonable(dict(frozen.system_attrs)),
            state="running",
            started_at=utcnow(),
        )
        self.trials_made += 1
        try:
            kind, spec, algorithm = self._trial_spec(study, params)
            with s.begin_nested():  # the run and the job exist together, or neither does
                run, job_id = self._submit(s, study, trial.number, kind, spec, algorithm, params)
        except DaisError as exc:  # params the preset refuses, a job no worker can take, a deleted experiment
            row.state, row.error, row.ended_at = "failed", exc.detail, utcnow()
            s.add(row)
            self._tell(trial.number, state=TrialState.FAIL)
            self.failed += 1
            self.first_error = self.first_error or exc.detail
            return
        row.run_id, row.job_id = run.id, job_id
        s.add(row)
        s.flush()
        self.live[trial.number] = Live(trial.number, row.id, job_id, run.id, trial)

    def _submit(
        self,
        s: Session,
        study: Study,
        number: int,
        kind: str,
        spec: dict[str, Any],
        algorithm: str | None,
        params: dict[str, Any],
    ) -> tuple[Any, str]:
        """The trial's child run, and its job queued; the job's id."""
        run = self._child_run(s, study, number, algorithm, params)
        spec["run_id"] = run.id
        if kind == SCRIPT_KIND:
            spec["experiment_id"] = str(study.experiment_id)
        else:
            spec["run_name"] = run.name
        tj = study.trial_job or {}
        job = submit_job(
            s,
            self.actx,
            self.access,
            JobSubmit(
                kind=kind,
                name=f"trial {number} of {study.name}"[:128],
                spec=spec,
                resources=Resources.model_validate(tj.get("resources") or {}),
                timeout_s=tj.get("timeout_s"),
                priority=int(tj.get("priority", 0)),
            ),
        )
        run.job_id = job.id
        return run, job.id

    def _trial_spec(self, study: Study, params: dict[str, Any]) -> tuple[str, dict[str, Any], str | None]:
        """The job kind and spec of a trial with ``params`` (422-style error if the preset refuses them)."""
        from dais.training.algorithms import get_algorithm

        kind = str(study.base_spec["kind"])
        base = dict(study.base_spec["spec"])
        if kind == SCRIPT_KIND:
            return kind, _script_spec(base, params), None
        algorithm, own = spaces.split_params(params, auto=study.kind == "auto")
        name = algorithm or str(base["algorithm"])
        algo = get_algorithm(name)
        parsed = algo.parse_params({**(base.get("params") or {}), **own})
        base.update(algorithm=name, params=parsed.model_dump(mode="json"))
        return kind, base, name

    def _child_run(
        self, s: Session, study: Study, number: int, algorithm: str | None, params: dict[str, Any]
    ) -> Any:
        from dais.tracking import service as tracking

        tags = {"dais.study_id": study.id, "dais.study": study.name, "dais.trial": str(number)}
        if algorithm:
            tags["dais.algorithm"] = algorithm
        run = tracking.create_run(
            s,
            self.access,
            study.experiment_id,
            name=f"{study.name}-trial-{number}"[:250],
            tags=tags,
            parent_run_id=study.parent_run_id,
            status="SCHEDULED",
            ctx=self.actx,
        )
        if study.kind == "script":  # a preset's own job logs its params; a script's are logged here
            tracking.log_batch(
                s, self.access, run.id, params=[tracking.ParamIn(k, _text(v)) for k, v in params.items()]
            )
        return run

    # -- the end ---------------------------------------------------------------------------------------

    def _close(
        self,
        s: Session,
        study: Study,
        state: str,
        error: str | None = None,
        *,
        trial_error: str | None = None,
    ) -> bool:
        from optuna.trial import TrialState

        if state == "completed" and self.completed == 0:
            state, error = "failed", error or f"no trial completed; the first said: {self.first_error}"
        for live in list(self.live.values()):
            self._save_rungs(s, live)
            self._tell(live.number, state=TrialState.FAIL)
            if live.job_id:
                self._tag(s, live.run_id, "failed")
        self.live.clear()
        close_study(s, self.actx, self.access, study, state, error, trial_error=trial_error)
        if state == "completed" and study.promote_to and study.best_trial_number is not None:
            self._promote(s, study)
        return True

    def _promote(self, s: Session, study: Study) -> None:
        best = s.scalar(
            select(Trial).where(Trial.study_id == study.id, Trial.number == study.best_trial_number)
        )
        if best is None or study.promote_to is None:
            return
        try:
            with s.begin_nested():
                register_trial(s, self.actx, self.access, self.store, study, best, study.promote_to)
        except DaisError as exc:
            study.error = f"the best trial could not be registered as {study.promote_to!r}: {exc.detail}"

    def _result(self, study: Study) -> dict[str, Any]:
        return {
            "study_id": study.id,
            "state": study.state,
            "trials": self.trials_made,
            "best_trial": study.best_trial_number,
            "best_value": study.best_value,
            "promoted": study.promoted,
        }


@dataclass
class _Config:
    """What the coordinator keeps of the study between ticks."""

    same_direction: bool

    @classmethod
    def of(cls, study: Study) -> _Config:
        prune_direction = (study.pruner or {}).get("direction", "minimize")
        return cls(same_direction=prune_direction == study.direction)

    def to_optuna(self, value: float) -> float:
        """A pruning-metric value as Optuna compares it: in the study's direction."""
        return value if self.same_direction else -value


_ENV_NAME = re.compile(r"[^A-Za-z0-9]+")


def _text(value: Any) -> str:
    return "None" if value is None else str(value)


def _script_spec(base: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A script trial: the params in ``DAIS_PARAMS`` (JSON) and ``DAIS_PARAM_<NAME>``, and put in
    place of ``{name}`` in the script's ``command`` and ``args``."""
    import json

    env = dict(base.get("env") or {})
    env["DAIS_PARAMS"] = json.dumps(params)
    for name, value in params.items():
        env[f"DAIS_PARAM_{_ENV_NAME.sub('_', name).upper()}"] = _text(value)

    def fill(arg: str) -> str:
        for name, value in params.items():
            arg = arg.replace("{" + name + "}", _text(value))
        return arg

    out = {**base, "env": env, "args": [fill(a) for a in base.get("args") or []]}
    if base.get("command"):
        out["command"] = [fill(a) for a in base["command"]]
    return out


def _jsonable(value: Any) -> Any:
    """Optuna's system attributes as JSON (tuples become lists)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def coordinate(ctx: JobContext, study_id: str, settings: Settings, db: Database) -> dict[str, Any]:
    """Run the study ``study_id`` to its end."""
    from dais.storage import open_store

    return Coordinator(ctx, study_id, db, open_store(settings)).run()

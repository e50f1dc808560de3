"""What the study page shows, computed on request from the trials table: the trials, the
optimisation history (each finished trial's value and the best so far), parameter importance
(Optuna's evaluator over the complete trials) and the leaderboard (complete trials ranked).

Fine for the few hundred trials a study has; nothing here is cached.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter, defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dais.training.tuning import spaces
from dais.training.tuning.models import STUDY_FINAL, Study, Trial
from dais.training.tuning.schemas import (
    HistoryPoint,
    LeaderboardRow,
    Promoted,
    StudyDetail,
    StudyRead,
    TrialRead,
)

#: Metrics of a trial's run the leaderboard leaves out (per-step curves, fold scores).
_CURVE_PREFIXES = ("train_", "valid_", "fold_")


def _coordinator_states(s: Session, studies: list[Study]) -> dict[str, tuple[str, str | None]]:
    from dais.jobs.models import Job

    ids = [st.coordinator_job_id for st in studies if st.coordinator_job_id and st.state not in STUDY_FINAL]
    if not ids:
        return {}
    return {
        jid: (state, error)
        for jid, state, error in s.execute(select(Job.id, Job.state, Job.error).where(Job.id.in_(ids)))
    }


def _effective_state(study: Study, jobs: dict[str, tuple[str, str | None]]) -> tuple[str, str | None]:
    """The study's state, and ``failed`` for an open study whose coordinator job ended without
    closing it (a job the reaper failed never reaches the worker's hook)."""
    if study.state in STUDY_FINAL or not study.coordinator_job_id:
        return study.state, study.error
    state, error = jobs.get(study.coordinator_job_id, ("", None))
    if state in ("failed", "cancelled", "upstream_failed", "succeeded"):
        return "failed", study.error or f"its coordinator job {state}: {error or 'no error recorded'}"
    return study.state, study.error


def study_reads(s: Session, studies: list[Study]) -> list[StudyRead]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    ids = [st.id for st in studies]
    if ids:
        for study_id, state, n in s.execute(
            select(Trial.study_id, Trial.state, func.count())
            .where(Trial.study_id.in_(ids))
            .group_by(Trial.study_id, Trial.state)
        ):
            counts[study_id][state] = int(n)
    jobs = _coordinator_states(s, studies)
    return [_read(st, counts[st.id], jobs) for st in studies]


def _read(study: Study, counts: Counter[str], jobs: dict[str, tuple[str, str | None]]) -> StudyRead:
    state, error = _effective_state(study, jobs)
    base = (study.base_spec or {}).get("spec", {})
    return StudyRead(
        id=study.id,
        name=study.name,
        kind=study.kind,
        algorithm=base.get("algorithm") if study.kind == "preset" else None,
        dataset=base.get("dataset"),
        experiment_id=str(study.experiment_id),
        parent_run_id=study.parent_run_id,
        metric=study.metric,
        direction=study.direction,
        sampler=study.sampler,
        pruner=study.pruner or {"kind": "none"},
        max_trials=study.max_trials,
        max_wall_time_s=study.max_wall_time_s,
        concurrency=study.concurrency,
        state=state,
        stop_requested=study.stop_requested,
        error=error,
        trials={k: counts.get(k, 0) for k in ("running", "complete", "pruned", "failed")},
        best_trial=study.best_trial_number,
        best_value=study.best_value,
        promote_to=study.promote_to,
        promoted=Promoted.model_validate(study.promoted) if study.promoted else None,
        coordinator_job_id=study.coordinator_job_id,
        created_by=study.created_by,
        created_at=study.created_at,
        started_at=study.started_at,
        ended_at=study.ended_at,
    )


def _duration(trial: Trial) -> float | None:
    if trial.ended_at is None:
        return None
    return max((trial.ended_at - trial.started_at).total_seconds(), 0.0)


def trial_read(study: Study, trial: Trial) -> TrialRead:
    algorithm, params = spaces.split_params(trial.params, auto=study.kind == "auto")
    if study.kind == "preset":
        algorithm = (study.base_spec or {}).get("spec", {}).get("algorithm")
    return TrialRead(
        number=trial.number,
        state=trial.state,
        algorithm=algorithm,
        params=params,
        value=trial.value,
        intermediate={k: float(v) for k, v in (trial.intermediate or {}).items()},
        run_id=trial.run_id,
        job_id=trial.job_id,
        error=trial.error,
        started_at=trial.started_at,
        ended_at=trial.ended_at,
        duration_s=_duration(trial),
    )


def history(study: Study, trials: list[Trial]) -> list[HistoryPoint]:
    """Each finished trial in order, with the best value so far (the optimisation history chart)."""
    out: list[HistoryPoint] = []
    best: float | None = None
    for t in trials:
        if t.state == "running":
            continue
        if t.state == "complete" and t.value is not None:
            better = best is None or (t.value > best if study.direction == "maximize" else t.value < best)
            best = t.value if better else best
        out.append(
            HistoryPoint(number=t.number, state=t.state, value=t.value, best=best, ended_at=t.ended_at)
        )
    return out


def importance(study: Study, trials: list[Trial]) -> tuple[dict[str, float], str | None]:
    """Each param's importance over the complete trials (Optuna's default evaluator), or why none."""
    complete = [t for t in trials if t.state == "complete" and t.value is not None]
    if len(complete) < 2:
        return {}, "Parameter importance needs at least two complete trials."
    import optuna
    from optuna.distributions import json_to_distribution
    from optuna.trial import create_trial

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        opt = optuna.create_study(direction=spaces.study_direction(study.direction))
        for t in complete:
            opt.add_trial(
                create_trial(
                    value=t.value,
                    params=t.params,
                    distributions={k: json_to_distribution(v) for k, v in t.distributions.items()},
                )
            )
        try:
            raw = optuna.importance.get_param_importances(opt)
        except (ValueError, RuntimeError, ZeroDivisionError) as exc:
            return {}, f"Parameter importance cannot be computed yet: {exc}"
    out = {k: float(v) for k, v in raw.items() if math.isfinite(float(v))}
    if not out:
        return {}, "No param varied across the complete trials."
    return out, None


def leaderboard(s: Session, study: Study, trials: list[Trial]) -> list[LeaderboardRow]:
    """The complete trials, best first, with their algorithm, params and run's final metrics."""
    from dais.tracking.service import run_data

    complete = [t for t in trials if t.state == "complete" and t.value is not None]
    reverse = study.direction == "maximize"
    complete.sort(key=lambda t: (-(t.value or 0.0) if reverse else (t.value or 0.0), t.number))
    data = run_data(s, [t.run_id for t in complete if t.run_id], inputs=False)
    rows = []
    for rank, t in enumerate(complete, start=1):
        read = trial_read(study, t)
        metrics: dict[str, float] = {}
        if t.run_id and t.run_id in data:
            metrics = {
                k: m.value
                for k, m in sorted(data[t.run_id].metrics.items())
                if not k.startswith(_CURVE_PREFIXES) and math.isfinite(m.value)
            }
        assert t.value is not None
        rows.append(
            LeaderboardRow(
                rank=rank,
                number=t.number,
                algorithm=read.algorithm,
                params=read.params,
                value=t.value,
                metrics=metrics,
                run_id=t.run_id,
                duration_s=read.duration_s,
            )
        )
    return rows


def study_detail(s: Session, study: Study) -> StudyDetail:
    from dais.training.tuning.service import trials_of

    trials = trials_of(s, study.id)
    read = study_reads(s, [study])[0]
    weights, note = importance(study, trials)
    return StudyDetail(
        **read.model_dump(),
        space=study.space,
        base_spec=study.base_spec,
        trial_list=[trial_read(study, t) for t in trials],
        history=history(study, trials),
        importance=weights,
        importance_note=note,
        leaderboard=leaderboard(s, study, trials),
    )

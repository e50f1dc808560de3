"""Following a running trial: the per-step metric its run logs, folded into rising steps ("rungs":
0, 1, 2, 3, 4, 6, 8, 12, 16, ...: two per octave) that trials of any length can be compared at, and
the objective its run logged at the end. Read from the tracking tables: nothing in the training
code knows it is a trial."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    import optuna

#: Per-step metrics tried, in order, when a median pruner names none (every preset logs one of them).
PRUNE_METRICS = ("valid_logloss", "valid_loss", "valid_rmse", "valid_mse", "valid_mae", "valid_huber")


def rungs_between(low: int, high: int) -> list[int]:
    """The rungs ``r`` with ``low < r <= high``: 0, 1, 2, 3, 4, 6, 8, 12, 16, 24, ... (two per octave)."""
    out = [r for r in (0, 1) if low < r <= high]
    power = 2
    while power <= high:
        for r in (power, power + power // 2):
            if low < r <= high:
                out.append(r)
        power *= 2
    return out


def is_rung(step: int) -> bool:
    return step in (0, 1) or (step > 1 and rungs_between(step - 1, step) == [step])


@dataclass
class Live:
    """A running trial as the coordinator follows it."""

    number: int
    row_id: str
    job_id: str | None
    run_id: str | None
    trial: optuna.Trial
    #: rung -> the raw value of the pruning metric there
    rungs: dict[int, float] = field(default_factory=dict)
    seen_step: int = -1
    last_value: float | None = None
    reported: int = -1
    changed: bool = False

    def add_points(self, points: list[tuple[int, float]]) -> None:
        """Fold new (step, value) points, ascending, into the rungs."""
        for step, value in points:
            if step <= self.seen_step:
                continue
            if self.last_value is not None:
                for r in rungs_between(self.seen_step, step - 1):
                    self.rungs[r] = self.last_value
            if is_rung(step):
                self.rungs[step] = value
            self.seen_step, self.last_value = step, value
            self.changed = True


def points(s: Session, run_id: str, key: str, after: int) -> list[tuple[int, float]]:
    """The points of ``key`` the run logged past step ``after`` (ascending; NaN left out)."""
    from dais.tracking.models import RunMetric

    m = RunMetric
    rows = s.execute(
        select(m.step, m.value, m.is_nan)
        .where(m.run_id == run_id, m.key == key, m.step > after)
        .order_by(m.step, m.timestamp, m.id)
    )
    return [(int(step), float(value)) for step, value, is_nan in rows if not is_nan and math.isfinite(value)]


def objective(s: Session, run_id: str | None, metric: str) -> float | None:
    """The run's latest value of the objective (``None`` if it logged none, or NaN)."""
    from dais.tracking.models import RunLatestMetric

    if run_id is None:
        return None
    row = s.execute(
        select(RunLatestMetric.value, RunLatestMetric.is_nan).where(
            RunLatestMetric.run_id == run_id, RunLatestMetric.key == metric
        )
    ).first()
    if row is None or row.is_nan or not math.isfinite(row.value):
        return None
    return float(row.value)

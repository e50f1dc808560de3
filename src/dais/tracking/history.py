"""Metric history reads: MLflow's paged history, its sampled bulk-interval read, and chart downsampling.

All the work happens in SQL over the ``(run_id, key, step)`` prefix of the points index: a page is
a keyset range, a sample or a chart series is chosen with window functions, so a 10^7-point metric
never crosses into Python whole. Every read shows a point once (:func:`history_points`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from dais.tenancy import WorkspaceAccess
from dais.tracking.errors import InvalidParameterValue, ResourceDoesNotExist
from dais.tracking.models import Run, RunMetric
from dais.tracking.service import MetricPoint

#: The most points one bulk-interval read returns per run (MLflow's server limit).
MAX_RESULTS_PER_RUN = 2500
#: The most runs one bulk-interval read may name (MLflow's server limit).
MAX_RUNS_PER_BULK_READ = 100

M = RunMetric.__table__.c
_TWIN = RunMetric.__table__.alias("twin").c


def history_points() -> ColumnElement[bool]:
    """The rows of ``run_metrics`` that are points of a run's history.

    MLflow keeps a metric point once per run (its primary key has no model id) and a logged model's
    metrics apart. Here a point logged again for a logged model (MLflow 3's ``log_model`` re-logs
    the run's metrics with its ``model_id``) is a second row, the model's: the history shows the
    point once, as the row without a model id or else the first one logged.
    """
    return or_(
        M.model_id == "",
        ~exists().where(
            _TWIN.run_id == M.run_id,
            _TWIN.key == M.key,
            _TWIN.step == M.step,
            _TWIN.timestamp == M.timestamp,
            _TWIN.value == M.value,
            _TWIN.is_nan == M.is_nan,
            or_(_TWIN.model_id == "", _TWIN.id < M.id),
        ),
    )


def _visible_runs(s: Session, access: WorkspaceAccess, run_ids: Sequence[str]) -> None:
    found = set(
        s.scalars(select(Run.id).where(Run.id.in_(list(run_ids)), Run.workspace_id == access.workspace.id))
    )
    for run_id in run_ids:
        if run_id not in found:
            raise ResourceDoesNotExist(f"Run with id={run_id} not found")


def _point(row: Any, run_id: str | None = None) -> MetricPoint:
    value = math.nan if row.is_nan else row.value
    return MetricPoint(row.key, value, row.timestamp, row.step, run_id=run_id, model_id=row.model_id or None)


def _encode(after: tuple[int, int, float, int]) -> str:
    return base64.b64encode(json.dumps({"after": list(after)}).encode()).decode()


def _decode(token: str) -> tuple[int, int, float, int]:
    try:
        ts, step, value, row_id = json.loads(base64.b64decode(token, validate=True))["after"]
        return int(ts), int(step), float(value), int(row_id)
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidParameterValue(f"Invalid page token: {token!r}") from exc


#: One point as the database returns it: (value, is_nan, timestamp, step, model_id ('' for none), row id).
RawPoint = tuple[float, bool, int, int, str, int]


def _raw(s: Session, stmt: Any) -> list[Any]:
    """The rows of ``stmt`` as the driver's plain tuples: a 10^5-row read skips building Row objects."""
    result = s.connection().execute(stmt)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def metric_history_page(
    s: Session,
    access: WorkspaceAccess,
    run_id: str,
    key: str,
    *,
    max_results: int | None = None,
    page_token: str | None = None,
) -> tuple[list[RawPoint], str | None]:
    """Every point of a metric in MLflow's order (timestamp, step, value), a page at a time.

    Points come as :data:`RawPoint` tuples (the MLflow facade turns them into JSON directly).
    """
    if max_results is not None and max_results <= 0:
        raise InvalidParameterValue(
            f"Invalid value {max_results} for parameter 'max_results' supplied. "
            "It must be a positive integer."
        )
    _visible_runs(s, access, [run_id])
    order = (M.timestamp, M.step, M.value, M.id)
    stmt = select(M.value, M.is_nan, M.timestamp, M.step, M.model_id, M.id).where(
        M.run_id == run_id, M.key == key, history_points()
    )
    if page_token:
        stmt = stmt.where(tuple_(*order) > tuple_(*(literal(v) for v in _decode(page_token))))
    stmt = stmt.order_by(*order)
    if max_results is not None:
        stmt = stmt.limit(max_results + 1)
    rows = _raw(s, stmt)
    token = None
    if max_results is not None and len(rows) > max_results:
        rows = rows[:max_results]
        value, _, ts, step, _, row_id = rows[-1]
        token = _encode((ts, step, value, row_id))
    return rows, token


def metric_history(
    s: Session, access: WorkspaceAccess, run_id: str, key: str, *, max_points: int | None = None
) -> list[MetricPoint]:
    """A metric's points in step order; with ``max_points``, downsampled for a chart.

    Downsampling keeps, from each of ``max_points / 2`` equal runs of consecutive points, the lowest
    and the highest value (spikes survive, unlike with every-n-th sampling), plus the first and the
    last point.
    """
    _visible_runs(s, access, [run_id])
    where = and_(M.run_id == run_id, M.key == key, history_points())
    n = int(s.scalar(select(func.count()).select_from(RunMetric.__table__).where(where)) or 0)
    cols = (M.key, M.value, M.is_nan, M.timestamp, M.step, M.model_id)
    if max_points is None or n <= max_points:
        return [_point(r) for r in s.execute(select(*cols).where(where).order_by(M.step, M.timestamp, M.id))]
    buckets = max(1, max_points // 2)
    numbered = (
        select(*cols, (func.row_number().over(order_by=(M.step, M.timestamp, M.id)) - 1).label("rn"))
        .where(where)
        .cte("numbered")
    )
    bucket = ((numbered.c.rn * buckets) // n).label("bucket")
    ranked = select(
        numbered,
        func.row_number()
        .over(partition_by=bucket, order_by=(numbered.c.is_nan, numbered.c.value, numbered.c.rn))
        .label("lo"),
        func.row_number()
        .over(partition_by=bucket, order_by=(numbered.c.is_nan, numbered.c.value.desc(), numbered.c.rn))
        .label("hi"),
    ).cte("ranked")
    rows = s.execute(
        select(ranked)
        .where(or_(ranked.c.lo == 1, ranked.c.hi == 1, ranked.c.rn == 0, ranked.c.rn == n - 1))
        .order_by(ranked.c.rn)
    )
    return [_point(r) for r in rows]


def metric_history_bulk_interval(
    s: Session,
    access: WorkspaceAccess,
    run_ids: Sequence[str],
    key: str,
    *,
    start_step: int | None = None,
    end_step: int | None = None,
    max_results: int = 320,
) -> list[MetricPoint]:
    """Up to ``max_results`` points per run, evenly sampled over the (optional) step range.

    As MLflow's server: the first and the last point are kept (only the last when
    ``max_results`` is 1); points come per run in step order, each with its ``run_id``.
    """
    if not run_ids:
        raise InvalidParameterValue("Missing value for required parameter 'run_ids'.")
    if len(run_ids) > MAX_RUNS_PER_BULK_READ:
        raise InvalidParameterValue(
            f"GetMetricHistoryBulkInterval request must specify at most {MAX_RUNS_PER_BULK_READ} run_ids. "
            f"Received {len(run_ids)} run_ids."
        )
    if not 1 <= max_results <= MAX_RESULTS_PER_RUN:
        raise InvalidParameterValue(f"max_results must be between 1 and {MAX_RESULTS_PER_RUN}.")
    if (start_step is None) != (end_step is None):
        raise InvalidParameterValue("If either start step or end step are specified, both must be specified.")
    if start_step is not None and end_step is not None and start_step > end_step:
        raise InvalidParameterValue(
            "end_step must be greater than start_step. "
            f"Found start_step={start_step} and end_step={end_step}."
        )
    _visible_runs(s, access, run_ids)
    where = [M.run_id.in_(list(run_ids)), M.key == key, history_points()]
    if start_step is not None and end_step is not None:
        where += [M.step >= start_step, M.step <= end_step]
    order = (M.step, M.timestamp, M.value, M.is_nan, M.id)
    numbered = (
        select(
            M.run_id,
            M.key,
            M.value,
            M.is_nan,
            M.timestamp,
            M.step,
            M.model_id,
            (func.row_number().over(partition_by=M.run_id, order_by=order) - 1).label("rn"),
            func.count().over(partition_by=M.run_id).label("n"),
        )
        .where(*where)
        .cte("numbered")
    )
    c = numbered.c
    if max_results == 1:
        keep = c.rn == c.n - 1
    else:
        m = max_results - 1
        # Row rn opens a new one of m equal intervals over [0, n-1]: the first row of each interval
        # and the last row are kept (max_results rows in all).
        denominator = func.nullif(c.n - 1, 0)
        keep = or_(
            c.n <= max_results,
            c.rn == 0,
            c.rn == c.n - 1,
            (c.rn * m) // denominator > ((c.rn - 1) * m) // denominator,
        )
    rows = s.execute(select(numbered).where(keep).order_by(c.run_id, c.rn))
    order_of = {rid: i for i, rid in enumerate(run_ids)}
    points = [_point(r, r.run_id) for r in rows]
    points.sort(key=lambda p: order_of.get(p.run_id or "", 0))  # stable: step order within a run
    return points

"""The write path of run logging: Core statements built once per dialect, bulk metric inserts.

Metrics go in with the driver's own ``executemany`` (SQLite) or ``COPY`` (PostgreSQL), never ORM
objects; the latest value of each metric is upserted in the same transaction with MLflow's rule (the
largest ``(step, timestamp, value)`` wins), keys in one order so concurrent batches cannot deadlock.

A point already stored (same run, key, step, timestamp, value, NaN-ness and logged model: the unique
``ix_run_metrics_point``) is dropped, in one batch or across batches, as MLflow's SQL store drops a
repeat of its metric primary key. Inserts say ``ON CONFLICT DO NOTHING``; ``COPY`` cannot, so a
PostgreSQL batch is copied under a savepoint and, only if it repeats a stored point, inserted again
row by row with ``ON CONFLICT DO NOTHING`` (new points, the common case, keep ``COPY``'s speed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from psycopg.errors import UniqueViolation
from sqlalchemy import Table, bindparam, exists, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dais.tracking.entries import MetricIn, ParamIn, TagIn
from dais.tracking.errors import InvalidParameterValue, ResourceDoesNotExist
from dais.tracking.models import ACTIVE, Run, RunLatestMetric, RunMetric, RunParam, RunTag
from dais.tracking.validation import MAX_RUN_NAME_LENGTH, PARENT_RUN_TAG, RUN_NAME_TAG


def dialect_name(s: Session) -> str:
    return s.get_bind().dialect.name


def upsert_insert(s: Session, table: Any) -> Any:
    return (postgresql.insert if dialect_name(s) == "postgresql" else sqlite.insert)(table)


@dataclass(frozen=True)
class _Sql:
    """Core statements of the logging path, built once per dialect (compiled once, then cached)."""

    run_stage: Any
    insert_metric_if_active: Any
    # Driver SQL taking METRIC_COLUMNS tuples: 10^3 rows skip SQLAlchemy's per-row parameter building.
    # PostgreSQL gets COPY for a batch (one stream); SQLite an executemany.
    insert_metrics_sql: str
    copy_metrics_sql: str
    copy_batches: bool
    upsert_latest: Any
    upsert_tags: Any
    insert_params: Any
    param_values: Any


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


_SQL: dict[str, _Sql] = {}


METRIC_COLUMNS = ("run_id", "key", "value", "is_nan", "timestamp", "step", "model_id")


def sql_for(s: Session) -> _Sql:
    dialect = s.get_bind().dialect
    sql = _SQL.get(dialect.name)
    if sql is None:
        sql = _SQL[dialect.name] = _build_sql(dialect)
    return sql


def _build_sql(dialect: Any) -> _Sql:
    ins = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    runs, params, latest = _table(Run), _table(RunParam), _table(RunLatestMetric)
    up = ins(latest)
    tags = ins(_table(RunTag))
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    metric_columns = ", ".join(quote(c) for c in METRIC_COLUMNS)
    row_marks = f"({', '.join(mark for _ in METRIC_COLUMNS)})"
    conflict = "ON CONFLICT DO NOTHING"
    metrics_sql = f"INSERT INTO run_metrics ({metric_columns}) VALUES {row_marks} {conflict}"  # noqa: S608
    return _Sql(
        run_stage=select(runs.c.lifecycle_stage).where(
            runs.c.id == bindparam("run_id"), runs.c.workspace_id == bindparam("workspace_id")
        ),
        insert_metric_if_active=ins(_table(RunMetric))
        .inline()
        .execution_options(preserve_rowcount=True)
        .from_select(
            list(METRIC_COLUMNS),
            select(*(bindparam(c, type_=_table(RunMetric).c[c].type) for c in METRIC_COLUMNS)).where(
                exists().where(
                    runs.c.id == bindparam("run_id"),
                    runs.c.workspace_id == bindparam("workspace_id"),
                    runs.c.lifecycle_stage == ACTIVE,
                )
            ),
        )
        .on_conflict_do_nothing(),
        insert_metrics_sql=metrics_sql,
        copy_metrics_sql=f"COPY run_metrics ({metric_columns}) FROM STDIN",
        copy_batches=dialect.name == "postgresql",
        upsert_latest=up.on_conflict_do_update(
            index_elements=["run_id", "key"],
            set_={
                "value": up.excluded.value,
                "is_nan": up.excluded.is_nan,
                "timestamp": up.excluded.timestamp,
                "step": up.excluded.step,
            },
            where=tuple_(up.excluded.step, up.excluded.timestamp, up.excluded.value)
            > tuple_(latest.c.step, latest.c.timestamp, latest.c.value),
        ),
        upsert_tags=tags.on_conflict_do_update(
            index_elements=["run_id", "key"], set_={"value": tags.excluded.value}
        ),
        insert_params=ins(params).on_conflict_do_nothing(index_elements=["run_id", "key"]),
        param_values=select(params.c.key, params.c.value).where(
            params.c.run_id == bindparam("run_id"), params.c.key.in_(bindparam("keys", expanding=True))
        ),
    )


def active_run_check(s: Session, workspace_id: str, run_id: str) -> None:
    stage = (
        s.connection()
        .execute(sql_for(s).run_stage, {"run_id": run_id, "workspace_id": workspace_id})
        .scalar()
    )
    if stage is None:
        raise ResourceDoesNotExist(f"Run with id={run_id} not found")
    if stage != ACTIVE:
        raise InvalidParameterValue(
            f"The run {run_id} must be in the 'active' state. Current state is {stage}."
        )


def explain_inactive(run_id: str, stage: str | None) -> None:
    if stage is None:
        raise ResourceDoesNotExist(f"Run with id={run_id} not found")
    raise InvalidParameterValue(f"The run {run_id} must be in the 'active' state. Current state is {stage}.")


def log_params(s: Session, run_id: str, params: Sequence[ParamIn]) -> None:
    wanted = {p.key: p.value for p in params}
    sql, conn = sql_for(s), s.connection()

    def changed(keys: list[str]) -> list[dict[str, str]]:
        rows = conn.execute(sql.param_values, {"run_id": run_id, "keys": keys})
        return [{"key": k, "old_value": v, "new_value": wanted[k]} for k, v in rows if v != wanted[k]]

    existing = {k for k, _ in conn.execute(sql.param_values, {"run_id": run_id, "keys": list(wanted)})}
    bad = changed(list(existing)) if existing else []
    new = [k for k in wanted if k not in existing]
    if not bad and new:
        conn.execute(sql.insert_params, [{"run_id": run_id, "key": k, "value": wanted[k]} for k in new])
        # A concurrent writer may have logged one of these keys with another value first.
        bad = changed(new)
    if bad:
        raise InvalidParameterValue(
            f"Changing param values is not allowed. Params were already logged='{bad}' for run ID='{run_id}'."
        )


def set_tags(s: Session, run_id: str, tags: Sequence[TagIn]) -> None:
    latest = {t.key: t.value for t in tags}  # the last value of a key wins, as MLflow applies them in order
    s.connection().execute(
        sql_for(s).upsert_tags,
        [{"run_id": run_id, "key": k, "value": v} for k, v in sorted(latest.items())],
    )
    columns: dict[str, Any] = {}
    if RUN_NAME_TAG in latest:
        columns["name"] = latest[RUN_NAME_TAG][:MAX_RUN_NAME_LENGTH]
    if PARENT_RUN_TAG in latest:
        columns["parent_run_id"] = latest[PARENT_RUN_TAG][:32] or None
    if columns:
        s.execute(update(Run).where(Run.id == run_id).values(**columns))


def _copy_new_points(conn: Any, sql: _Sql, rows: list[tuple[Any, ...]]) -> bool:
    """``COPY`` the rows under a savepoint; ``False`` (and nothing written) if one is already stored."""
    driver = conn.connection.driver_connection
    try:
        with driver.transaction(), driver.cursor() as cursor, cursor.copy(sql.copy_metrics_sql) as copy:
            for row in rows:
                copy.write_row(row)
    except UniqueViolation:
        return False
    return True


def log_metrics(s: Session, run_id: str, metrics: Sequence[MetricIn], *, guard: str | None = None) -> None:
    """Append the points and keep the latest values; with ``guard`` (the caller's workspace id),
    one point is inserted only if the run is active there, else the run check explains why."""
    rows: list[tuple[Any, ...]] = []
    seen: set[tuple[Any, ...]] = set()
    best: dict[str, tuple[int, int, float, bool]] = {}
    isnan = math.isnan
    for m in metrics:
        value = float(m.value)
        is_nan = isnan(value)
        if is_nan:
            value = 0.0  # MLflow keeps NaN as 0 with is_nan set, so SQL can compare and order
        row = (run_id, m.key, value, is_nan, m.timestamp, m.step, m.model_id or "")
        if row in seen:  # identical points in one batch are one point, as in MLflow
            continue
        seen.add(row)
        rows.append(row)
        cur = best.get(m.key)
        if cur is None or (m.step, m.timestamp, value) > cur[:3]:
            best[m.key] = (m.step, m.timestamp, value, is_nan)
    sql, conn = sql_for(s), s.connection()
    if guard is not None:
        inserted = conn.execute(
            sql.insert_metric_if_active,
            dict(zip(METRIC_COLUMNS, rows[0], strict=True)) | {"workspace_id": guard},
        ).rowcount
        if not inserted:  # the run is not there or not active, or the point is already stored
            stage = conn.execute(sql.run_stage, {"run_id": run_id, "workspace_id": guard}).scalar()
            if stage != ACTIVE:
                explain_inactive(run_id, stage)
            return  # a repeat: the latest value already accounts for it
    elif not (sql.copy_batches and len(rows) > 1 and _copy_new_points(conn, sql, rows)):
        conn.exec_driver_sql(sql.insert_metrics_sql, rows)
    # Keys in one order in every transaction: concurrent batches lock latest rows without deadlocks.
    conn.execute(
        sql.upsert_latest,
        [
            {"run_id": run_id, "key": k, "step": b[0], "timestamp": b[1], "value": b[2], "is_nan": b[3]}
            for k, b in sorted(best.items())
        ],
    )

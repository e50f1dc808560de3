"""Read-side queries behind the native tracking API and the UI: experiment listings with run counts,
the column keys of an experiment, pages of runs with chosen params, metrics and tags, a run's
detail, and run comparison.

Run pages use keyset cursors over the same ordering as MLflow's ``search_runs`` (missing values
last, then newest first, then run id), so every page costs the same however deep it is, and the
first page of an index-friendly query (an experiment's runs by start time, with attribute filters)
is read straight off ``ix_tracking_runs_experiment``. The chosen columns of a page come in one
``IN`` query per kind (params, latest metrics, tags), never one per run.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    false,
    func,
    not_,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from dais.core.errors import InvalidInput
from dais.db.pagination import Page, decode_cursor, encode_cursor
from dais.jobs.models import Job
from dais.registry import LoggedModel, ModelVersion, RegisteredModel
from dais.tenancy import WorkspaceAccess
from dais.tracking import search
from dais.tracking import service as svc
from dais.tracking.errors import InvalidParameterValue, ResourceDoesNotExist
from dais.tracking.history import history_points
from dais.tracking.models import (
    ACTIVE,
    DELETED,
    Experiment,
    Run,
    RunLatestMetric,
    RunMetric,
    RunParam,
    RunTag,
)
from dais.tracking.schemas import (
    NOTE_TAG,
    ExperimentColumns,
    ExperimentRead,
    LatestMetric,
    LoggedModelRead,
    MetricCompare,
    ParamDiff,
    RegisteredVersionRef,
    RunBrief,
    RunDetail,
    RunInputRead,
    RunJob,
    RunRead,
    RunRow,
    RunsComparison,
    View,
)

# The grammar's own attribute map (``attributes.start_time`` -> column), so ordering here accepts
# exactly the keys the filter parser does.
from dais.tracking.search import RUN_ATTRIBUTES

VIEW_STAGES: dict[View, tuple[str, ...]] = {
    View.active: (ACTIVE,),
    View.deleted: (DELETED,),
    View.all: (ACTIVE, DELETED),
}
MAX_CHILDREN = 200
_NULLABLE_ATTRIBUTES = frozenset({"start_time", "end_time", "created", "Created"})


def _dialect(s: Session) -> str:
    return s.get_bind().dialect.name


def _stage_condition(stages: tuple[str, ...]) -> ColumnElement[bool]:
    # One stage as an equality keeps the (experiment, stage, start_time) index usable for ordering.
    return Run.lifecycle_stage == stages[0] if len(stages) == 1 else Run.lifecycle_stage.in_(stages)


def _bad_cursor(why: str = "malformed cursor") -> InvalidInput:
    return InvalidInput(
        "The cursor is not valid: pass back the next_cursor of the previous page unchanged.",
        errors=[{"loc": ["body", "cursor"], "msg": why}],
    )


def finite(value: float, is_nan: bool = False) -> float | None:
    """A metric value for JSON: ``None`` for NaN (JSON has no NaN)."""
    return None if is_nan or math.isnan(value) else value


# -- experiments -----------------------------------------------------------------------------------

EXPERIMENT_SORTS: dict[str, Any] = {
    "name": Experiment.name,
    "creation_time": Experiment.creation_time,
    "last_update_time": Experiment.last_update_time,
}


def resolve_experiment(s: Session, access: WorkspaceAccess, ref: str) -> Experiment:
    """An experiment of the workspace by id (a number) or else by name, in any lifecycle stage."""
    base = select(Experiment).where(Experiment.workspace_id == access.workspace.id)
    if ref.isdigit() and len(ref) <= 9:
        if int(ref) == 0:  # MLflow's default experiment: looked up, never created by a read
            exp = s.scalar(base.where(Experiment.name == svc.DEFAULT_EXPERIMENT_NAME))
        else:
            exp = s.scalar(base.where(Experiment.id == int(ref)))
        if exp is not None:
            return exp
    exp = s.scalar(base.where(Experiment.name == ref))
    if exp is None:
        raise ResourceDoesNotExist(
            f"No experiment {ref!r} in workspace {access.workspace.slug!r} (give its id or its name)."
        )
    return exp


def list_experiments(
    s: Session,
    access: WorkspaceAccess,
    *,
    q: str | None,
    view: View,
    sort: str,
    limit: int,
    cursor: str | None,
) -> Page[Experiment]:
    """The workspace's experiments, sorted by ``sort`` (``-`` prefix: descending), a page at a time."""
    desc = sort.startswith("-")
    key = sort.removeprefix("-")
    if key not in EXPERIMENT_SORTS:
        allowed = ", ".join(sorted(EXPERIMENT_SORTS))
        raise InvalidInput(
            f"Cannot sort experiments by {key!r}; sort by one of: {allowed} (prefix with - for descending).",
            errors=[{"loc": ["query", "sort"], "msg": f"unknown sort field {key!r}"}],
        )
    col = EXPERIMENT_SORTS[key]
    stmt = select(Experiment).where(
        Experiment.workspace_id == access.workspace.id,
        Experiment.lifecycle_stage.in_(VIEW_STAGES[view]),
    )
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Experiment.name.ilike(f"%{escaped}%", escape="\\"))
    if cursor:
        c_sort, c_value, c_id = decode_cursor(cursor)
        expected = str if key == "name" else int
        if c_sort != sort or not isinstance(c_value, expected) or not c_id.isdigit():
            raise InvalidInput(
                "The cursor is not valid for this listing: pass back next_cursor unchanged, "
                "with the same sort.",
                errors=[{"loc": ["query", "cursor"], "msg": "malformed cursor"}],
            )
        last = tuple_(c_value, int(c_id))
        row = tuple_(col, Experiment.id)
        stmt = stmt.where(row < last if desc else row > last)
    order = (col.desc(), Experiment.id.desc()) if desc else (col.asc(), Experiment.id.asc())
    rows = list(s.scalars(stmt.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(sort, getattr(rows[-1], col.key), str(rows[-1].id))
    return Page(rows, next_cursor)


def experiment_reads(s: Session, experiments: Sequence[Experiment]) -> list[ExperimentRead]:
    """Read models with tags, description and active-run statistics (two queries for the lot)."""
    ids = [e.id for e in experiments]
    tags = svc.experiment_tags(s, ids)
    stats: dict[int, tuple[int, int | None]] = {}
    if ids:
        rows = s.execute(
            select(Run.experiment_id, func.count(), func.max(Run.start_time))
            .where(Run.experiment_id.in_(ids), Run.lifecycle_stage == ACTIVE)
            .group_by(Run.experiment_id)
        )
        stats = {exp_id: (int(n), last) for exp_id, n, last in rows}
    out = []
    for e in experiments:
        count, last = stats.get(e.id, (0, None))
        etags = tags.get(e.id, {})
        out.append(
            ExperimentRead(
                id=str(e.id),
                name=e.name,
                description=etags.get(NOTE_TAG, ""),
                lifecycle_stage=e.lifecycle_stage,
                artifact_location=e.artifact_location,
                tags=etags,
                created_by=e.created_by,
                creation_time=e.creation_time,
                last_update_time=e.last_update_time,
                run_count=count,
                last_run_time=last,
            )
        )
    return out


#: Experiments with more runs than this get their key columns from the key indexes instead of from
#: reading every run's rows (see :func:`experiment_columns`).
COLUMNS_SCAN_MAX = 5000
#: Over a large experiment, keys of its first this many rows (of each table) are read directly.
KEY_SAMPLE_ROWS = 5000
#: Every other key is probed through its first rows: a key held by at most this many rows, none of
#: them the experiment's, is not the experiment's.
KEY_PROBE_ROWS = 200
#: Keys probed in one statement (a UNION ALL of one bounded index read per key).
_PROBE_CHUNK = 50

# Every distinct key of a table with an index on ``key``: one index probe per key, however many rows
# hold it. Plain SQL: both databases run it as is.
_ALL_KEYS = """
WITH RECURSIVE keys(key) AS (
    SELECT MIN(key) FROM {table}
    UNION ALL
    SELECT (SELECT MIN(t.key) FROM {table} t WHERE t.key > keys.key) FROM keys WHERE keys.key IS NOT NULL
)
SELECT key FROM keys WHERE key IS NOT NULL
"""


def experiment_columns(s: Session, exp: Experiment) -> ExperimentColumns:
    """The distinct param, latest-metric and tag keys over the experiment's runs, sorted.

    Over a large experiment they come from the tables' key indexes (:func:`_keys_of_large`).
    """
    large = _scope_at_least(s, [Run.experiment_id == exp.id], COLUMNS_SCAN_MAX + 1)

    def keys(table: Any) -> list[str]:
        runs = select(Run.id).where(Run.experiment_id == exp.id)
        every = select(table.key).where(table.run_id.in_(runs)).distinct().order_by(table.key)
        return _keys_of_large(s, table, exp.id, every) if large else list(s.scalars(every))

    return ExperimentColumns(
        experiment_id=str(exp.id), params=keys(RunParam), metrics=keys(RunLatestMetric), tags=keys(RunTag)
    )


def _keys_of_large(s: Session, table: Any, experiment_id: int, every: Any) -> list[str]:
    """The experiment's keys of ``table`` without reading all of its runs' rows, where that can be.

    Keys of its first ``KEY_SAMPLE_ROWS`` rows are in. Every other key of the table (listed off its
    key index) is probed through its first ``KEY_PROBE_ROWS + 1`` rows: in if one is a run of the
    experiment, out if there are no more. Checking a key by walking the experiment's runs, or all of
    the key's rows, costs a scan per key the experiment lacks (seconds over 10^5 runs when other
    experiments bring keys of their own); a probe costs a bounded read. A key that other runs hold
    many rows of and that its probe leaves open sends the listing to ``every`` (all its rows).
    """
    in_experiment = and_(Run.id == table.run_id, Run.experiment_id == experiment_id)
    found = set(s.scalars(select(table.key).join(Run, in_experiment).limit(KEY_SAMPLE_ROWS)))
    rest = [k for k in s.scalars(text(_ALL_KEYS.format(table=table.__tablename__))) if k not in found]
    for i in range(0, len(rest), _PROBE_CHUNK):
        chunk = rest[i : i + _PROBE_CHUNK]
        firsts = [
            select(table.key, table.run_id).where(table.key == key).limit(KEY_PROBE_ROWS + 1).subquery()
            for key in chunk
        ]
        probes = union_all(
            *(select(f.c.key, Run.experiment_id).join(Run, Run.id == f.c.run_id) for f in firsts)
        )
        held: dict[str, list[int]] = {}
        for key, exp_id in s.execute(probes):
            held.setdefault(key, []).append(exp_id)
        for key in chunk:
            experiments = held.get(key, [])
            if experiment_id in experiments:
                found.add(key)
            elif len(experiments) > KEY_PROBE_ROWS:
                return list(s.scalars(every))
    return sorted(found)


# -- run pages -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SortKey:
    """One term of the ordering: an expression, its direction, and whether it may be NULL (missing
    values sort last in either direction, as MLflow orders them). A key on another table carries
    the join that brings it (and, when the value is known to be present, the plain column)."""

    expr: Any
    ascending: bool
    nullable: bool
    kind: type  # the Python type of its values, to check cursors against
    plain: Any = None  # the value where it is present (an index-ordered column)
    present: Any = None  # condition: the value is present (with ``join`` as an inner join)
    join: tuple[Any, Any] | None = None
    indexed: bool = False  # SQLite has a (key, value) index that orders ``plain`` (metrics, params)

    def order(self, dialect: str) -> Any:
        if not self.nullable:
            return self.expr.asc() if self.ascending else self.expr.desc()
        # NULLS LAST spelled only where it is not the database's default, so an index in the
        # natural order still serves the ordering (SQLite: NULL is smallest; PostgreSQL: largest).
        if dialect == "sqlite":
            return self.expr.asc().nulls_last() if self.ascending else self.expr.desc()
        if dialect == "postgresql":
            return self.expr.asc() if self.ascending else self.expr.desc().nulls_last()
        return (self.expr.asc() if self.ascending else self.expr.desc()).nulls_last()

    def as_present(self) -> _SortKey:
        """This key where its value is known to be present: the plain column, never NULL."""
        plain = self.expr if self.plain is None else self.plain
        return _SortKey(plain, self.ascending, False, self.kind)

    def equals(self, value: Any) -> ColumnElement[bool]:
        """Null-safe equality (never NULL itself, so it can stand under a NOT)."""
        if value is None:
            return self.expr.is_(None)  # type: ignore[no-any-return]
        if self.nullable:
            return self.expr.is_not_distinct_from(value)  # type: ignore[no-any-return]
        return self.expr == value  # type: ignore[no-any-return]

    def beyond(self, value: Any) -> ColumnElement[bool] | None:
        """Rows strictly after ``value`` on this key (``None``: nothing sorts after a missing value)."""
        if value is None:
            return None
        cmp = self.expr > value if self.ascending else self.expr < value
        return or_(cmp, self.expr.is_(None)) if self.nullable else cmp


def _sort_keys(order_by: Sequence[str]) -> list[_SortKey]:
    keys: list[_SortKey] = []
    has_start = False
    for i, o in enumerate(search.parse_run_order_by(tuple(order_by))):
        if o.type == search.ATTRIBUTE:
            col = RUN_ATTRIBUTES[o.key]
            has_start = has_start or col is Run.start_time
            numeric = o.key in _NULLABLE_ATTRIBUTES
            keys.append(
                _SortKey(col, o.ascending, numeric, int if numeric else str, present=col.is_not(None))
            )
        elif o.type == search.METRIC:
            m = aliased(RunLatestMetric, name=f"order_{i}")
            on = and_(m.run_id == Run.id, m.key == o.key)
            value = case((m.is_nan == true(), None), else_=m.value)
            keys.append(
                _SortKey(value, o.ascending, True, float, m.value, m.is_nan == false(), (m, on), indexed=True)
            )
        else:
            param = o.type == search.PARAM
            model: Any = RunParam if param else RunTag
            t = aliased(model, name=f"order_{i}")
            on = and_(t.run_id == Run.id, t.key == o.key)
            keys.append(_SortKey(t.value, o.ascending, True, str, t.value, true(), (t, on), indexed=param))
    if not has_start:
        keys.append(_SortKey(Run.start_time, False, True, int, present=Run.start_time.is_not(None)))
    keys.append(_SortKey(Run.id, True, False, str))
    return keys


STEER_MIN_RUNS = 2000


def _scope_at_least(s: Session, where: list[Any], n: int) -> bool:
    """Whether at least ``n`` runs are in scope (an index-only count that stops at ``n``)."""
    capped = select(Run.id).where(*where).limit(n).subquery()
    return int(s.scalar(select(func.count()).select_from(capped)) or 0) >= n


def _steered(key: _SortKey, *, large: bool) -> _SortKey:
    """A metric or param sort key as SQLite should use it: over many runs, from the (key, value)
    index (ordered, stops after a page); over few, from the runs (``+ 0`` or ``|| ''`` hides the
    index: a sort of a few rows beats walking a key that other experiments' runs share)."""
    if large:
        return key
    hidden = key.plain + 0 if key.kind is float else key.plain.concat("")
    return _SortKey(key.expr, key.ascending, key.nullable, key.kind, hidden, key.present, key.join)


def _after(keys: list[_SortKey], values: list[Any]) -> ColumnElement[bool]:
    """Rows after the row whose sort values are ``values`` (a keyset predicate, NULL-aware).

    With a present first value it is spelled ``k1 <= v1 AND NOT (k1 = v1 AND NOT <after the rest>)``
    rather than as an OR of ranges: a plain range on the first key lets the database walk its index
    in order (an OR of ranges makes SQLite merge several index scans and sort the lot).
    """
    first, v = keys[0], values[0]
    if not first.nullable and v is not None and len(keys) > 1:
        reach = first.expr >= v if first.ascending else first.expr <= v
        return and_(reach, not_(and_(first.expr == v, not_(_after_terms(keys[1:], values[1:])))))
    return _after_terms(keys, values)


def _after_terms(keys: list[_SortKey], values: list[Any]) -> ColumnElement[bool]:
    terms = []
    for i, key in enumerate(keys):
        step = key.beyond(values[i])
        if step is not None:
            terms.append(and_(*(k.equals(v) for k, v in zip(keys[:i], values[:i], strict=True)), step))
    return or_(*terms) if terms else false()


def _fingerprint(experiment_ids: Sequence[int], filter: str, order_by: Sequence[str], view: View) -> str:
    raw = json.dumps([sorted(experiment_ids), filter, list(order_by), view.value], separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _encode_run_cursor(fingerprint: str, values: list[Any]) -> str:
    raw = json.dumps({"q": fingerprint, "v": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_run_cursor(cursor: str, fingerprint: str, keys: list[_SortKey]) -> list[Any]:
    try:
        body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        q, values = body["q"], body["v"]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise _bad_cursor() from exc
    if q != fingerprint:
        raise InvalidInput(
            "The cursor belongs to a search with other experiments, filter, order or view; "
            "start again without a cursor.",
            errors=[{"loc": ["body", "cursor"], "msg": "cursor of another search"}],
        )
    if not isinstance(values, list) or len(values) != len(keys):
        raise _bad_cursor()
    for key, value in zip(keys, values, strict=True):
        if value is None and key.nullable:
            continue
        ok = isinstance(value, key.kind) and not isinstance(value, bool)
        if key.kind is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok:
            raise _bad_cursor()
    return values


def experiment_scope(s: Session, access: WorkspaceAccess, experiment_ids: Sequence[str]) -> list[int]:
    """The experiment ids as numbers, each checked to be an experiment of the workspace."""
    wanted: list[int] = []
    for raw in experiment_ids:
        exp_id = svc.parse_experiment_id(raw)
        if exp_id not in wanted:
            wanted.append(exp_id)
    if 0 in wanted:  # MLflow's default experiment
        default = s.scalar(
            select(Experiment.id).where(
                Experiment.workspace_id == access.workspace.id,
                Experiment.name == svc.DEFAULT_EXPERIMENT_NAME,
            )
        )
        wanted = [i for i in wanted if i != 0]
        if default is not None and default not in wanted:
            wanted.append(default)
    found = set(
        s.scalars(
            select(Experiment.id).where(
                Experiment.workspace_id == access.workspace.id, Experiment.id.in_(wanted)
            )
        )
    )
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise ResourceDoesNotExist(
            f"No experiment with id {', '.join(missing)} in workspace {access.workspace.slug!r}.",
            errors=[{"loc": ["body", "experiment_ids"], "msg": f"unknown experiment {m}"} for m in missing],
        )
    return wanted


def _located(exc: InvalidParameterValue, field: str, detail: str) -> InvalidParameterValue:
    """The grammar's error, saying which field of the request it is about (the UI marks it)."""
    return InvalidParameterValue(detail, errors=[{"loc": ["body", field], "msg": exc.detail}])


@dataclass
class RunPageResult:
    runs: list[Run]
    next_cursor: str | None
    total: int | None


def search_run_page(
    s: Session,
    access: WorkspaceAccess,
    experiment_ids: Sequence[str],
    *,
    filter: str = "",
    order_by: Sequence[str] = (),
    view: View = View.active,
    limit: int = 50,
    cursor: str | None = None,
    with_total: bool = True,
) -> RunPageResult:
    """A page of the runs of the experiments that match MLflow's ``filter``, in ``order_by`` order."""
    ids = experiment_scope(s, access, experiment_ids)
    dialect = _dialect(s)
    try:
        clauses = search.parse_run_filter(filter)
    except InvalidParameterValue as exc:
        raise _located(exc, "filter", f"The filter {filter!r} is not valid: {exc.detail}") from None
    conditions = search.run_conditions(clauses, dialect)
    try:
        keys = _sort_keys(order_by)
    except InvalidParameterValue as exc:
        raise _located(exc, "order_by", f"order_by {list(order_by)!r} is not valid: {exc.detail}") from None
    # Experiments were checked to be the workspace's, and a run lives in its experiment's workspace:
    # no workspace condition, so the (experiment, stage, start_time) index alone answers.
    where = [
        Run.experiment_id == ids[0] if len(ids) == 1 else Run.experiment_id.in_(ids),
        _stage_condition(VIEW_STAGES[view]),
        *conditions,
    ]
    fingerprint = _fingerprint(ids, filter, order_by, view)
    values = _decode_run_cursor(cursor, fingerprint, keys) if cursor else None
    labels = [k.expr.label(f"sort_{i}") for i, k in enumerate(keys)]

    steer = dialect == "sqlite" and keys[0].indexed
    if steer:
        keys[0] = _steered(keys[0], large=_scope_at_least(s, where[:2], STEER_MIN_RUNS))

    def query(first_present: bool | None, after: list[Any] | None, n: int) -> list[Any]:
        # first_present: True -> only rows with the first key's value, ordered on its plain column
        # (index-friendly); False -> only rows without it; None -> one query over all rows.
        stmt = select(Run, *labels).where(*where)
        order = keys
        if steer and first_present and after is None and keys[0].plain is not None:
            # SQLite plans joins without regard to LIMIT: an open range on the metric or param makes
            # it walk the (key, value) index in order and stop after one page.
            if keys[0].kind is str:
                stmt = stmt.where(keys[0].plain >= "")
            else:
                bound = math.inf if not keys[0].ascending else -math.inf
                stmt = stmt.where(keys[0].plain <= bound if bound > 0 else keys[0].plain >= bound)
        for i, key in enumerate(keys):
            if key.join is None:
                continue
            inner = i == 0 and first_present
            stmt = stmt.join(*key.join) if inner else stmt.outerjoin(*key.join)
        if first_present is True:
            stmt = stmt.where(keys[0].present)
            order = [keys[0].as_present(), *keys[1:]]
        elif first_present is False:
            stmt = stmt.where(keys[0].expr.is_(None))
            order = keys[1:]
        if after is not None:
            stmt = stmt.where(_after(order, after[len(keys) - len(order) :]))
        return list(s.execute(stmt.order_by(*(k.order(dialect) for k in order)).limit(n)).all())

    if not keys[0].nullable:
        rows = query(None, values, limit + 1)
    else:
        # Missing values of the first key sort last: read the rows that have one first (in index
        # order where there is an index), then, if the page is not full, the rows without.
        rows = []
        if values is None or values[0] is not None:
            rows = query(True, values, limit + 1)
        if len(rows) <= limit:
            rows += query(
                False, values if values is not None and values[0] is None else None, limit + 1 - len(rows)
            )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode_run_cursor(fingerprint, list(rows[-1][1:]))
    total = None
    if with_total:
        total = search.count_runs(s, where[:2], clauses)
    return RunPageResult([r[0] for r in rows], next_cursor, total)


@dataclass
class ChosenValues:
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float | None] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def chosen_values(
    s: Session,
    run_ids: Sequence[str],
    *,
    params: Sequence[str] = (),
    metrics: Sequence[str] = (),
    tags: Sequence[str] = (),
) -> dict[str, ChosenValues]:
    """The chosen params, latest metrics and tags of each run: one ``IN`` query per kind asked for."""
    out = {rid: ChosenValues() for rid in run_ids}
    if not run_ids:
        return out
    ids = list(run_ids)
    if params:
        for rid, key, text_value in s.execute(
            select(RunParam.run_id, RunParam.key, RunParam.value).where(
                RunParam.run_id.in_(ids), RunParam.key.in_(list(params))
            )
        ):
            out[rid].params[key] = text_value
    if metrics:
        m = RunLatestMetric
        for rid, key, number, is_nan in s.execute(
            select(m.run_id, m.key, m.value, m.is_nan).where(m.run_id.in_(ids), m.key.in_(list(metrics)))
        ):
            out[rid].metrics[key] = finite(number, is_nan)
    if tags:
        for rid, key, value in s.execute(
            select(RunTag.run_id, RunTag.key, RunTag.value).where(
                RunTag.run_id.in_(ids), RunTag.key.in_(list(tags))
            )
        ):
            out[rid].tags[key] = value
    return out


def metric_keys_of(s: Session, run_ids: Sequence[str], keys: Sequence[str]) -> set[tuple[str, str]]:
    """The ``(run id, key)`` pairs among these that have a logged metric."""
    m = RunLatestMetric
    rows = s.execute(select(m.run_id, m.key).where(m.run_id.in_(list(run_ids)), m.key.in_(list(keys))))
    return {(rid, key) for rid, key in rows}


def count_points(s: Session, run_id: str, key: str) -> int:
    """How many points a metric of a run has (an index range count)."""
    stmt = (
        select(func.count())
        .select_from(RunMetric)
        .where(RunMetric.run_id == run_id, RunMetric.key == key, history_points())
    )
    return int(s.scalar(stmt) or 0)


def run_read(run: Run) -> RunRead:
    return RunRead(**_run_fields(run))


def _run_fields(run: Run) -> dict[str, Any]:
    duration = None
    if run.start_time is not None and run.end_time is not None:
        duration = max(0, run.end_time - run.start_time)
    return {
        "id": run.id,
        "name": run.name,
        "experiment_id": str(run.experiment_id),
        "status": run.status,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "duration_ms": duration,
        "lifecycle_stage": run.lifecycle_stage,
        "user_id": run.user_id,
        "artifact_uri": run.artifact_uri,
        "parent_run_id": run.parent_run_id,
        "job_id": run.job_id,
    }


def run_rows(
    s: Session,
    runs: Sequence[Run],
    *,
    params: Sequence[str] = (),
    metrics: Sequence[str] = (),
    tags: Sequence[str] = (),
) -> list[RunRow]:
    values = chosen_values(s, [r.id for r in runs], params=params, metrics=metrics, tags=tags)
    return [
        RunRow(
            **_run_fields(r),
            params=values[r.id].params,
            metrics=values[r.id].metrics,
            tags=values[r.id].tags,
        )
        for r in runs
    ]


# -- one run ---------------------------------------------------------------------------------------


def _brief(run: Run) -> RunBrief:
    return RunBrief(
        id=run.id,
        name=run.name,
        status=run.status,
        start_time=run.start_time,
        lifecycle_stage=run.lifecycle_stage,
    )


def run_detail(s: Session, access: WorkspaceAccess, run: Run) -> RunDetail:
    """Everything the run page shows but the charts and artifacts: params, tags, latest metrics,
    inputs, its job, parent and children, logged models."""
    data = svc.run_data(s, [run.id])[run.id]
    exp = s.get(Experiment, run.experiment_id)
    job = None
    if run.job_id:
        found = s.scalar(select(Job).where(Job.id == run.job_id, Job.workspace_id == access.workspace.id))
        if found is not None:
            job = RunJob(
                id=found.id, name=found.name, kind=found.kind, state=found.state, attempt=found.attempt
            )
    parent = None
    if run.parent_run_id:
        p = s.scalar(select(Run).where(Run.id == run.parent_run_id, Run.workspace_id == access.workspace.id))
        parent = _brief(p) if p is not None else None
    children_of = and_(Run.parent_run_id == run.id, Run.workspace_id == access.workspace.id)
    children = s.scalars(
        select(Run).where(children_of).order_by(Run.start_time.desc(), Run.id).limit(MAX_CHILDREN)
    ).all()
    child_count = len(children)
    if child_count == MAX_CHILDREN:
        child_count = int(s.scalar(select(func.count()).select_from(Run).where(children_of)) or 0)
    output_ids = [o.model_id for o in data.outputs]
    models = s.scalars(
        select(LoggedModel)
        .where(
            LoggedModel.workspace_id == access.workspace.id,
            or_(LoggedModel.source_run_id == run.id, LoggedModel.id.in_(output_ids)),
        )
        .order_by(LoggedModel.creation_timestamp)
    ).all()
    metrics = [
        LatestMetric(key=k, value=finite(p.value, False), step=p.step, timestamp=p.timestamp)
        for k, p in sorted(data.metrics.items())
    ]
    return RunDetail(
        **_run_fields(run),
        experiment_name=exp.name if exp is not None else "",
        description=data.tags.get(NOTE_TAG, ""),
        params=dict(sorted(data.params.items())),
        tags=dict(sorted(data.tags.items())),
        metrics=metrics,
        inputs=[
            RunInputRead(
                name=i.name,
                digest=i.digest,
                source_type=i.source_type,
                source=i.source,
                context=i.context,
                tags=dict(i.tags or {}),
                dataset_version_id=i.dataset_version_id,
                model_id=i.model_id,
            )
            for i in data.inputs
        ],
        job=job,
        parent=parent,
        children=[_brief(c) for c in children],
        child_count=child_count,
        logged_models=[
            LoggedModelRead(
                id=m.id,
                name=m.name,
                status=m.status,
                model_type=m.model_type,
                artifact_location=m.artifact_location,
                creation_timestamp=m.creation_timestamp,
            )
            for m in models
        ],
        registered_versions=_registered_versions(s, access, run.id),
        artifact_root=svc.run_artifact_key(run),
    )


def _registered_versions(s: Session, access: WorkspaceAccess, run_id: str) -> list[RegisteredVersionRef]:
    rows = s.execute(
        select(RegisteredModel.name, ModelVersion.version, ModelVersion.status)
        .join(RegisteredModel, RegisteredModel.id == ModelVersion.registered_model_id)
        .where(ModelVersion.run_id == run_id, ModelVersion.workspace_id == access.workspace.id)
        .order_by(RegisteredModel.name, ModelVersion.version)
    )
    return [
        RegisteredVersionRef(model=name, version=version, status=status) for name, version, status in rows
    ]


def runs_in_workspace(s: Session, access: WorkspaceAccess, run_ids: Sequence[str], *, loc: str) -> list[Run]:
    """The runs, in the order given; a 404 naming every id not in the workspace."""
    unique = list(dict.fromkeys(run_ids))
    found = {
        r.id: r
        for r in s.scalars(select(Run).where(Run.id.in_(unique), Run.workspace_id == access.workspace.id))
    }
    missing = [rid for rid in unique if rid not in found]
    if missing:
        raise ResourceDoesNotExist(
            f"No run with id {', '.join(missing)} in workspace {access.workspace.slug!r}.",
            errors=[{"loc": ["body", loc], "msg": f"unknown run {rid}"} for rid in missing],
        )
    return [found[rid] for rid in unique]


def compare_runs(s: Session, access: WorkspaceAccess, run_ids: Sequence[str]) -> RunsComparison:
    """Params side by side (each key flagged when the runs differ) and latest metrics with their range."""
    runs = runs_in_workspace(s, access, run_ids, loc="run_ids")
    ids = [r.id for r in runs]
    data = svc.run_data(s, ids, inputs=False)
    param_keys = sorted({k for d in data.values() for k in d.params})
    metric_keys = sorted({k for d in data.values() for k in d.metrics})
    params = []
    for key in param_keys:
        values = {rid: data[rid].params.get(key) for rid in ids}
        params.append(ParamDiff(key=key, values=values, differs=len(set(values.values())) > 1))
    metrics = []
    for key in metric_keys:
        mvalues: dict[str, float | None] = {}
        for rid in ids:
            point = data[rid].metrics.get(key)
            mvalues[rid] = None if point is None else finite(point.value, False)
        present = [v for v in mvalues.values() if v is not None]
        metrics.append(
            MetricCompare(
                key=key,
                values=mvalues,
                differs=len(set(mvalues.values())) > 1,
                min=min(present) if present else None,
                max=max(present) if present else None,
            )
        )
    return RunsComparison(runs=[run_read(r) for r in runs], params=params, metrics=metrics)

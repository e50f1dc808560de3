"""The tracking store under the facade: filter grammar, search compiled to SQL, history reads, migration."""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, func, inspect, select, text
from sqlalchemy.engine import make_url

from dais.db import Database, create_database, downgrade, upgrade
from dais.db.engine import normalize_url
from dais.tenancy import Role, WorkspaceAccess, require_workspace
from dais.tenancy.access import Principal
from dais.tenancy.service import get_user
from dais.tracking import history, queries, search, service
from dais.tracking.errors import InvalidParameterValue, ResourceDoesNotExist
from dais.tracking.models import Run, RunMetric
from dais.tracking.service import MetricIn, ParamIn, TagIn
from tests.conftest import TEST_DB_ENV, World

# -- the grammar (no database) ---------------------------------------------------------------------------


def test_filter_grammar_reads_mlflow_filters() -> None:
    clauses = search.parse_run_filter(
        "metrics.acc > 0.9 AND params.lr = '0.1' AND tags.`team name` LIKE '%vision%' "
        "and attributes.status = \"FINISHED\" AND run_name ILIKE 'x%' AND attributes.run_id IN ('a', 'b') "
        "AND datasets.name = 'train' AND tags.mlflow.parentRunId IS NOT NULL AND metric.`val-loss` <= -1e-3 "
        "AND attributes.start_time >= 100 AND params.missing IS NULL"
    )
    assert [(c.type, c.key, c.comparator, c.value) for c in clauses] == [
        ("metric", "acc", ">", 0.9),
        ("parameter", "lr", "=", "0.1"),
        ("tag", "team name", "LIKE", "%vision%"),
        ("attribute", "status", "=", "FINISHED"),
        ("attribute", "run_name", "ILIKE", "x%"),
        ("attribute", "run_id", "IN", ["a", "b"]),
        ("dataset", "name", "=", "train"),
        ("tag", "mlflow.parentRunId", "IS NOT NULL", None),
        ("metric", "val-loss", "<=", -0.001),
        ("attribute", "start_time", ">=", 100.0),
        ("parameter", "missing", "IS NULL", None),
    ]
    order = search.parse_run_order_by(["metrics.acc DESC", "attributes.start_time", "params.`x y` asc"])
    assert [(o.type, o.key, o.ascending) for o in order] == [
        ("metric", "acc", False),
        ("attribute", "start_time", True),
        ("parameter", "x y", True),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.acc > 'high'", "Expected numeric value type for metric"),
        ("params.lr > 1", "Invalid comparator '>'"),
        ("colour.x = 'a'", "Invalid entity type 'colour'"),
        ("attributes.colour = 'a'", "Invalid attribute key 'colour'"),
        ("metrics.a = 1 OR metrics.b = 2", "Invalid clause(s) in filter string: 'OR'"),
        ("metrics.a = 1 AND", "ends too early"),
        ("params.lr = 0.1", "Expected a quoted string value for parameter"),
        ("attributes.status IN ('A', 1)", "expected string value"),
        ("attributes.status IN ('A')", "Only ['run_id'] attributes support"),
        ("metrics.a IS NULL", "only supported for tags and params"),
        ("metrics.a ~ 1", "unexpected text"),
    ],
)
def test_filter_grammar_refuses_bad_filters(text: str, message: str) -> None:
    with pytest.raises(InvalidParameterValue) as exc:
        search.parse_run_filter(text)
    assert message in exc.value.detail


def test_order_by_and_page_tokens_refuse_bad_input() -> None:
    for items, message in [
        (["metrics.acc sideways"], "Could not be parsed"),
        (["metrics.a", "metrics.a DESC"], "duplicate"),
        (["datasets.name"], "Invalid identifier type"),
    ]:
        with pytest.raises(InvalidParameterValue, match=message):
            search.parse_run_order_by(items)
    assert search.decode_page_token(search.encode_page_token(40)) == 40
    with pytest.raises(InvalidParameterValue, match="page token"):
        search.decode_page_token("not-a-token")


# -- the store --------------------------------------------------------------------------------------------


@pytest.fixture
def access(db: Database, world: World) -> WorkspaceAccess:
    owner = world.user("owner")
    world.workspace("lab", owner)
    with db.session() as s:
        return require_workspace(s, Principal(get_user(s, "owner"), "password"), "lab", Role.editor)


def test_search_runs_in_sql_matches_mlflow_semantics(db: Database, access: WorkspaceAccess) -> None:
    with db.session() as s:
        exp = service.create_experiment(s, access, "grid")
        expected: dict[str, dict[str, object]] = {}
        for i in range(60):
            run = service.create_run(s, access, str(exp.id), name=f"r{i:02d}", start_time=1000 + i)
            model = ["Forest", "forest", "linear"][i % 3]
            metrics = [MetricIn("acc", i / 60, 1, 0)] if i % 5 else [MetricIn("acc", math.nan, 1, 0)]
            tags = [TagIn("model", model)] if i % 4 else []
            service.log_batch(s, access, run.id, metrics=metrics, params=[ParamIn("i", str(i))], tags=tags)
            expected[run.name] = {"acc": None if i % 5 == 0 else i / 60, "model": model if i % 4 else None}
        service.create_run(s, access, str(exp.id), name="bare", start_time=999)
        expected["bare"] = {"acc": None, "model": None}

    def names(filter_: str | None = None, order: tuple[str, ...] = (), max_results: int = 1000) -> list[str]:
        with db.session(write=False) as s:
            runs, _ = service.search_runs(
                s, access, [str(exp.id)], filter=filter_, order_by=order, max_results=max_results
            )
            return [r.name for r in runs]

    def where(pred: object) -> set[str]:
        return {n for n, v in expected.items() if pred(v)}  # type: ignore[operator]

    assert set(names("metrics.acc > 0.5")) == where(lambda v: v["acc"] is not None and v["acc"] > 0.5)
    assert set(names("tags.model LIKE 'F%'")) == where(lambda v: v["model"] == "Forest")  # case-sensitive
    assert set(names("tags.model ILIKE 'f%'")) == where(lambda v: v["model"] in ("Forest", "forest"))
    assert set(names("tags.model != 'linear'")) == where(lambda v: v["model"] in ("Forest", "forest"))
    assert set(names("tags.model IS NULL")) == where(lambda v: v["model"] is None)
    assert names("params.i = '7' AND attributes.run_name = 'r07'") == ["r07"]
    assert set(names("attributes.start_time < 1003")) == {"bare", "r00", "r01", "r02"}
    by_acc = names(order=("metrics.acc DESC",))
    valued = sorted(where(lambda v: v["acc"] is not None), key=lambda n: -expected[n]["acc"])  # type: ignore[operator]
    assert by_acc[: len(valued)] == valued
    assert by_acc[-1] == "bare"  # no metric: after the NaN ones, last
    assert names(order=("start_time",))[:2] == ["bare", "r00"]
    assert names(max_results=5) == ["r59", "r58", "r57", "r56", "r55"]  # newest first by default
    with db.session(write=False) as s:
        assert service.count_runs(s, access, [str(exp.id)], "metrics.acc >= 0") == 48
        with pytest.raises(InvalidParameterValue, match="max_results"):
            service.search_runs(s, access, [str(exp.id)], max_results=50001)


def test_history_reads_downsample_and_sample(db: Database, access: WorkspaceAccess) -> None:
    with db.session() as s:
        exp = service.create_experiment(s, access, "curves")
        run = service.create_run(s, access, str(exp.id))
        values = [math.sin(i / 50) for i in range(3000)]
        values[1234] = 99.0  # a spike must survive downsampling
        for start in range(0, 3000, 1000):
            batch = [MetricIn("loss", values[i], 10_000 + i, i) for i in range(start, start + 1000)]
            service.log_batch(s, access, run.id, metrics=batch)
    with db.session(write=False) as s:
        full = history.metric_history(s, access, run.id, "loss")
        assert [p.step for p in full] == list(range(3000))
        chart = history.metric_history(s, access, run.id, "loss", max_points=100)
        assert len(chart) <= 102
        assert chart[0].step == 0
        assert chart[-1].step == 2999
        assert 99.0 in [p.value for p in chart]
        assert min(p.value for p in chart) == min(values)
        sample = history.metric_history_bulk_interval(s, access, [run.id], "loss", max_results=10)
        assert [p.step for p in sample][0::9] == [0, 2999]
        assert len(sample) == 10
        last = history.metric_history_bulk_interval(s, access, [run.id], "loss", max_results=1)
        assert [p.step for p in last] == [2999]
        page, token = history.metric_history_page(s, access, run.id, "loss", max_results=2000)
        rest, end = history.metric_history_page(s, access, run.id, "loss", page_token=token)
        assert len(page) + len(rest) == 3000
        assert end is None
        with pytest.raises(ResourceDoesNotExist):
            history.metric_history(s, access, "f" * 32, "loss")
        with pytest.raises(InvalidParameterValue, match="both must be specified"):
            history.metric_history_bulk_interval(s, access, [run.id], "loss", start_step=1)


def test_a_repeated_metric_point_is_stored_once_across_batches(db: Database, access: WorkspaceAccess) -> None:
    nan = math.nan
    points = [MetricIn("m", 1.0, 10, 0), MetricIn("m", nan, 11, 1), MetricIn("m", 2.0, 12, 2)]
    with db.session() as s:
        exp = service.create_experiment(s, access, "repeats")
        run = service.create_run(s, access, str(exp.id))
        service.log_batch(s, access, run.id, metrics=points)
    with db.session() as s:  # later requests repeat them (a batch also brings a new point)
        service.log_batch(s, access, run.id, metrics=[*points, MetricIn("m", 3.0, 13, 3)])
        service.log_metric(s, access, run.id, MetricIn("m", nan, 11, 1))
        service.log_metric(s, access, run.id, MetricIn("m", 1.0, 10, 0))
        service.log_metric(s, access, run.id, MetricIn("m", 1.0, 99, 0))  # another time: another point
        # MLflow 3's log_model re-logs the points for the model: its metrics, not more history
        relog = [MetricIn(m.key, m.value, m.timestamp, m.step, model_id="m-1") for m in points]
        service.log_batch(s, access, run.id, metrics=relog)
        service.log_batch(s, access, run.id, metrics=relog)
        service.log_metric(s, access, run.id, MetricIn("m", 5.0, 14, 4, model_id="m-2"))  # only a model's
        service.log_metric(s, access, run.id, MetricIn("m", 5.0, 14, 4, model_id="m-3"))
    expected: list[tuple[int, int, float, str | None]] = [(0, 10, 1.0, None), (0, 99, 1.0, None)]
    expected += [(1, 11, nan, None), (2, 12, 2.0, None)]
    expected += [(3, 13, 3.0, None), (4, 14, 5.0, "m-2")]

    def shape(points: list[service.MetricPoint]) -> list[tuple[int, int, float, str | None]]:
        return [(p.step, p.timestamp, -1.0 if math.isnan(p.value) else p.value, p.model_id) for p in points]

    want = [(step, ts, -1.0 if math.isnan(v) else v, model) for step, ts, v, model in expected]
    with db.session(write=False) as s:
        assert shape(history.metric_history(s, access, run.id, "m")) == want
        assert len(history.metric_history(s, access, run.id, "m", max_points=2)) <= 4
        sample = history.metric_history_bulk_interval(s, access, [run.id], "m", max_results=100)
        assert shape(sample) == want
        page, token = history.metric_history_page(s, access, run.id, "m", max_results=4)
        rest, _ = history.metric_history_page(s, access, run.id, "m", page_token=token)
        assert len(page) + len(rest) == len(want)
        assert queries.count_points(s, run.id, "m") == len(want)
        models = s.execute(select(RunMetric.model_id, func.count()).group_by(RunMetric.model_id)).all()
        assert dict(models) == {"": 5, "m-1": 3, "m-2": 1, "m-3": 1}  # each model keeps its metrics
        assert service.run_data(s, [run.id])[run.id].metrics["m"].value == 5.0
    with db.session() as s:  # a repeat still needs the run to be there and active
        service.delete_run(s, access, run.id)
    for run_id, error in ((run.id, InvalidParameterValue), ("f" * 32, ResourceDoesNotExist)):
        with db.session() as s, pytest.raises(error):
            service.log_metric(s, access, run_id, MetricIn("m", 1.0, 10, 0))


def test_counts_read_filters_as_in_or_exists_alike(
    db: Database, access: WorkspaceAccess, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.session() as s:
        exp = service.create_experiment(s, access, "counted")
        other = service.create_experiment(s, access, "shares-keys")
        for i in range(24):
            run = service.create_run(s, access, str(exp.id), start_time=i)
            metrics = [MetricIn("acc", math.nan if i % 7 == 0 else i / 24, 1, 0)]
            tags = [TagIn("team", "ab"[i % 2])] if i % 3 else []
            params = [ParamIn("lr", str(i % 4)), ParamIn("only", "x")]
            service.log_batch(s, access, run.id, metrics=metrics, params=params, tags=tags)
        for _ in range(30):  # more "lr" rows elsewhere than the experiment has runs
            run = service.create_run(s, access, str(other.id))
            service.log_batch(s, access, run.id, params=[ParamIn("lr", "1")])
    # filter -> (runs, how a SQLite count over a large experiment reads it: the clause whose key has
    # the fewest rows, unless other experiments hold more of that key than this one has runs)
    filters = {
        "metrics.acc > 0.5": (9, " IN (SELECT run_latest_metrics.run_id"),
        "metrics.acc != 0.5": (23, " IN (SELECT run_latest_metrics.run_id"),  # NaN too, as in MLflow
        "params.lr = '1'": (6, None),
        "params.only = 'x' AND tags.team LIKE 'a%'": (8, " IN (SELECT run_tags.run_id"),
        "tags.team IS NOT NULL AND metrics.acc <= 0.5": (7, " IN (SELECT run_tags.run_id"),
        "tags.team IS NULL": (8, "NOT IN (SELECT run_tags.run_id"),
    }
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.startswith("SELECT count(*) AS count_1 \nFROM tracking_runs \nWHERE"):
            statements.append(statement)

    sqlite = db.engine.dialect.name == "sqlite"
    with db.session(write=False) as s:
        scope = [Run.experiment_id == exp.id, Run.lifecycle_stage == "active"]
        for text_, (n, _) in filters.items():
            assert service.count_runs(s, access, [str(exp.id)], text_) == n, text_
            clauses = search.parse_run_filter(text_)
            spelled_in = search.run_conditions(clauses, db.engine.dialect.name, members=range(len(clauses)))
            assert s.scalar(select(func.count()).select_from(Run).where(*scope, *spelled_in)) == n, text_
        monkeypatch.setattr(search, "MEMBERSHIP_MIN_RUNS", 10)  # "large" experiments from 10 runs
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            for text_, (n, spelling) in filters.items():
                statements.clear()
                assert search.count_runs(s, scope, search.parse_run_filter(text_)) == n, text_
                count = statements[-1]  # the count itself (SQLite first sizes the scope)
                if sqlite and spelling:
                    assert spelling in count, text_
                    assert count.count(" IN (SELECT") == 1, text_  # one clause at most
                else:  # PostgreSQL plans EXISTS and IN alike: it keeps EXISTS
                    assert " IN (SELECT" not in count, text_
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)


def test_the_longest_param_value_is_stored_and_orders_runs(db: Database, access: WorkspaceAccess) -> None:
    long = "é" * 6000  # 12,000 bytes: more than a PostgreSQL btree entry may hold
    with db.session() as s:
        exp = service.create_experiment(s, access, "long-params")
        runs = [service.create_run(s, access, str(exp.id), name=n) for n in ("long", "short")]
        service.log_param(s, access, runs[0].id, "p", long)
        service.log_param(s, access, runs[1].id, "p", "a")
    with db.session(write=False) as s:
        assert service.run_data(s, [runs[0].id])[runs[0].id].params["p"] == long
        found, _ = service.search_runs(s, access, [str(exp.id)], order_by=["params.p DESC"])
        assert [r.name for r in found] == ["long", "short"]


def test_mark_job_runs_ends_the_runs_of_a_dead_job(db: Database, access: WorkspaceAccess) -> None:
    with db.session() as s:
        exp = service.create_experiment(s, access, "jobs")
        a = service.create_run(s, access, str(exp.id), job_id="J1", status="SCHEDULED")
        b = service.create_run(s, access, str(exp.id), job_id="J1")
        service.update_run(s, access, b.id, status="FINISHED", end_time=5)
        service.log_batch(s, access, a.id, metrics=[MetricIn("m", 1.0, 1, 0)])
    with db.session() as s:
        assert service.mark_job_runs(s, "J1", "KILLED", 99) == 1
    with db.session(write=False) as s:
        assert service.get_run(s, access, a.id).status == "KILLED"
        assert service.get_run(s, access, b.id).status == "FINISHED"
        assert service.run_data(s, [a.id])[a.id].metrics["m"].value == 1.0


# -- the migration -------------------------------------------------------------------------------------------

TRACKING_TABLES = {
    "experiments",
    "experiment_tags",
    "tracking_runs",
    "run_params",
    "run_tags",
    "run_metrics",
    "run_latest_metrics",
    "run_inputs",
    "run_outputs",
}


@pytest.fixture
def empty_db_url(tmp_path: Path, _db_template: object) -> Iterator[str]:
    """A database with no schema (``_db_template`` keeps this test in the PostgreSQL pass)."""
    pg = os.environ.get(TEST_DB_ENV)
    if not pg or pg.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin = create_engine(normalize_url(pg), isolation_level="AUTOCOMMIT")
    name = f"dais_tr_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalize_url(pg)).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migration_0008_creates_and_drops_the_tracking_tables(empty_db_url: str) -> None:
    def tables_and_indexes() -> tuple[set[str], set[str]]:
        db = create_database(empty_db_url)
        try:
            insp = inspect(db.engine)
            names = set(insp.get_table_names())
            indexes = {i["name"] for t in names & TRACKING_TABLES for i in insp.get_indexes(t)}
            return names, {i for i in indexes if i}
        finally:
            db.dispose()

    upgrade(empty_db_url, "0008")
    names, indexes = tables_and_indexes()
    assert names >= TRACKING_TABLES
    assert {
        "ix_run_metrics_point",
        "ix_run_latest_metrics_key_value",
        "ix_run_tags_key",
        "ix_tracking_runs_experiment",
    } <= indexes
    # SQLite indexes a param's full value; PostgreSQL's btree would refuse a long one
    sqlite = empty_db_url.startswith("sqlite")
    assert ("ix_run_params_key_value" in indexes, "ix_run_params_key" in indexes) == (sqlite, not sqlite)
    downgrade(empty_db_url, "0007")
    assert not (tables_and_indexes()[0] & TRACKING_TABLES)
    upgrade(empty_db_url, "0008")
    assert tables_and_indexes()[0] >= TRACKING_TABLES

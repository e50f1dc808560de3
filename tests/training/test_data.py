"""From a dataset's columns to training arrays: the column checks (422 naming the field), the arrays
(targets without a value left out, text classes as codes), and a pipeline's transforms applied."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from dais.core.errors import InvalidInput
from dais.pipelines.datasets import ArrowDatasetSource, ParquetFolderResolver, table_schema
from dais.pipelines.graph import PipelineGraph
from dais.pipelines.runner import run_pipeline
from dais.pipelines.transforms import TransformChain, chain_for
from dais.training.data import apply_chain, load_arrays, plan_columns, transformed_schema


def _table(rows: int = 40) -> pa.Table:
    start = datetime(2024, 1, 1)
    return pa.table(
        {
            "age": pa.array([None if i == 3 else float(20 + i) for i in range(rows)], pa.float64()),
            "visits": pa.array(range(rows), pa.int32()),
            "vip": pa.array([i % 3 == 0 for i in range(rows)], pa.bool_()),
            "city": pa.array([["paris", "lyon"][i % 2] for i in range(rows)], pa.string()),
            "joined": pa.array([start + timedelta(days=i) for i in range(rows)], pa.timestamp("us")),
            "label": pa.array([None if i == 5 else ["no", "yes"][i % 2] for i in range(rows)], pa.string()),
            "spend": pa.array([1.5 * i for i in range(rows)], pa.float64()),
        }
    )


SCHEMA = table_schema(_table().schema)


def _loc(err: pytest.ExceptionInfo[InvalidInput]) -> list[object]:
    return list(err.value.errors[0]["loc"])


def test_features_default_to_the_numeric_columns() -> None:
    plan = plan_columns(SCHEMA, task="classification", target="label", features=None)
    assert plan.features == ["age", "visits", "vip", "spend"]
    assert plan.read == ["age", "visits", "vip", "spend", "label"]


CLS = {"task": "classification", "target": "label"}
WRONG: list[tuple[dict[str, object], list[object], str]] = [
    ({**CLS, "target": "nope", "features": None}, ["body", "target"], "no column 'nope'"),
    ({**CLS, "target": None, "features": None}, ["body", "target"], "needs a target"),
    ({"task": "regression", "target": "city", "features": None}, ["body", "target"], "must be numeric"),
    ({**CLS, "features": ["age", "city"]}, ["body", "features", 1], "not a number"),
    ({**CLS, "features": ["age", "ghost"]}, ["body", "features", 1], "no column 'ghost'"),
    ({**CLS, "features": ["label"]}, ["body", "features", 0], "also be a feature"),
    ({"task": "clustering", "target": "label", "features": None}, ["body", "target"], "no target"),
    ({**CLS, "features": None, "time_column": "city"}, ["body", "split", "column"], "date, a time or"),
]


@pytest.mark.parametrize(("kwargs", "loc", "words"), WRONG)
def test_wrong_columns_are_refused_naming_the_field(
    kwargs: dict[str, object], loc: list[object], words: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        plan_columns(SCHEMA, **kwargs)  # type: ignore[arg-type]
    assert err.value.status == 422
    assert _loc(err) == loc
    assert words in err.value.detail


def test_no_numeric_column_at_all_is_refused() -> None:
    schema = table_schema(pa.schema([("city", pa.string()), ("label", pa.int64())]))
    with pytest.raises(InvalidInput) as err:
        plan_columns(schema, task="classification", target="label", features=None)
    assert _loc(err) == ["body", "features"]


def test_arrays_leave_out_rows_without_a_target_and_code_the_classes() -> None:
    table = _table()
    plan = plan_columns(
        SCHEMA, task="classification", target="label", features=["age", "vip"], time_column="joined"
    )
    data = load_arrays(table, plan, task="classification")
    assert data.classes == ["no", "yes"]
    assert data.rows_dropped == 1
    assert data.X.shape == (39, 2)
    assert data.X.dtype == np.float64
    assert np.isnan(data.X[3, 0])  # a missing feature stays NaN
    assert data.X[0, 1] == 1.0  # booleans are 0/1
    assert data.y is not None
    assert data.y.tolist()[:5] == [0, 1, 0, 1, 0]
    assert data.time is not None
    assert data.time[1] - data.time[0] == 86_400 * 1_000_000  # microseconds


def test_regression_leaves_out_missing_targets() -> None:
    table = _table()
    plan = plan_columns(SCHEMA, task="regression", target="age", features=["visits"])
    data = load_arrays(table, plan, task="regression")
    assert data.rows_dropped == 1
    assert data.y is not None
    assert not np.isnan(data.y).any()


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> TransformChain:
    """impute age, then one-hot city: fitted by a real pipeline run."""
    root = tmp_path_factory.mktemp("datasets")
    (root / "shop" / "v1").mkdir(parents=True)
    pq.write_table(_table(), root / "shop" / "v1" / "part-0.parquet")
    graph = PipelineGraph.model_validate(
        {
            "nodes": [
                {"id": "src", "operator": "source", "params": {"dataset": "shop"}},
                {"id": "imp", "operator": "impute", "params": {"columns": ["age"], "strategy": "mean"}},
                {"id": "oh", "operator": "one_hot", "params": {"columns": ["city"]}},
            ],
            "edges": [
                {"source": "src", "source_port": "out", "target": "imp", "target_port": "in"},
                {"source": "imp", "source_port": "out", "target": "oh", "target_port": "in"},
            ],
        }
    )
    result = run_pipeline(graph, resolver=ParquetFolderResolver(root))
    return chain_for(graph, result, "oh")


def test_transforms_turn_a_text_column_into_features(chain: TransformChain, tmp_path: Path) -> None:
    after = transformed_schema(SCHEMA, chain)
    encoded = [c for c in after.names() if c.startswith("city")]
    assert len(encoded) == 2
    plan = plan_columns(
        SCHEMA, task="classification", target="label", features=["age", *encoded], chain=chain
    )
    assert set(plan.read) == {"age", "city", "label"}
    with pytest.raises(InvalidInput):  # without the transforms, city is text
        plan_columns(SCHEMA, task="classification", target="label", features=["age", "city"])
    reader = ArrowDatasetSource(ds.dataset(_table()))
    data = load_arrays(apply_chain(reader, chain, plan.columns, tmp_path), plan, task="classification")
    assert not np.isnan(data.X).any()  # imputed
    assert set(np.unique(data.X[:, 1:]).tolist()) == {0.0, 1.0}
    assert data.X[:, 1:].sum(axis=1).tolist() == [1.0] * len(data.X)


def test_transforms_that_read_a_missing_column_name_it(chain: TransformChain) -> None:
    schema = table_schema(pa.schema([("age", pa.float64()), ("label", pa.string())]))
    with pytest.raises(InvalidInput) as err:
        plan_columns(schema, task="classification", target="label", features=None, chain=chain)
    assert _loc(err) == ["body", "transforms"]
    assert "'city'" in err.value.detail


def test_arrays_from_a_parquet_file(tmp_path: Path) -> None:
    pq.write_table(_table(), tmp_path / "t.parquet")
    table = pq.read_table(tmp_path / "t.parquet")
    plan = plan_columns(SCHEMA, task="clustering", target=None, features=["visits", "spend"])
    data = load_arrays(table, plan, task="clustering")
    assert data.y is None
    assert data.X.shape == (40, 2)


def test_default_features_leave_out_identifier_columns_unless_named() -> None:
    table = _table().append_column("patient_id", pa.array(range(40), pa.int64()))
    table = table.append_column("sampleId", pa.array(range(40), pa.int32()))
    table = table.append_column("site_id", pa.array([float(i % 4) for i in range(40)], pa.float64()))
    table = table.append_column("lab id", pa.array([i + 0.5 for i in range(40)], pa.float64()))
    table = table.append_column("paid", pa.array(range(40), pa.int64()))  # ends in "id": not an identifier
    schema = table_schema(table.schema)
    stats = {
        "site_id": {"name": "site_id", "rows": 40, "nulls": 0, "distinct": 4},  # repeats: a real feature
        "lab id": {"name": "lab id", "rows": 40, "nulls": 0, "distinct": 40},  # unique in the sample
    }
    plan = plan_columns(schema, task="classification", target="label", features=None, stats=stats)
    assert plan.left_out == ["patient_id", "sampleId", "lab id"]
    assert plan.features == ["age", "visits", "vip", "spend", "site_id", "paid"]
    assert "patient_id" not in plan.read
    # without statistics, a float named like an identifier stays a feature; integer keys do not
    plan = plan_columns(schema, task="regression", target="spend", features=None, time_column="visits")
    assert plan.left_out == ["patient_id", "sampleId"]
    assert "visits" not in plan.features
    assert "lab id" in plan.features
    named = plan_columns(schema, task="classification", target="label", features=["patient_id", "age"])
    assert (named.features, named.left_out) == (["patient_id", "age"], [])


def test_only_identifiers_left_says_so() -> None:
    schema = table_schema(pa.schema([("id", pa.int64()), ("label", pa.string())]))
    with pytest.raises(InvalidInput) as err:
        plan_columns(schema, task="classification", target="label", features=None)
    assert "identifier columns are left out unless named: id" in err.value.detail

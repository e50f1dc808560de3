"""Conformance of every registered operator on every engine.

For each operator (with example params below: a new operator must add an entry) and each engine:

- ``infer`` gives the schema the engine really produces (names, order and types of every table
  output; an ``open`` schema's listed columns must be there with their types);
- a fitting operator's two executions agree: ``transform_expr`` run by the engine and
  ``transform_arrays`` on the same rows as NumPy columns give equal outputs, nulls included.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from dais.pipelines.datasets import ArrowDatasetSource, ParquetFolderResolver, table_schema
from dais.pipelines.engines import EngineSession, engines, get_engine
from dais.pipelines.operators.base import BuildContext, FittingOperator, PortType, TableSchema, operators
from dais.pipelines.operators.io import resolving_schemas
from tests.pipelines.engine.conftest import people, write_dataset

#: Example params per operator id (inputs ``in``, ``in2``... all get the same ``people`` table).
EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "source": [{"dataset": "people"}],
    "sink": [{"dataset": "out"}],
    "aggregate": [
        {"group_by": ["city"], "aggregations": [{"function": "count"}, {"function": "mean", "column": "age"}]}
    ],
    "bin": [{"columns": ["age", "income"], "n_bins": 4}, {"columns": ["age"], "strategy": "uniform"}],
    "cast": [{"types": {"id": "float64", "label": "string"}}],
    "clip_outliers": [{"columns": ["income", "age"]}, {"columns": ["age"], "method": "zscore"}],
    "correlation_filter": [{"columns": ["age", "income", "id"], "threshold": 0.9}],
    "date_parts": [{"columns": ["joined"]}],
    "deduplicate": [{"subset": ["city"]}],
    "drop_missing": [{}, {"columns": ["age"]}],
    "filter": [{"expression": "age > 30"}],
    "formula": [{"formulas": [{"name": "ratio", "expression": "income / 2"}]}],
    "hashing": [{"columns": ["city"], "n_features": 8}],
    "impute": [
        {"columns": ["age"], "strategy": "mean"},
        {"columns": ["age"], "strategy": "median"},
        {"columns": ["city"], "strategy": "mode"},
        {"columns": ["city"], "strategy": "constant", "fill_value": "unknown"},
    ],
    "join": [{"left_on": ["id"]}],
    "math": [{"columns": ["income"]}],
    "normalize": [{"columns": ["age", "income"]}],
    "one_hot": [{"columns": ["city"]}, {"columns": ["city", "label"], "handle_unknown": "other"}],
    "ordinal": [{"columns": ["city"]}],
    "profile": [{}],
    "rename": [{"mapping": {"age": "years"}}],
    "sample": [{"method": "first", "n": 10}, {"method": "random", "fraction": 0.5, "seed": 1}],
    "scale": [
        {"columns": ["age", "income"]},
        {"columns": ["age"], "method": "minmax"},
        {"columns": ["income"], "method": "robust"},
    ],
    "select": [{"columns": ["id", "city"]}],
    "select_k_best": [{"columns": ["age", "income", "id"], "label": "label", "k": 2}],
    "sort": [{"by": ["age"]}],
    "split": [{"train_ratio": 0.7, "seed": 1}],
    "sql": [{"query": "select city, count(*) as n from t1 group by city"}],
    "union": [{}],
    "variance_threshold": [{"columns": ["age", "income"]}],
}

ENGINES = engines().names()

#: Known gaps of an engine (strict: the test fails once the gap is closed, so remove the entry then).
KNOWN_GAPS: dict[tuple[str, str], str] = {
    ("date_parts", "polars"): "Ibis's Polars compiler gives int8 date parts where DuckDB gives int32",
    (
        "hashing",
        "polars",
    ): "Ibis's Polars compiler has no substring with a column argument (NotSupportedByEngine)",
}


class _Ctx(BuildContext):
    def __init__(self, session: EngineSession) -> None:
        self.node_id, self.variables, self.seed, self.sample = "node", {}, 0, False
        self.session = session
        self.lines: list[str] = []

    def execute(self, expr: ibis.Table) -> pa.Table:
        return self.session.execute(expr)

    def source(self, dataset: str, version: int | None, partitions: list[str] | str | None) -> ibis.Table:
        raise AssertionError("not used")

    def log(self, message: str) -> None:
        self.lines.append(message)


def _cases() -> Iterator[Any]:
    for op_id in operators().names():
        for i, params in enumerate(EXAMPLES.get(op_id, [None])):  # type: ignore[list-item]
            for engine in ENGINES:
                gap = KNOWN_GAPS.get((op_id, engine))
                marks = [pytest.mark.xfail(reason=gap, strict=True)] if gap else []
                yield pytest.param(op_id, params, engine, id=f"{op_id}-{i}-{engine}", marks=marks)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("conformance")
    write_dataset(root, "people", people(120))
    return root


def _same_type(a: str, b: str) -> bool:
    return ibis.dtype(a).copy(nullable=True) == ibis.dtype(b).copy(nullable=True)


def _check_schema(inferred: TableSchema, produced: pa.Schema, where: str) -> None:
    actual = table_schema(produced)
    if inferred.open:
        for col in inferred.columns:
            found = actual.get(col.name)
            assert found is not None, f"{where}: inferred column {col.name!r} is missing"
            assert _same_type(col.dtype, found.dtype), f"{where}: {col.name}: {col.dtype} != {found.dtype}"
        return
    assert inferred.names() == actual.names(), f"{where}: columns differ"
    for col, found in zip(inferred.columns, actual.columns, strict=True):
        assert _same_type(col.dtype, found.dtype), (
            f"{where}: {col.name}: inferred {col.dtype}, got {found.dtype}"
        )


def _numpy_columns(table: pa.Table) -> dict[str, np.ndarray]:
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def _assert_equal_column(name: str, batch: pa.ChunkedArray, online: np.ndarray) -> None:
    expected = batch.to_pylist()
    got = online.tolist()
    assert len(expected) == len(got), name
    for i, (e, g) in enumerate(zip(expected, got, strict=True)):
        e_null = e is None or (isinstance(e, float) and np.isnan(e))
        g_null = g is None or (isinstance(g, float) and np.isnan(g))
        assert e_null == g_null, f"{name}[{i}]: batch {e!r}, online {g!r}"
        if e_null:
            continue
        if isinstance(e, float) or isinstance(g, float):
            assert float(g) == pytest.approx(float(e), rel=1e-9, abs=1e-9), f"{name}[{i}]: {e!r} != {g!r}"
        else:
            assert e == g, f"{name}[{i}]: batch {e!r}, online {g!r}"


@pytest.mark.parametrize(("op_id", "params", "engine"), list(_cases()))
def test_operator_conforms(
    op_id: str, params: dict[str, Any] | None, engine: str, data: Path, tmp_path: Path
) -> None:
    assert params is not None, (
        f"add example params for {op_id!r} to EXAMPLES in tests/contracts/test_operators.py"
    )
    op = operators().get(op_id)()
    p = op.Params.model_validate(params)
    resolver = ParquetFolderResolver(data)
    source_schema = resolver.schema("people", None)
    table_ports = [port for port in op.inputs if port.type is PortType.table]
    with resolving_schemas(resolver.schema):
        inferred = op.infer(p, {port.name: source_schema for port in table_ports})
    with get_engine(engine).session(tmp_path) as session:
        reader = ArrowDatasetSource(ds.dataset(str(data / "people" / "v1"), format="parquet"))
        tables = {port.name: session.source(reader, name=port.name) for port in table_ports}
        if op_id == "source":
            tables, outputs = {}, {"out": session.source(reader, name="src")}
        else:
            outputs = op.build(_Ctx(session), p, tables)
        for port in op.outputs:
            if port.type is PortType.table:
                schema = inferred.get(port.name)
                assert schema is not None, f"infer gave no schema for output {port.name!r}"
                produced = session.execute(outputs[port.name])
                _check_schema(schema, produced.schema, f"{op_id}.{port.name} on {engine}")
            elif port.type is PortType.report:
                import json

                json.dumps(outputs[port.name])
        if isinstance(op, FittingOperator):
            fitted = op.fit(_Ctx(session), p, tables["in"])
            rows = session.execute(tables["in"])
            batch = session.execute(op.transform_expr(fitted, tables["in"]))
            online = op.transform_arrays(fitted, _numpy_columns(rows))
            assert set(batch.column_names) <= set(online), (
                f"online output lacks {set(batch.column_names) - set(online)}"
            )
            for name in batch.column_names:
                _assert_equal_column(name, batch.column(name), online[name])


def test_every_operator_has_examples() -> None:
    missing = [name for name in operators().names() if name not in EXAMPLES]
    assert not missing, f"add example params for {missing} to EXAMPLES"

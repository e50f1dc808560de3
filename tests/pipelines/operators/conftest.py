"""A small in-memory harness for operator tests: a DuckDB (Ibis) backend, a BuildContext over it, and
helpers that run an operator end to end and compare ``infer`` with the executed schema."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pytest

from dais.pipelines.operators._common import from_ibis_schema
from dais.pipelines.operators.base import (
    BuildContext,
    FittedTransform,
    FittingOperator,
    Operator,
    PortType,
    TableSchema,
)


class LocalContext(BuildContext):
    """A BuildContext over one in-memory Ibis DuckDB backend (sources: Arrow tables by dataset name)."""

    def __init__(self, con: Any, *, seed: int = 7, variables: Mapping[str, str] | None = None) -> None:
        self.con = con
        self.node_id = "n1"
        self.variables = dict(variables or {})
        self.seed = seed
        self.sample = False
        self.lines: list[str] = []
        self.sources: dict[str, pa.Table] = {}

    def execute(self, expr: ibis.Table) -> pa.Table:
        result: pa.Table = self.con.to_pyarrow(expr)
        return result

    def source(self, dataset: str, version: int | None, partitions: list[str] | str | None) -> ibis.Table:
        self.lines.append(f"source {dataset} v{version} {partitions}")
        return ibis.memtable(self.sources[dataset])

    def log(self, message: str) -> None:
        self.lines.append(message)


@dataclass
class Harness:
    con: Any
    ctx: LocalContext
    tables: dict[str, pa.Table] = field(default_factory=dict)

    def table(self, data: pa.Table | dict[str, list[Any]], name: str | None = None) -> ibis.Table:
        """``data`` as an in-memory Ibis table (the backend registers it when an expression runs)."""
        arrow = data if isinstance(data, pa.Table) else pa.table(data)
        self.tables[name or f"t{len(self.tables)}"] = arrow
        return ibis.memtable(arrow)

    def run(
        self, op: Operator, params: dict[str, Any], inputs: Mapping[str, ibis.Table]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Validate params, infer, build, execute; assert every table output matches its inferred schema.

        Returns (executed outputs: pa.Table for tables, the value otherwise, inferred schemas).
        """
        model = op.Params.model_validate(params)
        schemas = {port: from_ibis_schema(t.schema()) for port, t in inputs.items()}
        inferred = op.infer(model, schemas)
        built = op.build(self.ctx, model, inputs)
        results: dict[str, Any] = {}
        for port in op.outputs:
            value = built[port.name]
            if port.type is PortType.table:
                arrow = self.ctx.execute(value)
                expected = inferred[port.name]
                assert expected is not None
                assert_schema_matches(expected, arrow)
                results[port.name] = arrow
            else:
                results[port.name] = value
        return results, inferred


def assert_schema_matches(expected: TableSchema, arrow: pa.Table) -> None:
    """``infer`` agrees with what ran: the same columns and dtypes (an open schema: a prefix of them)."""
    actual = from_ibis_schema(ibis.Schema.from_pyarrow(arrow.schema))
    got = [(c.name, c.dtype) for c in actual.columns]
    want = [(c.name, c.dtype) for c in expected.columns]
    if expected.open:
        assert [g for g in got if g[0] in {w[0] for w in want}] == want, (got, want)
    else:
        assert got == want


def arrays_of(table: pa.Table) -> dict[str, np.ndarray]:
    """Columns as NumPy arrays, the convention of ``transform_arrays`` (Arrow's own conversion)."""
    return {name: table.column(name).to_numpy() for name in table.column_names}


def assert_arrays_equal(expected: pa.Table, arrays: dict[str, np.ndarray]) -> None:
    """The Ibis result and the NumPy result agree column by column (null = NaN/None)."""
    assert list(arrays) == expected.column_names
    for name in expected.column_names:
        want = expected.column(name).to_numpy()
        got = arrays[name]
        if want.dtype.kind == "f" or got.dtype.kind == "f":
            np.testing.assert_allclose(
                np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64), rtol=1e-9, atol=1e-12
            )
        else:
            assert [None if _isnull(v) else v for v in got.tolist()] == [
                None if _isnull(v) else v for v in want.tolist()
            ], name


def _isnull(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def check_fitted(
    harness: Harness, op: FittingOperator, params: dict[str, Any], table: ibis.Table
) -> tuple[pa.Table, FittedTransform]:
    """Run a fitting operator; check infer, the JSON round trip of its state, and NumPy == Ibis."""
    results, _ = harness.run(op, params, {"in": table})
    fitted = results["transform"]
    assert isinstance(fitted, FittedTransform)
    fitted = FittedTransform.model_validate_json(fitted.model_dump_json())
    source = harness.ctx.execute(table)
    assert_arrays_equal(results["out"], op.transform_arrays(fitted, arrays_of(source)))
    return results["out"], fitted


@pytest.fixture(scope="session")
def duckdb_backend() -> Iterator[Any]:
    """One in-memory DuckDB for the session (each test's tables are its own memtables)."""
    con = ibis.duckdb.connect()
    try:
        yield con
    finally:
        con.disconnect()


@pytest.fixture
def harness(duckdb_backend: Any) -> Harness:
    return Harness(duckdb_backend, LocalContext(duckdb_backend))


def people_data() -> pa.Table:
    """Six rows with nulls in every kind of column."""
    return pa.table(
        {
            "id": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
            "g": pa.array(["a", "a", "b", "b", "c", None]),
            "x": pa.array([1.0, None, 3.0, 4.0, 5.0, -6.0]),
            "n": pa.array([1, 2, None, 4, 4, 6], pa.int64()),
            "flag": pa.array([True, None, False, True, True, None]),
        }
    )


@pytest.fixture
def people(harness: Harness) -> ibis.Table:
    return harness.table(people_data(), name="people")


def param_error(op: Operator, params: dict[str, Any], inputs: Mapping[str, TableSchema]) -> str:
    """The field of the ParamError that ``infer`` raises for ``params``."""
    from dais.pipelines.operators.base import ParamError

    model = op.Params.model_validate(params)
    with pytest.raises(ParamError) as info:
        op.infer(model, inputs)
    return info.value.field


def schema_of(table: ibis.Table) -> TableSchema:
    return from_ibis_schema(table.schema())

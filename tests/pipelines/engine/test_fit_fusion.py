"""One pass for the fits of mean imputation then standard scaling, the one-hot output, and the DuckDB
session's compiled-SQL reuse (the tuning of docs/adr/0003-pipeline-engine.md)."""

from __future__ import annotations

from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pytest

from dais.pipelines.datasets import ParquetFolderResolver
from dais.pipelines.operators._fitting import Moments, filled_columns
from dais.pipelines.operators.cleaning import Impute, ImputeParams
from dais.pipelines.operators.scaling import Scale, ScaleParams
from dais.pipelines.runner import FolderSinkWriter, run_pipeline
from tests.pipelines.engine.conftest import ENGINES, chain, people, read_version
from tests.pipelines.operators.conftest import LocalContext

PREP = (
    ("src", "source", {"dataset": "people"}),
    ("imp", "impute", {"columns": ["age", "income"], "strategy": "mean"}),
    ("sc", "scale", {"columns": ["age", "income"], "method": "standard"}),
    ("oh", "one_hot", {"columns": ["city"], "handle_unknown": "other"}),
    ("out", "sink", {"dataset": "prepared"}),
)


def test_filled_moments_equal_the_moments_of_the_filled_values() -> None:
    values = np.array([1.0, np.nan, 4.0, 10.0, np.nan, -3.0])
    present = values[~np.isnan(values)]
    raw = Moments(rows=6, count=4, mean=float(present.mean()), var=float(present.var()))
    for fill in (float(present.mean()), 0.0, 7.5):
        filled = np.where(np.isnan(values), fill, values)
        got = raw.filled(fill)
        assert got.count == 6
        assert got.mean == pytest.approx(filled.mean(), rel=1e-12)
        assert got.var == pytest.approx(filled.var(), rel=1e-12)
    assert Moments(3, 0, None, None).filled(2.0) == Moments(3, 3, 2.0, 0.0)


def test_filled_columns_sees_through_an_imputer_only() -> None:
    t = ibis.table({"a": "float64", "b": "int64", "s": "string"}, name="t")
    imputed = t.mutate(a=t.a.fill_null(1.5), b=t.b.cast("float64").fill_null(2.0))
    found = filled_columns(imputed, ["a", "b"])
    assert found is not None
    parent, sources = found
    assert parent.equals(t)
    assert sources == {"a": ("a", 1.5), "b": ("b", 2.0)}
    assert filled_columns(t, ["a"]) is None  # not a projection
    assert filled_columns(t.mutate(a=t.a * 2), ["a"]) is None  # not a fill
    assert filled_columns(imputed.filter(imputed.a > 0), ["a"]) is None


@pytest.mark.parametrize("engine", ENGINES)
def test_standard_scaling_after_mean_imputation_reuses_the_imputers_pass(
    engine: str, resolver: ParquetFolderResolver, writer: FolderSinkWriter, data_root: Path
) -> None:
    result = run_pipeline(chain(*PREP), engine=engine, resolver=resolver, sink_writer=writer)
    assert result.status == "succeeded", {n: r.error for n, r in result.nodes.items()}
    assert any(line.startswith("Ran an aggregate") for line in result.nodes["imp"].log)
    assert any(line.startswith("Reused an identical aggregate") for line in result.nodes["sc"].log)
    assert not any(line.startswith("Ran an aggregate") for line in result.nodes["sc"].log)
    # the fused statistics are those of the imputed columns
    source = people()
    state = result.transforms["sc"].state
    for name in ("age", "income"):
        values = np.array(source.column(name).to_pylist(), dtype=np.float64)
        filled = np.where(np.isnan(values), np.nanmean(values), values)
        assert state["center"][name] == pytest.approx(filled.mean(), rel=1e-9)
        assert state["scale"][name] == pytest.approx(filled.std(), rel=1e-9)
    written = read_version(data_root, "prepared", 1)
    assert written.schema.field("city_paris").type == pa.bool_()
    assert written.column("city_other").to_pylist() == [v is None for v in source.column("city").to_pylist()]
    ages = np.array(written.column("age").to_pylist())
    assert abs(ages.mean()) < 1e-9
    assert ages.std() == pytest.approx(1.0, rel=1e-9)


def test_scaling_fits_the_same_statistics_with_or_without_an_imputer_below() -> None:
    con = ibis.duckdb.connect()
    try:
        ctx = LocalContext(con)
        table = ibis.memtable(pa.table({"x": [1.0, None, 3.0, 8.0]}))
        params = ScaleParams(columns=["x"])
        direct = Scale().fit(ctx, params, table)
        assert direct.state["center"]["x"] == pytest.approx(4.0)
        assert direct.state["scale"]["x"] == pytest.approx(np.std([1.0, 3.0, 8.0]))
        impute = Impute().fit(ctx, ImputeParams(columns=["x"]), table)
        fused = Scale().fit(ctx, params, Impute().transform_expr(impute, table))
        assert fused.state["center"]["x"] == pytest.approx(4.0)
        assert fused.state["scale"]["x"] == pytest.approx(np.std([1.0, 4.0, 3.0, 8.0]))
    finally:
        con.disconnect()

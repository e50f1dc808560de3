from __future__ import annotations

import ibis
import numpy as np
import pytest

from dais.pipelines.operators.scaling import Math, Normalize, Scale
from tests.pipelines.operators.conftest import Harness, check_fitted, param_error, schema_of


@pytest.mark.parametrize("method", ["standard", "minmax", "robust"])
def test_scale_matches_the_nan_aware_numpy_statistics(
    harness: Harness, people: ibis.Table, method: str
) -> None:
    # what scikit-learn's StandardScaler / MinMaxScaler / RobustScaler compute (nulls ignored)
    out, _ = check_fitted(harness, Scale(), {"columns": ["x", "n"], "method": method}, people)
    data = np.array([[1.0, 1], [np.nan, 2], [3, np.nan], [4, 4], [5, 4], [-6, 6]])
    if method == "standard":
        expected = (data - np.nanmean(data, axis=0)) / np.nanstd(data, axis=0)
    elif method == "minmax":
        low = np.nanmin(data, axis=0)
        expected = (data - low) / (np.nanmax(data, axis=0) - low)
    else:
        q25, q50, q75 = np.nanpercentile(data, [25, 50, 75], axis=0)
        expected = (data - q50) / (q75 - q25)
    got = np.array([out.column("x").to_numpy(), out.column("n").to_numpy()]).T
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_scale_of_a_constant_column_divides_by_one(harness: Harness) -> None:
    t = harness.table({"c": [2.0, 2.0, 2.0]})
    out, fitted = check_fitted(harness, Scale(), {"columns": ["c"]}, t)
    assert out.column("c").to_pylist() == [0.0, 0.0, 0.0]
    assert fitted.state["scale"] == {"c": 1.0}


def test_scale_refuses_a_string_column(people: ibis.Table) -> None:
    assert param_error(Scale(), {"columns": ["g"]}, {"in": schema_of(people)}) == "columns.0"


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_normalize_rows(harness: Harness, people: ibis.Table, norm: str) -> None:
    out, fitted = check_fitted(harness, Normalize(), {"columns": ["x", "n"], "norm": norm}, people)
    assert fitted.state == {}
    x, n = out.column("x").to_pylist()[0], out.column("n").to_pylist()[0]
    assert {"l1": abs(x) + abs(n), "l2": x * x + n * n, "max": max(abs(x), abs(n))}[norm] == pytest.approx(
        1.0
    )


@pytest.mark.parametrize(
    "function", ["log", "log1p", "log10", "log2", "sqrt", "square", "exp", "abs", "reciprocal"]
)
def test_math_functions_give_null_outside_their_domain(
    harness: Harness, people: ibis.Table, function: str
) -> None:
    out, _ = check_fitted(harness, Math(), {"columns": ["x", "n"], "function": function}, people)
    if function in ("log", "log10", "log2", "sqrt"):
        assert out.column("x").to_pylist()[5] is None  # -6

from __future__ import annotations

import ibis
import pytest
from pydantic import ValidationError

from dais.pipelines.operators.cleaning import ClipOutliers, DropMissing, Impute
from tests.pipelines.operators.conftest import Harness, check_fitted, param_error, schema_of


def test_drop_missing_drops_rows_with_any_or_all_nulls(harness: Harness, people: ibis.Table) -> None:
    out, _ = harness.run(DropMissing(), {}, {"in": people})
    assert out["out"].column("id").to_pylist() == [1, 4, 5]
    out, _ = harness.run(DropMissing(), {"columns": ["x", "n"], "how": "all"}, {"in": people})
    assert out["out"].num_rows == 6


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"columns": ["x", "n"]}, {"x": 1.4, "n": 3.4}),
        ({"columns": ["x", "n"], "strategy": "median"}, {"x": 3.0, "n": 4.0}),
        ({"columns": ["g", "n", "flag"], "strategy": "mode"}, {"g": "a", "n": 4, "flag": True}),
        ({"columns": ["g"], "strategy": "constant", "fill_value": "none"}, {"g": "none"}),
        ({"columns": ["n"], "strategy": "constant", "fill_value": 0}, {"n": 0}),
    ],
)
def test_impute_learns_values_and_numpy_matches_ibis(
    harness: Harness, people: ibis.Table, params: dict[str, object], expected: dict[str, object]
) -> None:
    out, fitted = check_fitted(harness, Impute(), params, people)
    assert (
        fitted.state["values"] == pytest.approx(expected)
        if "g" not in expected
        else fitted.state["values"] == expected
    )
    for name in expected:
        assert out.column(name).null_count == 0


def test_impute_refuses_wrong_columns_and_constants(people: ibis.Table) -> None:
    inputs = {"in": schema_of(people)}
    assert param_error(Impute(), {"columns": ["x", "g"], "strategy": "mean"}, inputs) == "columns.1"
    assert (
        param_error(Impute(), {"columns": ["n"], "strategy": "constant", "fill_value": "a"}, inputs)
        == "fill_value"
    )
    with pytest.raises(ValidationError):
        Impute.Params.model_validate({"columns": ["n"], "strategy": "constant"})


@pytest.mark.parametrize(
    "params",
    [
        {"columns": ["x", "n"], "lower_quantile": 0.2, "upper_quantile": 0.8},
        {"columns": ["x", "n"], "method": "zscore", "threshold": 1.0},
    ],
)
def test_clip_outliers_bounds_values(harness: Harness, people: ibis.Table, params: dict[str, object]) -> None:
    out, fitted = check_fitted(harness, ClipOutliers(), params, people)
    lo, hi = fitted.state["bounds"]["x"]
    assert all(lo <= v <= hi for v in out.column("x").to_pylist() if v is not None)
    assert out.column("x").null_count == 1


def test_clip_outliers_params_are_checked(people: ibis.Table) -> None:
    with pytest.raises(ValidationError):
        ClipOutliers.Params.model_validate({"columns": ["x"], "lower_quantile": 0.9, "upper_quantile": 0.1})
    assert param_error(ClipOutliers(), {"columns": ["g"]}, {"in": schema_of(people)}) == "columns.0"

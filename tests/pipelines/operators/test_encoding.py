from __future__ import annotations

import ibis
import numpy as np
import pytest
from pydantic import ValidationError

from dais.pipelines.operators.encoding import Bin, Hashing, OneHot, Ordinal
from tests.pipelines.operators.conftest import Harness, check_fitted, param_error, schema_of


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_bin_codes_values_and_nulls_as_minus_one(harness: Harness, people: ibis.Table, strategy: str) -> None:
    out, fitted = check_fitted(
        harness, Bin(), {"columns": ["x", "n"], "n_bins": 3, "strategy": strategy}, people
    )
    assert len(fitted.state["edges"]["x"]) == 2
    codes = out.column("x").to_pylist()
    assert codes[1] == -1
    assert set(codes) <= {-1, 0, 1, 2}


def test_one_hot_learns_categories(harness: Harness, people: ibis.Table) -> None:
    out, fitted = check_fitted(harness, OneHot(), {"columns": ["g", "n", "flag"]}, people)
    assert fitted.state["categories"] == {"g": ["a", "b", "c"], "n": [1, 2, 4, 6], "flag": [False, True]}
    assert out.column_names == [
        "id",
        "x",
        "g_a",
        "g_b",
        "g_c",
        "n_1",
        "n_2",
        "n_4",
        "n_6",
        "flag_false",
        "flag_true",
    ]
    assert out.column("g_a").to_pylist() == [1, 1, 0, 0, 0, 0]  # the null row is all zeros


def test_one_hot_top_k_with_an_other_column(harness: Harness, people: ibis.Table) -> None:
    params = {"columns": ["g"], "top_k": 1, "handle_unknown": "other"}
    out, _ = check_fitted(harness, OneHot(), params, people)
    assert out.column("g_a").to_pylist() == [1, 1, 0, 0, 0, 0]
    assert out.column("g_other").to_pylist() == [0, 0, 1, 1, 1, 1]


def test_one_hot_schema_is_open_unless_categories_are_given(people: ibis.Table) -> None:
    inputs = {"in": schema_of(people)}
    learned = OneHot().infer(OneHot.Params.model_validate({"columns": ["g"]}), inputs)["out"]
    assert learned is not None
    assert learned.open
    assert learned.names() == ["id", "x", "n", "flag"]
    given = OneHot.Params.model_validate({"columns": ["g"], "categories": {"g": ["a", "zz"]}})
    fixed = OneHot().infer(given, inputs)["out"]
    assert fixed is not None
    assert not fixed.open
    assert fixed.names()[-2:] == ["g_a", "g_zz"]


def test_one_hot_with_given_categories_encodes_unknown_as_zeros(harness: Harness, people: ibis.Table) -> None:
    params = {"columns": ["g"], "categories": {"g": ["b", "zz"]}, "drop_original": False}
    out, _ = check_fitted(harness, OneHot(), params, people)
    assert out.column("g_b").to_pylist() == [0, 0, 1, 1, 0, 0]
    assert out.column("g_zz").to_pylist() == [0] * 6


def test_one_hot_params_are_checked(people: ibis.Table) -> None:
    inputs = {"in": schema_of(people)}
    assert param_error(OneHot(), {"columns": ["x"]}, inputs) == "columns.0"
    with pytest.raises(ValidationError):
        OneHot.Params.model_validate({"columns": ["g"], "categories": {"other": ["a"]}})
    with pytest.raises(ValidationError):
        OneHot.Params.model_validate({"columns": ["g"], "top_k": 0})


def test_ordinal_codes_sorted_categories_and_unknown_as_minus_one(
    harness: Harness, people: ibis.Table
) -> None:
    out, fitted = check_fitted(harness, Ordinal(), {"columns": ["g", "n", "flag"]}, people)
    assert out.column("g").to_pylist() == [0, 0, 1, 1, 2, -1]
    assert out.column("flag").to_pylist() == [1, -1, 0, 1, 1, -1]
    unseen = {"g": np.array(["zz"], dtype=object), "n": np.array([3]), "flag": np.array([True])}
    assert Ordinal().transform_arrays(fitted, unseen)["g"].tolist() == [-1]


def test_hashing_spreads_values_over_n_columns(harness: Harness, people: ibis.Table) -> None:
    out, _fitted = check_fitted(harness, Hashing(), {"columns": ["g", "n", "flag"], "n_features": 4}, people)
    assert out.column_names == ["id", "x", "hash_0", "hash_1", "hash_2", "hash_3"]
    totals = [sum(out.column(f"hash_{j}")[r].as_py() for j in range(4)) for r in range(6)]
    assert totals == [3, 2, 2, 3, 3, 1]  # one per non-null value


def test_hashing_refuses_name_clashes(people: ibis.Table) -> None:
    params = {"columns": ["g"], "n_features": 2, "prefix": "x", "drop_original": False}
    renamed = schema_of(people.rename(x_0="x"))
    assert param_error(Hashing(), params, {"in": renamed}) == "prefix"

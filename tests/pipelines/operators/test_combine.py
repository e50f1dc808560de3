from __future__ import annotations

import ibis
import pytest

from dais.pipelines.operators.combine import Aggregate, Join, Union
from tests.pipelines.operators.conftest import Harness, param_error, schema_of


@pytest.fixture
def scores(harness: Harness) -> ibis.Table:
    return harness.table({"id": [1, 2, 9], "score": [0.1, 0.2, 0.3], "x": [7.0, 8.0, 9.0]}, name="scores")


@pytest.mark.parametrize(("how", "rows"), [("inner", 2), ("left", 6), ("right", 3), ("outer", 7)])
def test_join_keeps_rows_by_kind(
    harness: Harness, people: ibis.Table, scores: ibis.Table, how: str, rows: int
) -> None:
    out, _ = harness.run(Join(), {"how": how, "left_on": ["id"]}, {"in": people, "in2": scores})
    assert out["out"].num_rows == rows
    assert "x_right" in out["out"].column_names  # the clashing right column gets the suffix


def test_inner_join_on_equal_names_has_one_key_column(
    harness: Harness, people: ibis.Table, scores: ibis.Table
) -> None:
    out, _ = harness.run(Join(), {"left_on": ["id"], "suffix": "_s"}, {"in": people, "in2": scores})
    assert out["out"].column_names == ["id", "g", "x", "n", "flag", "score", "x_s"]


def test_join_checks_keys(people: ibis.Table, scores: ibis.Table) -> None:
    inputs = {"in": schema_of(people), "in2": schema_of(scores)}
    assert param_error(Join(), {"left_on": ["nope"]}, inputs) == "left_on.0"
    assert param_error(Join(), {"left_on": ["id"], "right_on": ["nope"]}, inputs) == "right_on.0"
    assert param_error(Join(), {"left_on": ["g"], "right_on": ["score"]}, inputs) == "right_on.0"
    assert param_error(Join(), {"left_on": ["id", "x"], "right_on": ["id"]}, inputs) == "right_on"


def test_union_matches_columns_by_name(harness: Harness, people: ibis.Table) -> None:
    reordered = people.select("flag", "n", "x", "g", "id")
    out, _ = harness.run(Union(), {}, {"in": people, "in2": reordered})
    assert out["out"].num_rows == 12
    out, _ = harness.run(Union(), {"distinct": True}, {"in": people, "in2": reordered, "in3": people})
    assert out["out"].num_rows == 6


def test_union_refuses_different_columns(people: ibis.Table) -> None:
    inputs = {"in": schema_of(people), "in2": schema_of(people.drop("x"))}
    assert param_error(Union(), {}, inputs) == "in2"


def test_aggregate_computes_per_group(harness: Harness, people: ibis.Table) -> None:
    params = {
        "group_by": ["g"],
        "aggregations": [
            {"function": "count"},
            {"function": "mean", "column": "n"},
            {"function": "sum", "column": "n"},
            {"function": "median", "column": "x"},
            {"function": "std", "column": "x"},
            {"function": "nunique", "column": "n", "name": "distinct_n"},
            {"function": "max", "column": "g"},
        ],
    }
    out, _ = harness.run(Aggregate(), params, {"in": people.filter(people.g.notnull())})
    rows = {r["g"]: r for r in out["out"].to_pylist()}
    assert rows["b"]["count"] == 2
    assert rows["b"]["n_mean"] == 4.0
    assert rows["b"]["n_sum"] == 4
    assert rows["a"]["distinct_n"] == 2
    assert rows["c"]["g_max"] == "c"


def test_aggregate_without_groups_gives_one_row(harness: Harness, people: ibis.Table) -> None:
    out, _ = harness.run(Aggregate(), {"aggregations": [{"function": "min", "column": "x"}]}, {"in": people})
    assert out["out"].to_pylist() == [{"x_min": -6.0}]


def test_aggregate_checks_functions_and_columns(people: ibis.Table) -> None:
    inputs = {"in": schema_of(people)}
    assert param_error(Aggregate(), {"aggregations": [{"function": "mean", "column": "g"}]}, inputs) == (
        "aggregations.0.column"
    )
    assert (
        param_error(Aggregate(), {"aggregations": [{"function": "sum"}]}, inputs) == "aggregations.0.column"
    )
    two_counts = {"aggregations": [{"function": "count"}, {"function": "count"}]}
    assert param_error(Aggregate(), two_counts, inputs).startswith("aggregations")

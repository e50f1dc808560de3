from __future__ import annotations

import ibis
import pytest
from pydantic import ValidationError

from dais.pipelines.operators.relational import Cast, Deduplicate, Filter, Rename, Select, Sort
from tests.pipelines.operators.conftest import Harness, param_error, schema_of


def test_filter_keeps_rows_matching_the_expression(harness: Harness, people: ibis.Table) -> None:
    out, _ = harness.run(Filter(), {"expression": "x > 2 and g in ('b', 'c')"}, {"in": people})
    assert out["out"].column("id").to_pylist() == [3, 4, 5]


def test_filter_renders_variables_at_run_time(harness: Harness, people: ibis.Table) -> None:
    harness.ctx.variables = {"min_id": "5"}
    out, _ = harness.run(Filter(), {"expression": "id >= ${min_id}"}, {"in": people})
    assert out["out"].column("id").to_pylist() == [5, 6]


@pytest.mark.parametrize(
    "expression",
    [
        "nope > 1",
        "x >",
        "__import__('os')",
        "x + 1",
        "select 1",
        "id = (select 1)",
        "x > 1; drop table people",
    ],
)
def test_filter_rejects_unsafe_or_wrong_expressions(people: ibis.Table, expression: str) -> None:
    assert param_error(Filter(), {"expression": expression}, {"in": schema_of(people)}) == "expression"


def test_select_keeps_or_drops_columns(harness: Harness, people: ibis.Table) -> None:
    out, _ = harness.run(Select(), {"columns": ["x", "id"]}, {"in": people})
    assert out["out"].column_names == ["x", "id"]
    out, _ = harness.run(Select(), {"columns": ["x"], "drop": True}, {"in": people})
    assert out["out"].column_names == ["id", "g", "n", "flag"]


def test_select_names_the_unknown_column(people: ibis.Table) -> None:
    assert param_error(Select(), {"columns": ["id", "zz"]}, {"in": schema_of(people)}) == "columns.1"


def test_select_params_forbid_extra_fields() -> None:
    with pytest.raises(ValidationError):
        Select.Params.model_validate({"columns": ["a"], "colour": "red"})
    with pytest.raises(ValidationError):
        Select.Params.model_validate({"columns": []})


def test_rename_renames_and_refuses_clashes(harness: Harness, people: ibis.Table) -> None:
    out, _ = harness.run(Rename(), {"mapping": {"x": "score"}}, {"in": people})
    assert out["out"].column_names == ["id", "g", "score", "n", "flag"]
    assert param_error(Rename(), {"mapping": {"x": "id"}}, {"in": schema_of(people)}) == "mapping.x"
    assert param_error(Rename(), {"mapping": {"zz": "a"}}, {"in": schema_of(people)}) == "mapping.zz"


def test_cast_converts_types_and_unparseable_values_become_null(harness: Harness) -> None:
    t = harness.table({"s": ["1", "2", "x"], "i": [1, 2, 3]})
    out, inferred = harness.run(Cast(), {"types": {"s": "int64", "i": "float64"}}, {"in": t})
    assert out["out"].column("s").to_pylist() == [1, 2, None]
    assert [c.dtype for c in inferred["out"].columns] == ["int64", "float64"]
    assert param_error(Cast(), {"types": {"s": "nonsense"}}, {"in": schema_of(t)}) == "types.s"


def test_sort_orders_by_several_columns(harness: Harness, people: ibis.Table) -> None:
    out, _ = harness.run(Sort(), {"by": ["g", "x"], "descending": [True, False]}, {"in": people})
    assert out["out"].column("id").to_pylist() == [5, 3, 4, 1, 2, 6]
    assert (
        param_error(Sort(), {"by": ["g"], "descending": [True, False]}, {"in": schema_of(people)})
        == "descending"
    )


def test_deduplicate_keeps_the_last_row_by_order_column(harness: Harness, people: ibis.Table) -> None:
    out, _ = harness.run(Deduplicate(), {"subset": ["g"], "order_by": "id", "keep": "last"}, {"in": people})
    assert sorted(out["out"].column("id").to_pylist()) == [2, 4, 5, 6]
    out, _ = harness.run(Deduplicate(), {"subset": ["g"], "order_by": "id"}, {"in": people})
    assert sorted(out["out"].column("id").to_pylist()) == [1, 3, 5, 6]


def test_deduplicate_without_subset_drops_identical_rows(harness: Harness) -> None:
    t = harness.table({"a": [1, 1, 2], "b": ["x", "x", "y"]})
    out, _ = harness.run(Deduplicate(), {}, {"in": t})
    assert out["out"].num_rows == 2

from __future__ import annotations

import ibis
import pytest

from dais.pipelines.operators.sql import Sql
from tests.pipelines.operators.conftest import Harness, param_error, schema_of


def test_sql_reads_inputs_as_named_tables(harness: Harness, people: ibis.Table) -> None:
    other = harness.table({"id": [1, 2], "v": ["p", "q"]})
    query = (
        "select t1.id, g, v, avg(x) over () as m from t1 left join t2 using (id) where id <= 3 order by id"
    )
    out, inferred = harness.run(Sql(), {"query": query}, {"in": people, "in2": other})
    assert out["out"].to_pydict()["v"] == ["p", "q", None]
    assert inferred["out"] is not None
    assert inferred["out"].names() == ["id", "g", "v", "m"]


def test_sql_renders_variables_and_custom_names(harness: Harness, people: ibis.Table) -> None:
    harness.ctx.variables = {"group": "b"}
    params = {
        "query": "select count(*) as rows from people where g = '${group}'",
        "names": ["people", "b", "c"],
    }
    out, _ = harness.run(Sql(), params, {"in": people})
    assert out["out"].to_pylist() == [{"rows": 2}]


@pytest.mark.parametrize(
    "query",
    [
        "drop table t1",
        "select 1; select 2",
        "select * from read_csv('/etc/passwd')",
        "select nope from t1",
        "select * from",
        "copy t1 to 'x.csv'",
    ],
)
def test_sql_refuses_anything_but_one_valid_select(people: ibis.Table, query: str) -> None:
    assert param_error(Sql(), {"query": query}, {"in": schema_of(people)}) == "query"

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
import pytest

from dais.pipelines.operators.features import DateParts, Formula
from tests.pipelines.operators.conftest import Harness, param_error, schema_of


@pytest.fixture
def events(harness: Harness) -> ibis.Table:
    stamps = [dt.datetime(2024, 1, 1, 10, 30), dt.datetime(2024, 2, 29, 23, 0), None]
    return harness.table(
        {
            "ts": pa.array(stamps, pa.timestamp("us")),
            "day": pa.array([s.date() if s else None for s in stamps], pa.date32()),
            "price": [2.0, 3.5, None],
            "qty": [3, 2, 1],
        }
    )


def test_date_parts_extracts_parts(harness: Harness, events: ibis.Table) -> None:
    params = {"columns": ["ts", "day"], "parts": ["year", "month", "day", "weekday", "quarter", "dayofyear"]}
    out, _ = harness.run(DateParts(), params, {"in": events})
    table = out["out"]
    assert table.column("ts_weekday").to_pylist() == [0, 3, None]  # Monday = 0
    assert table.column("day_dayofyear").to_pylist() == [1, 60, None]


def test_date_parts_hours_need_timestamps(harness: Harness, events: ibis.Table) -> None:
    out, _ = harness.run(
        DateParts(), {"columns": ["ts"], "parts": ["hour", "minute"], "drop_original": True}, {"in": events}
    )
    assert out["out"].column("ts_hour").to_pylist() == [10, 23, None]
    assert "ts" not in out["out"].column_names
    assert (
        param_error(DateParts(), {"columns": ["day"], "parts": ["hour"]}, {"in": schema_of(events)})
        == "columns.0"
    )
    assert param_error(DateParts(), {"columns": ["price"]}, {"in": schema_of(events)}) == "columns.0"


def test_formula_adds_columns_in_order(harness: Harness, events: ibis.Table) -> None:
    params = {
        "formulas": [
            {"name": "total", "expression": "price * qty"},
            {"name": "size", "expression": "case when total > 7 then 'big' else 'small' end"},
            {"name": "qty", "expression": "qty + 1"},
        ]
    }
    out, inferred = harness.run(Formula(), params, {"in": events})
    assert out["out"].column("total").to_pylist() == [6.0, 7.0, None]
    assert out["out"].column("size").to_pylist() == ["small", "small", "small"]
    assert out["out"].column("qty").to_pylist() == [4, 3, 2]
    assert inferred["out"] is not None
    assert inferred["out"].names() == [
        "ts",
        "day",
        "price",
        "qty",
        "total",
        "size",
    ]


def test_formula_errors_name_the_formula(events: ibis.Table) -> None:
    params = {"formulas": [{"name": "a", "expression": "price"}, {"name": "b", "expression": "open('x')"}]}
    assert param_error(Formula(), params, {"in": schema_of(events)}) == "formulas.1.expression"

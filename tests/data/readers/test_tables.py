from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from dais.core.settings import DataSettings
from dais.data.connectors.base import UnreadableData
from dais.data.connectors.sql import SqlConfig, SqlConnector
from dais.data.inspect import inspect_source
from dais.data.reader import open_dataset
from dais.data.source import DataFormat, SourceSpec


@pytest.fixture
def sql(root: Path) -> Iterator[SqlConnector]:
    path = root / "shop.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT, price REAL, day TEXT)")
    con.executemany(
        "INSERT INTO orders (item, price, day) VALUES (?, ?, ?)",
        [(f"item{i % 3}", i * 1.5, f"2024-01-0{1 + i % 3}") for i in range(30)],
    )
    con.execute("CREATE TABLE vacant (id INTEGER)")
    con.commit()
    con.close()
    secrets = SqlConnector.Secrets.model_validate({})
    return SqlConnector(
        SqlConfig(url=f"sqlite:///{path}"), secrets, settings=DataSettings(allowed_roots=[root])
    )


def test_a_table_is_inspected_with_a_bounded_sample(sql: SqlConnector) -> None:
    ins = inspect_source(
        sql, SourceSpec(table="orders"), sample_rows=5, sample_max_bytes=1 << 20, timeout_s=10
    )
    assert ins.format == DataFormat.table
    assert [c.name for c in ins.schema_] == ["id", "item", "price", "day"]
    assert len(ins.sample) == 5
    assert ins.sample[0]["item"] == "item0"
    assert ins.row_count == 30
    assert ins.fingerprint
    assert {s.name for s in ins.stats} == {"id", "item", "price", "day"}


def test_a_query_with_variables_is_rendered(sql: SqlConnector) -> None:
    spec = SourceSpec(query="SELECT item, price FROM orders WHERE day = '${ds-1d}'")
    reader = open_dataset(sql, spec, variables={"ds": "2024-01-03"}, timeout_s=10)
    table = reader.to_arrow()
    assert table.num_rows == 10
    assert table.column_names == ["item", "price"]
    assert reader.format == DataFormat.query
    assert sum(b.num_rows for b in reader.batches(batch_rows=4, limit=7)) == 7


def test_a_zero_row_table_is_refused_unless_allowed(sql: SqlConnector) -> None:
    with pytest.raises(UnreadableData, match="table vacant is empty"):
        inspect_source(sql, SourceSpec(table="vacant"), sample_rows=5, sample_max_bytes=4096, timeout_s=10)
    ins = inspect_source(
        sql, SourceSpec(table="vacant"), sample_rows=5, sample_max_bytes=4096, timeout_s=10, allow_empty=True
    )
    assert ins.row_count == 0
    assert ins.sample == []

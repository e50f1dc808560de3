"""The ``sql`` connector against real PostgreSQL, MariaDB and SQLite databases."""

# Test SQL is built from this module's own table names (S608 does not apply).
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from dais.core.errors import InvalidInput
from dais.core.settings import DataSettings
from dais.data.connectors import (
    SourceAccessDenied,
    SourceError,
    SourceNotFound,
    SourceTimeout,
    open_connector,
)
from dais.data.connectors.sql import SqlConnector
from tests.data.connectors.sources import execute, mariadb_tables, postgres_database

SLACK_S = 0.5


@dataclass
class Source:
    """A database to test against: its URL, a table-name prefix of this test's own, its dialect."""

    backend: str
    url: str
    prefix: str
    settings: DataSettings

    def connector(self) -> SqlConnector:
        conn = open_connector("sql", {"url": self.url}, {}, self.settings)
        assert isinstance(conn, SqlConnector)
        return conn

    def run(self, *statements: str) -> None:
        if self.backend == "sqlite":
            db = sqlite3.connect(self.url.removeprefix("sqlite:///"))
            try:
                for sql in statements:
                    db.execute(sql)
                db.commit()
            finally:
                db.close()
        else:
            execute(self.url, *statements)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture(params=["postgresql", "mariadb", "sqlite"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Source]:
    prefix = f"t_{uuid.uuid4().hex[:8]}"
    settings = DataSettings(allowed_roots=[tmp_path])
    if request.param == "postgresql":
        yield Source("postgresql", request.getfixturevalue("pg_url"), prefix, settings)
    elif request.param == "mariadb":
        with mariadb_tables() as (url, mprefix):
            yield Source("mariadb", url, mprefix, settings)
    else:
        db = tmp_path / "source.db"
        sqlite3.connect(db).close()
        yield Source("sqlite", f"sqlite:///{db}", prefix, settings)


DDL = {
    "postgresql": "CREATE TABLE {t} (id bigint PRIMARY KEY, small smallint, ratio double precision, "
    "price numeric(10,2), name text, active boolean, born date, seen timestamptz, naive timestamp, "
    "data bytea)",
    "mariadb": "CREATE TABLE {t} (id bigint PRIMARY KEY, small smallint, ratio double, price decimal(10,2), "
    "name text, active boolean, born date, seen timestamp NULL, naive datetime(6), data blob)",
    "sqlite": "CREATE TABLE {t} (id integer PRIMARY KEY, small smallint, ratio real, price numeric(10,2), "
    "name text, active boolean, born date, seen timestamp, naive timestamp, data blob)",
}
ROWS = {
    "postgresql": "(1, 1, 0.5, 12.34, 'alpha', true, '2024-01-02', '2024-01-02 03:04:05+00', "
    "'2024-01-02 03:04:05', '\\x0102'::bytea), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    "mariadb": "(1, 1, 0.5, 12.34, 'alpha', true, '2024-01-02', '2024-01-02 03:04:05', "
    "'2024-01-02 03:04:05', X'0102'), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    "sqlite": "(1, 1, 0.5, 12.34, 'alpha', 1, '2024-01-02', '2024-01-02 03:04:05.000000', "
    "'2024-01-02 03:04:05.000000', X'0102'), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
}
TYPES = {
    "postgresql": {
        "id": pa.int64(),
        "small": pa.int16(),
        "ratio": pa.float64(),
        "price": pa.decimal128(10, 2),
        "name": pa.string(),
        "active": pa.bool_(),
        "born": pa.date32(),
        "seen": pa.timestamp("us", tz="UTC"),
        "naive": pa.timestamp("us"),
        "data": pa.binary(),
    },
}
# MariaDB has no boolean type: BOOLEAN is TINYINT(1), read as the integer it is.
TYPES["mariadb"] = {**TYPES["postgresql"], "seen": pa.timestamp("us"), "active": pa.int32()}
TYPES["sqlite"] = {**TYPES["postgresql"], "seen": pa.timestamp("us"), "price": pa.float64()}
FIRST = {
    "id": 1,
    "small": 1,
    "ratio": 0.5,
    "price": Decimal("12.34"),
    "name": "alpha",
    "active": True,
    "born": date(2024, 1, 2),
    "seen": datetime(2024, 1, 2, 3, 4, 5),
    "naive": datetime(2024, 1, 2, 3, 4, 5),
    "data": b"\x01\x02",
}


def typed_table(source: Source) -> str:
    table = f"{source.prefix}_types"
    source.run(DDL[source.backend].format(t=table), f"INSERT INTO {table} VALUES {ROWS[source.backend]}")
    return table


def numbers_table(source: Source, rows: int = 5) -> str:
    table = f"{source.prefix}_numbers"
    values = ", ".join(f"({i}, 'n{i}')" for i in range(rows))
    inserts = [f"INSERT INTO {table} VALUES {values}"] if rows else []
    source.run(f"CREATE TABLE {table} (n integer, label varchar(20))", *inserts)
    return table


def test_check_names_the_server(source: Source) -> None:
    result = source.connector().check(timeout_s=10)
    assert result.ok, result.message
    names = {"postgresql": "PostgreSQL", "mariadb": "MariaDB", "sqlite": "SQLite"}
    assert result.message.startswith(f"Connected to {names[source.backend]}")


def test_read_a_table_as_batches_with_its_types(source: Source) -> None:
    table = typed_table(source)
    conn = source.connector()
    schema = conn.arrow_schema(table=table, query=None, timeout_s=10)
    assert dict(zip(schema.names, map(str, schema.types), strict=True)) == {
        k: str(v) for k, v in TYPES[source.backend].items()
    }
    reader = conn.read(table=table, query=None, batch_rows=1, timeout_s=10)
    assert reader.schema == schema
    batches = list(reader)
    assert [b.num_rows for b in batches] == [1, 1]
    rows = pa.Table.from_batches(batches).to_pylist()
    first = rows[0]
    if source.backend == "postgresql":
        first["seen"] = first["seen"].replace(tzinfo=None)  # 03:04:05 UTC
    expected = {"sqlite": dict(FIRST, price=12.34), "mariadb": dict(FIRST, active=1)}.get(
        source.backend, FIRST
    )
    assert first == expected
    assert rows[1] == {k: (2 if k == "id" else None) for k in FIRST}


def test_read_a_query_as_batches(source: Source) -> None:
    table = numbers_table(source, rows=5)
    conn = source.connector()
    query = f"SELECT n, label, n * 2 AS twice FROM {table} WHERE label <> 'x:y' ORDER BY n;"
    schema = conn.arrow_schema(table=None, query=query, timeout_s=10)
    assert schema.names == ["n", "label", "twice"]
    assert pa.types.is_integer(schema.field("n").type)
    assert schema.field("label").type == pa.string()
    reader = conn.read(table=None, query=query, batch_rows=2, timeout_s=10)
    assert reader.schema == schema
    batches = list(reader)
    assert [b.num_rows for b in batches] == [2, 2, 1]
    assert pa.Table.from_batches(batches).column("twice").to_pylist() == [0, 2, 4, 6, 8]
    limited = conn.read(table=None, query=query, limit=3, batch_rows=2, timeout_s=10).read_all()
    assert limited.column("n").to_pylist() == [0, 1, 2]
    assert conn.read(table=table, query=None, limit=2, timeout_s=10).read_all().num_rows == 2
    assert conn.row_count(table=None, query=query, timeout_s=10) is None


def test_zero_row_table(source: Source) -> None:
    table = numbers_table(source, rows=0)
    conn = source.connector()
    reader = conn.read(table=table, query=None, timeout_s=10)
    assert reader.schema.names == ["n", "label"]
    assert reader.read_all().num_rows == 0
    assert conn.row_count(table=table, query=None, timeout_s=10) == 0


def test_row_count_and_fingerprint(source: Source) -> None:
    table = numbers_table(source, rows=7)
    conn = source.connector()
    assert conn.row_count(table=table, query=None, timeout_s=10) == 7
    assert conn.fingerprint(table=table, query=None, update_column="n", timeout_s=10) == {
        "row_count": 7,
        "update_column": "n",
        "max_update": 6,
    }
    typed = typed_table(source)
    fp = conn.fingerprint(table=typed, query=None, update_column="naive", timeout_s=10)
    assert fp["max_update"] == "2024-01-02T03:04:05"
    query_fp = conn.fingerprint(
        table=None, query=f"SELECT n FROM {table} WHERE n < 3", update_column="n", timeout_s=10
    )
    assert (query_fp["row_count"], query_fp["max_update"]) == (3, 2)
    assert len(query_fp["query_sha256"]) == 64
    with pytest.raises(InvalidInput, match="No column 'nope'"):
        conn.fingerprint(table=table, query=None, update_column="nope", timeout_s=10)


def test_missing_table_is_not_found_and_names_are_never_sql(source: Source) -> None:
    table = numbers_table(source, rows=2)
    conn = source.connector()
    for name in ("no_such_table", f"{table}; DROP TABLE {table}", f'{table}" --', "nope.nope.nope"):
        with pytest.raises(SourceNotFound):
            conn.read(table=name, query=None, timeout_s=10)
        with pytest.raises(SourceNotFound):
            conn.arrow_schema(table=name, query=None, timeout_s=10)
    assert conn.row_count(table=table, query=None, timeout_s=10) == 2


def test_queries_run_read_only(source: Source) -> None:
    table = numbers_table(source, rows=2)
    conn = source.connector()
    if source.backend == "postgresql":
        # A cursor only takes a SELECT; a SELECT that writes is stopped by the read-only transaction.
        source.run(f"CREATE SEQUENCE {table}_seq")
        writes = [f"DELETE FROM {table}", f"SELECT nextval('{table}_seq')"]
    else:
        writes = [f"DELETE FROM {table}", f"INSERT INTO {table} VALUES (9, 'x')"]
    for sql in writes:
        with pytest.raises(SourceError) as info:
            conn.read(table=None, query=sql, timeout_s=10).read_all()
        if not sql.startswith("DELETE") or source.backend != "postgresql":
            assert "read" in info.value.detail.lower(), info.value.detail
    assert conn.row_count(table=table, query=None, timeout_s=10) == 2


SLOW_QUERY = {
    "postgresql": "SELECT pg_sleep(5)",
    "mariadb": "SELECT SLEEP(5)",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
}


def test_a_slow_query_times_out(source: Source) -> None:
    conn = source.connector()
    for call in (
        lambda: conn.read(table=None, query=SLOW_QUERY[source.backend], timeout_s=1).read_all(),
        lambda: conn.fingerprint(
            table=None, query=SLOW_QUERY[source.backend], update_column=None, timeout_s=1
        ),
    ):
        start = time.monotonic()
        with pytest.raises(SourceTimeout):
            call()
        assert time.monotonic() - start < 1 + SLACK_S


def test_browse_lists_schemas_and_tables(source: Source) -> None:
    table = numbers_table(source, rows=1)
    conn = source.connector()
    top = conn.browse("", timeout_s=10)
    if source.backend == "sqlite":
        assert [(e.path, e.kind) for e in top] == [(table, "table")]
        return
    schema = {"postgresql": "public", "mariadb": "test"}[source.backend]
    assert (schema, "schema") in [(e.path, e.kind) for e in top]
    assert not {"information_schema", "pg_catalog", "mysql"} & {e.name for e in top}
    tables = conn.browse(schema, timeout_s=10)
    assert (f"{schema}.{table}", "table") in [(e.path, e.kind) for e in tables]
    assert conn.read(table=f"{schema}.{table}", query=None, timeout_s=10).read_all().num_rows == 1
    with pytest.raises(SourceNotFound):
        conn.browse("no_such_schema", timeout_s=10)


# -- per-database faults ------------------------------------------------------------------------------


def test_postgresql_unknown_role_and_database(pg_url: str) -> None:
    settings = DataSettings()
    # The server trusts loopback connections, so a wrong password cannot fail here; a role that does
    # not exist is refused the same way (SQLSTATE 28000).
    conn = open_connector(
        "sql", {"url": "postgresql://nobody_here@127.0.0.1:5432/postgres"}, {"password": "pw-9f8e"}, settings
    )
    result = conn.check(timeout_s=10)
    assert not result.ok
    assert 'role "nobody_here" does not exist' in result.message
    assert result.details == {"code": "source_access_denied"}
    assert "pw-9f8e" not in result.message
    missing = open_connector(
        "sql", {"url": "postgresql://postgres@127.0.0.1:5432/no_such_db_x"}, {}, settings
    )
    result = missing.check(timeout_s=10)
    assert not result.ok
    assert 'database "no_such_db_x" does not exist' in result.message
    assert result.details == {"code": "source_not_found"}
    with pytest.raises(SourceNotFound):
        missing.browse("", timeout_s=10)


def test_mariadb_wrong_password_and_missing_database() -> None:
    with mariadb_tables() as (url, _):
        conn = open_connector("sql", {"url": url}, {"password": "hunter2-secret"}, DataSettings())
        result = conn.check(timeout_s=10)
        assert not result.ok
        assert "Access denied for user 'root'" in result.message
        assert "hunter2-secret" not in result.message
        assert result.details == {"code": "source_access_denied"}
        with pytest.raises(SourceAccessDenied):
            conn.browse("", timeout_s=10)
        missing = open_connector("sql", {"url": url.replace("/test", "/no_such_db_x")}, {}, DataSettings())
        result = missing.check(timeout_s=10)
        assert not result.ok
        assert "Unknown database 'no_such_db_x'" in result.message
        assert result.details == {"code": "source_not_found"}


def test_mariadb_stream_closed_early_does_not_read_the_rest() -> None:
    with mariadb_tables() as (url, prefix):
        table = f"{prefix}_big"
        execute(
            url,
            f"CREATE TABLE {table} (n integer)",
            f"INSERT INTO {table} SELECT seq FROM seq_1_to_50000",
        )
        conn = open_connector("sql", {"url": url}, {}, DataSettings())
        assert isinstance(conn, SqlConnector)
        reader = conn.read(table=table, query=None, batch_rows=100, timeout_s=10)
        assert reader.read_next_batch().num_rows == 100
        start = time.monotonic()
        del reader  # the stream is closed when the reader goes (pyarrow's close() keeps the source)
        assert time.monotonic() - start < 0.5
        assert conn.row_count(table=table, query=None, timeout_s=10) == 50_000


def test_sqlite_missing_file_and_files_outside_the_allowed_roots(tmp_path: Path) -> None:
    settings = DataSettings(allowed_roots=[tmp_path / "allowed"])
    (tmp_path / "allowed").mkdir()
    missing = open_connector("sql", {"url": f"sqlite:///{tmp_path}/allowed/none.db"}, {}, settings)
    result = missing.check(timeout_s=5)
    assert not result.ok
    assert "does not exist" in result.message
    with pytest.raises(InvalidInput) as info:
        open_connector("sql", {"url": f"sqlite:///{tmp_path}/elsewhere.db"}, {}, settings)
    assert info.value.errors[0]["loc"] == ["body", "config", "url"]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("postgresql://u:pa55word-x@h/db", "password in the secrets"),
        ("oracle://u@h/db", "unsupported database"),
        ("mysql+mysqldb://u@h/db", "pymysql driver"),
        ("postgresql://u@h/db?sslkey=/etc/shadow", "options"),
        ("sqlite:///relative.db", "absolute path"),
        ("not a url", "not a database URL"),
    ],
)
def test_bad_urls_are_refused_without_echoing_a_password(url: str, why: str) -> None:
    with pytest.raises(InvalidInput) as info:
        open_connector("sql", {"url": url}, {}, DataSettings())
    assert why in info.value.detail
    assert info.value.errors[0]["loc"] == ["body", "config", "url"]
    assert "pa55word-x" not in str(info.value.to_problem())

"""``sql``: PostgreSQL, MySQL/MariaDB and SQLite through SQLAlchemy.

Every call is bounded: a connect timeout in the driver, a statement timeout on the server
(PostgreSQL ``statement_timeout``, MariaDB ``max_statement_time``, MySQL ``max_execution_time``,
SQLite a progress handler) and :func:`run_with_timeout` around it all. Everything runs read-only
(PostgreSQL ``SET TRANSACTION READ ONLY``, MySQL ``START TRANSACTION READ ONLY``, SQLite opened with
``mode=ro``), so a user's query can read but never write. Tables are named ``table`` or
``schema.table`` and must exist in the inspector before anything is sent; identifiers are quoted by
SQLAlchemy, never formatted into SQL.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar
from urllib.parse import quote

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    Select,
    Table,
    create_engine,
    func,
    inspect,
    select,
    type_coerce,
)
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchTableError
from sqlalchemy.pool import NullPool

from dais.core.errors import DaisError, InvalidInput
from dais.core.settings import DataSettings
from dais.data.connectors.base import (
    CheckResult,
    SourceEntry,
    SourceError,
    SourceNotFound,
    TablesConnector,
)
from dais.data.connectors.calls import run_with_timeout, timed_check
from dais.data.connectors.local import is_within
from dais.data.connectors.sql_errors import sql_error
from dais.data.connectors.sql_types import (
    INFER_ROWS,
    arrow_type_for_description,
    arrow_type_for_sqla,
    infer_type,
    rows_to_batch,
)

DRIVERS = {"postgresql": "psycopg", "mysql": "pymysql", "mariadb": "pymysql", "sqlite": "pysqlite"}
NAMES = {"postgresql": "PostgreSQL", "mysql": "MySQL", "mariadb": "MariaDB", "sqlite": "SQLite"}
SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys"}
OPTION_KEYS = {"sslmode", "application_name", "charset", "target_session_attrs"}


class SqlConfig(BaseModel):
    """Which database, as a SQLAlchemy URL without its password (that goes in the secrets)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    url: str = Field(
        max_length=2048,
        description=(
            "postgresql://user@host:5432/db, mysql://user@host:3306/db or sqlite:////abs/path.db "
            "(the password goes in the secrets)."
        ),
    )
    db_schema: str | None = Field(
        default=None, alias="schema", max_length=128, description="Default schema for table names."
    )
    options: dict[str, str | int | bool] = Field(
        default_factory=dict, description=f"Driver options ({', '.join(sorted(OPTION_KEYS))})."
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return normalize_url(value).render_as_string(hide_password=False)

    @field_validator("options")
    @classmethod
    def _options(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - OPTION_KEYS)
        if unknown:
            raise ValueError(
                f"unknown options {', '.join(unknown)}; allowed: {', '.join(sorted(OPTION_KEYS))}"
            )
        return value


class SqlSecrets(BaseModel):
    """The database password."""

    model_config = ConfigDict(extra="forbid")

    password: SecretStr | None = Field(default=None, max_length=1024)


def normalize_url(value: str) -> URL:
    """A checked URL with its driver made explicit; ``ValueError`` (never echoing a password) if not."""
    try:
        url = make_url(value)
    except (ArgumentError, ValueError) as exc:
        raise ValueError("not a database URL (postgresql://, mysql://, sqlite:///...)") from exc
    backend = url.get_backend_name()
    if backend not in DRIVERS:
        raise ValueError(f"unsupported database {backend!r}; use postgresql, mysql, mariadb or sqlite")
    driver = url.drivername.partition("+")[2]
    wanted = DRIVERS[backend]
    if driver and driver != wanted and not (backend == "postgresql" and driver == "psycopg2"):
        raise ValueError(f"use the {wanted} driver for {backend} (or leave the driver out)")
    url = url.set(drivername=f"{backend}+{wanted}" if backend != "sqlite" else "sqlite")
    if url.password is not None:
        raise ValueError("put the password in the secrets, not in the URL")
    if url.query:
        raise ValueError("put driver options in `options`, not in the URL")
    if backend == "sqlite":
        if not url.database or url.database == ":memory:" or not os.path.isabs(url.database):
            raise ValueError("give the absolute path of a SQLite file: sqlite:////abs/path.db")
    elif not url.host:
        raise ValueError("the URL names no host")
    return url


class SqlConnector(TablesConnector):
    """Tables and read-only queries of a PostgreSQL, MySQL/MariaDB or SQLite database."""

    name = "sql"
    description = "PostgreSQL, MySQL/MariaDB or SQLite: tables and read-only SQL queries."
    Config = SqlConfig
    Secrets = SqlSecrets
    capabilities: ClassVar[frozenset[str]] = frozenset({"tables", "query"})

    def __init__(self, config: BaseModel, secrets: BaseModel, *, settings: DataSettings) -> None:
        super().__init__(config, secrets, settings=settings)
        assert isinstance(config, SqlConfig)
        assert isinstance(secrets, SqlSecrets)
        self.cfg = config
        self.url = make_url(config.url)
        self.backend = self.url.get_backend_name()
        self._password = secrets.password.get_secret_value() if secrets.password else None
        self._engines: dict[int, Engine] = {}
        self._lock = threading.Lock()

    def validate_config(self) -> None:
        """A SQLite file must lie inside ``settings.allowed_roots`` (its real path)."""
        if self.backend != "sqlite":
            return
        allowed = [os.path.realpath(r) for r in self.settings.allowed_roots]
        if not is_within(os.path.realpath(self.url.database or ""), allowed):
            raise InvalidInput(
                "A SQLite file must lie inside the allowed folders"
                + (f" ({', '.join(allowed)})." if allowed else " (DAIS_DATA_ALLOWED_ROOTS is empty)."),
                errors=[{"loc": ["body", "config", "url"], "msg": "outside the allowed roots"}],
            )

    @property
    def source_name(self) -> str:
        where = self.url.database if self.backend == "sqlite" else f"{self.url.host}:{self.url.port or ''}"
        return f"{NAMES[self.backend]} {where}".rstrip(":")

    # -- engines and connections ------------------------------------------------------------------------

    def _engine(self, timeout_s: float) -> Engine:
        bound = max(2, math.ceil(timeout_s))  # libpq counts whole seconds, at least 2
        with self._lock:
            engine = self._engines.get(bound)
            if engine is None:
                engine = self._engines[bound] = self._create_engine(bound)
            return engine

    def _create_engine(self, bound: int) -> Engine:
        if self.backend == "sqlite":
            path = self.url.database or ""

            def connect() -> sqlite3.Connection:
                self.validate_config()  # the file (or a symlink to it) may have moved since
                if not os.path.isfile(path):
                    raise SourceNotFound(f"The SQLite database file {path} does not exist.")
                uri = f"file:{quote(path)}?mode=ro"
                return sqlite3.connect(uri, uri=True, timeout=bound, check_same_thread=False)

            return create_engine("sqlite+pysqlite://", creator=connect, poolclass=NullPool)
        url = self.url.set(password=self._password) if self._password else self.url
        connect_args: dict[str, Any] = {"connect_timeout": bound, **self.cfg.options}
        if self.backend in ("mysql", "mariadb"):
            connect_args.update(read_timeout=bound, write_timeout=bound)
        # No pool: a connector lives for a request or a job, and one never closed must leak nothing.
        return create_engine(url, connect_args=connect_args, poolclass=NullPool)

    def close(self) -> None:
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def _begin(
        self, conn: Connection, timeout_s: float, *, statement_timeout: bool = True
    ) -> Callable[[], None]:
        """Start a read-only transaction bounded by ``timeout_s`` per statement.

        Returns a function that restarts the clock (SQLite: before each chunk of a stream).
        """
        # The server gives up a little before the caller would, so a slow statement ends with the
        # source's own message and a clean connection rather than an abandoned thread.
        ms = max(1, int(timeout_s * 900))
        if self.backend == "postgresql":
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms if statement_timeout else 0}")
            return lambda: None
        if self.backend in ("mysql", "mariadb"):
            if getattr(conn.dialect, "is_mariadb", False):
                conn.exec_driver_sql(
                    f"SET SESSION max_statement_time = {ms / 1000 if statement_timeout else 0}"
                )
            else:
                conn.exec_driver_sql(f"SET SESSION max_execution_time = {ms if statement_timeout else 0}")
            conn.exec_driver_sql("START TRANSACTION READ ONLY")
            return lambda: None
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        deadline = [time.monotonic() + timeout_s * 0.9]
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline[0]), 10_000)

        def restart() -> None:
            deadline[0] = time.monotonic() + timeout_s * 0.9

        return restart

    def _call(self, fn: Callable[[Connection], Any], timeout_s: float, what: str) -> Any:
        """Run ``fn`` on a read-only, time-bounded connection; driver errors mapped."""
        engine = self._engine(timeout_s)

        def work() -> Any:
            try:
                with engine.connect() as conn:
                    conn = conn.execution_options(no_parameters=True)
                    self._begin(conn, timeout_s)
                    try:
                        return fn(conn)
                    finally:
                        conn.rollback()
            except DaisError:
                raise
            except Exception as exc:
                raise sql_error(exc, secret=self._password) from exc

        return run_with_timeout(work, timeout_s, f"{what} ({self.source_name})")

    # -- tables and queries -----------------------------------------------------------------------------

    def _split(self, ref: str) -> tuple[str | None, str]:
        ref = ref.strip()
        if not ref or len(ref) > 512 or "\x00" in ref:
            raise InvalidInput(
                "Name a table as 'table' or 'schema.table'.",
                errors=[{"loc": ["body", "source", "table"], "msg": "invalid table name"}],
            )
        schema, _, name = ref.rpartition(".")
        return (schema or self.cfg.db_schema), name

    def _table(self, conn: Connection, ref: str) -> Table:
        """The reflected table (or view) ``ref``; :class:`SourceNotFound` if the inspector lacks it."""
        schema, name = self._split(ref)
        insp = inspect(conn)
        if schema is not None and self.backend != "sqlite" and schema not in insp.get_schema_names():
            raise SourceNotFound(f"No schema {schema!r} in {self.source_name}.")
        names = set(insp.get_table_names(schema=schema)) | set(insp.get_view_names(schema=schema))
        if name not in names:
            where = f"schema {schema!r}" if schema else "the default schema"
            raise SourceNotFound(f"No table or view {name!r} in {where} of {self.source_name}.")
        try:
            return Table(name, MetaData(), schema=schema, autoload_with=conn)
        except NoSuchTableError as exc:
            raise SourceNotFound(f"No table or view {ref!r} in {self.source_name}.") from exc

    def _table_select(self, table: Table) -> tuple[Select[Any], list[pa.DataType | None], list[bool]]:
        columns: list[Any] = []
        types: list[pa.DataType | None] = []
        for col in table.columns:
            arrow = arrow_type_for_sqla(col.type, self.backend)
            if self.backend == "sqlite" and isinstance(col.type, sqltypes.Numeric):
                columns.append(type_coerce(col, sqltypes.Float()).label(col.name))  # no Decimal round trip
            else:
                columns.append(col)
            types.append(arrow)
        return select(*columns), types, [bool(c.nullable) for c in table.columns]

    @staticmethod
    def _one(table: str | None, query: str | None) -> None:
        if (table is None) == (query is None):
            raise InvalidInput(
                "Give either a table or a query.",
                errors=[{"loc": ["body", "source"], "msg": "exactly one of table, query"}],
            )

    @staticmethod
    def _query_sql(query: str) -> str:
        sql = query.strip().rstrip(";").strip()
        if not sql:
            raise InvalidInput(
                "The query is empty.", errors=[{"loc": ["body", "source", "query"], "msg": "empty query"}]
            )
        return sql

    def _described(self, result: Any) -> list[pa.DataType | None]:
        cursor = result.cursor
        fields = getattr(getattr(cursor, "_result", None), "fields", None)  # pymysql: charsets
        out = []
        for i, column in enumerate(cursor.description or []):
            charset = getattr(fields[i], "charsetnr", None) if fields and i < len(fields) else None
            out.append(arrow_type_for_description(self.backend, column, charset))
        return out

    @staticmethod
    def _schema(
        names: Sequence[str],
        types: Sequence[pa.DataType | None],
        rows: Sequence[Sequence[Any]],
        nullable: Sequence[bool],
    ) -> pa.Schema:
        fields = []
        for i, (name, type_) in enumerate(zip(names, types, strict=True)):
            if type_ is None:
                type_ = infer_type([r[i] for r in rows[:INFER_ROWS]])
            fields.append(pa.field(name, type_, nullable=nullable[i]))
        return pa.schema(fields)

    def arrow_schema(self, *, table: str | None, query: str | None, timeout_s: float) -> pa.Schema:
        """Tables: from the inspector. Queries: ``SELECT * FROM (q) AS t LIMIT 0``'s description (and,
        for columns the driver cannot type, the first rows)."""
        self._one(table, query)

        def work(conn: Connection) -> pa.Schema:
            if table is not None:
                t = self._table(conn, table)
                _, types, nullable = self._table_select(t)
                return self._schema([c.name for c in t.columns], types, [], nullable)
            sql = self._query_sql(query or "")
            result = conn.exec_driver_sql(_wrapped(sql, 0))
            names, types = list(result.keys()), self._described(result)
            result.close()
            rows: list[Any] = []
            if any(t is None for t in types):
                rows = list(conn.exec_driver_sql(_wrapped(sql, INFER_ROWS)).fetchall())
            return self._schema(names, types, rows, [True] * len(names))

        schema: pa.Schema = self._call(work, timeout_s, "Reading the schema")
        return schema

    def read(
        self,
        *,
        table: str | None,
        query: str | None,
        limit: int | None = None,
        batch_rows: int = 65_536,
        timeout_s: float,
    ) -> pa.RecordBatchReader:
        """Stream a table or a query through a server-side cursor, ``batch_rows`` rows at a time.

        Opening (connect, execute, first batch) is bounded by ``timeout_s``; each later fetch by the
        server's statement timeout (PostgreSQL: per FETCH; SQLite: per chunk) or the driver's read
        timeout (MySQL), so a long stream is fine but a stalled one fails.
        """
        self._one(table, query)
        batch_rows = max(1, batch_rows)
        engine = self._engine(timeout_s)
        what = f"Reading {table or 'the query'} ({self.source_name})"

        def open_stream() -> _Stream:
            conn = engine.connect().execution_options(no_parameters=True)
            try:
                restart = self._begin(conn, timeout_s, statement_timeout=self.backend != "mysql")
                streaming = conn.execution_options(stream_results=True, yield_per=batch_rows)
                if table is not None:
                    t = self._table(conn, table)
                    stmt, types, nullable = self._table_select(t)
                    if limit is not None:
                        stmt = stmt.limit(limit)
                    result = streaming.execute(stmt)
                else:
                    sql = self._query_sql(query or "")
                    if limit is not None:
                        sql = _wrapped(sql, limit)
                    result = streaming.exec_driver_sql(sql)
                    types = self._described(result)
                    nullable = [True] * len(types)
                names = list(result.keys())
                first = result.fetchmany(batch_rows)
                schema = self._schema(names, types, first, nullable)
                # An unbuffered MySQL cursor reads every remaining row when closed: drop it instead.
                hard = self.backend in ("mysql", "mariadb")
                return _Stream(conn, result, schema, list(first), restart, hard_close=hard)
            except BaseException as exc:
                _close_quietly(conn, hard=False)
                if isinstance(exc, Exception) and not isinstance(exc, DaisError):
                    raise sql_error(exc, secret=self._password) from exc
                raise

        stream = run_with_timeout(open_stream, timeout_s, what, discard=lambda s: s.close(early=True))
        return pa.RecordBatchReader.from_batches(
            stream.schema, stream.batches(batch_rows, limit, lambda e: sql_error(e, secret=self._password))
        )

    def row_count(self, *, table: str | None, query: str | None, timeout_s: float) -> int | None:
        """Tables: ``count(*)`` within the timeout. Queries: ``None`` (counting means running them)."""
        self._one(table, query)
        if table is None:
            return None

        def work(conn: Connection) -> int:
            t = self._table(conn, table)
            return int(conn.execute(select(func.count()).select_from(t)).scalar_one())

        count: int = self._call(work, timeout_s, f"Counting the rows of {table}")
        return count

    def fingerprint(
        self, *, table: str | None, query: str | None, update_column: str | None, timeout_s: float
    ) -> dict[str, Any]:
        """``{"row_count", "max_update" (ISO text or None), "update_column"}`` (+ the query's sha256)."""
        self._one(table, query)

        def work(conn: Connection) -> dict[str, Any]:
            if table is not None:
                t = self._table(conn, table)
                subject: Any = t
                columns = {c.name: c for c in t.columns}
            else:
                sql = self._query_sql(query or "")
                result = conn.exec_driver_sql(_wrapped(sql, 0))
                names = list(result.keys())
                result.close()
                from sqlalchemy import column, text

                subject = text(sql).columns(*[column(n) for n in names]).subquery("t")
                columns = {n: subject.c[n] for n in names}
            aggregates: list[Any] = [func.count()]
            if update_column is not None:
                if update_column not in columns:
                    raise InvalidInput(
                        f"No column {update_column!r} to fingerprint by; columns: {', '.join(columns)}.",
                        errors=[{"loc": ["body", "update_column"], "msg": "unknown column"}],
                    )
                aggregates.append(func.max(columns[update_column]))
            row = conn.execute(select(*aggregates).select_from(subject)).one()
            latest = row[1] if update_column is not None else None
            out: dict[str, Any] = {
                "row_count": int(row[0]),
                "update_column": update_column,
                "max_update": _plain(latest),
            }
            if query is not None:
                out["query_sha256"] = hashlib.sha256(query.strip().encode()).hexdigest()
            return out

        result: dict[str, Any] = self._call(work, timeout_s, "Fingerprinting")
        return result

    # -- connection test and browsing -------------------------------------------------------------------

    def check(self, timeout_s: float) -> CheckResult:
        def probe() -> str:
            def work(conn: Connection) -> str:
                conn.exec_driver_sql("SELECT 1").scalar()
                dialect = conn.dialect
                kind = "MariaDB" if getattr(dialect, "is_mariadb", False) else NAMES[self.backend]
                version = ".".join(str(v) for v in (dialect.server_version_info or ()) if isinstance(v, int))
                who = f" as {self.url.username}" if self.url.username else ""
                db = (
                    self.url.database
                    if self.backend != "sqlite"
                    else os.path.basename(self.url.database or "")
                )
                return f"Connected to {kind} {version}{who}, database {db}.".replace("  ", " ")

            message: str = self._call(work, timeout_s, "Connecting")
            return message

        return timed_check(probe, timeout_s, f"Connecting ({self.source_name})")

    def browse(self, path: str = "", *, limit: int = 1000, timeout_s: float) -> list[SourceEntry]:
        """``""``: the schemas (or, with a default schema or on SQLite, its tables); a schema: its tables
        and views, as ``schema.table``."""
        path = path.strip().strip("/")

        def work(conn: Connection) -> list[SourceEntry]:
            insp = inspect(conn)
            schema = path or self.cfg.db_schema
            if schema is None and self.backend != "sqlite":
                names = [
                    s for s in insp.get_schema_names() if s not in SYSTEM_SCHEMAS and not s.startswith("pg_")
                ]
                return [SourceEntry(name=s, path=s, kind="schema") for s in sorted(names)][:limit]
            if schema is not None and self.backend != "sqlite" and schema not in insp.get_schema_names():
                raise SourceNotFound(f"No schema {schema!r} in {self.source_name}.")
            prefix = f"{schema}." if schema and self.backend != "sqlite" else ""
            entries = [
                SourceEntry(name=t, path=prefix + t, kind="table")
                for t in insp.get_table_names(schema=schema)
            ]
            entries += [
                SourceEntry(name=v, path=prefix + v, kind="view") for v in insp.get_view_names(schema=schema)
            ]
            entries.sort(key=lambda e: e.name)
            return entries[:limit]

        entries: list[SourceEntry] = self._call(work, timeout_s, f"Listing {path or 'the database'}")
        return entries


def _wrapped(sql: str, limit: int) -> str:
    """A user's query (a read tool runs the SQL it is given, read-only) with a row limit around it."""
    return f"SELECT * FROM ({sql}) AS t LIMIT {int(limit)}"  # noqa: S608 - the user's own read-only SQL


def _plain(value: Any) -> Any:
    """A JSON-friendly form of an aggregate (dates and times as ISO text, decimals as text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else str(value)


class _Stream:
    """An open cursor handed from the opening thread to the reader's generator."""

    def __init__(
        self,
        conn: Connection,
        result: Any,
        schema: pa.Schema,
        first: list[Any],
        restart: Callable[[], None],
        *,
        hard_close: bool,
    ) -> None:
        self.conn = conn
        self.result = result
        self.schema = schema
        self.first = first
        self.restart = restart
        self.hard_close = hard_close

    def batches(
        self, batch_rows: int, limit: int | None, mapped: Callable[[BaseException], SourceError]
    ) -> Iterator[pa.RecordBatch]:
        sent = 0
        exhausted = False
        try:
            chunk = self.first
            self.first = []
            while chunk:
                if limit is not None and sent + len(chunk) > limit:
                    chunk = chunk[: limit - sent]
                yield rows_to_batch(chunk, self.schema)
                sent += len(chunk)
                if limit is not None and sent >= limit:
                    break
                self.restart()
                try:
                    chunk = list(self.result.fetchmany(batch_rows))
                except Exception as exc:
                    raise mapped(exc) from exc
            else:
                exhausted = True
        finally:
            self.close(early=not exhausted)

    def close(self, *, early: bool) -> None:
        """Release the cursor and connection; ``early``: rows may remain unread."""
        if early and self.hard_close:
            # pymysql would read the rest of an unbuffered result on close (and again when collected).
            unbuffered = getattr(getattr(self.result, "cursor", None), "_result", None)
            if unbuffered is not None and hasattr(unbuffered, "unbuffered_active"):
                unbuffered.unbuffered_active = False
            with contextlib.suppress(Exception):
                self.conn.invalidate()
        _close_quietly(self.conn, result=self.result)


def _close_quietly(conn: Connection, *, hard: bool = False, result: Any = None) -> None:
    """Close the result and the connection, ignoring errors (the connection is being given up)."""
    if hard:
        with contextlib.suppress(Exception):
            conn.invalidate()
    if result is not None:
        with contextlib.suppress(Exception):
            result.close()
    with contextlib.suppress(Exception):
        conn.close()

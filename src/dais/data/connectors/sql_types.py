"""SQL column types as Arrow types, and rows as Arrow record batches.

A column's Arrow type comes, in order, from its SQLAlchemy type (tables, reflected), from the DBAPI
cursor description (queries on PostgreSQL and MySQL/MariaDB), or from the values of the first rows
(SQLite queries, where the driver describes no types). Anything else is text.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from sqlalchemy import types as sqltypes

from dais.data.connectors.base import UnreadableData

#: Rows looked at to infer the type of a column the source does not describe.
INFER_ROWS = 100
_US = "us"


def arrow_type_for_sqla(t: sqltypes.TypeEngine[Any], dialect: str) -> pa.DataType | None:
    """The Arrow type of a SQLAlchemy column type (``None``: not declared, look at the values)."""
    if isinstance(t, sqltypes.NullType):
        return None
    if isinstance(t, sqltypes.Boolean):
        return pa.bool_()
    unsigned = bool(getattr(t, "unsigned", False))
    if isinstance(t, sqltypes.BigInteger):
        return pa.uint64() if unsigned else pa.int64()
    if isinstance(t, sqltypes.SmallInteger):
        return pa.int32() if unsigned else pa.int16()
    if isinstance(t, sqltypes.Integer):
        return pa.int64() if unsigned or dialect == "sqlite" else pa.int32()
    if isinstance(t, sqltypes.Float):
        precision = getattr(t, "precision", None)
        single = isinstance(t, sqltypes.REAL) and dialect != "sqlite"
        return pa.float32() if single or (precision is not None and precision <= 24) else pa.float64()
    if isinstance(t, sqltypes.Numeric):
        return _decimal(t.precision, t.scale) if dialect != "sqlite" else pa.float64()
    if isinstance(t, sqltypes.DateTime):
        return pa.timestamp(_US, tz="UTC" if t.timezone else None)
    if isinstance(t, sqltypes.Date):
        return pa.date32()
    if isinstance(t, sqltypes.Time):
        return pa.time64(_US)
    if isinstance(t, sqltypes.Interval):
        return pa.duration(_US)
    if isinstance(t, sqltypes._Binary):
        return pa.binary()
    return pa.string()  # text, enums, JSON, UUIDs, arrays and anything unknown


def _decimal(precision: int | None, scale: int | None) -> pa.DataType:
    if precision and 0 < precision <= 38 and 0 <= (scale or 0) <= precision:
        return pa.decimal128(precision, scale or 0)
    return pa.float64()  # unconstrained (or wider than Arrow's decimal128): a float, not a guess


_PG_TYPES: dict[str, pa.DataType] = {
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "oid": pa.int64(),
    "float4": pa.float32(),
    "float8": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp(_US),
    "timestamptz": pa.timestamp(_US, tz="UTC"),
    "time": pa.time64(_US),
    "interval": pa.duration(_US),
    "bytea": pa.binary(),
}

# pymysql.constants.FIELD_TYPE
_MYSQL_TYPES: dict[int, pa.DataType | None] = {
    1: pa.int16(),  # TINY (unsigned up to 255)
    2: pa.int32(),  # SHORT
    3: pa.int64(),  # LONG
    4: pa.float32(),  # FLOAT
    5: pa.float64(),  # DOUBLE
    7: pa.timestamp(_US),  # TIMESTAMP (session time zone, naive)
    8: pa.int64(),  # LONGLONG
    9: pa.int32(),  # INT24
    10: pa.date32(),  # DATE
    11: pa.duration(_US),  # TIME (the driver gives a timedelta)
    12: pa.timestamp(_US),  # DATETIME
    13: pa.int16(),  # YEAR
    14: pa.date32(),  # NEWDATE
    16: pa.binary(),  # BIT
    245: pa.string(),  # JSON
    255: pa.binary(),  # GEOMETRY
}
_MYSQL_DECIMALS = {0, 246}
_MYSQL_TEXT_OR_BYTES = {15, 249, 250, 251, 252, 253, 254}  # text unless the charset is binary (63)


def arrow_type_for_description(dialect: str, column: Any, charset: int | None = None) -> pa.DataType | None:
    """The Arrow type of one DBAPI ``cursor.description`` entry (``None``: look at the values)."""
    if dialect == "postgresql":
        from psycopg import adapters

        info = adapters.types.get(column.type_code)
        if info is None:
            return pa.string()
        if column.type_code == getattr(info, "array_oid", None):
            return pa.string()
        if info.name == "numeric":
            return _decimal(column.precision, column.scale)
        return _PG_TYPES.get(info.name, pa.string())
    if dialect in ("mysql", "mariadb"):
        code = column[1]
        if code in _MYSQL_DECIMALS:
            return _decimal(column[4], column[5])
        if code in _MYSQL_TEXT_OR_BYTES:
            if charset is None:
                return None
            return pa.binary() if charset == 63 else pa.string()
        return _MYSQL_TYPES.get(code, pa.string())
    return None


def infer_type(values: Sequence[Any]) -> pa.DataType:
    """A type for values the source did not describe (a column of nulls is text)."""
    seen = {type(v) for v in values if v is not None}
    if not seen:
        return pa.string()
    if seen <= {bool}:
        return pa.bool_()
    if seen <= {int}:
        return pa.int64()
    if seen <= {int, float}:
        return pa.float64()
    if seen <= {bytes, bytearray, memoryview}:
        return pa.binary()
    if seen <= {dt.datetime}:
        aware = any(v.tzinfo is not None for v in values if v is not None)
        return pa.timestamp(_US, tz="UTC" if aware else None)
    if seen <= {dt.date}:
        return pa.date32()
    if seen <= {dt.time}:
        return pa.time64(_US)
    if seen <= {dt.timedelta}:
        return pa.duration(_US)
    if seen <= {decimal.Decimal}:
        return pa.float64()
    return pa.string()


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str, ensure_ascii=False)
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def column_array(values: list[Any], type_: pa.DataType, name: str) -> pa.Array:
    """One column of a batch as ``type_``; :class:`UnreadableData` naming the column if a value won't fit."""
    if pa.types.is_string(type_):
        values = [None if v is None else _as_text(v) for v in values]
    elif pa.types.is_binary(type_):
        values = [bytes(v) if isinstance(v, bytearray | memoryview) else v for v in values]
    elif pa.types.is_floating(type_):
        values = [float(v) if isinstance(v, decimal.Decimal) else v for v in values]
    try:
        return pa.array(values, type=type_, from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError) as exc:
        bad = next((v for v in values if v is not None and not _fits(v, type_)), None)
        raise UnreadableData(
            f"Column {name!r} holds a value that does not fit its type {type_}"
            + (f" ({type(bad).__name__} {str(bad)[:40]!r})" if bad is not None else "")
            + f": {exc}"
        ) from exc


def _fits(value: Any, type_: pa.DataType) -> bool:
    try:
        pa.array([value], type=type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        return False
    return True


def rows_to_batch(rows: Sequence[Sequence[Any]], schema: pa.Schema) -> pa.RecordBatch:
    """``rows`` (tuples in ``schema``'s column order) as a record batch of ``schema``."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    arrays = [
        column_array(list(col), field.type, field.name) for col, field in zip(columns, schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)

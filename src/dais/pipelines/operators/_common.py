"""Helpers shared by the built-in operators: schema conversion, column checks, type groups.

Conventions every built-in operator follows (the conformance suite relies on them):

- ``infer`` gives exactly the schema the built expression has. Most operators get it by building their
  expression on unbound Ibis tables (:func:`infer_by_build`), so the two cannot drift apart.
- Column order: operators that rewrite columns keep them in place; new columns go to the end.
- NumPy execution (``transform_arrays``) takes columns the way ``pyarrow.Array.to_numpy(
  zero_copy_only=False)`` gives them: numbers as ``float64`` with NaN for null (``int64`` when there is no
  null), strings and other objects as ``object`` arrays with ``None`` for null, timestamps as
  ``datetime64`` with NaT. It returns every output column: ``float64`` with NaN for a null number,
  ``int64`` for integer outputs and ``bool`` for flags such as one-hot columns (neither is ever null:
  see each operator), ``object`` with ``None`` for strings. Columns it does not touch are passed
  through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import numpy as np

from dais.pipelines.operators.base import Column, ParamError, TableSchema

_GROUP_CHECKS: dict[str, Callable[[dt.DataType], bool]] = {
    "any": lambda t: True,
    "numeric": lambda t: t.is_numeric() and not t.is_boolean(),
    "integer": lambda t: t.is_integer(),
    "floating": lambda t: t.is_floating() or t.is_decimal(),
    "string": lambda t: t.is_string(),
    "boolean": lambda t: t.is_boolean(),
    "temporal": lambda t: t.is_temporal(),
    "date": lambda t: t.is_date(),
    "timestamp": lambda t: t.is_timestamp(),
}


def dtype_in_group(dtype: str | dt.DataType, group: str) -> bool:
    """Whether an Ibis dtype (text or object) belongs to a column type group of ``TYPE_GROUPS``."""
    t = dt.dtype(dtype) if isinstance(dtype, str) else dtype
    return _GROUP_CHECKS[group](t)


def to_ibis_schema(schema: TableSchema) -> ibis.Schema:
    return ibis.schema({c.name: dt.dtype(c.dtype).copy(nullable=c.nullable) for c in schema.columns})


def from_ibis_schema(schema: ibis.Schema, *, open: bool = False) -> TableSchema:
    """A :class:`TableSchema` from an Ibis schema (dtype text without the ``!`` non-null marker)."""
    columns = [
        Column(name=name, dtype=str(t.copy(nullable=True)), nullable=t.nullable) for name, t in schema.items()
    ]
    return TableSchema(columns=columns, open=open)


def unbound(schema: TableSchema, name: str = "t") -> ibis.Table:
    """An unbound Ibis table of ``schema`` (to build an expression and read its output schema)."""
    return ibis.table(to_ibis_schema(schema), name=name)


def input_schema(inputs: Mapping[str, TableSchema], port: str = "in") -> TableSchema:
    schema = inputs.get(port)
    if schema is None:
        raise ParamError(port, f"Input {port!r} is not connected.")
    return schema


def infer_by_build(
    inputs: Mapping[str, TableSchema],
    build: Callable[[dict[str, ibis.Table]], ibis.Table],
    *,
    open: bool = False,
) -> TableSchema:
    """The output schema of ``build`` applied to unbound tables of the input schemas."""
    tables = {port: unbound(schema, name=f"_{port}") for port, schema in inputs.items() if schema is not None}
    out = build(tables)
    return from_ibis_schema(out.schema(), open=open or any(s.open for s in inputs.values() if s is not None))


def check_columns(
    schema: TableSchema, names: Sequence[str], field: str, *, group: str = "any", multiple: bool = True
) -> None:
    """:class:`ParamError` (``field`` or ``field.i``) for a name that is not a column of the right group.

    Column pickers are also checked by the validator; operators check again so that ``infer`` is right
    on its own (and tests of one operator need no validator).
    """
    seen: set[str] = set()
    for i, name in enumerate(names):
        where = f"{field}.{i}" if multiple else field
        col = schema.get(name)
        if col is None:
            if schema.open:
                continue  # an open schema may gain the column at run time
            known = ", ".join(schema.names()) or "none"
            raise ParamError(where, f"Unknown column {name!r} (columns: {known}).")
        if not dtype_in_group(col.dtype, group):
            raise ParamError(where, f"Column {name!r} is {col.dtype}; a {group} column is needed.")
        if name in seen:
            raise ParamError(where, f"Column {name!r} is listed twice.")
        seen.add(name)


def check_new_names(schema: TableSchema, names: Sequence[str], field: str, *, indexed: bool = False) -> None:
    """:class:`ParamError` (``field``, or ``field.i`` if ``indexed``) when a new column name would clash
    with an existing one or another new one."""
    taken = set(schema.names())
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in taken or name in seen:
            raise ParamError(f"{field}.{i}" if indexed else field, f"Column {name!r} already exists.")
        seen.add(name)


# --- NumPy side -------------------------------------------------------------------------------


def as_float(values: np.ndarray) -> np.ndarray:
    """A numeric column as float64 with NaN for null (None in an object array becomes NaN)."""
    if values.dtype == object:
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return values.astype(np.float64)


def null_mask(values: np.ndarray) -> np.ndarray:
    """True where a value is null (None, NaN or NaT)."""
    if values.dtype == object:
        return np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in values], dtype=bool)
    if values.dtype.kind in "fmM":
        return np.asarray(np.isnan(values), dtype=bool)
    return np.zeros(len(values), dtype=bool)


def json_scalar(value: Any) -> Any:
    """A fitted value as plain JSON (NumPy and Arrow scalars become Python ones)."""
    if isinstance(value, np.generic):
        return value.item()
    return value

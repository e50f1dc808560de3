"""A sample as JSON-able records (with a byte cap), and basic column statistics over it.

Records hold only JSON types: dates and times become ISO strings, bytes become base64 (or
``"<N bytes>"`` when long), NaN and infinities become ``None``, decimals become strings.
"""

from __future__ import annotations

import base64
import json
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dais.data.source import ColumnStats

#: Bytes shown inline as base64; longer values show as "<N bytes>".
MAX_INLINE_BYTES = 256
#: Characters kept of one string cell in a sample (a preview, not the data).
MAX_CELL_CHARS = 4096
_TOP = 10
_BINS = 20


def json_value(value: Any) -> Any:
    """``value`` (as ``pyarrow``'s ``to_pylist`` gives it) made JSON-able."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value if len(value) <= MAX_CELL_CHARS else value[:MAX_CELL_CHARS] + "…"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return base64.b64encode(raw).decode() if len(raw) <= MAX_INLINE_BYTES else f"<{len(raw)} bytes>"
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):  # an Arrow map
            return {str(k): json_value(v) for k, v in value}
        return [json_value(v) for v in value]
    if isinstance(value, np.generic):
        return json_value(value.item())
    return str(value)


def sample_records(table: pa.Table, max_bytes: int) -> tuple[list[dict[str, Any]], bool]:
    """Rows of ``table`` as JSON-able records, stopping before ``max_bytes`` of JSON; and whether cut."""
    records: list[dict[str, Any]] = []
    used = 2  # the enclosing []
    for batch in table.to_batches():
        for row in batch.to_pylist():
            record = {k: json_value(v) for k, v in row.items()}
            size = len(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()) + 1
            if used + size > max_bytes:
                return records, True
            used += size
            records.append(record)
    return records, False


def _number_stats(
    name: str, column: pa.ChunkedArray, rows: int, nulls: int, distinct: int | None
) -> ColumnStats:
    values = column.drop_null().to_numpy(zero_copy_only=False).astype("float64", copy=False)
    values = values[np.isfinite(values)]
    stats = ColumnStats(name=name, rows=rows, nulls=nulls, distinct=distinct)
    if values.size == 0:
        return stats
    low, high = float(values.min()), float(values.max())
    stats.min, stats.max = json_value(pc.min(column).as_py()), json_value(pc.max(column).as_py())
    stats.mean = float(values.mean())
    stats.std = float(values.std(ddof=1)) if values.size > 1 else 0.0
    counts, edges = np.histogram(
        values, bins=_BINS, range=(low, high) if high > low else (low - 0.5, low + 0.5)
    )
    stats.histogram = [(float(edges[i]), float(edges[i + 1]), int(counts[i])) for i in range(len(counts))]
    return stats


def _column_stats(name: str, column: pa.ChunkedArray) -> ColumnStats:
    rows, nulls = len(column), column.null_count
    t = column.type
    if pa.types.is_dictionary(t):
        column = column.cast(t.value_type)
        t = t.value_type
    try:
        distinct: int | None = pc.count_distinct(column, mode="only_valid").as_py()
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError, pa.ArrowInvalid):
        distinct = None
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return _number_stats(name, column, rows, nulls, distinct)
    stats = ColumnStats(name=name, rows=rows, nulls=nulls, distinct=distinct)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_boolean(t):
        counts = pc.value_counts(column.drop_null()) if rows > nulls else None
        if counts is not None and len(counts):
            pairs = sorted(
                ((c["values"].as_py(), c["counts"].as_py()) for c in counts), key=lambda p: (-p[1], str(p[0]))
            )
            stats.top = [(json_value(v), n) for v, n in pairs[:_TOP]]
    if rows > nulls and (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_temporal(t)
        or pa.types.is_boolean(t)
    ):
        try:
            mm = pc.min_max(column)
            stats.min, stats.max = json_value(mm["min"].as_py()), json_value(mm["max"].as_py())
        except (pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pass
    return stats


def profile_table(table: pa.Table) -> list[ColumnStats]:
    """Per column: nulls, distinct values, min/max, mean/std and a 20-bin histogram (numbers), top 10
    values (strings, booleans)."""
    return [_column_stats(name, table.column(name)) for name in table.column_names]

"""Cursor (keyset) pagination shared by every listing.

A listing is sorted by one column (ascending or, with a leading ``-``, descending) with the id as
tie-breaker; the cursor is the sort value and id of the last row seen, so pages stay stable while
rows are added.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from dais.core.errors import InvalidInput

T = TypeVar("T")

MAX_LIMIT = 500


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(sort: str, value: Any, row_id: str) -> str:
    if isinstance(value, datetime):
        value = {"dt": value.isoformat()}
    raw = json.dumps([sort, value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort, value, row_id = json.loads(raw)
        if isinstance(value, dict) and "dt" in value:
            value = datetime.fromisoformat(value["dt"])
        return str(sort), value, str(row_id)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(
            "The cursor is not valid: pass back the next_cursor of the previous page unchanged.",
            errors=[{"loc": ["query", "cursor"], "msg": "malformed cursor"}],
        ) from exc


def paginate(
    session: Session,
    stmt: Select[Any],
    *,
    columns: dict[str, InstrumentedAttribute[Any]],
    id_column: InstrumentedAttribute[Any],
    sort: str,
    limit: int,
    cursor: str | None,
) -> Page[Any]:
    """Run ``stmt`` sorted by ``sort`` (a key of ``columns``, optionally ``-``-prefixed)."""
    desc = sort.startswith("-")
    key = sort[1:] if desc else sort
    if key not in columns:
        allowed = ", ".join(sorted(columns))
        raise InvalidInput(
            f"Cannot sort by {key!r}; sort by one of: {allowed} (prefix with - for descending).",
            errors=[{"loc": ["query", "sort"], "msg": f"unknown sort field {key!r}"}],
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be between 1 and {MAX_LIMIT}.",
            errors=[{"loc": ["query", "limit"], "msg": "out of range"}],
        )
    col = columns[key]
    if cursor:
        c_sort, c_value, c_id = decode_cursor(cursor)
        if c_sort != sort:
            raise InvalidInput(
                "The cursor belongs to a listing with another sort order; start again without a cursor.",
                errors=[{"loc": ["query", "cursor"], "msg": "sort mismatch"}],
            )
        if not _fits(col, c_value):
            raise InvalidInput(
                "The cursor is not valid: pass back the next_cursor of the previous page unchanged.",
                errors=[{"loc": ["query", "cursor"], "msg": "malformed cursor"}],
            )
        cmp = (
            tuple_(col, id_column) < tuple_(c_value, c_id)
            if desc
            else (tuple_(col, id_column) > tuple_(c_value, c_id))
        )
        stmt = stmt.where(cmp)
    order = (col.desc(), id_column.desc()) if desc else (col.asc(), id_column.asc())
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(sort, getattr(last, col.key), getattr(last, id_column.key))
    return Page(rows, next_cursor)


def _fits(col: InstrumentedAttribute[Any], value: Any) -> bool:
    """Whether a decoded cursor value has the type of the sort column (a forged cursor may not)."""
    try:
        sql_type = getattr(col.type, "impl_instance", col.type)  # a TypeDecorator's underlying type
        expected: type = sql_type.python_type
    except NotImplementedError:
        return isinstance(value, str | int | float)
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, expected)

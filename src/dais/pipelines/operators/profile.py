"""The statistics/profile operator: a JSON report (per-column summary, histograms, top values, correlation
matrix), computed with aggregate queries whose results are small."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field

from dais.pipelines.operators._common import check_columns, dtype_in_group, input_schema
from dais.pipelines.operators._fitting import aggregate_row
from dais.pipelines.operators.base import BuildContext, Operator, Port, PortType, TableSchema, columns
from dais.pipelines.operators.selection import correlations


class ProfileParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] | None = columns(default=None, description="Columns to profile (all if unset).")
    bins: int = Field(default=20, ge=1, le=200, description="Histogram bins for numeric columns.")
    top_values: int = Field(
        default=10, ge=0, le=100, description="Most frequent values listed for other columns."
    )
    correlation: bool = Field(
        default=True, description="Add the Pearson correlation matrix of numeric columns."
    )
    max_correlation_columns: int = Field(
        default=50, ge=2, le=200, description="At most this many columns in it."
    )


class Profile(Operator):
    """Per-column statistics as a report: count, nulls, distinct, min/max/mean/std/quantiles, histograms."""

    id: ClassVar[str] = "profile"
    family: ClassVar[str] = "statistics"
    title: ClassVar[str] = "Statistics"
    description: ClassVar[str] = "Summary, histograms, top values and correlations, as a report."
    outputs: ClassVar[tuple[Port, ...]] = (Port("report", PortType.report),)
    Params: ClassVar[type[BaseModel]] = ProfileParams

    def infer(
        self, params: ProfileParams, inputs: Mapping[str, TableSchema]
    ) -> dict[str, TableSchema | None]:
        if params.columns:
            check_columns(input_schema(inputs), params.columns, "columns")
        return {"report": None}

    def build(self, ctx: BuildContext, params: ProfileParams, inputs: Mapping[str, Any]) -> dict[str, Any]:
        table: ir.Table = inputs["in"]
        names = params.columns or list(table.columns)
        schema = table.schema()
        metrics: dict[str, ir.Scalar] = {"rows": table.count()}
        numeric = [n for n in names if dtype_in_group(schema[n], "numeric")]
        for i, name in enumerate(names):
            col = table[name]
            metrics[f"n{i}"] = col.count()
            metrics[f"d{i}"] = col.nunique()
            if name in numeric:
                x = col.cast("float64")
                metrics.update(
                    {f"min{i}": x.min(), f"max{i}": x.max(), f"mean{i}": x.mean(), f"std{i}": x.std()}
                )
                for q in (25, 50, 75):
                    metrics[f"q{q}_{i}"] = x.quantile(q / 100)
            elif schema[name].is_temporal() or schema[name].is_string() or schema[name].is_boolean():
                metrics[f"min{i}"], metrics[f"max{i}"] = col.min(), col.max()
        row = aggregate_row(ctx, table, metrics)
        rows = row["rows"]
        report_columns = []
        for i, name in enumerate(names):
            entry: dict[str, Any] = {
                "name": name,
                "dtype": str(schema[name].copy(nullable=True)),
                "count": row[f"n{i}"],
                "nulls": rows - row[f"n{i}"],
                "distinct": row[f"d{i}"],
            }
            if f"min{i}" in row:
                entry["min"], entry["max"] = _json(row[f"min{i}"]), _json(row[f"max{i}"])
            if name in numeric:
                entry["mean"], entry["std"] = _json(row[f"mean{i}"]), _json(row[f"std{i}"])
                entry["quantiles"] = {f"p{q}": _json(row[f"q{q}_{i}"]) for q in (25, 50, 75)}
                entry["histogram"] = _histogram(ctx, table, name, row[f"min{i}"], row[f"max{i}"], params.bins)
            elif params.top_values:
                entry["top"] = _top(ctx, table, name, params.top_values)
            report_columns.append(entry)
        report: dict[str, Any] = {"rows": rows, "columns": report_columns}
        if params.correlation and len(numeric) >= 2:
            chosen = numeric[: params.max_correlation_columns]
            matrix = correlations(ctx, table, chosen)
            report["correlation"] = {"columns": chosen, "matrix": [[_json(v) for v in r] for r in matrix]}
        return {"report": report}


def _histogram(ctx: BuildContext, table: ir.Table, name: str, lo: Any, hi: Any, bins: int) -> dict[str, Any]:
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return {"edges": [], "counts": []}
    width = (hi - lo) / bins
    edges = [lo + width * k for k in range(bins)] + [hi]
    x = table[name].cast("float64")
    index = ibis.least(((x - lo) / width).floor().cast("int64"), bins - 1) if width > 0 else ibis.literal(0)
    counted = ctx.execute(
        table.filter(x.notnull() & ~x.isnan())
        .mutate(__dais_bin=index)
        .group_by("__dais_bin")
        .aggregate(__dais_n=ibis._.count())
    )
    counts = [0] * bins
    for b, n in zip(
        counted.column("__dais_bin").to_pylist(), counted.column("__dais_n").to_pylist(), strict=True
    ):
        counts[int(b)] += int(n)
    return {"edges": [_json(e) for e in edges], "counts": counts}


def _top(ctx: BuildContext, table: ir.Table, name: str, k: int) -> list[dict[str, Any]]:
    counted = ctx.execute(
        table.filter(table[name].notnull())
        .group_by(name)
        .aggregate(__dais_n=ibis._.count())
        .order_by([ibis.desc("__dais_n"), ibis.asc(name)])
        .limit(k)
    )
    values = counted.column(name).to_pylist()
    return [
        {"value": _json(v), "count": n}
        for v, n in zip(values, counted.column("__dais_n").to_pylist(), strict=True)
    ]


def _json(value: Any) -> Any:
    """A statistic as JSON: NaN and infinities become null, dates ISO text, decimals floats."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return value

"""Cleaning operators: drop rows with missing values, impute them (fitting), clip outliers (fitting).

Nulls in NumPy (``transform_arrays``): NaN in float arrays, None in object arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dais.pipelines.operators._common import (
    as_float,
    check_columns,
    dtype_in_group,
    infer_by_build,
    input_schema,
    json_scalar,
    null_mask,
)
from dais.pipelines.operators._fitting import ColumnTransform, FitFailed, aggregate_row, column_moments
from dais.pipelines.operators.base import (
    BuildContext,
    FittedTransform,
    Operator,
    ParamError,
    TableSchema,
    columns,
)


class DropHow(StrEnum):
    any = "any"
    all = "all"


class DropMissingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] | None = columns(default=None, description="Columns checked for nulls (all if unset).")
    how: DropHow = Field(default=DropHow.any, description="Drop a row when any (or all) of them is null.")
    nan_as_null: bool = Field(default=True, description="Count floating-point NaN as missing too.")


class DropMissing(Operator):
    """Drop rows with missing values."""

    id: ClassVar[str] = "drop_missing"
    family: ClassVar[str] = "cleaning"
    title: ClassVar[str] = "Drop missing values"
    Params: ClassVar[type[BaseModel]] = DropMissingParams

    def infer(
        self, params: DropMissingParams, inputs: Mapping[str, TableSchema]
    ) -> dict[str, TableSchema | None]:
        if params.columns:
            check_columns(input_schema(inputs), params.columns, "columns")
        return {"out": infer_by_build(inputs, lambda t: self._apply(params, t["in"]))}

    def build(
        self, ctx: BuildContext, params: DropMissingParams, inputs: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {"out": self._apply(params, inputs["in"])}

    def _apply(self, params: DropMissingParams, table: ir.Table) -> ir.Table:
        def missing(name: str) -> ir.BooleanValue:
            col = table[name]
            if params.nan_as_null and col.type().is_floating():
                return col.isnull() | col.isnan().fill_null(True)
            return col.isnull()

        flags = [missing(c) for c in params.columns or table.columns]
        combined = flags[0]
        for flag in flags[1:]:
            combined = (combined | flag) if params.how is DropHow.any else (combined & flag)
        return table.filter(~combined)


class ImputeStrategy(StrEnum):
    mean = "mean"
    median = "median"
    mode = "mode"
    constant = "constant"


class ImputeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = columns(
        types=("numeric", "string", "boolean"), description="Columns whose nulls are filled."
    )
    strategy: ImputeStrategy = Field(
        default=ImputeStrategy.mean,
        description="mean and median (numeric columns, which become float64), the most frequent value "
        "(ties: the smallest), or a constant.",
    )
    fill_value: float | int | str | bool | None = Field(
        default=None, description="The constant (strategy 'constant'), of the columns' type."
    )

    @model_validator(mode="after")
    def _check(self) -> ImputeParams:
        if self.strategy is ImputeStrategy.constant and self.fill_value is None:
            raise ValueError("strategy 'constant' needs fill_value")
        return self


class Impute(ColumnTransform):
    """Fill missing values with a learned statistic or a constant."""

    id: ClassVar[str] = "impute"
    family: ClassVar[str] = "cleaning"
    title: ClassVar[str] = "Impute missing values"
    description: ClassVar[str] = "Fill nulls with the mean, median, mode or a constant."
    group: ClassVar[str] = "any"
    Params: ClassVar[type[BaseModel]] = ImputeParams

    def check(self, params: ImputeParams, schema: TableSchema) -> None:
        check_columns(schema, params.columns, "columns")
        for i, name in enumerate(params.columns):
            col = schema.get(name)
            if col is None:
                continue
            numeric = dtype_in_group(col.dtype, "numeric")
            if params.strategy in (ImputeStrategy.mean, ImputeStrategy.median) and not numeric:
                raise ParamError(
                    f"columns.{i}",
                    f"{params.strategy.value} needs a numeric column; {name!r} is {col.dtype}.",
                )
            if params.strategy is ImputeStrategy.constant:
                value = params.fill_value
                ok = (
                    isinstance(value, bool) == dtype_in_group(col.dtype, "boolean")
                    and isinstance(value, str) == dtype_in_group(col.dtype, "string")
                    and (not dtype_in_group(col.dtype, "integer") or isinstance(value, int))
                )
                if not ok:
                    raise ParamError("fill_value", f"{value!r} does not fit column {name!r} ({col.dtype}).")

    def placeholder_state(self, params: ImputeParams, schema: TableSchema) -> dict[str, Any]:
        return {"values": dict.fromkeys(params.columns, params.fill_value)}

    def fit(self, ctx: BuildContext, params: ImputeParams, table: ibis.Table) -> FittedTransform:
        values: dict[str, Any]
        if params.strategy is ImputeStrategy.constant:
            values = dict.fromkeys(params.columns, params.fill_value)
        elif params.strategy is ImputeStrategy.mode:
            values = {c: _mode(ctx, table, c) for c in params.columns}
        elif params.strategy is ImputeStrategy.mean:
            # the columns' full moments, not only their means: a standard scaler after this imputer asks
            # the same aggregate and derives its statistics from it (one pass for both fits)
            moments = column_moments(ctx, table, params.columns)
            values = {c: moments[c].mean for c in params.columns}
        else:
            metrics = {f"v{i}": table[c].median() for i, c in enumerate(params.columns)}
            row = aggregate_row(ctx, table, metrics)
            values = {c: row[f"v{i}"] for i, c in enumerate(params.columns)}
        for name, value in values.items():
            if value is None:
                ctx.log(f"impute: column {name!r} has no values; its nulls stay null")
        return self.fitted(
            params, list(params.columns), {"values": {k: json_scalar(v) for k, v in values.items()}}
        )

    def transform_expr(self, fitted: FittedTransform, table: ibis.Table) -> ibis.Table:
        to_float = fitted.params["strategy"] in ("mean", "median")
        changes: dict[str, ir.Value] = {}
        for name, value in fitted.state["values"].items():
            col = table[name]
            if to_float:
                col = col.cast("float64")
            changes[name] = col if value is None else col.fill_null(ibis.literal(value).cast(col.type()))
        return table.mutate(**changes)

    def transform_arrays(
        self, fitted: FittedTransform, columns: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        out = dict(columns)
        for name, value in fitted.state["values"].items():
            arr = columns[name]
            if (arr.dtype == object and not isinstance(value, int | float)) or isinstance(value, bool | str):
                filled = np.array([value if v is None else v for v in arr], dtype=object)
                out[name] = filled if value is not None else arr
            else:
                floats = as_float(arr)
                out[name] = np.where(np.isnan(floats), np.nan if value is None else float(value), floats)
        return out


def _mode(ctx: BuildContext, table: ir.Table, name: str) -> Any:
    col = table[name]
    counts = (
        table.filter(col.notnull())
        .group_by(name)
        .aggregate(__dais_n=ibis._.count())
        .order_by([ibis.desc("__dais_n"), ibis.asc(name)])
        .limit(1)
    )
    result = ctx.execute(counts)
    return result.column(name)[0].as_py() if result.num_rows else None


class ClipMethod(StrEnum):
    quantile = "quantile"
    zscore = "zscore"


class ClipOutliersParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = columns(
        types=("numeric",), description="Numeric columns to clip (they become float64)."
    )
    method: ClipMethod = Field(default=ClipMethod.quantile, description="How the bounds are learned.")
    lower_quantile: float = Field(default=0.01, ge=0, lt=1, description="Lower bound quantile (quantile).")
    upper_quantile: float = Field(default=0.99, gt=0, le=1, description="Upper bound quantile (quantile).")
    threshold: float = Field(
        default=3.0, gt=0, le=100, description="Bounds at mean +/- threshold x standard deviation (zscore)."
    )

    @model_validator(mode="after")
    def _check(self) -> ClipOutliersParams:
        if self.lower_quantile >= self.upper_quantile:
            raise ValueError("lower_quantile must be below upper_quantile")
        return self


class ClipOutliers(ColumnTransform):
    """Clip values to bounds learned from the data (quantiles, or mean +/- k standard deviations)."""

    id: ClassVar[str] = "clip_outliers"
    family: ClassVar[str] = "cleaning"
    title: ClassVar[str] = "Clip outliers"
    Params: ClassVar[type[BaseModel]] = ClipOutliersParams

    def placeholder_state(self, params: ClipOutliersParams, schema: TableSchema) -> dict[str, Any]:
        return {"bounds": {c: [0.0, 1.0] for c in params.columns}}

    def fit(self, ctx: BuildContext, params: ClipOutliersParams, table: ibis.Table) -> FittedTransform:
        metrics: dict[str, ir.Scalar] = {}
        for i, name in enumerate(params.columns):
            col = table[name].cast("float64")
            if params.method is ClipMethod.quantile:
                metrics[f"lo{i}"] = col.quantile(params.lower_quantile)
                metrics[f"hi{i}"] = col.quantile(params.upper_quantile)
            else:
                metrics[f"lo{i}"] = col.mean() - params.threshold * col.std(how="pop")
                metrics[f"hi{i}"] = col.mean() + params.threshold * col.std(how="pop")
        row = aggregate_row(ctx, table, metrics)
        bounds = {c: [row[f"lo{i}"], row[f"hi{i}"]] for i, c in enumerate(params.columns)}
        return self.fitted(params, list(params.columns), {"bounds": bounds})

    def transform_expr(self, fitted: FittedTransform, table: ibis.Table) -> ibis.Table:
        changes = {}
        for name, (lo, hi) in fitted.state["bounds"].items():
            changes[name] = table[name].cast("float64").clip(lower=lo, upper=hi)
        return table.mutate(**changes)

    def transform_arrays(
        self, fitted: FittedTransform, columns: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        out = dict(columns)
        for name, (lo, hi) in fitted.state["bounds"].items():
            values = as_float(columns[name])
            out[name] = np.clip(values, -np.inf if lo is None else lo, np.inf if hi is None else hi)
        return out


__all__ = ["ClipOutliers", "DropMissing", "FitFailed", "Impute", "null_mask"]

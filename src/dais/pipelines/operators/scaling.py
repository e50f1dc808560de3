"""Scaling operators: scale (standard, min-max, robust; fitting), normalize rows, and math transforms.

``normalize`` and ``math`` learn nothing, but they are fitting operators with an empty state so they
travel in a model's transform chain like the others. Box-Cox / Yeo-Johnson are not offered: their
lambda needs an iterative fit per column; ``math`` offers the usual fixed transforms (log1p, sqrt...).
All outputs are float64; nulls stay null (NaN in NumPy).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from dais.pipelines.operators._common import as_float
from dais.pipelines.operators._fitting import (
    ColumnTransform,
    StatelessTransform,
    aggregate_row,
    column_moments,
    filled_columns,
)
from dais.pipelines.operators.base import BuildContext, FittedTransform, TableSchema, columns


class ScaleMethod(StrEnum):
    standard = "standard"
    minmax = "minmax"
    robust = "robust"


class ScaleParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = columns(
        types=("numeric",), description="Numeric columns to scale (they become float64)."
    )
    method: ScaleMethod = Field(
        default=ScaleMethod.standard,
        description="standard: (x - mean) / std (population std); minmax: (x - min) / (max - min); "
        "robust: (x - median) / (q75 - q25). A zero spread divides by 1.",
    )


class Scale(ColumnTransform):
    """Scale numeric columns with statistics learned from the data."""

    id: ClassVar[str] = "scale"
    family: ClassVar[str] = "scaling"
    title: ClassVar[str] = "Scale"
    description: ClassVar[str] = "Standard, min-max or robust scaling."
    Params: ClassVar[type[BaseModel]] = ScaleParams

    def placeholder_state(self, params: ScaleParams, schema: TableSchema) -> dict[str, Any]:
        return {"center": dict.fromkeys(params.columns, 0.0), "scale": dict.fromkeys(params.columns, 1.0)}

    def fit(self, ctx: BuildContext, params: ScaleParams, table: ibis.Table) -> FittedTransform:
        if params.method is ScaleMethod.standard:
            return self._fit_standard(ctx, params, table)
        metrics: dict[str, ir.Scalar] = {}
        for i, name in enumerate(params.columns):
            col = table[name].cast("float64")
            if params.method is ScaleMethod.minmax:
                metrics[f"c{i}"], metrics[f"s{i}"] = col.min(), col.max() - col.min()
            else:
                metrics[f"c{i}"], metrics[f"s{i}"] = col.median(), col.quantile(0.75) - col.quantile(0.25)
        row = aggregate_row(ctx, table, metrics)
        center = {c: row[f"c{i}"] or 0.0 for i, c in enumerate(params.columns)}
        scale = {c: row[f"s{i}"] or 1.0 for i, c in enumerate(params.columns)}  # zero or unknown spread: 1
        return self.fitted(params, list(params.columns), {"center": center, "scale": scale})

    def _fit_standard(self, ctx: BuildContext, params: ScaleParams, table: ibis.Table) -> FittedTransform:
        """Mean and population standard deviation from the columns' moments. Columns that an imputer
        filled with a constant are fitted from the moments of the raw columns (the aggregate the
        imputer ran, so the runner does not run it again)."""
        filled = filled_columns(table, params.columns)
        if filled is not None:
            parent, sources = filled
            raw = column_moments(ctx, parent, [source for source, _ in sources.values()])
            moments = {c: raw[source].filled(value) for c, (source, value) in sources.items()}
        else:
            moments = column_moments(ctx, table, params.columns)
        center = {c: moments[c].mean or 0.0 for c in params.columns}
        scale = {c: math.sqrt(max(moments[c].var or 0.0, 0.0)) or 1.0 for c in params.columns}
        return self.fitted(params, list(params.columns), {"center": center, "scale": scale})

    def transform_expr(self, fitted: FittedTransform, table: ibis.Table) -> ibis.Table:
        center, scale = fitted.state["center"], fitted.state["scale"]
        return table.mutate(**{c: (table[c].cast("float64") - center[c]) / scale[c] for c in center})

    def transform_arrays(
        self, fitted: FittedTransform, columns: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        center, scale = fitted.state["center"], fitted.state["scale"]
        out = dict(columns)
        for c in center:
            out[c] = (as_float(columns[c]) - center[c]) / scale[c]
        return out


class Norm(StrEnum):
    l1 = "l1"
    l2 = "l2"
    max = "max"


class NormalizeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = columns(
        types=("numeric",), min_items=1, description="The numeric columns of each row's vector."
    )
    norm: Norm = Field(default=Norm.l2, description="Divide each row's vector by its L1, L2 or max norm.")


class Normalize(StatelessTransform):
    """Scale each row's vector of columns to unit norm (nulls count as 0 in the norm and stay null;
    an all-zero row stays zero)."""

    id: ClassVar[str] = "normalize"
    family: ClassVar[str] = "scaling"
    title: ClassVar[str] = "Normalize rows"
    Params: ClassVar[type[BaseModel]] = NormalizeParams

    def transform_expr(self, fitted: FittedTransform, table: ibis.Table) -> ibis.Table:
        cols = [table[c].cast("float64") for c in fitted.input_columns]
        norm_kind = fitted.params["norm"]
        parts = [(c.abs() if norm_kind != "l2" else c * c).fill_null(0.0) for c in cols]
        if norm_kind == "max":
            norm: ir.FloatingValue = ibis.greatest(*parts) if len(parts) > 1 else parts[0]
        else:
            total = parts[0]
            for p in parts[1:]:
                total = total + p
            norm = total.sqrt() if norm_kind == "l2" else total
        norm = ibis.ifelse(norm == 0.0, 1.0, norm)
        return table.mutate(
            **{name: col / norm for name, col in zip(fitted.input_columns, cols, strict=True)}
        )

    def transform_arrays(
        self, fitted: FittedTransform, columns: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        values = np.stack([as_float(columns[c]) for c in fitted.input_columns])
        filled = np.nan_to_num(values, nan=0.0)
        kind = fitted.params["norm"]
        if kind == "l1":
            norm = np.abs(filled).sum(axis=0)
        elif kind == "l2":
            norm = np.sqrt((filled * filled).sum(axis=0))
        else:
            norm = np.abs(filled).max(axis=0)
        norm = np.where(norm == 0.0, 1.0, norm)
        out = dict(columns)
        for i, c in enumerate(fitted.input_columns):
            out[c] = values[i] / norm
        return out


class MathFunction(StrEnum):
    log = "log"
    log1p = "log1p"
    log10 = "log10"
    log2 = "log2"
    sqrt = "sqrt"
    square = "square"
    exp = "exp"
    abs = "abs"
    reciprocal = "reciprocal"


# function -> (Ibis, NumPy, valid domain); out of the domain the result is null (NaN)
_MATH: dict[str, tuple[Callable[[Any], Any], Callable[[np.ndarray], np.ndarray], Callable[[Any], Any]]] = {
    "log": (lambda x: x.ln(), np.log, lambda x: x > 0),
    "log1p": (lambda x: (x + 1.0).ln(), np.log1p, lambda x: x > -1),
    "log10": (lambda x: x.log10(), np.log10, lambda x: x > 0),
    "log2": (lambda x: x.log2(), np.log2, lambda x: x > 0),
    "sqrt": (lambda x: x.sqrt(), np.sqrt, lambda x: x >= 0),
    "square": (lambda x: x * x, np.square, lambda x: x == x),
    "exp": (lambda x: x.exp(), np.exp, lambda x: x <= 700),
    "abs": (lambda x: x.abs(), np.abs, lambda x: x == x),
    "reciprocal": (lambda x: 1.0 / x, np.reciprocal, lambda x: x != 0),
}


class MathParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = columns(
        types=("numeric",), description="Numeric columns to transform (they become float64)."
    )
    function: MathFunction = Field(
        default=MathFunction.log1p,
        description="Applied to each value; outside its domain (log of a value <= 0, sqrt of a negative, "
        "1/0, exp above 700) the result is null.",
    )


class Math(StatelessTransform):
    """A fixed function on each value: log, log1p, sqrt, square, exp, abs, reciprocal."""

    id: ClassVar[str] = "math"
    family: ClassVar[str] = "scaling"
    title: ClassVar[str] = "Log / power transform"
    Params: ClassVar[type[BaseModel]] = MathParams

    def transform_expr(self, fitted: FittedTransform, table: ibis.Table) -> ibis.Table:
        fn, _, domain = _MATH[fitted.params["function"]]
        changes = {}
        for c in fitted.input_columns:
            x = table[c].cast("float64")
            changes[c] = ibis.ifelse(domain(x), fn(x), ibis.null("float64"))
        return table.mutate(**changes)

    def transform_arrays(
        self, fitted: FittedTransform, columns: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        _, fn, domain = _MATH[fitted.params["function"]]
        out = dict(columns)
        for c in fitted.input_columns:
            x = as_float(columns[c])
            ok = np.asarray(domain(x), dtype=bool) & ~np.isnan(x)
            result = np.full(len(x), np.nan)
            result[ok] = fn(x[ok])
            out[c] = result
        return out

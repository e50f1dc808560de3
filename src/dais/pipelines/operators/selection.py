"""Feature selection (fitting): variance threshold, correlation filter, chi2 / mutual information top-k.

Statistics are aggregates run on the engine (one small result each); the choice is made in Python and
the fitted state lists the dropped columns. The output schema is ``open``: it lists the columns that
are never dropped (those not among the candidates); the kept candidates are known after a run.

Nulls: a null feature value is left out of that feature's statistics (pairwise for correlations).
Mutual information discretises each feature into ``n_bins`` equal-width bins between its min and max
(like the plug-in estimator on a histogram; scikit-learn's nearest-neighbour estimator differs).
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from dais.pipelines.operators._common import check_columns
from dais.pipelines.operators._fitting import ColumnTransform, FitFailed, aggregate_row
from dais.pipelines.operators.base import (
    BuildContext,
    FittedTransform,
    ParamError,
    TableSchema,
    column,
    columns,
)


class _Selector(ColumnTransform):
    """Drops the candidate columns its fit rejects."""

    family: ClassVar[str] = "selection"
    data_dependent_columns: ClassVar[bool] = True

    def placeholder_state(self, params: Any, schema: TableSchema) -> dict[str, Any]:
        return {"dropped": list(params.columns), "scores": {}}

    def selected(self, params: Any, dropped: list[str], scores: dict[str, float | None]) -> FittedTransform:
        kept = [c for c in params.columns if c not in dropped]
        return self.fitted(params, list(params.columns), {"dropped": dropped, "scores": scores}, kept)

    def transform_expr(self, fitted: FittedTransform, table: ibis.Table) -> ibis.Table:
        dropped = fitted.state["dropped"]
        return table.drop(*dropped) if dropped else table

    def transform_arrays(
        self, fitted: FittedTransform, columns: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        dropped = set(fitted.state["dropped"])
        return {k: v for k, v in columns.items() if k not in dropped}


class VarianceThresholdParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = columns(types=("numeric",), description="Candidate numeric columns.")
    threshold: float = Field(
        default=0.0, ge=0, description="Drop columns whose (population) variance is <= this."
    )


class VarianceThreshold(_Selector):
    """Drop numeric columns whose variance is at most a threshold (constant columns by default)."""

    id: ClassVar[str] = "variance_threshold"
    title: ClassVar[str] = "Variance threshold"
    Params: ClassVar[type[BaseModel]] = VarianceThresholdParams

    def fit(self, ctx: BuildContext, params: VarianceThresholdParams, table: ibis.Table) -> FittedTransform:
        row = aggregate_row(
            ctx,
            table,
            {f"v{i}": table[c].cast("float64").var(how="pop") for i, c in enumerate(params.columns)},
        )
        scores = {c: row[f"v{i}"] for i, c in enumerate(params.columns)}
        dropped = [c for c, v in scores.items() if v is None or v <= params.threshold]
        return self.selected(params, dropped, scores)


class CorrelationFilterParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = columns(types=("numeric",), min_items=2, description="Candidate numeric columns.")
    threshold: float = Field(
        default=0.95,
        gt=0,
        le=1,
        description="Drop a column whose |Pearson correlation| with a kept one exceeds this.",
    )


class CorrelationFilter(_Selector):
    """Drop columns highly correlated with an earlier kept column (greedy, in the listed order)."""

    id: ClassVar[str] = "correlation_filter"
    title: ClassVar[str] = "Correlation filter"
    Params: ClassVar[type[BaseModel]] = CorrelationFilterParams

    def fit(self, ctx: BuildContext, params: CorrelationFilterParams, table: ibis.Table) -> FittedTransform:
        names = params.columns
        corr = correlations(ctx, table, names)
        kept: list[str] = []
        dropped: list[str] = []
        scores: dict[str, float | None] = {}
        for j, name in enumerate(names):
            worst = max(
                (abs(v) for i in range(j) if names[i] in kept and (v := corr[i][j]) is not None),
                default=0.0,
            )
            scores[name] = worst
            (dropped if worst > params.threshold else kept).append(name)
        return self.selected(params, dropped, scores)


def correlations(ctx: BuildContext, table: ir.Table, names: list[str]) -> list[list[float | None]]:
    """The Pearson correlation matrix of numeric columns (pairwise complete rows; None if undefined)."""
    metrics = {}
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            metrics[f"c{i}_{j}"] = (
                table[names[i]].cast("float64").corr(table[names[j]].cast("float64"), how="pop")
            )
    row = aggregate_row(ctx, table, metrics)
    matrix: list[list[float | None]] = [
        [1.0 if i == j else None for j in range(len(names))] for i in range(len(names))
    ]
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            value = row[f"c{i}_{j}"]
            value = None if value is None or (isinstance(value, float) and math.isnan(value)) else value
            matrix[i][j] = matrix[j][i] = value
    return matrix


class ScoreFunction(StrEnum):
    chi2 = "chi2"
    mutual_info = "mutual_info"


class SelectKBestParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = columns(types=("numeric",), description="Candidate numeric feature columns.")
    label: str = column(types=("string", "integer", "boolean"), description="The class label column.")
    score: ScoreFunction = Field(
        default=ScoreFunction.mutual_info,
        description="chi2 (non-negative features, e.g. counts) or mutual information (binned features).",
    )
    k: int = Field(default=10, ge=1, description="Keep the k best-scoring columns.")
    n_bins: int = Field(default=10, ge=2, le=100, description="Bins per feature for mutual information.")


class SelectKBest(_Selector):
    """Keep the k features that score best against a class label (chi2 or mutual information)."""

    id: ClassVar[str] = "select_k_best"
    title: ClassVar[str] = "Select k best features"
    Params: ClassVar[type[BaseModel]] = SelectKBestParams

    def check(self, params: SelectKBestParams, schema: TableSchema) -> None:
        super().check(params, schema)
        check_columns(schema, [params.label], "label", multiple=False)
        if params.label in params.columns:
            raise ParamError("label", "The label cannot be one of the candidate columns.")

    def fit(self, ctx: BuildContext, params: SelectKBestParams, table: ibis.Table) -> FittedTransform:
        labelled = table.filter(table[params.label].notnull())
        if params.score is ScoreFunction.chi2:
            scores = _chi2(ctx, labelled, params)
        else:
            scores = {c: _mutual_info(ctx, labelled, c, params.label, params.n_bins) for c in params.columns}

        def rank(name: str) -> tuple[float, int]:
            score = scores[name]
            return (-score if score is not None else math.inf, params.columns.index(name))

        ranked = sorted(params.columns, key=rank)
        keep = set(ranked[: params.k])
        return self.selected(params, [c for c in params.columns if c not in keep], scores)


def _chi2(ctx: BuildContext, table: ir.Table, params: SelectKBestParams) -> dict[str, float | None]:
    """scikit-learn's chi2: observed = per-class sums of a feature; expected = class share x total."""
    low = aggregate_row(ctx, table, {f"m{i}": table[c].min() for i, c in enumerate(params.columns)})
    negative = [c for i, c in enumerate(params.columns) if low[f"m{i}"] is not None and low[f"m{i}"] < 0]
    if negative:
        raise FitFailed(f"chi2 needs non-negative features; {negative} have negative values.")
    sums = {f"s{i}": table[c].cast("float64").sum() for i, c in enumerate(params.columns)}
    per_class = ctx.execute(table.group_by(params.label).aggregate(__dais_n=ibis._.count(), **sums))
    counts = np.asarray(per_class.column("__dais_n").to_pylist(), dtype=np.float64)
    share = counts / counts.sum() if counts.sum() else counts
    scores: dict[str, float | None] = {}
    for i, name in enumerate(params.columns):
        observed = np.nan_to_num(np.asarray(per_class.column(f"s{i}").to_pylist(), dtype=np.float64))
        expected = share * observed.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(expected > 0, (observed - expected) ** 2 / expected, 0.0)
        scores[name] = float(terms.sum()) if observed.sum() > 0 else None
    return scores


def _mutual_info(ctx: BuildContext, table: ir.Table, name: str, label: str, n_bins: int) -> float | None:
    x = table[name].cast("float64")
    bounds = aggregate_row(ctx, table, {"lo": x.min(), "hi": x.max()})
    lo, hi = bounds["lo"], bounds["hi"]
    if lo is None:
        return None
    width = (hi - lo) / n_bins or 1.0
    binned = ibis.least((((x - lo) / width).floor()).cast("int64"), n_bins - 1)
    counts = ctx.execute(
        table.filter(x.notnull() & ~x.isnan())
        .mutate(__dais_bin=binned)
        .group_by(["__dais_bin", label])
        .aggregate(__dais_n=ibis._.count())
    )
    bins = counts.column("__dais_bin").to_pylist()
    labels = counts.column(label).to_pylist()
    n = np.asarray(counts.column("__dais_n").to_pylist(), dtype=np.float64)
    total = n.sum()
    if not total:
        return None
    p_bin: dict[Any, float] = {}
    p_label: dict[Any, float] = {}
    for b, y, c in zip(bins, labels, n, strict=True):
        p_bin[b] = p_bin.get(b, 0.0) + c / total
        p_label[y] = p_label.get(y, 0.0) + c / total
    return float(
        sum(
            (c / total) * math.log((c / total) / (p_bin[b] * p_label[y]))
            for b, y, c in zip(bins, labels, n, strict=True)
        )
    )

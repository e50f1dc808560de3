"""Shared shape of the built-in fitting operators.

``infer`` of a fitting operator applies :meth:`FittingOperator.transform_expr` with a placeholder state
(:meth:`ColumnTransform.placeholder`) to an unbound table, so the inferred schema is the transform's own.
Operators whose output columns depend on the data (one-hot without given categories, feature selection)
answer an ``open`` schema that lists the columns they are sure of.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
from pydantic import BaseModel

from dais.core.errors import DaisError
from dais.pipelines.operators._common import check_columns, infer_by_build, input_schema
from dais.pipelines.operators.base import BuildContext, FittedTransform, FittingOperator, TableSchema


class FitFailed(DaisError):
    """The data does not allow fitting (e.g. chi2 on negative values)."""

    code = "pipeline_fit_failed"
    status = 422
    title = "Fitting failed"


class ColumnTransform(FittingOperator):
    """A fitting operator over the columns picked by ``params.columns`` (checked against ``group``)."""

    group: ClassVar[str] = "numeric"
    #: True when the output columns depend on the fitted state (the schema is open until a run).
    data_dependent_columns: ClassVar[bool] = False

    def infer(self, params: Any, inputs: Mapping[str, TableSchema]) -> dict[str, TableSchema | None]:
        schema = input_schema(inputs)
        self.check(params, schema)
        fitted = self.placeholder(params, schema)
        out = infer_by_build(
            inputs, lambda t: self.transform_expr(fitted, t["in"]), open=self.output_open(params)
        )
        return {"out": out, "transform": None}

    def output_open(self, params: Any) -> bool:
        """Whether the output gains columns known only after fitting."""
        return self.data_dependent_columns

    def check(self, params: Any, schema: TableSchema) -> None:
        """:class:`ParamError` for params that do not fit the input (by default: the column picker)."""
        check_columns(schema, params.columns, "columns", group=self.group)

    def placeholder(self, params: Any, schema: TableSchema) -> FittedTransform:
        """A state of the right shape (values do not matter) for schema inference."""
        return self.fitted(params, list(params.columns), self.placeholder_state(params, schema))

    def placeholder_state(self, params: Any, schema: TableSchema) -> dict[str, Any]:
        return {}

    def fitted(
        self, params: BaseModel, columns: list[str], state: dict[str, Any], outputs: list[str] | None = None
    ) -> FittedTransform:
        return FittedTransform(
            operator=self.id,
            version=self.version,
            params=params.model_dump(mode="json"),
            state=state,
            input_columns=columns,
            output_columns=outputs if outputs is not None else columns,
        )


class StatelessTransform(ColumnTransform):
    """A row-wise transform with nothing to learn: fitting it reads no data. It is still a fitting
    operator so that it travels in a model's transform chain and serving applies it too."""

    def fit(self, ctx: BuildContext, params: Any, table: ibis.Table) -> FittedTransform:
        return self.placeholder(params, input_schema({"in": _schema_of(table)}))


def _schema_of(table: ir.Table) -> TableSchema:
    from dais.pipelines.operators._common import from_ibis_schema

    return from_ibis_schema(table.schema())


def aggregate_row(ctx: BuildContext, table: ir.Table, metrics: Mapping[str, ir.Scalar]) -> dict[str, Any]:
    """Run one aggregate row (``{name: scalar expr}``) and return it as Python values."""
    if not metrics:
        return {}
    result: pa.Table = ctx.execute(table.aggregate(**metrics))
    return {name: result.column(name)[0].as_py() for name in result.column_names}


@dataclass(frozen=True)
class Moments:
    """What one aggregate pass gives about a numeric column (as float64)."""

    rows: int  # rows of the table (nulls included)
    count: int  # non-null values
    mean: float | None  # of the non-null values (None when there are none)
    var: float | None  # population variance of the non-null values

    def filled(self, value: float) -> Moments:
        """The moments of the column after its nulls are replaced by ``value`` (exact: the two groups'
        means and variances combine; no second pass over the data)."""
        missing = self.rows - self.count
        if self.rows == 0:
            return self
        if self.count == 0 or self.mean is None:
            return Moments(self.rows, self.rows, value, 0.0)
        mean = (self.count * self.mean + missing * value) / self.rows
        spread = self.count * ((self.var or 0.0) + (self.mean - mean) ** 2) + missing * (value - mean) ** 2
        return Moments(self.rows, self.rows, mean, spread / self.rows)


def column_moments(ctx: BuildContext, table: ir.Table, columns: Sequence[str]) -> dict[str, Moments]:
    """Row count, non-null count, mean and population variance of numeric ``columns`` in one aggregate.

    The aggregate depends only on ``table`` and the set of columns (taken in table order), so two
    operators asking about the same columns of the same table ask the same query, and the runner runs
    it once (identical aggregates are run once per run): mean imputation followed by standard scaling
    of the same columns reads the data once for both fits (see :func:`filled_columns`).
    """
    position = {name: i for i, name in enumerate(table.columns)}
    names = sorted(set(columns), key=lambda n: position[n])
    metrics: dict[str, ir.Scalar] = {"__dais_rows": table.count()}
    for i, name in enumerate(names):
        col = table[name].cast("float64")
        metrics[f"n{i}"], metrics[f"m{i}"], metrics[f"v{i}"] = col.count(), col.mean(), col.var(how="pop")
    row = aggregate_row(ctx, table, metrics)
    rows = int(row["__dais_rows"] or 0)
    return {
        name: Moments(rows, int(row[f"n{i}"] or 0), row[f"m{i}"], row[f"v{i}"])
        for i, name in enumerate(names)
    }


def filled_columns(
    table: ir.Table, columns: Sequence[str]
) -> tuple[ir.Table, dict[str, tuple[str, float]]] | None:
    """When ``table`` is a projection that gives each of ``columns`` as a float64 column of its parent
    with nulls filled by a constant (what mean/constant imputation builds): the parent table and, per
    column, ``(parent column, constant)``. Otherwise None.

    A fit of these columns can then aggregate the parent's raw columns (the same query the imputer ran)
    and derive the filled columns' statistics (:meth:`Moments.filled`).
    """
    op = table.op()
    if not isinstance(op, ops.Project):
        return None
    found: dict[str, tuple[str, float]] = {}
    for name in columns:
        value = op.values.get(name)
        if not isinstance(value, ops.Coalesce) or len(value.arg) != 2 or value.dtype != dt.float64:
            return None
        raw, fill = value.arg
        if isinstance(raw, ops.Cast) and raw.to == dt.float64:
            raw = raw.arg
        if (
            not isinstance(raw, ops.Field)
            or raw.rel != op.parent
            or not (raw.dtype.is_numeric() and not raw.dtype.is_boolean())
            or not isinstance(fill, ops.Literal)
            or not isinstance(fill.value, int | float)
        ):
            return None
        found[name] = (raw.name, float(fill.value))
    return op.parent.to_expr(), found

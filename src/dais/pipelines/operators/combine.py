"""Operators over several tables or groups of rows: join, union, group-by aggregate."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, StrEnum
from typing import Any, ClassVar

import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field

from dais.pipelines.operators._common import (
    check_columns,
    check_new_names,
    dtype_in_group,
    infer_by_build,
    input_schema,
)
from dais.pipelines.operators.base import (
    BuildContext,
    Operator,
    ParamError,
    Port,
    TableSchema,
    column,
    columns,
)


class JoinHow(StrEnum):
    inner = "inner"
    left = "left"
    right = "right"
    outer = "outer"


class JoinParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    how: JoinHow = Field(default=JoinHow.inner, description="Which unmatched rows are kept.")
    left_on: list[str] = columns(port="in", description="Key columns of the left table.")
    right_on: list[str] | None = columns(
        port="in2", default=None, description="Key columns of the right table (the left names if unset)."
    )
    suffix: str = Field(
        default="_right",
        min_length=1,
        max_length=32,
        description="Appended to a right column whose name is taken (keys of equal names appear once in "
        "inner joins when right_on is unset).",
    )


class Join(Operator):
    """Join two tables on key columns."""

    id: ClassVar[str] = "join"
    family: ClassVar[str] = "combine"
    title: ClassVar[str] = "Join"
    description: ClassVar[str] = "Inner, left, right or full outer join on equal keys."
    inputs: ClassVar[tuple[Port, ...]] = (Port("in", description="left"), Port("in2", description="right"))
    Params: ClassVar[type[BaseModel]] = JoinParams

    def infer(self, params: JoinParams, inputs: Mapping[str, TableSchema]) -> dict[str, TableSchema | None]:
        left, right = input_schema(inputs, "in"), input_schema(inputs, "in2")
        right_on = params.right_on or params.left_on
        check_columns(left, params.left_on, "left_on")
        check_columns(right, right_on, "right_on" if params.right_on else "left_on")
        if len(right_on) != len(params.left_on):
            raise ParamError("right_on", "Give as many right keys as left keys.")
        for i, (lk, rk) in enumerate(zip(params.left_on, right_on, strict=True)):
            lc, rc = left.get(lk), right.get(rk)
            if lc and rc and not _comparable(lc.dtype, rc.dtype):
                raise ParamError(f"right_on.{i}", f"Key {lk!r} is {lc.dtype} but {rk!r} is {rc.dtype}.")
        return {"out": infer_by_build(inputs, lambda t: self._apply(params, t["in"], t["in2"]))}

    def build(self, ctx: BuildContext, params: JoinParams, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"out": self._apply(params, inputs["in"], inputs["in2"])}

    def _apply(self, params: JoinParams, left: ir.Table, right: ir.Table) -> ir.Table:
        right_on = params.right_on or params.left_on
        predicates: list[Any] = [
            left[lk] == right[rk] for lk, rk in zip(params.left_on, right_on, strict=True)
        ]
        if params.how is JoinHow.inner and params.right_on is None:
            predicates = list(params.left_on)  # equal names: one key column
        return left.join(right, predicates, how=params.how.value, lname="", rname="{name}" + params.suffix)


def _comparable(a: str, b: str) -> bool:
    groups = ("numeric", "string", "boolean", "temporal")
    return a == b or any(dtype_in_group(a, g) and dtype_in_group(b, g) for g in groups)


class UnionParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    distinct: bool = Field(default=False, description="Drop duplicate rows of the result.")


class Union(Operator):
    """Stack the rows of two or three tables with the same columns (matched by name)."""

    id: ClassVar[str] = "union"
    family: ClassVar[str] = "combine"
    title: ClassVar[str] = "Union"
    inputs: ClassVar[tuple[Port, ...]] = (Port("in"), Port("in2"), Port("in3", required=False))
    Params: ClassVar[type[BaseModel]] = UnionParams

    def infer(self, params: UnionParams, inputs: Mapping[str, TableSchema]) -> dict[str, TableSchema | None]:
        first = input_schema(inputs, "in")
        for port in ("in2", "in3"):
            other = inputs.get(port)
            if other is None:
                if port == "in2":
                    raise ParamError(port, "Input 'in2' is not connected.")
                continue
            if sorted(other.names()) != sorted(first.names()):
                raise ParamError(port, f"Columns differ: {first.names()} and {other.names()}.")
            for col in other.columns:
                want = first.get(col.name)
                if want is not None and want.dtype != col.dtype:
                    raise ParamError(
                        port, f"Column {col.name!r} is {want.dtype} in 'in' but {col.dtype} here."
                    )
        return {"out": infer_by_build(inputs, lambda t: self._apply(params, t))}

    def build(self, ctx: BuildContext, params: UnionParams, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"out": self._apply(params, inputs)}

    def _apply(self, params: UnionParams, tables: Mapping[str, ir.Table]) -> ir.Table:
        first = tables["in"]
        rest = [tables[p].select(*first.columns) for p in ("in2", "in3") if tables.get(p) is not None]
        return first.union(*rest, distinct=params.distinct)


class AggFunction(Enum):
    count = "count"
    sum = "sum"
    mean = "mean"
    min = "min"
    max = "max"
    std = "std"
    var = "var"
    median = "median"
    nunique = "nunique"
    first = "first"
    last = "last"


_NUMERIC_ONLY = {AggFunction.sum, AggFunction.mean, AggFunction.std, AggFunction.var, AggFunction.median}


class Aggregation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    function: AggFunction = Field(description="The aggregate function.")
    column: str | None = column(default=None, description="Its column (count without a column counts rows).")
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Output column name ('<column>_<function>' if unset).",
    )

    def output_name(self) -> str:
        return self.name or (f"{self.column}_{self.function.value}" if self.column else self.function.value)


class AggregateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group_by: list[str] = columns(
        default=[], description="Group columns (none: one row for the whole table)."
    )
    aggregations: list[Aggregation] = Field(
        min_length=1, max_length=500, description="What to compute per group."
    )


class Aggregate(Operator):
    """Group rows and compute aggregates per group."""

    id: ClassVar[str] = "aggregate"
    family: ClassVar[str] = "combine"
    title: ClassVar[str] = "Group by and aggregate"
    description: ClassVar[str] = (
        "count, sum, mean, min, max, std, var, median, nunique, first, last per group."
    )
    Params: ClassVar[type[BaseModel]] = AggregateParams

    def infer(
        self, params: AggregateParams, inputs: Mapping[str, TableSchema]
    ) -> dict[str, TableSchema | None]:
        schema = input_schema(inputs)
        check_columns(schema, params.group_by, "group_by")
        for i, agg in enumerate(params.aggregations):
            if agg.column is None:
                if agg.function is not AggFunction.count:
                    raise ParamError(f"aggregations.{i}.column", f"{agg.function.value} needs a column.")
                continue
            group = "numeric" if agg.function in _NUMERIC_ONLY else "any"
            check_columns(schema, [agg.column], f"aggregations.{i}.column", group=group, multiple=False)
        names = [a.output_name() for a in params.aggregations]
        check_new_names(
            TableSchema(columns=[c for c in schema.columns if c.name in params.group_by]),
            names,
            "aggregations",
            indexed=True,
        )
        return {"out": infer_by_build(inputs, lambda t: self._apply(params, t["in"]))}

    def build(self, ctx: BuildContext, params: AggregateParams, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"out": self._apply(params, inputs["in"])}

    def _apply(self, params: AggregateParams, table: ir.Table) -> ir.Table:
        metrics: dict[str, ir.Scalar] = {}
        for agg in params.aggregations:
            if agg.column is None:
                metrics[agg.output_name()] = table.count()
                continue
            value: Any = table[agg.column]
            fn = agg.function.value
            metrics[agg.output_name()] = {
                "count": lambda v: v.count(),
                "sum": lambda v: v.sum(),
                "mean": lambda v: v.mean(),
                "min": lambda v: v.min(),
                "max": lambda v: v.max(),
                "std": lambda v: v.std(),
                "var": lambda v: v.var(),
                "median": lambda v: v.median(),
                "nunique": lambda v: v.nunique(),
                "first": lambda v: v.first(),
                "last": lambda v: v.last(),
            }[fn](value)
        if params.group_by:
            return table.group_by(params.group_by).aggregate(**metrics)
        return table.aggregate(**metrics)

"""Feature operators: date parts and formula columns (row-wise, nothing learned, Ibis only)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar

import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field

from dais.pipelines.operators._common import check_columns, check_new_names, infer_by_build, input_schema
from dais.pipelines.operators._expressions import parse_expression
from dais.pipelines.operators.base import BuildContext, Operator, ParamError, TableSchema, columns


class DatePart(StrEnum):
    year = "year"
    quarter = "quarter"
    month = "month"
    day = "day"
    weekday = "weekday"
    dayofyear = "dayofyear"
    hour = "hour"
    minute = "minute"
    second = "second"
    epoch_seconds = "epoch_seconds"


_TIME_PARTS = {DatePart.hour, DatePart.minute, DatePart.second}

_EXTRACT = {
    DatePart.year: lambda c: c.year(),
    DatePart.quarter: lambda c: c.quarter(),
    DatePart.month: lambda c: c.month(),
    DatePart.day: lambda c: c.day(),
    DatePart.weekday: lambda c: c.day_of_week.index(),  # Monday = 0
    DatePart.dayofyear: lambda c: c.day_of_year(),
    DatePart.hour: lambda c: c.hour(),
    DatePart.minute: lambda c: c.minute(),
    DatePart.second: lambda c: c.second(),
    DatePart.epoch_seconds: lambda c: c.epoch_seconds(),
}


class DatePartsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = columns(types=("temporal",), description="Date or timestamp columns.")
    parts: list[DatePart] = Field(
        default=[DatePart.year, DatePart.month, DatePart.day, DatePart.weekday],
        min_length=1,
        description="Parts added as '<column>_<part>' (weekday: Monday = 0; "
        "hour/minute/second need timestamps).",
    )
    drop_original: bool = Field(default=False, description="Drop the source columns.")


class DateParts(Operator):
    """Add year, month, day, weekday, hour... columns extracted from dates and timestamps."""

    id: ClassVar[str] = "date_parts"
    family: ClassVar[str] = "features"
    title: ClassVar[str] = "Date parts"
    Params: ClassVar[type[BaseModel]] = DatePartsParams

    def infer(
        self, params: DatePartsParams, inputs: Mapping[str, TableSchema]
    ) -> dict[str, TableSchema | None]:
        schema = input_schema(inputs)
        check_columns(schema, params.columns, "columns", group="temporal")
        for i, name in enumerate(params.columns):
            col = schema.get(name)
            if col is not None and col.dtype == "date" and _TIME_PARTS & set(params.parts):
                raise ParamError(f"columns.{i}", f"{name!r} is a date: it has no hour, minute or second.")
            if col is not None and col.dtype == "time":
                raise ParamError(f"columns.{i}", f"{name!r} is a time of day; give a date or timestamp.")
        kept = [c for c in schema.columns if not (params.drop_original and c.name in params.columns)]
        check_new_names(
            TableSchema(columns=kept),
            [f"{c}_{p.value}" for c in params.columns for p in params.parts],
            "parts",
        )
        return {"out": infer_by_build(inputs, lambda t: self._apply(params, t["in"]))}

    def build(self, ctx: BuildContext, params: DatePartsParams, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"out": self._apply(params, inputs["in"])}

    def _apply(self, params: DatePartsParams, table: ir.Table) -> ir.Table:
        new = {f"{c}_{p.value}": _EXTRACT[p](table[c]) for c in params.columns for p in params.parts}
        result = table.mutate(**new)
        return result.drop(*params.columns) if params.drop_original else result


class FormulaColumn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, description="The new (or replaced) column.")
    expression: str = Field(
        min_length=1,
        max_length=10_000,
        description="A SQL scalar expression over the columns, e.g. 'price * quantity' or "
        "\"case when age < 18 then 'minor' else 'adult' end\".",
    )


class FormulaParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    formulas: list[FormulaColumn] = Field(
        min_length=1,
        max_length=200,
        description="Computed in order; a formula may use the columns made by the ones before it.",
    )


class Formula(Operator):
    """Add (or replace) columns computed by safe SQL expressions (checked, never run as code)."""

    id: ClassVar[str] = "formula"
    family: ClassVar[str] = "features"
    title: ClassVar[str] = "Formula columns"
    Params: ClassVar[type[BaseModel]] = FormulaParams

    def infer(
        self, params: FormulaParams, inputs: Mapping[str, TableSchema]
    ) -> dict[str, TableSchema | None]:
        input_schema(inputs)
        return {"out": infer_by_build(inputs, lambda t: self._apply(params, t["in"]))}

    def build(self, ctx: BuildContext, params: FormulaParams, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"out": self._apply(params, inputs["in"])}

    def _apply(self, params: FormulaParams, table: ir.Table) -> ir.Table:
        for i, formula in enumerate(params.formulas):
            value = parse_expression(formula.expression, table, field=f"formulas.{i}.expression")
            if value.type().is_null():
                raise ParamError(
                    f"formulas.{i}.expression", "The expression is always null; cast it to a type."
                )
            table = table.mutate(**{formula.name: value})
        return table

"""Row and column operators over one table: filter, select, rename, cast, sort, deduplicate."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dais.pipelines.operators._common import check_columns, check_new_names, infer_by_build, input_schema
from dais.pipelines.operators._expressions import parse_expression
from dais.pipelines.operators.base import BuildContext, Operator, ParamError, TableSchema, column, columns

_NAME = r"^[^\x00-\x1f]{1,128}$"


class _OneTable(Operator):
    """An operator whose output is a pure function of its input: ``infer`` builds it on a blank table."""

    def infer(self, params: Any, inputs: Mapping[str, TableSchema]) -> dict[str, TableSchema | None]:
        self.check(params, input_schema(inputs))
        return {"out": infer_by_build(inputs, lambda t: self.apply(params, t["in"], {}))}

    def build(self, ctx: BuildContext, params: Any, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"out": self.apply(params, inputs["in"], ctx.variables)}

    def check(self, params: Any, schema: TableSchema) -> None:
        """:class:`ParamError` for params that do not fit the input schema."""

    def apply(self, params: Any, table: ir.Table, variables: Mapping[str, str]) -> ir.Table:
        raise NotImplementedError


class FilterParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expression: str = Field(
        min_length=1,
        max_length=10_000,
        description="A SQL boolean expression over the columns, e.g. "
        "\"age >= 18 and country in ('FR', 'DE')\"; "
        "${variables} are replaced first. Rows where it is null are dropped.",
    )


class Filter(_OneTable):
    """Keep the rows where a boolean expression holds."""

    id: ClassVar[str] = "filter"
    family: ClassVar[str] = "transform"
    title: ClassVar[str] = "Filter rows"
    description: ClassVar[str] = "Keep rows matching a SQL boolean expression (checked, never run as code)."
    Params: ClassVar[type[BaseModel]] = FilterParams

    def apply(self, params: FilterParams, table: ir.Table, variables: Mapping[str, str]) -> ir.Table:
        text = params.expression
        if "${" in text:
            from dais.core.templating import render

            # at validation there are no values yet: each variable stands for a null of any type
            text = render(text, variables, where="expression") if variables else _blank_variables(text)
        predicate = parse_expression(text, table)
        if not predicate.type().is_boolean() and not predicate.type().is_null():
            raise ParamError("expression", f"The expression gives {predicate.type()}, not a boolean.")
        return table.filter(predicate)


def _blank_variables(text: str) -> str:
    import re

    return re.sub(r"'\$\{[^}]*\}'|\$\{[^}]*\}", "null", text)


class SelectParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = columns(description="The columns to keep (or drop), in this order.")
    drop: bool = Field(default=False, description="Drop the listed columns and keep the others.")


class Select(_OneTable):
    """Keep (or drop) columns."""

    id: ClassVar[str] = "select"
    family: ClassVar[str] = "transform"
    title: ClassVar[str] = "Select columns"
    Params: ClassVar[type[BaseModel]] = SelectParams

    def check(self, params: SelectParams, schema: TableSchema) -> None:
        check_columns(schema, params.columns, "columns")
        if params.drop and not schema.open and len(set(params.columns)) == len(schema.columns):
            raise ParamError("columns", "Dropping every column leaves nothing.")

    def apply(self, params: SelectParams, table: ir.Table, variables: Mapping[str, str]) -> ir.Table:
        return table.drop(*params.columns) if params.drop else table.select(*params.columns)


class RenameParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mapping: dict[str, str] = Field(
        min_length=1,
        description="Old name -> new name.",
        json_schema_extra={"x-dais-column-keys": {"port": "in"}},
    )

    @field_validator("mapping")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        for new in value.values():
            if not new or len(new) > 128:
                raise ValueError("new names take 1 to 128 characters")
        return value


class Rename(_OneTable):
    """Rename columns."""

    id: ClassVar[str] = "rename"
    family: ClassVar[str] = "transform"
    title: ClassVar[str] = "Rename columns"
    Params: ClassVar[type[BaseModel]] = RenameParams

    def check(self, params: RenameParams, schema: TableSchema) -> None:
        for old in params.mapping:
            if schema.get(old) is None and not schema.open:
                raise ParamError(f"mapping.{old}", f"Unknown column {old!r}.")
        kept = [n for n in schema.names() if n not in params.mapping]
        names = list(params.mapping.values())
        for i, new in enumerate(names):
            if new in kept or new in names[:i]:
                raise ParamError(f"mapping.{list(params.mapping)[i]}", f"Column {new!r} would exist twice.")

    def apply(self, params: RenameParams, table: ir.Table, variables: Mapping[str, str]) -> ir.Table:
        return table.rename({new: old for old, new in params.mapping.items()})


class CastParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    types: dict[str, str] = Field(
        min_length=1,
        description="Column -> target type (int64, float64, string, boolean, date, timestamp, "
        "decimal(10,2)...).",
        json_schema_extra={"x-dais-column-keys": {"port": "in"}},
    )
    safe: bool = Field(
        default=True, description="A value that does not convert becomes null instead of failing."
    )


class Cast(_OneTable):
    """Change column types."""

    id: ClassVar[str] = "cast"
    family: ClassVar[str] = "transform"
    title: ClassVar[str] = "Cast columns"
    Params: ClassVar[type[BaseModel]] = CastParams

    def check(self, params: CastParams, schema: TableSchema) -> None:
        for name, target in params.types.items():
            if schema.get(name) is None and not schema.open:
                raise ParamError(f"types.{name}", f"Unknown column {name!r}.")
            _dtype(target, f"types.{name}")

    def apply(self, params: CastParams, table: ir.Table, variables: Mapping[str, str]) -> ir.Table:
        def convert(value: ir.Value, target: str) -> ir.Value:
            dtype = _dtype(target, "types")
            return value.try_cast(dtype) if params.safe else value.cast(dtype)

        return table.mutate(**{name: convert(table[name], target) for name, target in params.types.items()})


def _dtype(text: str, field: str) -> Any:
    try:
        dtype = ibis.dtype(text)
    except Exception as exc:
        raise ParamError(field, f"Unknown type {text!r}.") from exc
    if not (dtype.is_primitive() or dtype.is_temporal() or dtype.is_decimal() or dtype.is_string()):
        raise ParamError(field, f"Cannot cast to {text!r}: use a scalar type.")
    return dtype


class SortParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: list[str] = columns(description="Sort by these columns, in order.")
    descending: list[bool] | None = Field(
        default=None, description="Per column of 'by': sort descending (all ascending if unset)."
    )
    nulls_first: bool = Field(default=False, description="Nulls before other values (after them by default).")


class Sort(_OneTable):
    """Sort rows."""

    id: ClassVar[str] = "sort"
    family: ClassVar[str] = "transform"
    title: ClassVar[str] = "Sort rows"
    Params: ClassVar[type[BaseModel]] = SortParams

    def check(self, params: SortParams, schema: TableSchema) -> None:
        check_columns(schema, params.by, "by")
        if params.descending is not None and len(params.descending) != len(params.by):
            raise ParamError("descending", "Give one flag per column of 'by'.")

    def apply(self, params: SortParams, table: ir.Table, variables: Mapping[str, str]) -> ir.Table:
        flags = params.descending or [False] * len(params.by)
        keys = [
            table[c].desc(nulls_first=params.nulls_first)
            if d
            else table[c].asc(nulls_first=params.nulls_first)
            for c, d in zip(params.by, flags, strict=True)
        ]
        return table.order_by(keys)


class Keep(StrEnum):
    first = "first"
    last = "last"


class DeduplicateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subset: list[str] | None = columns(
        default=None, description="Rows are duplicates when these columns are equal (all columns if unset)."
    )
    keep: Keep = Field(default=Keep.first, description="Which duplicate stays, by order_by.")
    order_by: str | None = column(
        default=None, description="Orders duplicates for 'keep'; without it an arbitrary one stays."
    )


class Deduplicate(_OneTable):
    """Drop duplicate rows, keeping the first or last by an order column."""

    id: ClassVar[str] = "deduplicate"
    family: ClassVar[str] = "transform"
    title: ClassVar[str] = "Deduplicate"
    Params: ClassVar[type[BaseModel]] = DeduplicateParams

    def check(self, params: DeduplicateParams, schema: TableSchema) -> None:
        if params.subset:
            check_columns(schema, params.subset, "subset")
        if params.order_by:
            check_columns(schema, [params.order_by], "order_by", multiple=False)

    def apply(self, params: DeduplicateParams, table: ir.Table, variables: Mapping[str, str]) -> ir.Table:
        subset = params.subset or table.columns
        if params.order_by is None:
            if params.subset is None:
                return table.distinct()
            return table.distinct(on=subset, keep="first")
        order = table[params.order_by]
        key = order.asc(nulls_first=False) if params.keep is Keep.first else order.desc(nulls_first=False)
        rank = "__dais_rn"
        ranked = table.mutate(**{rank: ibis.row_number().over(group_by=subset, order_by=key)})
        return ranked.filter(ranked[rank] == 0).drop(rank)


__all__ = ["Cast", "Deduplicate", "Filter", "Rename", "Select", "Sort", "check_new_names"]

"""Sampling operators: ``sample`` (random, stratified, first n) and ``split`` (train/test).

Randomness is reproducible: a row's draw is a hash of the seed and the row's key columns (all columns
by default), mapped to [0, 1). ``ibis.random()`` is not used because it differs on every run. Rows with
equal keys draw the same number; give a unique ``key`` column to tell duplicates apart. The hash is
the engine's own, so the same seed picks the same rows on every run of one engine (not across engines).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dais.pipelines.operators._common import check_columns, infer_by_build, input_schema
from dais.pipelines.operators.base import (
    BuildContext,
    Operator,
    ParamError,
    Port,
    TableSchema,
    column,
    columns,
)

_U = "__dais_u"
_RN = "__dais_rn"
_N = "__dais_n"
_MODULUS = 2_147_483_647


def uniform(table: ir.Table, seed: int, key: list[str] | None) -> ir.FloatingValue:
    """A reproducible draw in [0, 1) per row: a hash of the seed and the key columns."""
    parts = [table[c].cast("string").fill_null("\x00") for c in (key or table.columns)]
    text = ibis.literal(f"{seed}\x1f").concat(*[p.concat("\x1f") for p in parts])
    return (text.hash() % _MODULUS).abs().cast("float64") / float(_MODULUS)


class SampleMethod(StrEnum):
    random = "random"
    stratified = "stratified"
    first = "first"


class SampleParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: SampleMethod = Field(default=SampleMethod.random, description="How rows are picked.")
    fraction: float | None = Field(
        default=None, gt=0, le=1, description="Share of rows to keep (random, stratified: per stratum)."
    )
    n: int | None = Field(
        default=None, ge=1, le=1_000_000_000, description="Rows to keep (stratified: per stratum)."
    )
    stratify_by: str | None = column(default=None, description="The stratum column (stratified).")
    key: list[str] | None = columns(default=None, description="Columns hashed for the draw (all if unset).")
    seed: int | None = Field(default=None, description="Seed of the draw; the run's seed if unset.")

    @model_validator(mode="after")
    def _check(self) -> SampleParams:
        if self.method is SampleMethod.first:
            if self.n is None or self.fraction is not None:
                raise ValueError("method 'first' takes n (not fraction)")
        elif (self.fraction is None) == (self.n is None):
            raise ValueError("give either fraction or n")
        if self.method is SampleMethod.stratified and not self.stratify_by:
            raise ValueError("method 'stratified' needs stratify_by")
        return self


class Sample(Operator):
    """Keep a reproducible subset of the rows."""

    id: ClassVar[str] = "sample"
    family: ClassVar[str] = "sampling"
    title: ClassVar[str] = "Sample"
    description: ClassVar[str] = "Random (seeded), stratified, or the first n rows."
    Params: ClassVar[type[BaseModel]] = SampleParams

    def infer(self, params: SampleParams, inputs: Mapping[str, TableSchema]) -> dict[str, TableSchema | None]:
        schema = input_schema(inputs)
        _check(params.stratify_by, params.key, schema)
        return {"out": infer_by_build(inputs, lambda t: self._apply(params, t["in"], 0))}

    def build(self, ctx: BuildContext, params: SampleParams, inputs: Mapping[str, Any]) -> dict[str, Any]:
        seed = ctx.seed if params.seed is None else params.seed
        return {"out": self._apply(params, inputs["in"], seed)}

    def _apply(self, params: SampleParams, table: ir.Table, seed: int) -> ir.Table:
        if params.method is SampleMethod.first:
            assert params.n is not None
            return table.limit(params.n)
        u = uniform(table, seed, params.key)
        if params.method is SampleMethod.random:
            if params.fraction is not None:
                return table.filter(u < params.fraction)
            assert params.n is not None
            return table.mutate(**{_U: u}).order_by(_U).limit(params.n).drop(_U)
        assert params.stratify_by is not None
        window = ibis.window(group_by=table[params.stratify_by], order_by=u)
        ranked = table.mutate(
            **{_RN: ibis.row_number().over(window), _N: u.count().over(group_by=params.stratify_by)}
        )
        if params.fraction is not None:
            # ceil(fraction * n) rows per stratum: every stratum keeps at least one row
            keep = ranked[_RN] < (ranked[_N].cast("float64") * params.fraction).ceil()
        else:
            keep = ranked[_RN] < params.n
        return ranked.filter(keep).drop(_RN, _N)


class SplitMethod(StrEnum):
    random = "random"
    stratified = "stratified"
    time = "time"


class SplitParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: SplitMethod = Field(default=SplitMethod.random, description="How rows are split.")
    train_ratio: float = Field(
        default=0.8, gt=0, lt=1, description="Share of rows in train (per stratum when stratified)."
    )
    stratify_by: str | None = column(default=None, description="The stratum column (stratified).")
    time_column: str | None = column(
        types=("temporal", "numeric"), default=None, description="The time column (split by time)."
    )
    cutoff: str | None = Field(
        default=None,
        max_length=200,
        description="Split by time: rows before this value go to train (e.g. '${ds}'); "
        "if unset, the earliest train_ratio of rows do.",
    )
    key: list[str] | None = columns(default=None, description="Columns hashed for the draw (all if unset).")
    seed: int | None = Field(default=None, description="Seed of the draw; the run's seed if unset.")

    @model_validator(mode="after")
    def _check(self) -> SplitParams:
        if self.method is SplitMethod.stratified and not self.stratify_by:
            raise ValueError("method 'stratified' needs stratify_by")
        if self.method is SplitMethod.time and not self.time_column:
            raise ValueError("method 'time' needs time_column")
        return self


class Split(Operator):
    """Split rows into train and test: at random, stratified by a column, or by time."""

    id: ClassVar[str] = "split"
    family: ClassVar[str] = "sampling"
    title: ClassVar[str] = "Split"
    description: ClassVar[str] = "Train/test split: random (seeded), stratified, or by time."
    outputs: ClassVar[tuple[Port, ...]] = (Port("train"), Port("test"))
    Params: ClassVar[type[BaseModel]] = SplitParams

    def infer(self, params: SplitParams, inputs: Mapping[str, TableSchema]) -> dict[str, TableSchema | None]:
        schema = input_schema(inputs)
        _check(params.stratify_by, params.key, schema)
        if params.time_column:
            check_columns(schema, [params.time_column], "time_column", multiple=False)
            col = schema.get(params.time_column)
            if params.cutoff is not None and col is not None and "${" not in params.cutoff:
                _cutoff_literal(params.cutoff, col.dtype)
        out = infer_by_build(inputs, lambda t: self._split(params, t["in"], 0, {})[0])
        return {"train": out, "test": out}

    def build(self, ctx: BuildContext, params: SplitParams, inputs: Mapping[str, Any]) -> dict[str, Any]:
        seed = ctx.seed if params.seed is None else params.seed
        train, test = self._split(params, inputs["in"], seed, ctx.variables)
        return {"train": train, "test": test}

    def _split(
        self, params: SplitParams, table: ir.Table, seed: int, variables: Mapping[str, str]
    ) -> tuple[ir.Table, ir.Table]:
        marked, mask = self._train_mask(params, table, seed, variables)
        extra = [c for c in marked.columns if c not in table.columns]
        return marked.filter(mask).drop(*extra), marked.filter(~mask).drop(*extra)

    def _train_mask(
        self, params: SplitParams, table: ir.Table, seed: int, variables: Mapping[str, str]
    ) -> tuple[ir.Table, ir.BooleanValue]:
        if params.method is SplitMethod.time:
            assert params.time_column is not None
            time = table[params.time_column]
            if params.cutoff is not None:
                from dais.core.templating import render

                text = render(params.cutoff, variables, where="cutoff") if variables else params.cutoff
                literal = _cutoff_literal(text, str(time.type())) if "${" not in text else None
                mask = (time < literal) if literal is not None else ibis.literal(True)
                return table, mask.fill_null(False)
            marked = table.mutate(
                **{_RN: ibis.row_number().over(order_by=time), _N: time.isnull().count().over()}
            )
            return marked, marked[_RN] < (marked[_N].cast("float64") * params.train_ratio).round()
        u = uniform(table, seed, params.key)
        if params.method is SplitMethod.random:
            marked = table.mutate(**{_U: u})
            return marked, marked[_U] < params.train_ratio
        assert params.stratify_by is not None
        window = ibis.window(group_by=table[params.stratify_by], order_by=u)
        marked = table.mutate(
            **{_RN: ibis.row_number().over(window), _N: u.count().over(group_by=params.stratify_by)}
        )
        return marked, marked[_RN] < (marked[_N].cast("float64") * params.train_ratio).round()


def _check(stratify_by: str | None, key: list[str] | None, schema: TableSchema) -> None:
    if stratify_by:
        check_columns(schema, [stratify_by], "stratify_by", multiple=False)
    if key:
        check_columns(schema, key, "key")


def _cutoff_literal(text: str, dtype: str) -> Any:
    """The cutoff as a literal of the time column's type; :class:`ParamError` if it does not parse."""
    target = ibis.dtype(dtype)
    try:
        if target.is_numeric():
            value = float(text)
            return ibis.literal(int(value) if target.is_integer() and math.isfinite(value) else value)
        if target.is_date():
            return ibis.literal(date.fromisoformat(text.strip()), type=target)
        return ibis.literal(datetime.fromisoformat(text.strip()), type=target)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ParamError("cutoff", f"{text!r} is not a value of type {dtype}.") from exc

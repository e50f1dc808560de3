"""Encoding operators (all fitting): bin, one-hot, ordinal, hashing.

Outputs are never null: a null or unknown value is -1 (bin, ordinal) or all zeros / false (one-hot,
hashing). One-hot columns are booleans (version 2; version 1 wrote int8), hashing columns int64 counts,
bin and ordinal codes int64.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dais.pipelines.operators._common import as_float, check_new_names, null_mask
from dais.pipelines.operators._fitting import ColumnTransform, StatelessTransform, aggregate_row
from dais.pipelines.operators.base import BuildContext, FittedTransform, ParamError, TableSchema, columns

Category = str | int | bool


class BinStrategy(StrEnum):
    uniform = "uniform"
    quantile = "quantile"


class BinParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = columns(
        types=("numeric",), description="Numeric columns replaced by their bin (0..n-1)."
    )
    strategy: BinStrategy = Field(
        default=BinStrategy.quantile, description="Equal-width bins between min and max, or equal-count bins."
    )
    n_bins: int = Field(default=5, ge=2, le=1000, description="Number of bins.")


class Bin(ColumnTransform):
    """Discretise numeric columns into bins learned from the data (null -> -1)."""

    id: ClassVar[str] = "bin"
    family: ClassVar[str] = "encoding"
    title: ClassVar[str] = "Bin"
    description: ClassVar[str] = (
        "Uniform or quantile bins; a value v falls in bin i when edge_i <= v < edge_i+1."
    )
    Params: ClassVar[type[BaseModel]] = BinParams

    def placeholder_state(self, params: BinParams, schema: TableSchema) -> dict[str, Any]:
        return {"edges": {c: [float(i) for i in range(1, params.n_bins)] for c in params.columns}}

    def fit(self, ctx: BuildContext, params: BinParams, table: ibis.Table) -> FittedTransform:
        metrics: dict[str, ir.Scalar] = {}
        for i, name in enumerate(params.columns):
            col = table[name].cast("float64")
            if params.strategy is BinStrategy.uniform:
                metrics[f"lo{i}"], metrics[f"hi{i}"] = col.min(), col.max()
            else:
                for k in range(1, params.n_bins):
                    metrics[f"q{i}_{k}"] = col.quantile(k / params.n_bins)
        row = aggregate_row(ctx, table, metrics)
        edges: dict[str, list[float]] = {}
        for i, name in enumerate(params.columns):
            if params.strategy is BinStrategy.uniform:
                lo, hi = row[f"lo{i}"], row[f"hi{i}"]
                inner = (
                    []
                    if lo is None
                    else [lo + (hi - lo) * k / params.n_bins for k in range(1, params.n_bins)]
                )
            else:
                inner = [row[f"q{i}_{k}"] for k in range(1, params.n_bins) if row[f"q{i}_{k}"] is not None]
            edges[name] = inner  # the inner edges: n_bins - 1 of them (none for an all-null column)
        return self.fitted(params, list(params.columns), {"edges": edges})

    def transform_expr(self, fitted: FittedTransform, table: ibis.Table) -> ibis.Table:
        changes = {}
        for name, inner in fitted.state["edges"].items():
            x = table[name].cast("float64")
            branches = [(x < edge, i) for i, edge in enumerate(inner)]
            code = ibis.cases(*branches, else_=len(inner)) if branches else ibis.literal(0)
            changes[name] = ibis.ifelse(x.isnull() | x.isnan(), -1, code).cast("int64")
        return table.mutate(**changes)

    def transform_arrays(
        self, fitted: FittedTransform, columns: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        out = dict(columns)
        for name, inner in fitted.state["edges"].items():
            x = as_float(columns[name])
            codes = np.searchsorted(np.asarray(inner, dtype=np.float64), x, side="right").astype(np.int64)
            out[name] = np.where(np.isnan(x), -1, codes).astype(np.int64)
        return out


class Unknown(StrEnum):
    ignore = "ignore"
    other = "other"


class OneHotParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = columns(
        types=("string", "integer", "boolean"), description="Categorical columns to encode."
    )
    categories: dict[str, list[Category]] | None = Field(
        default=None,
        description="Fixed categories per column (then nothing is learned and the output columns are known "
        "before a run); learned from the data if unset.",
    )
    top_k: int = Field(
        default=50, ge=1, le=1000, description="Keep at most this many most frequent categories."
    )
    min_frequency: int = Field(default=1, ge=1, description="Ignore categories seen fewer times than this.")
    handle_unknown: Unknown = Field(
        default=Unknown.ignore,
        description="A value outside the categories (or null): all zeros, or a 1 in an extra "
        "'<column>_other'.",
    )
    drop_original: bool = Field(default=True, description="Drop the encoded columns.")

    @model_validator(mode="after")
    def _check(self) -> OneHotParams:
        if self.categories is not None:
            missing = [c for c in self.columns if c not in self.categories]
            if missing:
                raise ValueError(f"categories lacks columns {missing}")
        return self


def _onehot_names(column: str, categories: list[Any], other: bool) -> list[str]:
    names = [f"{column}_{_text(v)}" for v in categories]
    return [*names, f"{column}_other"] if other else names


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class OneHot(ColumnTransform):
    """One boolean column per category; the categories are learned (most frequent first, top k)."""

    id: ClassVar[str] = "one_hot"
    version: ClassVar[int] = 2
    family: ClassVar[str] = "encoding"
    title: ClassVar[str] = "One-hot encode"
    group: ClassVar[str] = "any"
    Params: ClassVar[type[BaseModel]] = OneHotParams

    def output_open(self, params: OneHotParams) -> bool:
        return params.categories is None

    def check(self, params: OneHotParams, schema: TableSchema) -> None:
        from dais.pipelines.operators._common import check_columns

        check_columns(schema, params.columns, "columns")
        for i, name in enumerate(params.columns):
            col = schema.get(name)
            if (
                col is not None
                and col.dtype not in ("string", "boolean")
                and not col.dtype.startswith(("int", "uint"))
            ):
                raise ParamError(
                    f"columns.{i}",
                    f"Column {name!r} is {col.dtype}; one-hot takes string, integer or boolean.",
                )
        if params.categories is not None:
            kept = [n for n in schema.names() if not (params.drop_original and n in params.columns)]
            new = [
                n
                for c in params.columns
                for n in _onehot_names(c, params.categories[c], params.handle_unknown is Unknown.other)
            ]
            check_new_names(
                TableSchema(columns=[c for c in schema.columns if c.name in kept]), new, "categories"
            )

    def placeholder_state(self, params: OneHotParams, schema: TableSchema) -> dict[str, Any]:
        return {
            "categories": {c: list(params.categories[c]) if params.categories else [] for c in params.columns}
        }

    def fit(self, ctx: BuildContext, params: OneHotParams, table: ibis.Table) -> FittedTransform:
        categories: dict[str, list[Any]] = {}
        for name in params.columns:
            if params.categories is not None:
                categories[name] = list(params.categories[name])
                continue
            categories[name] = _top_categories(ctx, table, name, params.top_k, params.min_frequency)
        return self.fitted(
            params,
            list(params.columns),
            {"categories": categories},
            _outputs(params, categories, table.columns),
        )

    def transform_expr(self, fitted: FittedTransform, table: ibis.Table) -> ibis.Table:
        # Each value is looked up once per row (a CASE over the categories gives its code, -1 for null or
        # unknown); the output columns then compare small integers. Comparing the value with every
        # category instead costs one string comparison per category per row, and int8 columns cost the
        # parquet writer far more than booleans (see docs/adr/0003-pipeline-engine.md).
        other = fitted.params["handle_unknown"] == "other"
        categories: dict[str, list[Any]] = fitted.state["categories"]
        taken = set(table.columns)
        codes: dict[str, ir.Value] = {}
        code_names: dict[str, str] = {}
        for name, cats in categories.items():
            if not cats:
                continue
            col = table[name]
            code_names[name] = code_name = _free_name(f"__dais_code_{name}", taken)
            taken.add(code_name)
            codes[code_name] = col.cases(
                *[(ibis.literal(v).cast(col.type()), i) for i, v in enumerate(cats)], else_=-1
            )
        coded = table.mutate(**codes) if codes else table
        new: dict[str, ir.Value] = {}
        for name, cats in categories.items():
            names = _onehot_names(name, cats, other)
            code = coded[code_names[name]] if cats else None
            for i, out_name in enumerate(names[: len(cats)]):
                assert code is not None
                new[out_name] = code == i
            if other:
                new[names[-1]] = code < 0 if code is not None else ibis.literal(True)
        result = coded.mutate(**new)
        dropped = list(code_names.values())
        if fitted.params["drop_original"]:
            dropped += list(fitted.input_columns)
        return result.drop(*dropped) if dropped else result

    def transform_arrays(
        self, fitted: FittedTransform, columns: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        other = fitted.params["handle_unknown"] == "other"
        out = {
            k: v
            for k, v in columns.items()
            if not (fitted.params["drop_original"] and k in fitted.input_columns)
        }
        for name, cats in fitted.state["categories"].items():
            values = columns[name]
            nulls = null_mask(values)
            index = {_key(v): i for i, v in enumerate(cats)}
            codes = np.array(
                [-1 if n else index.get(_key(v), -1) for v, n in zip(values.tolist(), nulls, strict=True)],
                dtype=np.int64,
            )
            for i, out_name in enumerate(_onehot_names(name, cats, other)[: len(cats)]):
                out[out_name] = codes == i
            if other:
                out[f"{name}_other"] = codes < 0
        return out


def _free_name(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    return name


def _outputs(params: OneHotParams, categories: dict[str, list[Any]], table_columns: Any) -> list[str]:
    other = params.handle_unknown is Unknown.other
    return [n for c in params.columns for n in _onehot_names(c, categories[c], other)]


def _top_categories(
    ctx: BuildContext, table: ir.Table, name: str, top_k: int, min_frequency: int
) -> list[Any]:
    """The ``top_k`` most frequent non-null values (ties: the smaller value), sorted by value."""
    counts = (
        table.filter(table[name].notnull())
        .group_by(name)
        .aggregate(__dais_n=ibis._.count())
        .filter(ibis._.__dais_n >= min_frequency)
        .order_by([ibis.desc("__dais_n"), ibis.asc(name)])
        .limit(top_k)
    )
    values = ctx.execute(counts).column(name).to_pylist()
    return sorted(values)


class OrdinalParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = columns(
        types=("string", "integer", "boolean"), description="Categorical columns replaced by codes 0..n-1."
    )
    max_categories: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Code at most this many most frequent categories; others are -1.",
    )


class Ordinal(ColumnTransform):
    """Replace categories by integer codes (categories sorted by value; unknown or null -> -1)."""

    id: ClassVar[str] = "ordinal"
    family: ClassVar[str] = "encoding"
    title: ClassVar[str] = "Ordinal encode"
    group: ClassVar[str] = "any"
    Params: ClassVar[type[BaseModel]] = OrdinalParams

    def placeholder_state(self, params: OrdinalParams, schema: TableSchema) -> dict[str, Any]:
        return {"categories": {c: [] for c in params.columns}}

    def fit(self, ctx: BuildContext, params: OrdinalParams, table: ibis.Table) -> FittedTransform:
        cats = {c: _top_categories(ctx, table, c, params.max_categories, 1) for c in params.columns}
        return self.fitted(params, list(params.columns), {"categories": cats})

    def transform_expr(self, fitted: FittedTransform, table: ibis.Table) -> ibis.Table:
        changes = {}
        for name, cats in fitted.state["categories"].items():
            col = table[name]
            branches = [(col == ibis.literal(v).cast(col.type()), i) for i, v in enumerate(cats)]
            code = ibis.cases(*branches, else_=-1) if branches else ibis.literal(-1)
            changes[name] = code.cast("int64")
        return table.mutate(**changes)

    def transform_arrays(
        self, fitted: FittedTransform, columns: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        out = dict(columns)
        for name, cats in fitted.state["categories"].items():
            index = {v: i for i, v in enumerate(cats)}
            values = columns[name]
            nulls = null_mask(values)
            out[name] = np.array(
                [-1 if n else index.get(_key(v), -1) for v, n in zip(values.tolist(), nulls, strict=True)],
                dtype=np.int64,
            )
        return out


def _key(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


class HashingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = columns(
        types=("string", "integer", "boolean"), description="Columns hashed into the features."
    )
    n_features: int = Field(default=32, ge=2, le=1024, description="Number of output columns.")
    prefix: str = Field(
        default="hash", min_length=1, max_length=64, description="Output columns: '<prefix>_<i>'."
    )
    drop_original: bool = Field(default=True, description="Drop the hashed columns.")


def _bucket_of(column: str, value: Any, n: int) -> int:
    text = f"{column}={_text(value)}"
    return int(hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()[:8], 16) % n


_HEX = "0123456789abcdef"


class Hashing(StatelessTransform):
    """Feature hashing: each value 'column=value' adds 1 to column md5(...)[:8] mod n (nulls add nothing).
    md5 is computed the same way by every engine and by NumPy serving."""

    id: ClassVar[str] = "hashing"
    family: ClassVar[str] = "encoding"
    title: ClassVar[str] = "Feature hashing"
    group: ClassVar[str] = "any"
    Params: ClassVar[type[BaseModel]] = HashingParams

    def check(self, params: HashingParams, schema: TableSchema) -> None:
        super().check(params, schema)
        kept = [c for c in schema.columns if not (params.drop_original and c.name in params.columns)]
        check_new_names(
            TableSchema(columns=kept), [f"{params.prefix}_{i}" for i in range(params.n_features)], "prefix"
        )

    def transform_expr(self, fitted: FittedTransform, table: ibis.Table) -> ibis.Table:
        n = fitted.params["n_features"]
        buckets = []
        for name in fitted.input_columns:
            col = table[name]
            text = col.cast("string").lower() if col.type().is_boolean() else col.cast("string")
            digest = ibis.literal(f"{name}=").concat(text).hexdigest("md5")
            number: ir.IntegerValue = ibis.literal(0, type="int64")
            for k in range(8):
                number = number * 16 + ibis.literal(_HEX).find(digest.substr(k, 1)).cast("int64")
            buckets.append(ibis.ifelse(col.isnull(), -1, number % n))
        new = {}
        for j in range(n):
            total: ir.IntegerValue = ibis.literal(0, type="int64")
            for bucket in buckets:
                total = total + ibis.ifelse(bucket == j, 1, 0)
            new[f"{fitted.params['prefix']}_{j}"] = total.cast("int64")
        result = table.mutate(**new)
        return result.drop(*fitted.input_columns) if fitted.params["drop_original"] else result

    def transform_arrays(
        self, fitted: FittedTransform, columns: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        n = fitted.params["n_features"]
        rows = len(next(iter(columns.values()))) if columns else 0
        counts = np.zeros((n, rows), dtype=np.int64)
        for name in fitted.input_columns:
            values = columns[name]
            nulls = null_mask(values)
            for r, (v, is_null) in enumerate(zip(values.tolist(), nulls, strict=True)):
                if not is_null:
                    counts[_bucket_of(name, _key(v), n), r] += 1
        out = {
            k: v
            for k, v in columns.items()
            if not (fitted.params["drop_original"] and k in fitted.input_columns)
        }
        for j in range(n):
            out[f"{fitted.params['prefix']}_{j}"] = counts[j]
        return out

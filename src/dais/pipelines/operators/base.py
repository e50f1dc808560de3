"""The operator interface (group ``dais.operators``).

An operator declares typed input and output ports, a pydantic ``Params`` model (it drives the UI
form: defaults, enums, ranges, help, and column pickers through :func:`columns` / :func:`column`),
how its output schemas follow from its input schemas (:meth:`Operator.infer`, so every node knows its
columns before anything runs), and its implementation as Ibis expressions (:meth:`Operator.build`),
which is what lets the same operator run on every engine (DuckDB now, Spark later).

Fitting operators (imputers, scalers, encoders, binners, selectors) learn a state from data and
output a :class:`FittedTransform`: plain JSON that has two executions, an Ibis expression for batch
(:meth:`FittingOperator.transform_expr`) and a NumPy function for online serving
(:meth:`FittingOperator.transform_arrays`); the conformance suite proves they agree.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from dais.core.errors import DaisError
from dais.core.plugins import Registry, registry

if TYPE_CHECKING:
    import ibis
    import numpy as np
    import pyarrow as pa


class PortType(StrEnum):
    table = "table"
    transform = "transform"  # a fitted transform (or a chain of them)
    model = "model"
    metrics = "metrics"
    report = "report"


@dataclass(frozen=True)
class Port:
    name: str
    type: PortType = PortType.table
    required: bool = True
    description: str = ""


# Column type groups a column picker may ask for; each Column.dtype is an Ibis dtype string.
TYPE_GROUPS = ("any", "numeric", "integer", "floating", "string", "boolean", "temporal", "date", "timestamp")


class Column(BaseModel):
    name: str
    dtype: str  # Ibis dtype text: int64, float64, string, boolean, date, timestamp('UTC'), ...
    nullable: bool = True


class TableSchema(BaseModel):
    """The columns of a table port. ``open`` marks a schema that gains columns known only after a run
    (a one-hot encoding adds one column per category it meets)."""

    columns: list[Column] = Field(default_factory=list)
    open: bool = False

    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def get(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


class ParamError(DaisError):
    """A parameter is wrong for this node's inputs; ``field`` names it (``columns``, ``columns.2``)."""

    code = "pipeline_param_invalid"
    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def columns(
    *,
    port: str = "in",
    types: Sequence[str] = ("any",),
    description: str = "",
    min_items: int = 1,
    default: Any = ...,
) -> Any:
    """A params field that picks several columns of input ``port`` (checked before any run)."""
    extra: JsonDict = {"x-dais-columns": {"port": port, "types": list(types), "multiple": True}}
    if default is ...:
        return Field(min_length=min_items, description=description, json_schema_extra=extra)
    return Field(default=default, description=description, json_schema_extra=extra)


def column(
    *, port: str = "in", types: Sequence[str] = ("any",), description: str = "", default: Any = ...
) -> Any:
    """A params field that picks one column of input ``port``."""
    extra: JsonDict = {"x-dais-columns": {"port": port, "types": list(types), "multiple": False}}
    if default is ...:
        return Field(description=description, json_schema_extra=extra)
    return Field(default=default, description=description, json_schema_extra=extra)


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BuildContext(abc.ABC):
    """What an engine gives an operator while building its expressions."""

    node_id: str
    variables: Mapping[str, str]
    seed: int
    sample: bool  # a debug run on a sample of each source

    @abc.abstractmethod
    def execute(self, expr: ibis.Table) -> pa.Table:
        """Run a (small) expression now: fitting operators use it for their aggregates."""

    @abc.abstractmethod
    def source(self, dataset: str, version: int | None, partitions: list[str] | str | None) -> ibis.Table:
        """A dataset version as a table of this engine (streamed, never loaded whole)."""

    @abc.abstractmethod
    def log(self, message: str) -> None:
        """A line in this node's log."""


class FittedTransform(BaseModel):
    """A fitted transform's state: plain JSON that travels inside model packages."""

    operator: str
    version: int
    params: dict[str, Any]
    state: dict[str, Any]
    input_columns: list[str]
    output_columns: list[str]


class Operator(abc.ABC):
    """A pipeline operator. Subclasses set the class attributes and implement the methods."""

    id: ClassVar[str]
    version: ClassVar[int] = 1
    family: ClassVar[str]  # "io", "sampling", "transform", "cleaning", "scaling", "encoding", ...
    title: ClassVar[str]
    description: ClassVar[str] = ""
    inputs: ClassVar[tuple[Port, ...]] = (Port("in"),)
    outputs: ClassVar[tuple[Port, ...]] = (Port("out"),)
    Params: ClassVar[type[BaseModel]] = NoParams

    @abc.abstractmethod
    def infer(self, params: Any, inputs: Mapping[str, TableSchema]) -> dict[str, TableSchema | None]:
        """Output schemas from input schemas (None for non-table outputs); :class:`ParamError` if the
        params do not fit the inputs (an unknown column, a wrong type, an out-of-range value)."""

    @abc.abstractmethod
    def build(self, ctx: BuildContext, params: Any, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Output values from input values: ``ibis.Table`` for table ports, :class:`FittedTransform`
        for transform ports, plain JSON-able dicts for metrics and reports."""


class FittingOperator(Operator):
    """An operator that learns a state (fit) and applies it (transform), in batch and online."""

    outputs: ClassVar[tuple[Port, ...]] = (Port("out"), Port("transform", PortType.transform))

    @abc.abstractmethod
    def fit(self, ctx: BuildContext, params: Any, table: ibis.Table) -> FittedTransform:
        """Learn the state from ``table`` (aggregates run through ``ctx.execute``)."""

    @abc.abstractmethod
    def transform_expr(self, fitted: FittedTransform, table: ibis.Table) -> ibis.Table:
        """Batch execution: the transform as an Ibis expression."""

    @abc.abstractmethod
    def transform_arrays(
        self, fitted: FittedTransform, columns: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """Online execution: the same transform on NumPy column arrays (one request's rows)."""

    def build(self, ctx: BuildContext, params: Any, inputs: Mapping[str, Any]) -> dict[str, Any]:
        fitted = self.fit(ctx, params, inputs["in"])
        return {"out": self.transform_expr(fitted, inputs["in"]), "transform": fitted}


#: Built-in operators, as lazy "module:Class" strings (the registry imports them on first use).
BUILTIN_OPERATORS: dict[str, str] = {
    "source": "dais.pipelines.operators.io:Source",
    "sink": "dais.pipelines.operators.io:Sink",
    "sample": "dais.pipelines.operators.sampling:Sample",
    "split": "dais.pipelines.operators.sampling:Split",
    "filter": "dais.pipelines.operators.relational:Filter",
    "select": "dais.pipelines.operators.relational:Select",
    "rename": "dais.pipelines.operators.relational:Rename",
    "cast": "dais.pipelines.operators.relational:Cast",
    "sort": "dais.pipelines.operators.relational:Sort",
    "deduplicate": "dais.pipelines.operators.relational:Deduplicate",
    "join": "dais.pipelines.operators.combine:Join",
    "union": "dais.pipelines.operators.combine:Union",
    "aggregate": "dais.pipelines.operators.combine:Aggregate",
    "sql": "dais.pipelines.operators.sql:Sql",
    "drop_missing": "dais.pipelines.operators.cleaning:DropMissing",
    "impute": "dais.pipelines.operators.cleaning:Impute",
    "clip_outliers": "dais.pipelines.operators.cleaning:ClipOutliers",
    "scale": "dais.pipelines.operators.scaling:Scale",
    "normalize": "dais.pipelines.operators.scaling:Normalize",
    "math": "dais.pipelines.operators.scaling:Math",
    "bin": "dais.pipelines.operators.encoding:Bin",
    "one_hot": "dais.pipelines.operators.encoding:OneHot",
    "ordinal": "dais.pipelines.operators.encoding:Ordinal",
    "hashing": "dais.pipelines.operators.encoding:Hashing",
    "date_parts": "dais.pipelines.operators.features:DateParts",
    "formula": "dais.pipelines.operators.features:Formula",
    "variance_threshold": "dais.pipelines.operators.selection:VarianceThreshold",
    "correlation_filter": "dais.pipelines.operators.selection:CorrelationFilter",
    "select_k_best": "dais.pipelines.operators.selection:SelectKBest",
    "profile": "dais.pipelines.operators.profile:Profile",
}


def operators() -> Registry[type[Operator]]:
    return registry("dais.operators", builtins=BUILTIN_OPERATORS)

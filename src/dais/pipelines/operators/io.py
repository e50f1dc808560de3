"""Input and output: ``source`` (a dataset version) and ``sink`` (a new dataset version).

A source has no input port, so its schema comes from the dataset itself: whoever validates a pipeline
installs a :data:`DatasetSchemaResolver` with :func:`resolving_schemas` (the validator does, over the
data domain); without one, ``infer`` answers an open schema with no columns (unknown until a run).
A sink has no output: the runner writes its input ``in`` as a new version of ``params.dataset``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from dais.pipelines.operators._common import input_schema
from dais.pipelines.operators.base import BuildContext, Operator, Port, TableSchema

DATASET_NAME = r"^[a-z0-9][a-z0-9_.-]{0,62}$"

#: (dataset name, version or None for the latest) -> its schema, or None if unknown. It may raise
#: ParamError (field ``dataset`` or ``version``) for a dataset or version that does not exist.
DatasetSchemaResolver = Callable[[str, int | None], TableSchema | None]

_resolver: ContextVar[DatasetSchemaResolver | None] = ContextVar("dais_dataset_schema_resolver", default=None)


@contextmanager
def resolving_schemas(resolver: DatasetSchemaResolver) -> Iterator[None]:
    """Within this block, ``source`` nodes infer their schema through ``resolver``."""
    token = _resolver.set(resolver)
    try:
        yield
    finally:
        _resolver.reset(token)


class SourceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(pattern=DATASET_NAME, description="The dataset's name in this workspace.")
    version: int | None = Field(
        default=None, ge=1, description="Its version (the latest when the run starts if unset)."
    )
    partitions: list[str] | str | None = Field(
        default=None,
        description="Partitions to read: a list of partition values, or one expression with ${variables} "
        "(e.g. 'ds=${ds}'); all if unset.",
    )


class Source(Operator):
    """Read a dataset version (streamed from its reader, never loaded whole)."""

    id: ClassVar[str] = "source"
    family: ClassVar[str] = "io"
    title: ClassVar[str] = "Dataset"
    description: ClassVar[str] = "Read a dataset version, optionally some partitions."
    inputs: ClassVar[tuple[Port, ...]] = ()
    Params: ClassVar[type[BaseModel]] = SourceParams

    def infer(self, params: SourceParams, inputs: Mapping[str, TableSchema]) -> dict[str, TableSchema | None]:
        resolver = _resolver.get()
        schema = resolver(params.dataset, params.version) if resolver is not None else None
        return {"out": schema if schema is not None else TableSchema(open=True)}

    def build(self, ctx: BuildContext, params: SourceParams, inputs: Mapping[str, Any]) -> dict[str, Any]:
        from dais.core.templating import render_value

        partitions = render_value(params.partitions, ctx.variables, where="partitions")
        return {"out": ctx.source(params.dataset, params.version, partitions)}


class SinkMode(StrEnum):
    overwrite = "overwrite"
    append = "append"


class SinkParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(
        pattern=DATASET_NAME, description="The dataset written (created if it does not exist)."
    )
    mode: SinkMode = Field(
        default=SinkMode.overwrite,
        description="overwrite: the new version holds these rows only; append: the previous version's rows "
        "and these.",
    )
    description: str | None = Field(default=None, max_length=1000, description="Note on the new version.")


class Sink(Operator):
    """Write the input as a new version of a dataset (done by the runner)."""

    id: ClassVar[str] = "sink"
    family: ClassVar[str] = "io"
    title: ClassVar[str] = "Save dataset"
    description: ClassVar[str] = "Write the input as a new dataset version."
    outputs: ClassVar[tuple[Port, ...]] = ()
    Params: ClassVar[type[BaseModel]] = SinkParams

    def infer(self, params: SinkParams, inputs: Mapping[str, TableSchema]) -> dict[str, TableSchema | None]:
        input_schema(inputs)
        return {}

    def build(self, ctx: BuildContext, params: SinkParams, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {}

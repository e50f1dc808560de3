"""From a dataset version to training arrays, checked before anything trains.

:func:`plan_columns` checks the columns a training run names against the version's stored schema
(after a pipeline's fitted transforms when they are applied) and answers which columns to read:
an unknown target or feature, a text or date feature, a regression target that is not a number
are refused with 422 naming the field. Without a feature list, every numeric column but the target,
the time split's column and identifier-looking columns (``patient_id``: :func:`is_id_like`) is a
feature. :func:`known_rows` and :func:`check_stats` add what the stored row count and statistics
tell (no rows, missing values an algorithm cannot take, a single class).
Both run in the API before a job is submitted, and again in the job. :func:`check_time_split`
refuses a time split whose cut-off the stored statistics show to leave a side empty. (Image
datasets: :mod:`dais.training.image_data`.)

:func:`load_arrays` streams the version's columns (Arrow record batches), applies the transforms
(their batch execution, on DuckDB) and builds the feature matrix and target: rows without a target
are left out; classification targets become class codes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from dais.core.errors import InvalidInput, NotFound
from dais.pipelines.operators.base import TableSchema

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np
    import pyarrow as pa
    from sqlalchemy.orm import Session

    from dais.data import DataReader, Dataset, DatasetVersion
    from dais.pipelines.datasets import DataReader as DatasetReader
    from dais.pipelines.transforms import TransformChain

Loc = tuple[str | int, ...]

_NUMERIC = re.compile(r"^(u?int(8|16|32|64)|float(16|32|64)|decimal.*|boolean)$")
_TEMPORAL = re.compile(r"^(date|timestamp.*)$")
#: Names of identifier columns: ``id``, ``..._id``, ``... id``, ``...-id`` (any case), ``patientId``.
_ID_NAME = re.compile(r"(?i:^id$|[_ \-]id$)|[a-z0-9](?:Id|ID)$")
_KEY_DTYPE = re.compile(r"^(u?int(8|16|32|64)|string|large_string|uuid)$")


def is_numeric(dtype: str) -> bool:
    """Whether an Ibis dtype (text) can be a feature as it is: numbers and booleans."""
    return bool(_NUMERIC.match(dtype))


def is_temporal(dtype: str) -> bool:
    return bool(_TEMPORAL.match(dtype))


def is_id_like(name: str, dtype: str, stats: Mapping[str, Any] | None = None) -> bool:
    """Whether a column looks like an identifier (a row key, no feature): its name says so (``id``,
    ``..._id``, ``... id``, ``patientId``) and it is an integer or text key, or unique in the stored
    sample's statistics."""
    if not _ID_NAME.search(name):
        return False
    if _KEY_DTYPE.match(dtype):
        return True
    if not stats:
        return False
    rows, nulls, distinct = stats.get("rows"), stats.get("nulls") or 0, stats.get("distinct")
    return isinstance(rows, int) and isinstance(distinct, int) and rows > 1 and distinct == rows - nulls


def stats_by_column(ds: Dataset, v: DatasetVersion, *, transformed: bool) -> dict[str, dict[str, Any]]:
    """The stored per-column statistics of ``v`` by column name (none when they do not describe the
    columns training sees: another version's, or raw columns under transforms)."""
    if transformed or v.number != ds.current_version:
        return {}
    return {str(s["name"]): s for s in ds.stats or [] if isinstance(s, dict) and s.get("name")}


def _invalid(message: str, loc: Loc, msg: str) -> InvalidInput:
    return InvalidInput(message, errors=[{"loc": list(loc), "msg": msg}])


class TransformsRef(BaseModel):
    """The fitted transforms of one pipeline run, applied to the dataset's rows before training (and
    carried in the model package, so serving applies them too)."""

    model_config = ConfigDict(extra="forbid")

    pipeline_run: str = Field(min_length=1, max_length=64, description="A succeeded pipeline run's id.")
    node: str | None = Field(
        default=None,
        max_length=64,
        description="The node whose upstream transforms apply (default: the run's only sink).",
    )


# -- finding the version and its transforms ---------------------------------------------------------


def find_version(
    session: Session, workspace_id: str, name: str, version: int | None
) -> tuple[Dataset, DatasetVersion]:
    """The dataset ``name`` of the workspace and its version ``version`` (``None``: the current one)."""
    from dais.data import Dataset, get_version

    ds = session.scalar(
        select(Dataset).where(Dataset.workspace_id == workspace_id, Dataset.name == name)
    ) or session.scalar(select(Dataset).where(Dataset.workspace_id == workspace_id, Dataset.id == name))
    if ds is None:
        raise _invalid(
            f"No dataset named {name!r} in this workspace.", ("body", "dataset"), "unknown dataset"
        )
    try:
        return ds, get_version(session, ds, version)
    except NotFound as exc:
        raise _invalid(exc.detail, ("body", "version"), "unknown version") from exc


def version_schema(ds: Dataset, v: DatasetVersion) -> TableSchema:
    """The version's columns as registration (or the pipeline that wrote it) stored them."""
    from dais.pipelines.workspace_data import stored_schema

    return stored_schema(v.schema_ if v.schema_ is not None else ds.schema_)


def transforms_of(session: Session, workspace_id: str, ref: TransformsRef) -> TransformChain:
    """The fitted transforms of a pipeline run upstream of ``ref.node``, in the order they apply."""
    from dais.pipelines.models import PipelineNodeRun, PipelineRun
    from dais.pipelines.operators.base import FittedTransform
    from dais.pipelines.runner import RunResult
    from dais.pipelines.service import get_pipeline_in, get_version, graph_of
    from dais.pipelines.transforms import chain_for

    loc: Loc = ("body", "transforms", "pipeline_run")
    run = session.get(PipelineRun, ref.pipeline_run)
    if run is None or run.workspace_id != workspace_id:
        raise _invalid(f"No pipeline run {ref.pipeline_run!r} in this workspace.", loc, "unknown run")
    if run.status != "succeeded":
        raise _invalid(
            f"The pipeline run {ref.pipeline_run!r} is {run.status}: only a succeeded run's transforms "
            "apply.",
            loc,
            "run not succeeded",
        )
    graph = graph_of(
        get_version(session, get_pipeline_in(session, workspace_id, run.pipeline_id), run.version)
    )
    node = ref.node
    if node is None:
        sinks = [n.id for n in graph.nodes if n.operator == "sink"]
        if len(sinks) != 1:
            raise _invalid(
                f"The pipeline has {len(sinks)} sinks: name the node whose transforms apply.",
                ("body", "transforms", "node"),
                "node required",
            )
        node = sinks[0]
    elif graph.node(node) is None:
        raise _invalid(f"The pipeline has no node {node!r}.", ("body", "transforms", "node"), "unknown node")
    fitted: dict[str, FittedTransform] = {}
    for row in session.scalars(select(PipelineNodeRun).where(PipelineNodeRun.run_id == run.id)):
        value = (row.report or {}).get("transform")
        if isinstance(value, dict) and "operator" in value:
            fitted[row.node_id] = FittedTransform.model_validate(value)
    result = RunResult(status="succeeded", mode=run.mode, duration_s=0.0, nodes={}, transforms=fitted)
    return chain_for(graph, result, node)


def carried_transforms(session: Session, workspace_id: str, v: DatasetVersion) -> TransformChain | None:
    """The transforms fitted upstream of the sink that wrote ``v`` (a pipeline's output), if any:
    the model trained on it carries them, so serving turns raw rows into what it saw."""
    run_id, node = (v.fingerprint or {}).get("pipeline_run"), (v.fingerprint or {}).get("node")
    if not run_id or not node:
        return None
    try:
        chain = transforms_of(session, workspace_id, TransformsRef(pipeline_run=str(run_id), node=str(node)))
    except InvalidInput:
        return None
    return chain if chain.transforms else None


def transformed_schema(schema: TableSchema, chain: TransformChain) -> TableSchema:
    """The columns after ``chain`` (its expressions on an unbound table: nothing is read)."""
    import ibis

    from dais.pipelines.datasets import table_schema

    missing = [c for c in chain.input_columns if schema.get(c) is None]
    if missing:
        raise _invalid(
            f"The transforms read column(s) {', '.join(map(repr, missing))}, which the dataset does not "
            "have.",
            ("body", "transforms"),
            "columns missing",
        )
    table = ibis.table(ibis.schema({c.name: c.dtype for c in schema.columns}), name="rows")
    out = chain.apply_expr(table)
    return table_schema(out.schema().to_pyarrow())


# -- which columns ----------------------------------------------------------------------------------


@dataclass
class ColumnPlan:
    """The columns a training run reads and what each is for."""

    features: list[str]
    target: str | None
    time_column: str | None = None
    time_temporal: bool = False
    #: columns read from the dataset (the raw columns the transforms need, then the rest)
    read: list[str] = field(default_factory=list)
    target_dtype: str | None = None
    #: identifier columns left out of the default features (:func:`is_id_like`)
    left_out: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """The columns training uses (after the transforms): features, target, time column."""
        return list(dict.fromkeys(c for c in [*self.features, self.target, self.time_column] if c))


def plan_columns(
    schema: TableSchema,
    *,
    task: str,
    target: str | None,
    features: list[str] | None,
    time_column: str | None = None,
    chain: TransformChain | None = None,
    stats: Mapping[str, Mapping[str, Any]] | None = None,
) -> ColumnPlan:
    """Check the named columns against ``schema`` (the version's; after ``chain`` if given).

    Without ``features``, every numeric column but the target, the time split's column and the
    identifier columns (:func:`is_id_like`, judged with ``stats``: the stored statistics by column
    name) is a feature; the plan says which identifiers it left out. Named features are taken as
    they are, identifiers included."""
    raw = schema
    seen = transformed_schema(schema, chain) if chain is not None and chain.transforms else schema
    known = ", ".join(seen.names()[:50])
    target_dtype = None
    if task == "clustering":
        if target is not None:
            raise _invalid("Clustering takes no target column.", ("body", "target"), "not for clustering")
    else:
        if not target:
            raise _invalid(f"A {task} run needs a target column.", ("body", "target"), "required")
        col = seen.get(target)
        if col is None:
            raise _invalid(
                f"The dataset has no column {target!r} to use as the target; it has: {known}.",
                ("body", "target"),
                "unknown column",
            )
        target_dtype = col.dtype
        if task == "regression" and (not is_numeric(col.dtype) or col.dtype == "boolean"):
            raise _invalid(
                f"A regression target must be numeric; {target!r} is {col.dtype}. Use a classification "
                "algorithm, or cast the column in a pipeline.",
                ("body", "target"),
                "not numeric",
            )
    if time_column is not None:
        tcol = seen.get(time_column) or raw.get(time_column)
        if tcol is None:
            raise _invalid(
                f"The dataset has no column {time_column!r} for the time split; it has: {known}.",
                ("body", "split", "column"),
                "unknown column",
            )
        if not (is_temporal(tcol.dtype) or is_numeric(tcol.dtype)):
            raise _invalid(
                f"The time split's column {time_column!r} is {tcol.dtype}: it must be a date, a time or "
                "a number.",
                ("body", "split", "column"),
                "not a date, time or number",
            )
    skip = {c for c in (target, time_column) if c}
    left_out: list[str] = []
    if features is None:
        chosen = []
        for c in seen.columns:
            if c.name in skip or not is_numeric(c.dtype):
                continue
            if is_id_like(c.name, c.dtype, (stats or {}).get(c.name)):
                left_out.append(c.name)
            else:
                chosen.append(c.name)
        if not chosen:
            ids = (
                f" (identifier columns are left out unless named: {', '.join(left_out)})" if left_out else ""
            )
            raise _invalid(
                "The dataset has no numeric column to use as a feature: encode text columns in a pipeline "
                f"and train through its transforms{ids}.",
                ("body", "features"),
                "no numeric column",
            )
    else:
        if not features:
            raise _invalid(
                "Name at least one feature column (or leave `features` out).", ("body", "features"), "empty"
            )
        chosen = []
        for i, name in enumerate(features):
            loc: Loc = ("body", "features", i)
            col = seen.get(name)
            if col is None:
                raise _invalid(f"The dataset has no column {name!r}; it has: {known}.", loc, "unknown column")
            if name == target:
                raise _invalid(f"The target {name!r} cannot also be a feature.", loc, "is the target")
            if not is_numeric(col.dtype):
                raise _invalid(
                    f"The feature {name!r} is {col.dtype}, not a number: encode it in a pipeline (one_hot, "
                    "ordinal, hashing, date_parts) and train through its transforms, or leave it out.",
                    loc,
                    "not numeric",
                )
            if name in chosen:
                raise _invalid(f"The feature {name!r} is named twice.", loc, "duplicate")
            chosen.append(name)
    time_temporal = False
    if time_column is not None:
        tcol = seen.get(time_column) or raw.get(time_column)
        time_temporal = tcol is not None and is_temporal(tcol.dtype)
    if chain is not None and chain.transforms:
        produced = {c for t in chain.transforms for c in t.output_columns}
        wanted = [c for c in [*chosen, target, time_column] if c]
        read = list(dict.fromkeys([*chain.input_columns, *[c for c in wanted if c not in produced]]))
        read = [c for c in read if raw.get(c) is not None]
    else:
        read = list(dict.fromkeys(c for c in [*chosen, target, time_column] if c))
    return ColumnPlan(
        features=chosen,
        target=target,
        time_column=time_column,
        time_temporal=time_temporal,
        read=read,
        target_dtype=target_dtype,
        left_out=left_out,
    )


def known_rows(ds: Dataset, v: DatasetVersion) -> int | None:
    """The version's stored row count, if known; 422 naming the dataset when it has no rows."""
    rows = (
        v.row_count if v.row_count is not None else (ds.row_count if v.number == ds.current_version else None)
    )
    if rows == 0:
        raise _invalid(f"Version {v.number} of {ds.name!r} has no rows.", ("body", "dataset"), "empty")
    return rows


def check_stats(
    ds: Dataset,
    v: DatasetVersion,
    plan: ColumnPlan,
    *,
    task: str,
    handles_missing: bool,
    transformed: bool,
) -> None:
    """What the stored statistics show before any row is read: missing values the algorithm cannot
    take, a target with a single class (422 naming the field)."""
    if transformed or v.number != ds.current_version:
        return  # the statistics describe the current version's raw columns only
    rows = known_rows(ds, v)
    stats = {s.get("name"): s for s in ds.stats or [] if isinstance(s, dict)}
    if not handles_missing:
        for i, name in enumerate(plan.features):
            nulls = int((stats.get(name) or {}).get("nulls") or 0)
            if nulls:
                raise _invalid(
                    f"The feature {name!r} has missing values ({nulls} in the sample) and this algorithm "
                    "does not accept them: impute them in a pipeline, or pick an algorithm that handles "
                    "them (random forest, LightGBM, XGBoost).",
                    ("body", "features", i),
                    "missing values",
                )
    if task == "classification" and plan.target:
        st = stats.get(plan.target) or {}
        complete = rows is not None and st.get("rows") == rows and not st.get("nulls")
        if complete and st.get("distinct") == 1:
            raise _invalid(
                f"The target {plan.target!r} has a single value: classification needs at least two classes.",
                ("body", "target"),
                "single class",
            )


def check_time_split(
    ds: Dataset, v: DatasetVersion, plan: ColumnPlan, split: Any, *, transformed: bool
) -> None:
    """Refuse a time split whose ``cutoff`` leaves a side empty, when the stored statistics cover
    every row of the version (their min/max are then the column's): 422 naming the cut-off."""
    from dais.training.splits import EmptySplit, TimeSplit, time_value

    if not isinstance(split, TimeSplit) or split.cutoff is None or plan.time_column is None:
        return
    if transformed or v.number != ds.current_version:
        return
    rows = known_rows(ds, v)
    st = next((s for s in ds.stats or [] if isinstance(s, dict) and s.get("name") == plan.time_column), None)
    if rows is None or st is None or st.get("rows") != rows or st.get("min") is None or st.get("max") is None:
        return  # only a sample was profiled: the job checks the actual rows
    loc: Loc = ("body", "split", "cutoff")
    cut = time_value(split.cutoff, plan.time_temporal, loc)
    try:
        low = time_value(st["min"], plan.time_temporal, loc)
        high = time_value(st["max"], plan.time_temporal, loc)
    except InvalidInput:
        return  # a stored value this check cannot read: leave it to the job
    if low < cut <= high:
        return
    side = "train on" if cut <= low else "validate on"
    message = (
        f"The time split on {plan.time_column!r} at {split.cutoff} leaves no rows to {side}: its values "
        f"run from {st['min']} to {st['max']}; move the cut-off inside that range."
    )
    raise EmptySplit(message, errors=[{"loc": list(loc), "msg": message}])


# -- reading ----------------------------------------------------------------------------------------


@dataclass
class LoadedData:
    """A version's rows as arrays."""

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    classes: list[Any] | None = None
    time: np.ndarray | None = None
    rows_read: int = 0
    rows_dropped: int = 0
    #: why rows were left out, and how many for each reason (media datasets)
    dropped: dict[str, int] = field(default_factory=dict)


def read_table(reader: DataReader, columns: list[str]) -> pa.Table:
    """The columns of every row, streamed batch by batch into one Arrow table."""
    import pyarrow as pa

    stream = reader.batches(columns=columns, batch_rows=262_144)
    return pa.Table.from_batches(list(stream), schema=stream.schema)


def apply_chain(
    reader: DataReader | DatasetReader, chain: TransformChain, keep: list[str], workdir: Path
) -> pa.Table:
    """The transforms' batch execution (their Ibis expressions, on the DuckDB engine) over the
    reader's rows; the ``keep`` columns of the result."""
    from dais.pipelines.engines import get_engine

    with get_engine("duckdb").session(workdir) as session:
        table = chain.apply_expr(session.source(reader, name="rows"))
        return session.execute(table.select(*keep))


def _as_float(column: Any) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        column = pc.cast(pc.cast(column, pa.timestamp("us")), pa.int64())
    arr: np.ndarray = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    return arr


def load_arrays(table: pa.Table, plan: ColumnPlan, *, task: str) -> LoadedData:
    """The feature matrix (float64, NaN where missing), the target (class codes for classification)
    and the time split's column (microseconds or numbers, NaN where missing) of ``table``."""
    import numpy as np

    n = table.num_rows
    x = np.empty((n, len(plan.features)), dtype=np.float64)
    for j, name in enumerate(plan.features):
        x[:, j] = _as_float(table.column(name))
    time = _as_float(table.column(plan.time_column)) if plan.time_column else None
    y: np.ndarray | None = None
    classes: list[Any] | None = None
    keep: np.ndarray | None = None
    if plan.target is not None:
        col = table.column(plan.target)
        if col.null_count:
            keep = ~np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            col = col.drop_null()
        if task == "regression":
            y = _as_float(col)
        else:
            values = col.to_numpy(zero_copy_only=False)
            if values.dtype == object:
                values = values.astype(str)
            uniques, codes = np.unique(values, return_inverse=True)
            classes = [u.item() if hasattr(u, "item") else u for u in uniques]
            y = codes.astype(np.int64)
        if task == "regression":
            finite = np.isfinite(y)
            if not finite.all():
                keep = finite if keep is None else _merge(keep, finite)
                y = y[finite]
    if keep is not None:
        x = x[keep]
        time = time[keep] if time is not None else None
    return LoadedData(
        X=x,
        y=y,
        feature_names=list(plan.features),
        classes=classes,
        time=time,
        rows_read=n,
        rows_dropped=n - len(x),
    )


def _merge(keep: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """``keep`` narrowed by ``finite``, which covers only the rows ``keep`` kept."""
    out = keep.copy()
    out[np.flatnonzero(keep)[~finite]] = False
    return out


def missing_values(x: np.ndarray, feature_names: list[str]) -> tuple[int, str, int] | None:
    """The first feature with missing values: (its position, its name, how many)."""
    import numpy as np

    counts = np.isnan(x).sum(axis=0)
    for j, count in enumerate(counts):
        if count:
            return j, feature_names[j], int(count)
    return None

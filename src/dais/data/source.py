"""What a dataset points at, and what inspecting it finds: plain pydantic models shared by the
readers (:mod:`dais.data.inspect`, :mod:`dais.data.reader`), the service, the API and the job kinds.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DataFormat(StrEnum):
    auto = "auto"  # decided from the file names (and content, for CSV vs text)
    parquet = "parquet"
    csv = "csv"
    json = "json"  # one JSON array of records, or one object per line (also accepted as jsonl)
    jsonl = "jsonl"
    text = "text"  # one row per line, in a column named "text"
    arrow = "arrow"  # Arrow IPC file / Feather v2
    table = "table"  # a SQL/Hive table
    query = "query"  # a SQL query
    images = "images"  # a media dataset: image files, label from the parent folder name
    video = "video"  # a media dataset: video files


MEDIA_FORMATS = frozenset({DataFormat.images, DataFormat.video})


class CsvOptions(BaseModel):
    """Overrides for what CSV sniffing decides; leave a field out to let Dais sniff it."""

    model_config = ConfigDict(extra="forbid")

    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    header: bool | None = None
    encoding: str | None = Field(default=None, max_length=40)
    quote_char: str | None = Field(default=None, min_length=1, max_length=1)


class SourceSpec(BaseModel):
    """Where a dataset's data lies: a path/glob (files) or a table/query (tables), and its format.

    ``path`` is relative to the connection's root; it may hold a glob (``*.parquet``,
    ``**/*.csv``) and is a folder for partitioned and media datasets. ``partition_filter`` is either
    a list of pinned partitions (``["dt=2024-01-01", "dt=2024-01-02"]``) or one dynamic expression
    with variables (``dt=${ds}``, ``dt=${ds-1d}``, ``day=${ds|%Y%m%d}``) resolved at read time.
    """

    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(default=None, max_length=4096)
    table: str | None = Field(default=None, max_length=512)
    query: str | None = Field(default=None, max_length=100_000)
    format: DataFormat = DataFormat.auto
    csv: CsvOptions | None = None
    partition_filter: list[str] | str | None = None
    update_column: str | None = Field(default=None, max_length=256, description="For SQL fingerprints.")


class ColumnSchema(BaseModel):
    name: str
    type: str  # Arrow type as text: int64, double, string, timestamp[us, tz=UTC], ...
    nullable: bool = True
    partition: bool = False  # comes from a key=value folder, not from the files


class ColumnStats(BaseModel):
    """Basic statistics of one column, computed over the sample (``rows`` says how many)."""

    name: str
    rows: int
    nulls: int
    distinct: int | None = None
    min: Any = None
    max: Any = None
    mean: float | None = None
    std: float | None = None
    top: list[tuple[Any, int]] | None = None  # most frequent values (strings, bools)
    histogram: list[tuple[float, float, int]] | None = None  # (low, high, count) for numbers


class Partition(BaseModel):
    """One partition folder: its key=value pairs, path, and how many files/bytes it holds."""

    path: str  # relative to the dataset path: "dt=2024-01-01/region=eu"
    values: dict[str, str]
    files: int
    bytes: int


class PartitionInfo(BaseModel):
    """Partitions found under a dataset's path (``style`` "hive" key=value, or "date" folders)."""

    style: str  # "hive" | "date" | "none"
    keys: list[str] = Field(default_factory=list)
    partitions: list[Partition] = Field(default_factory=list)
    truncated: bool = False  # more partitions exist than were listed


class MediaItem(BaseModel):
    """One image or video file of a media dataset: only metadata, never the bytes."""

    path: str  # relative to the connection's root
    size: int
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    label: str | None = None  # the parent folder's name
    format: str | None = None  # png, jpeg, mp4, ...


class Inspection(BaseModel):
    """What registering (or previewing) a source finds: the three registration steps' results.

    ``sample`` holds at most ``sample_rows`` rows and ``sample_max_bytes`` bytes as JSON-able
    records (media datasets: one record per media item, as :class:`MediaItem` fields).
    """

    format: DataFormat
    schema_: list[ColumnSchema] = Field(alias="schema")
    sample: list[dict[str, Any]]
    sample_truncated: bool = False  # the byte cap cut the sample short
    stats: list[ColumnStats] = Field(default_factory=list)
    partitions: PartitionInfo = Field(default_factory=lambda: PartitionInfo(style="none"))
    files: int | None = None
    bytes: int | None = None
    row_count: int | None = None  # None where it cannot be known cheaply (CSV, JSON)
    fingerprint: dict[str, Any] = Field(default_factory=dict)
    media: list[MediaItem] | None = None  # media datasets: the items found (bounded)
    media_total: int | None = None
    warnings: list[str] = Field(default_factory=list)

    model_config = ConfigDict(populate_by_name=True)

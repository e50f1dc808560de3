"""File formats: which format a file is (by its name), and how each is read as Arrow batches.

Parquet, CSV, JSON lines and Arrow IPC are read through :mod:`pyarrow.dataset` (fragment by
fragment, bounded memory); JSON arrays and text lines through small streaming readers of their own
(:mod:`dais.data.formats.json`, :mod:`dais.data.formats.text`). CSV dialect and encoding are sniffed
by :mod:`dais.data.formats.csv`.
"""

from __future__ import annotations

import posixpath
from collections import Counter

import pyarrow.fs as pafs

from dais.data.connectors.base import UnreadableData
from dais.data.source import DataFormat

IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"})
VIDEO_EXTENSIONS = frozenset({"mp4", "mov", "avi", "mkv", "webm", "m4v", "mpg", "mpeg"})
_COMPRESSION = ("gz", "bz2", "zst", "lz4")

EXTENSIONS: dict[str, DataFormat] = {
    "parquet": DataFormat.parquet,
    "parq": DataFormat.parquet,
    "pq": DataFormat.parquet,
    "csv": DataFormat.csv,
    "tsv": DataFormat.csv,
    "json": DataFormat.json,
    "jsonl": DataFormat.jsonl,
    "ndjson": DataFormat.jsonl,
    "txt": DataFormat.text,
    "text": DataFormat.text,
    "log": DataFormat.text,
    "arrow": DataFormat.arrow,
    "feather": DataFormat.arrow,
    "ipc": DataFormat.arrow,
    **dict.fromkeys(IMAGE_EXTENSIONS, DataFormat.images),
    **dict.fromkeys(VIDEO_EXTENSIONS, DataFormat.video),
}

#: Formats read with ``pyarrow.dataset`` (the others stream through readers of their own).
DATASET_FORMATS = frozenset({DataFormat.parquet, DataFormat.csv, DataFormat.jsonl, DataFormat.arrow})


def extension(path: str) -> str:
    """The file's format extension, lower case, looking through a compression suffix (``x.csv.gz``)."""
    name = posixpath.basename(path).lower()
    parts = name.split(".")
    if len(parts) > 2 and parts[-1] in _COMPRESSION:
        return parts[-2]
    return parts[-1] if len(parts) > 1 else ""


def format_of(path: str) -> DataFormat | None:
    """The format a file name says, or ``None``."""
    return EXTENSIONS.get(extension(path))


def choose_format(
    requested: DataFormat, files: list[pafs.FileInfo], what: str
) -> tuple[DataFormat, list[pafs.FileInfo]]:
    """The format to read ``files`` as, and the files of that format.

    ``auto`` takes the most common known format among the names (images and video count as one
    media family when mixed). An explicit format keeps the files named for it, or all files when none
    is (Spark writes ``part-00000`` without a suffix).
    """
    if requested == DataFormat.auto:
        counts = Counter(f for f in (format_of(i.path) for i in files) if f is not None)
        if not counts:
            names = ", ".join(posixpath.basename(i.path) for i in files[:3])
            raise UnreadableData(f"Cannot tell the format of {what} ({names}); set the format.")
        fmt = counts.most_common(1)[0][0]
        chosen = [i for i in files if _fits(fmt, format_of(i.path))]
        return fmt, chosen
    if requested in (DataFormat.table, DataFormat.query):
        raise UnreadableData(f"Format {requested.value!r} needs a tables connection (SQL), not files.")
    named = [i for i in files if _fits(requested, format_of(i.path))]
    return requested, named or files


def _fits(wanted: DataFormat, found: DataFormat | None) -> bool:
    if found == wanted:
        return True
    # json and jsonl share a reader: .json files may hold lines, .jsonl files are always lines
    return {wanted, found} <= {DataFormat.json, DataFormat.jsonl}

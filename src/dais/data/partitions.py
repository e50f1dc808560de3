"""Partitions: Hive-style ``key=value`` folders and date-like folders, found from a file listing.

:func:`detect_partitions` groups a dataset's files by their leading partition folders (with file
counts and sizes); :func:`select_partitions` picks some of them from a pinned list
(``["dt=2024-01-01"]``) or a dynamic expression resolved with variables (``dt=${ds-1d}``,
``${ds|%Y/%m/%d}``), rendered by :mod:`dais.core.templating`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from dais.core.errors import InvalidInput
from dais.core.templating import render
from dais.data.listing import glob_regex, has_glob
from dais.data.source import Partition, PartitionInfo

#: Partitions listed at most; ``PartitionInfo.truncated`` says when more exist.
MAX_PARTITIONS = 10_000
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"

_HIVE = re.compile(r"^([^=/]+)=([^/]*)$")
_INT = re.compile(r"^-?(?:0|[1-9]\d{0,17})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMPACT_DATE = re.compile(r"^\d{8}$")
_YEAR, _TWO = re.compile(r"^\d{4}$"), re.compile(r"^\d{2}$")
_DATE_VARIABLES = ("ds", "ts", "logical_date")


def _valid_date(text: str, fmt: str) -> str | None:
    try:
        return datetime.strptime(text, fmt).date().isoformat()
    except ValueError:
        return None


def _hive_prefix(dirs: list[str]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for d in dirs:
        m = _HIVE.match(d)
        if m is None:
            break
        pairs.append((m.group(1), m.group(2)))
    return pairs


def _date_prefix(dirs: list[str]) -> tuple[int, str] | None:
    """How many leading folders form a date, and its ISO form (2024-01-01, 20240101, 2024/01/01)."""
    if not dirs:
        return None
    if _ISO_DATE.match(dirs[0]) and (iso := _valid_date(dirs[0], "%Y-%m-%d")):
        return 1, iso
    if _COMPACT_DATE.match(dirs[0]) and (iso := _valid_date(dirs[0], "%Y%m%d")):
        return 1, iso
    if len(dirs) >= 3 and _YEAR.match(dirs[0]) and _TWO.match(dirs[1]) and _TWO.match(dirs[2]):
        iso = _valid_date("/".join(dirs[:3]), "%Y/%m/%d")
        if iso:
            return 3, iso
    return None


def detect_partitions(
    paths_with_sizes: Iterable[tuple[str, int]], *, limit: int = MAX_PARTITIONS
) -> PartitionInfo:
    """Partitions of files given by paths relative to the dataset's folder, with their sizes.

    Hive style needs every file under the same leading ``key=value`` keys; date style needs every
    file under a leading date folder. Anything else (or files at the top level) is style "none".
    """
    items = [(p.strip("/"), int(s or 0)) for p, s in paths_with_sizes]
    if not items:
        return PartitionInfo(style="none")
    dirs_of = [p.split("/")[:-1] for p, _ in items]
    groups: dict[str, tuple[dict[str, str], list[int]]] = {}

    hive = [_hive_prefix(d) for d in dirs_of]
    keys = [k for k, _ in hive[0]]
    if keys and all([k for k, _ in h] == keys for h in hive):
        for pairs, (_, size) in zip(hive, items, strict=True):
            path = "/".join(f"{k}={v}" for k, v in pairs)
            group = groups.setdefault(path, (dict(pairs), []))
            group[1].append(size)
        return _info("hive", keys, groups, limit)

    dates = [_date_prefix(d) for d in dirs_of]
    if all(d is not None for d in dates):
        for d, dirs, (_, size) in zip(dates, dirs_of, items, strict=True):
            assert d is not None
            depth, iso = d
            group = groups.setdefault("/".join(dirs[:depth]), ({"date": iso}, []))
            group[1].append(size)
        return _info("date", ["date"], groups, limit)
    return PartitionInfo(style="none")


def _info(
    style: str, keys: list[str], groups: dict[str, tuple[dict[str, str], list[int]]], limit: int
) -> PartitionInfo:
    ordered = sorted(groups)
    partitions = [
        Partition(path=path, values=groups[path][0], files=len(groups[path][1]), bytes=sum(groups[path][1]))
        for path in ordered[:limit]
    ]
    return PartitionInfo(style=style, keys=keys, partitions=partitions, truncated=len(ordered) > limit)


def partition_types(info: PartitionInfo) -> dict[str, pa.DataType]:
    """Arrow types of Hive partition columns, inferred from their values: int64, date32 or string."""
    if info.style != "hive":
        return {}
    types: dict[str, pa.DataType] = {}
    for key in info.keys:
        values = [p.values[key] for p in info.partitions if p.values.get(key) not in (None, HIVE_NULL)]
        if values and all(_INT.match(v) for v in values):
            types[key] = pa.int64()
        elif values and all(_ISO_DATE.match(v) and _valid_date(v, "%Y-%m-%d") for v in values):
            types[key] = pa.date32()
        else:
            types[key] = pa.string()
    return types


def partition_schema(info: PartitionInfo) -> pa.Schema | None:
    """The schema of Hive partition columns (``None`` when the dataset has none)."""
    types = partition_types(info)
    return pa.schema([(k, t) for k, t in types.items()]) if types else None


def template_variables(variables: Mapping[str, str] | None) -> dict[str, Any]:
    """Variables for :func:`dais.core.templating.render`: ``ds``/``ts``/``logical_date`` become datetimes."""
    out: dict[str, Any] = dict(variables or {})
    for name in _DATE_VARIABLES:
        value = out.get(name)
        if isinstance(value, str):
            try:
                out[name] = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError as exc:
                raise InvalidInput(f"Variable {name}={value!r} is not an ISO date (YYYY-MM-DD).") from exc
        elif isinstance(value, date) and not isinstance(value, datetime):
            out[name] = datetime(value.year, value.month, value.day)
    if "ds" in out and "ts" not in out:
        out["ts"] = out["logical_date"] = out["ds"]
    return out


def is_dynamic(partition_filter: list[str] | str | None) -> bool:
    """Whether a filter holds ``${...}`` variables (so it resolves only at read time)."""
    items = [partition_filter] if isinstance(partition_filter, str) else list(partition_filter or [])
    return any("${" in item for item in items)


def _matches(partition: Partition, wanted: str, style: str) -> bool:
    path = partition.path
    if has_glob(wanted):
        regex = glob_regex(wanted)
        parts = path.split("/")
        return any(regex.match("/".join(parts[:n])) for n in range(1, len(parts) + 1))
    if path == wanted or path.startswith(wanted + "/"):
        return True
    return style == "date" and partition.values.get("date") == wanted


def select_partitions(
    info: PartitionInfo, partition_filter: list[str] | str | None, variables: Mapping[str, str] | None
) -> list[Partition]:
    """The partitions a filter picks: all of them for ``None``; pinned paths; or dynamic expressions.

    Each entry is a partition path or a prefix of one (``dt=2024-01-01`` picks every
    ``dt=2024-01-01/region=...``), a glob (``dt=2024-01-*``), or for date folders an ISO date. An
    entry with ``${...}`` is rendered with ``variables`` first. An entry that matches nothing raises
    :class:`InvalidInput` naming its rendered value.
    """
    if partition_filter is None:
        return list(info.partitions)
    items = [partition_filter] if isinstance(partition_filter, str) else list(partition_filter)
    if info.style == "none":
        raise InvalidInput("A partition filter was given, but the dataset has no partition folders.")
    chosen: set[str] = set()
    tvars: dict[str, Any] | None = None
    for item in items:
        wanted = item
        if "${" in item:
            tvars = template_variables(variables) if tvars is None else tvars
            wanted = render(item, tvars, where="partition_filter")
        wanted = wanted.strip().strip("/")
        hits = [p.path for p in info.partitions if _matches(p, wanted, info.style)]
        if not hits:
            shown = f"{item!r} (rendered as {wanted!r})" if wanted != item else repr(wanted)
            raise InvalidInput(f"Partition filter {shown} matches no partition.")
        chosen.update(hits)
    return [p for p in info.partitions if p.path in chosen]

"""Node outputs kept between runs, by cache key (see :mod:`dais.pipelines.plan`).

An entry is a folder ``<root>/<key>/``: ``meta.json`` (row counts, samples, log, JSON outputs such as
fitted transforms and reports), the results of the node's fitting aggregates (``execute-<i>.arrow``:
replaying them rebuilds the node's expressions without touching data); the parquet files of the
table outputs the run materialised lie in ``<root>/tables/<key>-<port>-<random>/`` (written in
place: the engine may read them while the run goes on). The entry folder is prepared under a
scratch name and renamed into place, so a reader never sees half an entry.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc


@dataclass
class CacheEntry:
    key: str
    meta: dict[str, Any]
    executes: list[pa.Table] = field(default_factory=list)
    #: output port -> its parquet files (materialised table outputs only)
    tables: dict[str, list[str]] = field(default_factory=dict)


class RunCache:
    """A local folder of cached node outputs (for example a folder of the local artifact store)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _folder(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError(f"Bad cache key {key!r}")
        return self.root / key

    def has(self, key: str) -> bool:
        return (self._folder(key) / "meta.json").is_file()

    def get(self, key: str) -> CacheEntry | None:
        folder = self._folder(key)
        try:
            meta = json.loads((folder / "meta.json").read_text())
        except (FileNotFoundError, ValueError):
            return None
        executes = []
        for i in range(int(meta.get("executes", 0))):
            with ipc.open_file(str(folder / f"execute-{i}.arrow")) as f:
                executes.append(f.read_all())
        tables = {
            port: [str(self.root / rel) for rel in files] for port, files in meta.get("tables", {}).items()
        }
        if not all(Path(f).is_file() for files in tables.values() for f in files):
            return None
        return CacheEntry(key, meta, executes, tables)

    def scratch(self, key: str) -> Path:
        """A new folder where an entry for ``key`` is prepared (then :meth:`commit`)."""
        folder = self.root / f".tmp-{key[:16]}-{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True)
        return folder

    def table_folder(self, key: str, port: str) -> Path:
        """Where a materialised output of ``key``'s node is written (a new folder each time)."""
        return self.root / "tables" / f"{key[:32]}-{port}-{uuid.uuid4().hex[:8]}"

    def commit(
        self,
        key: str,
        scratch: Path,
        meta: dict[str, Any],
        executes: list[pa.Table],
        tables: dict[str, list[str]],
    ) -> None:
        """Write ``meta`` and ``executes`` into ``scratch`` and move it to the entry's place."""
        for i, table in enumerate(executes):
            with ipc.new_file(str(scratch / f"execute-{i}.arrow"), table.schema) as f:
                f.write_table(table)
        relative = {
            port: [str(Path(p).relative_to(self.root)) for p in files] for port, files in tables.items()
        }
        body = {**meta, "executes": len(executes), "tables": relative}
        (scratch / "meta.json").write_text(json.dumps(body, default=str))
        target = self._folder(key)
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        scratch.rename(target)

    def discard(self, scratch: Path) -> None:
        shutil.rmtree(scratch, ignore_errors=True)

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pytest

from dais.core.settings import DataSettings
from dais.data.connectors.base import SourceTimeout
from dais.data.connectors.s3 import S3Config, S3Connector, S3Secrets
from dais.data.fingerprint import files_fingerprint
from dais.data.inspect import inspect_source
from dais.data.profile import json_value, profile_table, sample_records
from dais.data.source import SourceSpec
from tests.data.readers.conftest import write


def test_profile_numbers_strings_booleans_and_dates() -> None:
    table = pa.table(
        {
            "n": pa.array([1, 2, 3, None, 4], pa.int64()),
            "f": pa.array([0.5, float("nan"), 1.5, 2.5, None]),
            "s": pa.array(["a", "b", "a", None, "a"]),
            "b": pa.array([True, False, True, True, None]),
            "d": pa.array([None, None, None, None, None], pa.date32()),
            "l": pa.array([[1], [2], None, [], [1]]),
        }
    )
    stats = {s.name: s for s in profile_table(table)}
    n = stats["n"]
    assert (n.rows, n.nulls, n.distinct, n.min, n.max, n.mean) == (5, 1, 4, 1, 4, 2.5)
    assert n.histogram is not None
    assert len(n.histogram) == 20
    assert sum(c for _, _, c in n.histogram) == 4
    assert stats["f"].mean == pytest.approx(1.5)  # NaN left out
    assert stats["s"].top == [("a", 3), ("b", 1)]
    assert (stats["s"].min, stats["s"].max) == ("a", "b")
    assert stats["b"].top == [(True, 3), (False, 1)]
    assert stats["d"].nulls == 5
    assert stats["d"].min is None
    assert stats["l"].nulls == 1  # lists: counts only


def test_json_values() -> None:
    assert json_value(float("-inf")) is None
    assert json_value(timedelta(seconds=90)) == 90.0
    assert json_value(clock(1, 2, 3)) == "01:02:03"
    assert json_value("x" * 5000).endswith("…")
    assert json_value({"a": (1, 2)}) == {"a": [1, 2]}


def test_sample_records_fit_the_byte_cap() -> None:
    records, cut = sample_records(pa.table({"a": list(range(1000))}), 100)
    assert cut
    assert 0 < len(records) < 1000
    assert sample_records(pa.table({"a": [1, 2]}), 100) == ([{"a": 1}, {"a": 2}], False)


def test_the_fingerprint_changes_with_content(tmp_path: Path) -> None:
    fs = pafs.LocalFileSystem()
    a = write(tmp_path / "a.csv", "x\n1\n")
    write(tmp_path / "b.csv", "x\n2\n")

    def fp() -> dict[str, object]:
        return files_fingerprint(fs, fs.get_file_info(pafs.FileSelector(str(tmp_path))))

    first = fp()
    assert (first["files"], first["bytes"], first["filesystem"]) == (2, 8, "local")
    assert fp() == first
    os.utime(a, (time.time() + 60, time.time() + 60))
    touched = fp()
    assert touched["sha256"] != first["sha256"]
    assert touched["max_mtime"] != first["max_mtime"]
    write(tmp_path / "c.csv", "x\n")
    assert fp()["files"] == 3


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server on loopback that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    server.close()


def test_a_source_that_never_answers_times_out(silent_server: str) -> None:
    s3 = S3Connector(
        S3Config(bucket="hang", endpoint_url=silent_server),
        S3Secrets.model_validate({"access_key_id": "k", "secret_access_key": "s"}),
        settings=DataSettings(),
    )
    started = time.monotonic()
    with pytest.raises(SourceTimeout, match="no answer within 1 s"):
        inspect_source(s3, SourceSpec(path="x.parquet"), sample_rows=5, sample_max_bytes=4096, timeout_s=1)
    assert time.monotonic() - started < 2.5

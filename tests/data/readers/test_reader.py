from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from dais.core.errors import InvalidInput
from dais.data.connectors.base import UnreadableData
from dais.data.connectors.file import FileConnector
from dais.data.formats import json as jsonfmt
from dais.data.materialize import write_parquet
from dais.data.reader import open_dataset
from dais.data.source import SourceSpec
from tests.data.readers.conftest import partitioned, write
from tests.data.readers.conftest import write_parquet as write_pq


def test_batches_stream_with_columns_and_limit(root: Path, files: FileConnector) -> None:
    partitioned(root, ["2024-01-01", "2024-01-02", "2024-01-03"], rows=10)
    reader = open_dataset(files, SourceSpec(path="events"), timeout_s=10)
    assert reader.schema.names == ["id", "label", "score", "dt"]
    stream = reader.batches(columns=["id", "dt"], batch_rows=4, limit=15)
    assert isinstance(stream, pa.RecordBatchReader)
    batches = list(stream)
    assert all(b.num_rows <= 4 for b in batches)
    table = pa.Table.from_batches(batches)
    assert table.column_names == ["id", "dt"]
    assert table.num_rows == 15
    assert reader.count_rows() == 30
    with pytest.raises(InvalidInput, match="Unknown column"):
        reader.batches(columns=["nope"])


def test_pinned_partitions_and_variables_choose_files(root: Path, files: FileConnector) -> None:
    partitioned(root, ["2024-01-01", "2024-01-02", "2024-01-03"], rows=2)
    spec = SourceSpec(path="events", partition_filter="dt=${ds}")
    reader = open_dataset(files, spec, variables={"ds": "2024-01-02"}, timeout_s=10)
    assert {d.isoformat() for d in reader.to_arrow().column("dt").to_pylist()} == {"2024-01-02"}
    pinned = open_dataset(files, spec, partitions=["dt=2024-01-01", "dt=2024-01-03"], timeout_s=10)
    assert pinned.count_rows() == 4
    with pytest.raises(InvalidInput, match="not found"):
        open_dataset(files, spec, partitions=["dt=1999-01-01"], timeout_s=10)


def test_to_duckdb_scans_with_filters_pushed_down(root: Path, files: FileConnector) -> None:
    partitioned(root, ["2024-01-01", "2024-01-02"], rows=5)
    reader = open_dataset(files, SourceSpec(path="events"), timeout_s=10)
    con = duckdb.connect()
    rel = reader.to_duckdb(con)
    assert rel.filter("dt = DATE '2024-01-02' AND id >= 7").aggregate("count(*)").fetchall() == [(3,)]
    con.register("events", rel)
    assert con.sql("SELECT label, count(*) FROM events GROUP BY 1 ORDER BY 1").fetchall() == [
        ("v0", 6),
        ("v1", 4),
    ]


def test_stream_formats_to_duckdb_and_arrow(root: Path, files: FileConnector) -> None:
    write(root / "a.json", json.dumps([{"x": i} for i in range(5)]))
    reader = open_dataset(files, SourceSpec(path="a.json"), timeout_s=10)
    assert reader.to_duckdb(duckdb.connect()).aggregate("sum(x)").fetchall() == [(10,)]
    assert reader.to_arrow().num_rows == 5  # a second pass reopens the files
    assert reader.count_rows() == 5


def test_a_json_array_streams_across_chunk_boundaries(
    root: Path, files: FileConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonfmt, "_CHUNK", 64)  # records larger than one read
    records = [{"id": i, "text": "é" * (i % 50), "nested": {"k": [i, i + 1]}} for i in range(300)]
    write(root / "big.json", json.dumps(records, ensure_ascii=False))
    reader = open_dataset(files, SourceSpec(path="big.json"), timeout_s=10)
    table = reader.to_arrow()
    assert table.num_rows == 300
    assert table.column("text").to_pylist()[49] == "é" * 49
    assert table.column("nested").to_pylist()[3] == {"k": [3, 4]}


def test_text_lines_stream_in_batches(root: Path, files: FileConnector) -> None:
    write(root / "t.txt", "".join(f"line {i}\r\n" for i in range(25)))
    batches = list(open_dataset(files, SourceSpec(path="t.txt"), timeout_s=10).batches(batch_rows=10))
    assert [b.num_rows for b in batches] == [10, 10, 5]
    assert batches[2].column(0).to_pylist()[-1] == "line 24"


def test_a_ragged_row_found_while_streaming_names_its_line(root: Path, files: FileConnector) -> None:
    write(root / "r.csv", "a,b\n1,2\n3\n")
    reader_error = None
    try:
        open_dataset(files, SourceSpec(path="r.csv"), timeout_s=10).to_arrow()
    except UnreadableData as exc:
        reader_error = exc.detail
    assert reader_error
    assert "line 3" in reader_error


def test_write_parquet_streams_into_rolling_files(root: Path, files: FileConnector, tmp_path: Path) -> None:
    partitioned(root, ["2024-01-01", "2024-01-02", "2024-01-03"], rows=7)
    reader = open_dataset(files, SourceSpec(path="events"), timeout_s=10)
    steps: list[str] = []
    out = tmp_path / "copy"
    result = write_parquet(
        reader, pafs.LocalFileSystem(), str(out), max_rows_per_file=10, progress=lambda _, m: steps.append(m)
    )
    assert result["rows"] == 21
    assert [Path(p).name for p in result["files"]] == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    assert [pq.ParquetFile(p).metadata.num_rows for p in result["files"]] == [10, 10, 1]
    assert result["bytes"] == sum(Path(p).stat().st_size for p in result["files"])
    assert [c["name"] for c in result["schema"]] == ["id", "label", "score", "dt"]
    back = pq.read_table(out)
    assert sorted(back.column("id").to_pylist()) == list(range(21))
    assert steps


def test_write_parquet_of_an_empty_dataset_keeps_the_schema(
    root: Path, files: FileConnector, tmp_path: Path
) -> None:
    write_pq(root / "zero.parquet", pa.table({"a": pa.array([], pa.int64())}))
    reader = open_dataset(files, SourceSpec(path="zero.parquet"), timeout_s=10)
    result = write_parquet(reader, pafs.LocalFileSystem(), str(tmp_path / "out"))
    assert result["rows"] == 0
    assert len(result["files"]) == 1
    assert pq.read_schema(result["files"][0]).names == ["a"]

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pytest

from dais.core.errors import UnsafePath
from dais.data.connectors.base import SourceNotFound, UnreadableData
from dais.data.connectors.file import FileConnector
from dais.data.inspect import inspect_source
from dais.data.source import DataFormat, Inspection, SourceSpec
from tests.data.readers.conftest import partitioned, write, write_parquet


def _inspect(files: FileConnector, spec: SourceSpec, **kwargs: object) -> Inspection:
    options: dict[str, object] = {"sample_rows": 100, "sample_max_bytes": 1 << 20, "timeout_s": 10}
    options.update(kwargs)
    return inspect_source(files, spec, **options)  # type: ignore[arg-type]


def test_partitioned_parquet_gives_schema_sample_partitions_and_row_count(
    root: Path, files: FileConnector
) -> None:
    partitioned(root, ["2024-01-01", "2024-01-02", "2024-01-03"], rows=4)
    write(root / "events" / "_SUCCESS", "")
    steps: list[tuple[float | None, str]] = []
    ins = _inspect(
        files, SourceSpec(path="events"), sample_rows=5, progress=lambda f, m: steps.append((f, m))
    )
    assert ins.format == DataFormat.parquet
    assert [(c.name, c.type, c.partition) for c in ins.schema_] == [
        ("id", "int64", False),
        ("label", "string", False),
        ("score", "double", False),
        ("dt", "date32[day]", True),
    ]
    assert len(ins.sample) == 5
    assert ins.sample[0] == {"id": 0, "label": "v0", "score": 0.0, "dt": "2024-01-01"}
    assert ins.sample[4]["dt"] == "2024-01-02"  # the sample continues into the next file
    assert ins.row_count == 12
    assert ins.files == 3
    assert ins.bytes
    assert ins.bytes > 0
    assert ins.partitions.style == "hive"
    assert [(p.path, p.files) for p in ins.partitions.partitions] == [
        ("dt=2024-01-01", 1),
        ("dt=2024-01-02", 1),
        ("dt=2024-01-03", 1),
    ]
    assert ins.fingerprint["files"] == 3
    assert len(ins.fingerprint["sha256"]) == 64
    stats = {s.name: s for s in ins.stats}
    assert stats["id"].min == 0
    assert stats["id"].max == 4
    assert stats["id"].rows == 5
    assert stats["label"].top == [("v0", 3), ("v1", 2)]
    assert steps[0][0] == 0.0
    assert steps[-1] == (1.0, "Inspected")
    json.dumps(ins.model_dump(by_alias=True))  # JSON-able throughout


def test_sample_values_are_json_able(root: Path, files: FileConnector) -> None:
    table = pa.table(
        {
            "ts": pa.array([datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), None], pa.timestamp("us", tz="UTC")),
            "day": pa.array([date(2024, 1, 2), date(2024, 1, 3)]),
            "raw": pa.array([b"\x00\x01", b"x" * 1000]),
            "f": pa.array([float("nan"), float("inf")]),
            "dec": pa.array([Decimal("1.10"), None], pa.decimal128(5, 2)),
            "tags": pa.array([["a"], []]),
            "m": pa.array([[("k", 1)], None], pa.map_(pa.string(), pa.int64())),
        }
    )
    write_parquet(root / "t.parquet", table)
    ins = _inspect(files, SourceSpec(path="t.parquet"))
    assert ins.sample[0] == {
        "ts": "2024-01-02T03:04:05+00:00",
        "day": "2024-01-02",
        "raw": "AAE=",
        "f": None,
        "dec": "1.10",
        "tags": ["a"],
        "m": {"k": 1},
    }
    assert ins.sample[1]["raw"] == "<1000 bytes>"
    assert ins.sample[1]["f"] is None
    json.dumps(ins.model_dump(by_alias=True), allow_nan=False)


def test_the_byte_cap_cuts_the_sample(root: Path, files: FileConnector) -> None:
    write_parquet(root / "big.parquet", pa.table({"s": ["x" * 100] * 50}))
    ins = _inspect(files, SourceSpec(path="big.parquet"), sample_max_bytes=1024)
    assert 0 < len(ins.sample) < 50
    assert ins.sample_truncated
    assert len(json.dumps(ins.sample, separators=(",", ":"))) <= 1024
    assert ins.row_count == 50


def test_json_array_jsonl_text_and_arrow_files(root: Path, files: FileConnector) -> None:
    write(root / "a.json", json.dumps([{"x": 1, "y": "a"}, {"x": 2, "y": "b", "z": True}], indent=2))
    write(root / "b.jsonl", '{"x": 1}\n{"x": 2, "when": "2024-01-01T00:00:00"}\n')
    write(root / "pretty.json", '{\n  "x": 1\n}\n{\n  "x": 2\n}\n')
    write(root / "c.txt", "first line\nsecond line\n")
    feather.write_feather(pa.table({"n": [1, 2, 3]}), root / "d.feather")
    ins = _inspect(files, SourceSpec(path="a.json"))
    assert (ins.format, ins.sample) == (
        DataFormat.json,
        [{"x": 1, "y": "a", "z": None}, {"x": 2, "y": "b", "z": True}],
    )
    ins = _inspect(files, SourceSpec(path="b.jsonl"))
    assert ins.format == DataFormat.jsonl
    assert ins.sample[1] == {"x": 2, "when": "2024-01-01T00:00:00"}
    assert _inspect(files, SourceSpec(path="pretty.json")).sample == [{"x": 1}, {"x": 2}]
    ins = _inspect(files, SourceSpec(path="c.txt"))
    assert (ins.format, ins.sample) == (DataFormat.text, [{"text": "first line"}, {"text": "second line"}])
    ins = _inspect(files, SourceSpec(path="d.feather"))
    assert (ins.format, ins.row_count, len(ins.sample)) == (DataFormat.arrow, 3, 3)


def test_broken_json_is_unreadable(root: Path, files: FileConnector) -> None:
    write(root / "bad.json", '[{"x": 1}, {"x": ')
    with pytest.raises(UnreadableData, match=r"invalid JSON|not closed"):
        _inspect(files, SourceSpec(path="bad.json"))
    write(root / "scalars.json", "[1, 2]")
    with pytest.raises(UnreadableData, match="not a record"):
        _inspect(files, SourceSpec(path="scalars.json"))


def test_a_glob_picks_files(root: Path, files: FileConnector) -> None:
    write(root / "logs" / "2024" / "a.csv", "k,v\na,1\n")
    write(root / "logs" / "2024" / "b.csv", "k,v\nb,2\n")
    write(root / "logs" / "2024" / "c.txt", "nope\n")
    ins = _inspect(files, SourceSpec(path="logs/**/*.csv"))
    assert (ins.format, ins.files, [r["k"] for r in ins.sample]) == (DataFormat.csv, 2, ["a", "b"])
    with pytest.raises(SourceNotFound, match="No files match"):
        _inspect(files, SourceSpec(path="logs/*.parquet"))


def test_an_explicit_format_reads_files_without_a_suffix(root: Path, files: FileConnector) -> None:
    write_parquet(root / "spark" / "part-00000", pa.table({"a": [1]}))
    ins = _inspect(files, SourceSpec(path="spark", format=DataFormat.parquet))
    assert ins.sample == [{"a": 1}]
    with pytest.raises(UnreadableData, match="Cannot tell the format"):
        _inspect(files, SourceSpec(path="spark"))


def test_a_dynamic_partition_filter_picks_the_sample(root: Path, files: FileConnector) -> None:
    partitioned(root, ["2024-01-01", "2024-01-02"], rows=2)
    spec = SourceSpec(path="events", partition_filter="dt=${ds-1d}")
    ins = _inspect(files, spec, variables={"ds": "2024-01-03"})
    assert {r["dt"] for r in ins.sample} == {"2024-01-02"}
    assert ins.row_count == 2
    assert len(ins.partitions.partitions) == 2  # all partitions are still listed
    ins = _inspect(files, spec)
    assert ins.row_count == 4
    assert any("resolved at read time" in w for w in ins.warnings)


def test_missing_unsafe_and_empty_sources(root: Path, files: FileConnector) -> None:
    with pytest.raises(SourceNotFound, match="does not exist"):
        _inspect(files, SourceSpec(path="nope.parquet"))
    with pytest.raises(UnsafePath):
        _inspect(files, SourceSpec(path="../outside.csv"))
    (root / "empty").mkdir()
    with pytest.raises(UnreadableData, match="is empty: nothing to register"):
        _inspect(files, SourceSpec(path="empty"))
    write_parquet(root / "zero.parquet", pa.table({"a": pa.array([], pa.int64())}))
    with pytest.raises(UnreadableData, match="is empty"):
        _inspect(files, SourceSpec(path="zero.parquet"))
    ins = _inspect(files, SourceSpec(path="zero.parquet"), allow_empty=True)
    assert (ins.row_count, ins.sample, [c.name for c in ins.schema_]) == (0, [], ["a"])


def test_a_symlink_out_of_the_allowed_folders_is_left_out(
    root: Path, files: FileConnector, tmp_path: Path
) -> None:
    outside = write(tmp_path / "secret.csv", "k\nsecret\n")
    write(root / "mixed" / "a.csv", "k\nfine\n")
    (root / "mixed" / "b.csv").symlink_to(outside)
    ins = _inspect(files, SourceSpec(path="mixed"))
    assert [r["k"] for r in ins.sample] == ["fine"]
    assert any("lead out of the allowed folders" in w for w in ins.warnings)

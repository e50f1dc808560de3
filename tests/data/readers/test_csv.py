from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dais.data.connectors.base import UnreadableData
from dais.data.connectors.file import FileConnector
from dais.data.inspect import inspect_source
from dais.data.reader import open_dataset
from dais.data.source import CsvOptions, DataFormat, Inspection, SourceSpec
from tests.data.readers.conftest import write


def _inspect(files: FileConnector, path: str, **spec: Any) -> Inspection:
    return inspect_source(
        files, SourceSpec(path=path, **spec), sample_rows=100, sample_max_bytes=1 << 20, timeout_s=10
    )


def test_semicolon_delimiter_and_header_are_sniffed(root: Path, files: FileConnector) -> None:
    write(root / "people.csv", "name;age;city\nAnn;31;Paris\nBob;42;Rome\n")
    ins = _inspect(files, "people.csv")
    assert ins.format == DataFormat.csv
    assert [(c.name, c.type) for c in ins.schema_] == [
        ("name", "string"),
        ("age", "int64"),
        ("city", "string"),
    ]
    assert ins.sample == [
        {"name": "Ann", "age": 31, "city": "Paris"},
        {"name": "Bob", "age": 42, "city": "Rome"},
    ]
    assert ins.row_count is None


def test_tab_and_pipe_delimiters(root: Path, files: FileConnector) -> None:
    write(root / "a.tsv", "x\ty\n1\t2\n3\t4\n")
    write(root / "b.csv", "x|y\n1|2\n3|4\n")
    assert [c.name for c in _inspect(files, "a.tsv").schema_] == ["x", "y"]
    assert _inspect(files, "b.csv").sample == [{"x": 1, "y": 2}, {"x": 3, "y": 4}]


def test_a_file_without_header_gets_column_names(root: Path, files: FileConnector) -> None:
    write(root / "nums.csv", "1,2.5,a\n3,4.5,b\n")
    ins = _inspect(files, "nums.csv")
    assert [c.name for c in ins.schema_] == ["column_1", "column_2", "column_3"]
    assert ins.sample[0] == {"column_1": 1, "column_2": 2.5, "column_3": "a"}


def test_csv_options_override_what_is_sniffed(root: Path, files: FileConnector) -> None:
    write(root / "a.csv", "a,b\n1,2\n")
    ins = _inspect(files, "a.csv", csv=CsvOptions(header=False))
    assert ins.sample[0] == {"column_1": "a", "column_2": "b"}
    write(root / "q.csv", "k;v\n'x;y';1\n")
    ins = _inspect(files, "q.csv", csv=CsvOptions(delimiter=";", quote_char="'", header=True))
    assert ins.sample == [{"k": "x;y", "v": 1}]


def test_quoted_values_spanning_lines_are_read(root: Path, files: FileConnector) -> None:
    write(root / "m.csv", 'id,text\n1,"line one\nline two"\n2,plain\n')
    assert _inspect(files, "m.csv").sample == [
        {"id": 1, "text": "line one\nline two"},
        {"id": 2, "text": "plain"},
    ]


def test_latin1_encoding_is_detected(root: Path, files: FileConnector) -> None:
    text = "name,city\n" + "".join(f"José{i},Zürich Genève Besançon\n" for i in range(20))
    write(root / "l1.csv", text.encode("cp1252"))
    ins = _inspect(files, "l1.csv")
    assert ins.sample[0] == {"name": "José0", "city": "Zürich Genève Besançon"}


def test_utf16_with_a_bom_is_read(root: Path, files: FileConnector) -> None:
    write(root / "u16.csv", "a,b\n1,é\n".encode("utf-16"))
    assert _inspect(files, "u16.csv").sample == [{"a": 1, "b": "é"}]


def test_ragged_rows_name_the_line(root: Path, files: FileConnector) -> None:
    write(root / "rag.csv", "a,b,c\n1,2,3\n4,5,6\n7,8\n9,10,11\n")
    with pytest.raises(UnreadableData, match=r"rag.csv: line 4 has 2 fields where the header row has 3"):
        _inspect(files, "rag.csv")


def test_a_declared_encoding_that_does_not_fit_names_the_byte(root: Path, files: FileConnector) -> None:
    write(root / "bad.csv", b"a,b\n1,caf\xe9\n")
    with pytest.raises(UnreadableData, match=r"not valid utf-8: byte 0xe9 at byte offset 9"):
        _inspect(files, "bad.csv", csv=CsvOptions(encoding="utf-8"))


def test_a_bad_byte_past_the_sniffed_head_names_its_offset(root: Path, files: FileConnector) -> None:
    body = "".join(f"{i},ok\n" for i in range(20_000)).encode()
    write(root / "late.csv", b"n,s\n" + body + b"1,caf\xe9\n")
    offset = 4 + len(body) + 5
    with pytest.raises(UnreadableData, match=rf"not valid utf-8: byte 0xe9 at byte offset {offset}"):
        _inspect(files, "late.csv")


def test_binary_data_is_not_text(root: Path, files: FileConnector) -> None:
    write(root / "bin.csv", bytes(range(256)) * 4)
    with pytest.raises(UnreadableData, match="byte offset"):
        _inspect(files, "bin.csv")


def test_an_empty_file_is_refused(root: Path, files: FileConnector) -> None:
    write(root / "empty.csv", b"")
    with pytest.raises(UnreadableData, match=r"empty\.csv is empty: nothing to register"):
        _inspect(files, "empty.csv")


def test_a_header_only_file_has_zero_rows(root: Path, files: FileConnector) -> None:
    write(root / "h.csv", "a,b,c\n")
    with pytest.raises(UnreadableData, match=r"is empty: nothing to register \(0 rows\)"):
        _inspect(files, "h.csv")
    ins = inspect_source(
        files, SourceSpec(path="h.csv"), sample_rows=5, sample_max_bytes=4096, timeout_s=10, allow_empty=True
    )
    assert [c.name for c in ins.schema_] == ["a", "b", "c"]
    assert ins.sample == []


def test_a_folder_of_csv_files_reads_as_one_dataset(root: Path, files: FileConnector) -> None:
    write(root / "parts" / "a.csv", "k,v\na,1\nb,2\n")
    write(root / "parts" / "b.csv", "k,v\nc,3\n")
    write(root / "parts" / "_SUCCESS", "")
    reader = open_dataset(files, SourceSpec(path="parts"), timeout_s=10)
    assert reader.to_arrow().to_pydict() == {"k": ["a", "b", "c"], "v": [1, 2, 3]}
    assert reader.count_rows() == 3

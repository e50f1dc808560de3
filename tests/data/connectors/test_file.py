"""The ``file`` connector on real folders: allowed roots, traversal and symlinks refused, browsing."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dais.core.errors import InvalidInput, UnsafePath
from dais.core.settings import DataSettings
from dais.data.connectors import SourceNotFound, open_connector
from dais.data.connectors.file import FileConnector


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    root = tmp_path / "allowed"
    (root / "data" / "sub").mkdir(parents=True)
    (root / "data" / "a.csv").write_text("x,y\n1,2\n")
    (root / "data" / "sub" / "b.txt").write_text("hello")
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "secret.txt").write_text("top secret")
    return secret


def connector(root: Path, allowed: Path) -> FileConnector:
    conn = open_connector("file", {"root": str(root)}, {}, DataSettings(allowed_roots=[allowed]))
    assert isinstance(conn, FileConnector)
    return conn


def test_root_inside_the_allowed_roots_is_accepted(allowed: Path) -> None:
    conn = connector(allowed / "data", allowed)
    result = conn.check(timeout_s=5)
    assert result.ok, result.message
    assert "readable" in result.message


@pytest.mark.parametrize("root", ["relative/path", "/etc", "{outside}", "{allowed}/../outside"])
def test_root_outside_the_allowed_roots_is_refused(root: str, allowed: Path, outside: Path) -> None:
    root = root.format(outside=outside, allowed=allowed)
    with pytest.raises(InvalidInput) as info:
        connector(Path(root), allowed)
    assert info.value.errors[0]["loc"] == ["body", "config", "root"]


def test_no_allowed_roots_means_no_file_connection(allowed: Path) -> None:
    with pytest.raises(InvalidInput, match="DAIS_DATA_ALLOWED_ROOTS"):
        open_connector("file", {"root": str(allowed)}, {}, DataSettings())


def test_root_symlinked_out_of_the_allowed_roots_is_refused(allowed: Path, outside: Path) -> None:
    os.symlink(outside, allowed / "escape")
    with pytest.raises(InvalidInput, match="outside the allowed folders"):
        connector(allowed / "escape", allowed)


@pytest.mark.parametrize(
    "path",
    [
        "../outside/secret.txt",
        "data/../../outside",
        "/etc/passwd",
        "data\\a.csv",
        "data/\x00a.csv",
        "%2e%2e/outside",
        "data%2f..%2f..%2foutside",
        "%252e%252e/outside",
        "data//a.csv",
        "./data",
    ],
)
def test_unsafe_paths_are_refused(path: str, allowed: Path) -> None:
    conn = connector(allowed, allowed)
    with pytest.raises(UnsafePath):
        conn.resolve(path)
    with pytest.raises(UnsafePath):
        conn.browse(path, timeout_s=5)


def test_symlink_escaping_the_root_is_refused_and_hidden(allowed: Path, outside: Path) -> None:
    os.symlink(outside, allowed / "data" / "link-dir")
    os.symlink(outside / "secret.txt", allowed / "data" / "link-file")
    conn = connector(allowed / "data", allowed)
    for path in ("link-dir", "link-dir/secret.txt", "link-file", "link-dir/*.txt"):
        with pytest.raises(UnsafePath, match="symbolic link"):
            conn.resolve(path)
    names = [e.name for e in conn.browse("", timeout_s=5)]
    assert "link-dir" not in names
    assert "link-file" not in names
    with pytest.raises(UnsafePath):
        conn.guard(str(allowed / "data" / "link-file"))


def test_symlink_inside_the_allowed_roots_is_followed(allowed: Path) -> None:
    os.symlink(allowed / "data" / "sub", allowed / "data" / "alias")
    conn = connector(allowed / "data", allowed)
    assert conn.resolve("alias/b.txt").endswith("alias/b.txt")
    assert [e.name for e in conn.browse("alias", timeout_s=5)] == ["b.txt"]


def test_globs_resolve_inside_the_root(allowed: Path) -> None:
    conn = connector(allowed / "data", allowed)
    assert conn.resolve("sub/*.txt") == os.path.join(os.path.realpath(allowed / "data"), "sub", "*.txt")
    assert conn.relative(conn.resolve("sub/b.txt")) == "sub/b.txt"
    assert conn.relative(conn.resolve("")) == ""
    with pytest.raises(UnsafePath):
        conn.relative("/etc/passwd")


def test_browse_lists_folders_first_then_files(allowed: Path) -> None:
    conn = connector(allowed / "data", allowed)
    entries = conn.browse("", timeout_s=5)
    assert [(e.name, e.path, e.kind) for e in entries] == [("sub", "sub", "dir"), ("a.csv", "a.csv", "file")]
    assert entries[1].size == len("x,y\n1,2\n")
    assert entries[1].modified is not None
    assert [(e.path, e.kind) for e in conn.browse("sub/", timeout_s=5)] == [("sub/b.txt", "file")]
    assert [e.path for e in conn.browse("sub/b.txt", timeout_s=5)] == ["sub/b.txt"]
    assert len(conn.browse("", limit=1, timeout_s=5)) == 1


def test_browse_of_a_missing_path_is_not_found(allowed: Path) -> None:
    conn = connector(allowed / "data", allowed)
    with pytest.raises(SourceNotFound):
        conn.browse("nope", timeout_s=5)


def test_check_of_a_missing_root_says_so(allowed: Path) -> None:
    result = connector(allowed / "gone", allowed).check(timeout_s=5)
    assert not result.ok
    assert "does not exist" in result.message
    assert result.details == {"code": "source_not_found"}


def test_filesystem_reads_a_resolved_parquet_file(allowed: Path) -> None:
    pq.write_table(pa.table({"a": [1, 2, 3]}), allowed / "data" / "t.parquet")
    conn = connector(allowed / "data", allowed)
    table = pq.read_table(conn.resolve("t.parquet"), filesystem=conn.filesystem(timeout_s=5))
    assert table.column("a").to_pylist() == [1, 2, 3]

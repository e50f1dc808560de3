"""Artifacts through the SDK: streamed uploads and downloads, ranges, progress, bad keys."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dais import Client
from dais.core.errors import InvalidInput, NotFound, RangeNotSatisfiable
from tests.conftest import World


@pytest.fixture
def owner_client(server_url: str, world: World) -> Client:
    owner = world.user("owner")
    world.workspace("lab", owner)
    return Client(server_url, owner.token)


def test_upload_a_file_streams_it_and_reports_progress(owner_client: Client, tmp_path: Path) -> None:
    data = os.urandom(2_500_000)
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    seen: list[tuple[int, int | None]] = []
    with owner_client as client:
        art = client.artifacts.upload("lab", "raw/blob.bin", src, progress=lambda d, t: seen.append((d, t)))
        assert (art.key, art.size) == ("raw/blob.bin", len(data))
        assert seen[0] == (0, len(data))
        assert seen[-1] == (len(data), len(data))
        assert len(seen) >= 4  # one call per chunk: it was streamed, not sent whole
        got = client.artifacts.download("lab", "raw/blob.bin", tmp_path / "out.bin")
        assert got.read_bytes() == data
        assert client.artifacts.stat("lab", "raw/blob.bin").size == len(data)
        assert [a.key for a in client.artifacts.list("lab")] == ["raw/blob.bin"]
        assert [a.key for a in client.artifacts.list("lab", recursive=False)] == ["raw/"]


def test_ranges_read_part_of_an_artifact(owner_client: Client, tmp_path: Path) -> None:
    with owner_client as client:
        client.artifacts.upload("lab", "abc.txt", b"abcdefghij")
        assert client.artifacts.read("lab", "abc.txt", start=2, end=5) == b"cde"
        assert client.artifacts.read("lab", "abc.txt", start=7) == b"hij"
        assert client.artifacts.read("lab", "abc.txt", start=-2) == b"ij"
        part = client.artifacts.download("lab", "abc.txt", tmp_path, start=0, end=3)
        assert (part.name, part.read_bytes()) == ("abc.txt", b"abc")
        with pytest.raises(RangeNotSatisfiable):
            client.artifacts.read("lab", "abc.txt", start=50)


def test_upload_from_an_iterable_of_chunks(owner_client: Client) -> None:
    with owner_client as client:
        client.artifacts.upload("lab", "gen.txt", (f"line {i}\n".encode() for i in range(1000)))
        assert client.artifacts.read("lab", "gen.txt").count(b"\n") == 1000


def test_delete_and_missing_and_unsafe_keys(owner_client: Client, tmp_path: Path) -> None:
    with owner_client as client:
        client.artifacts.upload("lab", "x.txt", b"x")
        client.artifacts.delete("lab", "x.txt")
        with pytest.raises(NotFound):
            client.artifacts.download("lab", "x.txt", tmp_path / "x.txt")
        assert not (tmp_path / "x.txt").exists()
        assert not list(tmp_path.glob(".*.part"))
        with pytest.raises(InvalidInput, match="refused"):
            client.artifacts.upload("lab", "a/%2e%2e/b", b"x")

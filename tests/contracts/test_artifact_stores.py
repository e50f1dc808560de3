"""Conformance suite for artifact store plugins: every store passes the same tests.

A new store plugin adds a subclass of :class:`ArtifactStoreContract` with a ``store`` fixture.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dais.core.errors import NotFound, RangeNotSatisfiable
from dais.storage import ArtifactStore, store_for_url
from tests.conftest import S3Server

MB = 1024 * 1024


def pattern(size: int, seed: int = 0) -> bytes:
    """Deterministic bytes that differ at every offset (so a misplaced chunk is caught)."""
    block = bytes((i * 7 + seed) % 251 for i in range(251))
    return (block * (size // len(block) + 1))[:size]


class ArtifactStoreContract:
    """What every artifact store guarantees. Subclasses provide the ``store`` fixture."""

    def test_put_then_get(self, store: ArtifactStore) -> None:
        info = store.put_bytes("a/b/hello.txt", b"hello world")
        assert info.key == "a/b/hello.txt"
        assert info.size == 11
        assert store.get_bytes("a/b/hello.txt") == b"hello world"
        assert store.exists("a/b/hello.txt")

    def test_empty_object(self, store: ArtifactStore) -> None:
        store.put_bytes("empty", b"")
        assert store.stat("empty").size == 0
        assert store.get_bytes("empty") == b""

    def test_overwrite_replaces_the_content(self, store: ArtifactStore) -> None:
        store.put_bytes("x.bin", b"first version, longer")
        store.put_bytes("x.bin", b"second")
        assert store.get_bytes("x.bin") == b"second"
        assert store.stat("x.bin").size == 6

    def test_missing_key_is_not_found(self, store: ArtifactStore) -> None:
        with pytest.raises(NotFound):
            store.stat("nope")
        with pytest.raises(NotFound):
            b"".join(store.read("nope"))
        assert not store.exists("nope")

    def test_a_key_running_through_an_object_is_not_found(self, store: ArtifactStore) -> None:
        store.put_bytes("a/model.bin", b"x")
        with pytest.raises(NotFound):
            store.stat("a/model.bin/inner")
        assert store.list("a/model.bin/") == []

    def test_byte_ranges(self, store: ArtifactStore) -> None:
        data = bytes(range(100))
        store.put_bytes("r.bin", data)
        assert b"".join(store.read("r.bin", 10, 20)) == data[10:20]
        assert b"".join(store.read("r.bin", 0, 1)) == data[:1]
        assert b"".join(store.read("r.bin", 90)) == data[90:]  # open-ended
        assert b"".join(store.read("r.bin", 100 - 7)) == data[-7:]  # a suffix
        assert b"".join(store.read("r.bin", 95, 1000)) == data[95:]  # end clipped to the size
        with pytest.raises(RangeNotSatisfiable):
            b"".join(store.read("r.bin", 100))
        with pytest.raises(RangeNotSatisfiable):
            b"".join(store.read("r.bin", 50, 50))

    def test_stat_gives_size_etag_and_modified_time(self, store: ArtifactStore) -> None:
        before = datetime.now(UTC) - timedelta(minutes=5)
        store.put_bytes("s.bin", b"12345")
        info = store.stat("s.bin")
        assert info.size == 5
        assert info.key == "s.bin"
        assert info.modified is not None
        assert info.modified.tzinfo is not None
        assert before <= info.modified <= datetime.now(UTC) + timedelta(minutes=5)
        if info.etag is not None:
            store.put_bytes("s.bin", b"67890-changed")
            assert store.stat("s.bin").etag != info.etag

    def test_a_folder_is_not_an_object(self, store: ArtifactStore) -> None:
        store.put_bytes("dir/file.txt", b"x")
        with pytest.raises(NotFound):
            store.stat("dir")
        assert store.delete("dir") is False
        assert store.get_bytes("dir/file.txt") == b"x"

    def test_list_recursive_and_one_level(self, store: ArtifactStore) -> None:
        for key in ("p/a.txt", "p/b.txt", "p/sub/c.txt", "p/sub/deeper/d.txt", "q/other.txt"):
            store.put_bytes(key, key.encode())
        deep = [o.key for o in store.list("p/", recursive=True)]
        assert deep == ["p/a.txt", "p/b.txt", "p/sub/c.txt", "p/sub/deeper/d.txt"]
        sizes = {o.key: o.size for o in store.list("p/", recursive=True)}
        assert sizes["p/sub/c.txt"] == len(b"p/sub/c.txt")
        shallow = [o.key for o in store.list("p/", recursive=False)]
        assert shallow == ["p/a.txt", "p/b.txt", "p/sub/"]
        everything = [o.key for o in store.list("", recursive=True)]
        assert everything == ["p/a.txt", "p/b.txt", "p/sub/c.txt", "p/sub/deeper/d.txt", "q/other.txt"]
        assert [o.key for o in store.list("", recursive=False)] == ["p/", "q/"]

    def test_keys_starting_with_a_dot_are_listed(self, store: ArtifactStore) -> None:
        for key in (".config/x", "p/.env", "p/.hidden/y", ".upload-notes.txt"):
            store.put_bytes(key, b"x")
        everything = [o.key for o in store.list("", recursive=True)]
        assert everything == [".config/x", ".upload-notes.txt", "p/.env", "p/.hidden/y"]
        assert [o.key for o in store.list("", recursive=False)] == [".config/", ".upload-notes.txt", "p/"]
        assert [o.key for o in store.list("p/", recursive=False)] == ["p/.env", "p/.hidden/"]
        assert [o.key for o in store.list(".config/")] == [".config/x"]

    def test_list_by_partial_name(self, store: ArtifactStore) -> None:
        for key in ("runs/run-1.json", "runs/run-2.json", "runs/other.json"):
            store.put_bytes(key, b"{}")
        assert [o.key for o in store.list("runs/run-")] == ["runs/run-1.json", "runs/run-2.json"]

    def test_list_of_a_missing_prefix_is_empty(self, store: ArtifactStore) -> None:
        assert store.list("nothing/here/") == []

    def test_delete(self, store: ArtifactStore) -> None:
        store.put_bytes("d/1.txt", b"1")
        store.put_bytes("d/2.txt", b"2")
        assert store.delete("d/1.txt") is True
        assert not store.exists("d/1.txt")
        assert store.delete("d/1.txt") is False
        assert store.get_bytes("d/2.txt") == b"2"

    def test_delete_prefix(self, store: ArtifactStore) -> None:
        for key in ("gone/a", "gone/b/c", "gone/b/d/e", "kept/a", "gone-not/x"):
            store.put_bytes(key, b"x")
        assert store.delete_prefix("gone/") == 3
        assert store.list("gone/") == []
        assert [o.key for o in store.list("")] == ["gone-not/x", "kept/a"]

    def test_large_object_written_and_read_in_chunks(self, store: ArtifactStore) -> None:
        size = 21 * MB + 12345
        data = pattern(size)
        writer = store.open_writer("big/blob.bin")
        step = MB - 17  # chunks that do not line up with any part or block size
        for offset in range(0, size, step):
            writer.write(data[offset : offset + step])
        info = writer.commit()
        assert info.size == size
        digest = hashlib.sha256()
        chunks = 0
        for chunk in store.read("big/blob.bin", chunk_size=MB):
            assert 0 < len(chunk) <= MB
            digest.update(chunk)
            chunks += 1
        assert chunks >= 21
        assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
        middle = b"".join(store.read("big/blob.bin", 10 * MB - 5, 10 * MB + 5))
        assert middle == data[10 * MB - 5 : 10 * MB + 5]

    def test_aborted_writer_leaves_nothing(self, store: ArtifactStore) -> None:
        writer = store.open_writer("half/written.bin")
        writer.write(pattern(6 * MB))  # enough to have started a multipart upload
        writer.abort()
        assert not store.exists("half/written.bin")
        assert store.list("") == []

    def test_aborted_overwrite_keeps_the_old_object(self, store: ArtifactStore) -> None:
        store.put_bytes("keep.txt", b"old")
        writer = store.open_writer("keep.txt")
        writer.write(b"new and unfinished")
        writer.abort()
        assert store.get_bytes("keep.txt") == b"old"

    def test_object_is_invisible_until_committed(self, store: ArtifactStore) -> None:
        writer = store.open_writer("pending.bin")
        writer.write(b"partial")
        assert not store.exists("pending.bin")
        assert store.list("") == []
        writer.commit()
        assert store.get_bytes("pending.bin") == b"partial"

    @pytest.mark.parametrize(
        "key",
        [
            "with space/file name.txt",
            "ünïcödé/データ.bin",
            "emoji-🚀.txt",
            "a+b=c&d;e,f@g'h(i).txt",
            "percent%.txt",
        ],
    )
    def test_keys_with_spaces_and_unicode(self, store: ArtifactStore, key: str) -> None:
        store.put_bytes(key, key.encode())
        assert store.get_bytes(key) == key.encode()
        assert store.stat(key).size == len(key.encode())
        assert [o.key for o in store.list("")] == [key]
        assert store.delete(key)
        assert store.list("") == []


class TestLocalArtifactStore(ArtifactStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> ArtifactStore:
        return store_for_url((tmp_path / "artifacts").as_uri())

    def test_symlink_out_of_the_root_cannot_be_read_or_written(self, tmp_path: Path) -> None:
        from dais.core.errors import UnsafePath

        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "secret.txt").write_text("top secret")
        store = store_for_url((tmp_path / "artifacts").as_uri())
        root = tmp_path / "artifacts"
        os.symlink(outside, root / "link")
        os.symlink(outside / "secret.txt", root / "file-link")
        for key in ("link/secret.txt", "file-link"):
            with pytest.raises(UnsafePath):
                b"".join(store.read(key))
            with pytest.raises(UnsafePath):
                store.stat(key)
            with pytest.raises(UnsafePath):
                store.put_bytes(key, b"overwritten")
            with pytest.raises(UnsafePath):
                store.delete(key)
        with pytest.raises(UnsafePath):
            store.put_bytes("link/new.txt", b"planted")
        assert (outside / "secret.txt").read_text() == "top secret"
        assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
        listed = [o.key for o in store.list("", recursive=True)]
        assert not [k for k in listed if "secret" in k]

    def test_uploads_in_progress_are_not_listed(self, tmp_path: Path) -> None:
        store = store_for_url((tmp_path / "artifacts").as_uri())
        writer = store.open_writer("a/b.txt")
        writer.write(b"x")
        assert store.list("", recursive=True) == []
        assert store.list("a/", recursive=False) == []
        assert store.list("a/.upload-") == []
        writer.abort()
        assert list((tmp_path / "artifacts" / "a").iterdir()) == []


@pytest.mark.slow
class TestS3ArtifactStore(ArtifactStoreContract):
    """Against moto_server, a real S3-protocol endpoint on loopback."""

    @pytest.fixture
    def store(self, s3_server: S3Server) -> ArtifactStore:
        bucket = s3_server.new_bucket()
        return store_for_url(f"s3://{bucket}/some/prefix", s3_server.config)

    def test_objects_live_under_the_prefix(self, s3_server: S3Server) -> None:
        bucket = s3_server.new_bucket()
        store = store_for_url(f"s3://{bucket}/root", s3_server.config)
        store.put_bytes("x/y.txt", b"1")
        keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
        assert keys == ["root/x/y.txt"]

    def test_aborted_multipart_upload_is_abandoned(self, s3_server: S3Server) -> None:
        bucket = s3_server.new_bucket()
        store = store_for_url(f"s3://{bucket}", s3_server.config)
        writer = store.open_writer("big.bin")
        writer.write(pattern(12 * MB))
        writer.abort()
        s3 = s3_server.client()
        assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0

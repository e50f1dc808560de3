"""The artifact API: streaming upload and download, ranges, HEAD, limits, roles, traversal."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dais.app import create_app
from tests.conftest import Actor, S3Server, World, make_settings

PROBLEM = "application/problem+json"
MB = 1024 * 1024
ART = "/api/v1/workspaces/team-a/artifacts"


def chunks(total: int, size: int = MB) -> Iterator[bytes]:
    """``total`` bytes of a repeating pattern, produced a chunk at a time."""
    block = bytes(range(256)) * (size // 256)
    sent = 0
    while sent < total:
        piece = block[: min(size, total - sent)]
        sent += len(piece)
        yield piece


def digest_of(total: int) -> str:
    h = hashlib.sha256()
    for c in chunks(total):
        h.update(c)
    return h.hexdigest()


@pytest.fixture
def team(world: World) -> dict[str, Actor]:
    people = {name: world.user(name) for name in ("owen", "ed", "vic")}
    world.workspace("team-a", people["owen"], members={"ed": "editor", "vic": "viewer"})
    return people


def test_upload_then_download(client: TestClient, team: dict[str, Actor]) -> None:
    ed = team["ed"]
    r = client.put(f"{ART}/models/m1/model.pkl", content=b"weights", headers=ed.headers)
    assert r.status_code == 201, r.text
    assert r.json()["key"] == "models/m1/model.pkl"
    assert r.json()["size"] == 7
    r = client.get(f"{ART}/models/m1/model.pkl", headers=team["vic"].headers)
    assert r.status_code == 200
    assert r.content == b"weights"
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-length"] == "7"
    assert 'filename="model.pkl"' in r.headers["content-disposition"]


def test_large_streaming_upload_and_ranged_download(client: TestClient, team: dict[str, Actor]) -> None:
    size = 30 * MB + 7
    r = client.put(f"{ART}/big.bin", content=chunks(size), headers=team["ed"].headers)
    assert r.status_code == 201, r.text
    assert r.json()["size"] == size
    h = hashlib.sha256()
    with client.stream("GET", f"{ART}/big.bin", headers=team["vic"].headers) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-length"] == str(size)
        for part in resp.iter_bytes():
            h.update(part)
    assert h.hexdigest() == digest_of(size)
    whole = b"".join(chunks(size))
    for header, start, end in (
        (f"bytes={20 * MB}-{20 * MB + 99}", 20 * MB, 20 * MB + 100),
        ("bytes=0-0", 0, 1),
        ("bytes=-10", size - 10, size),
        (f"bytes={size - 5}-", size - 5, size),
        (f"bytes={size - 5}-{size + 1000}", size - 5, size),
    ):
        r = client.get(f"{ART}/big.bin", headers=team["vic"].headers | {"Range": header})
        assert r.status_code == 206, header
        assert r.content == whole[start:end], header
        assert r.headers["content-range"] == f"bytes {start}-{end - 1}/{size}"
        assert r.headers["content-length"] == str(end - start)


def test_unsatisfiable_range_gets_416_naming_the_size(client: TestClient, team: dict[str, Actor]) -> None:
    client.put(f"{ART}/small.txt", content=b"0123456789", headers=team["ed"].headers)
    for header in ("bytes=10-", "bytes=100-200", "bytes=-0"):
        r = client.get(f"{ART}/small.txt", headers=team["vic"].headers | {"Range": header})
        assert r.status_code == 416, header
        assert r.headers["content-type"] == PROBLEM
        assert r.headers["content-range"] == "bytes */10"
        assert r.json()["size"] == 10
    r = client.head(f"{ART}/small.txt", headers=team["vic"].headers | {"Range": "bytes=10-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == "bytes */10"
    # Range forms this server does not serve, and invalid ranges (RFC 9110: last before first), are
    # ignored: the whole object.
    for header in ("bytes=0-1,4-5", "bytes=5-2", "bytes=20-3", "items=0-1", "bytes=x-y"):
        r = client.get(f"{ART}/small.txt", headers=team["vic"].headers | {"Range": header})
        assert r.status_code == 200, header
        assert r.content == b"0123456789"
        assert "content-range" not in r.headers


def test_head_gives_size_etag_and_modified_time(client: TestClient, team: dict[str, Actor]) -> None:
    client.put(f"{ART}/h.bin", content=b"x" * 1234, headers=team["ed"].headers)
    r = client.head(f"{ART}/h.bin", headers=team["vic"].headers)
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == "1234"
    assert r.headers["last-modified"].endswith("GMT")
    r = client.head(f"{ART}/nope.bin", headers=team["vic"].headers)
    assert r.status_code == 404


def test_missing_key_gets_404_problem(client: TestClient, team: dict[str, Actor]) -> None:
    r = client.get(f"{ART}/does/not/exist.bin", headers=team["vic"].headers)
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    r = client.delete(f"{ART}/does/not/exist.bin", headers=team["ed"].headers)
    assert r.status_code == 404


def test_viewer_cannot_upload_or_delete(client: TestClient, team: dict[str, Actor]) -> None:
    client.put(f"{ART}/keep.txt", content=b"keep", headers=team["ed"].headers)
    r = client.put(f"{ART}/new.txt", content=b"x", headers=team["vic"].headers)
    assert r.status_code == 403
    assert r.headers["content-type"] == PROBLEM
    assert client.delete(f"{ART}/keep.txt", headers=team["vic"].headers).status_code == 403
    assert client.get(f"{ART}/new.txt", headers=team["owen"].headers).status_code == 404
    assert client.get(f"{ART}/keep.txt", headers=team["owen"].headers).content == b"keep"


def test_list_recursive_and_one_level(client: TestClient, team: dict[str, Actor]) -> None:
    for key in ("a/1.txt", "a/b/2.txt", "c.txt"):
        client.put(f"{ART}/{key}", content=key.encode(), headers=team["ed"].headers)
    r = client.get(ART, headers=team["vic"].headers)
    assert [i["key"] for i in r.json()["items"]] == ["a/1.txt", "a/b/2.txt", "c.txt"]
    r = client.get(ART, params={"recursive": False}, headers=team["vic"].headers)
    items = {i["key"]: i["is_folder"] for i in r.json()["items"]}
    assert items == {"a/": True, "c.txt": False}
    r = client.get(ART, params={"prefix": "a/", "recursive": False}, headers=team["vic"].headers)
    assert [i["key"] for i in r.json()["items"]] == ["a/1.txt", "a/b/"]


def test_delete_removes_the_artifact(client: TestClient, team: dict[str, Actor]) -> None:
    client.put(f"{ART}/gone.txt", content=b"x", headers=team["ed"].headers)
    assert client.delete(f"{ART}/gone.txt", headers=team["ed"].headers).status_code == 204
    assert client.get(f"{ART}/gone.txt", headers=team["ed"].headers).status_code == 404


def test_upload_without_overwrite_refuses_an_existing_key(client: TestClient, team: dict[str, Actor]) -> None:
    client.put(f"{ART}/once.txt", content=b"first", headers=team["ed"].headers)
    r = client.put(
        f"{ART}/once.txt", params={"overwrite": False}, content=b"second", headers=team["ed"].headers
    )
    assert r.status_code == 409
    assert client.get(f"{ART}/once.txt", headers=team["ed"].headers).content == b"first"


def test_key_that_collides_with_a_folder_gets_409_not_500(client: TestClient, team: dict[str, Actor]) -> None:
    ed = team["ed"]
    assert client.put(f"{ART}/x/y.txt", content=b"1", headers=ed.headers).status_code == 201
    r = client.put(f"{ART}/x", content=b"2", headers=ed.headers)  # "x" is a folder here
    assert r.status_code in (201, 409), r.text
    r = client.put(f"{ART}/x/y.txt/z", content=b"3", headers=ed.headers)  # "x/y.txt" is an object
    assert r.status_code in (201, 409), r.text
    assert r.headers["content-type"] in (PROBLEM, "application/json")
    r = client.delete(f"{ART}/x", headers=ed.headers)  # a folder is not an artifact
    assert r.status_code == 404, r.text
    assert client.get(f"{ART}/x/y.txt", headers=ed.headers).content == b"1"


def test_upload_over_the_limit_gets_413_and_leaves_nothing(
    tmp_path: Path, db_url: str, team: dict[str, Actor]
) -> None:
    settings = make_settings(tmp_path / "home", db_url, max_upload_bytes=2 * MB)
    with TestClient(create_app(settings)) as client:
        headers = team["ed"].headers
        # Declared too large: refused before a byte is read.
        r = client.put(f"{ART}/declared.bin", content=b"x" * (2 * MB + 1), headers=headers)
        assert r.status_code == 413
        assert r.headers["content-type"] == PROBLEM
        # Streamed without a length: refused once the limit is crossed, and the partial upload is gone.
        r = client.put(f"{ART}/streamed.bin", content=chunks(5 * MB, 256 * 1024), headers=headers)
        assert r.status_code == 413, r.text
        assert r.headers["content-type"] == PROBLEM
        for key in ("declared.bin", "streamed.bin"):
            assert client.get(f"{ART}/{key}", headers=headers).status_code == 404
        assert client.get(ART, headers=headers).json()["items"] == []
        leftovers = [p for p in (tmp_path / "home" / "artifacts").rglob("*") if p.is_file()]
        assert leftovers == []
        # At the limit is fine.
        assert client.put(f"{ART}/ok.bin", content=b"x" * (2 * MB), headers=headers).status_code == 201


TRAVERSALS = [
    "%2e%2e/escape.txt",
    "%2E%2E%2Fescape.txt",
    "a/%2e%2e/%2e%2e/escape.txt",
    "..%2fescape.txt",
    "..%5cescape.txt",
    "%252e%252e/escape.txt",
    "%252e%252e%252fescape.txt",
    "a%2f..%2f..%2fescape.txt",
    "%2fetc%2fpasswd",
    "/etc/passwd",
    "a//b.txt",
    "a%00b.txt",
    "a%0ab.txt",
    "%2e/x.txt",
]


def test_traversal_in_the_request_path_is_refused(
    client: TestClient, team: dict[str, Actor], tmp_path: Path
) -> None:
    for spelling in TRAVERSALS:
        for method in ("PUT", "GET", "HEAD", "DELETE"):
            body = b"x" if method == "PUT" else None
            r = client.request(method, f"{ART}/{spelling}", content=body, headers=team["ed"].headers)
            assert r.status_code in (404, 422), (method, spelling, r.status_code)
            if method != "HEAD":
                assert r.headers["content-type"] == PROBLEM
    assert list(tmp_path.rglob("escape.txt")) == []
    assert list(tmp_path.rglob("passwd")) == []


def test_traversal_in_the_listing_prefix_is_refused(client: TestClient, team: dict[str, Actor]) -> None:
    for prefix in ("../", "/etc", "%2e%2e/", "a//"):
        r = client.get(ART, params={"prefix": prefix}, headers=team["vic"].headers)
        assert r.status_code == 422, prefix
        assert r.json()["code"] == "unsafe_path"


def test_workspace_b_cannot_reach_a_key_of_a_by_any_spelling(
    client: TestClient, world: World, team: dict[str, Actor]
) -> None:
    owen = team["owen"]
    a_id = client.get("/api/v1/workspaces/team-a", headers=owen.headers).json()["id"]
    client.put(f"{ART}/secret.txt", content=b"A's secret", headers=owen.headers)
    mallory = world.user("mallory")
    world.workspace("team-b", mallory)
    base = "/api/v1/workspaces/team-b/artifacts"
    spellings = [
        f"../{a_id}/secret.txt",
        f"%2e%2e/{a_id}/secret.txt",
        f"%2e%2e%2f{a_id}%2fsecret.txt",
        f"..%2f{a_id}%2fsecret.txt",
        f"%252e%252e/{a_id}/secret.txt",
        f"..%5c{a_id}%5csecret.txt",
        f"%2fworkspaces%2f{a_id}%2fsecret.txt",
        f"workspaces/{a_id}/secret.txt",
        f"../../workspaces/{a_id}/secret.txt",
        f"%2e%2e/%2e%2e/workspaces/{a_id}/secret.txt",
    ]
    for key in spellings:
        r = client.get(f"{base}/{key}", headers=mallory.headers)
        assert r.status_code in (404, 422), (key, r.status_code)
        assert b"A's secret" not in r.content
    for prefix in (f"../{a_id}/", f"%2e%2e/{a_id}/", "../", f"workspaces/{a_id}/"):
        r = client.get(base, params={"prefix": prefix}, headers=mallory.headers)
        assert r.status_code in (200, 422)
        assert "secret" not in r.text
    # And through A's own path, mallory is not a member.
    assert client.get(f"{ART}/secret.txt", headers=mallory.headers).status_code == 404
    assert (
        client.get(f"/api/v1/workspaces/{a_id}/artifacts/secret.txt", headers=mallory.headers).status_code
        == 404
    )


def test_symlink_in_the_store_cannot_be_followed_through_the_api(
    client: TestClient, team: dict[str, Actor], tmp_path: Path, settings
) -> None:  # type: ignore[no-untyped-def]
    import os

    owen = team["owen"]
    a_id = client.get("/api/v1/workspaces/team-a", headers=owen.headers).json()["id"]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0")
    ws_dir = settings.home / "artifacts" / "workspaces" / a_id
    ws_dir.mkdir(parents=True)
    os.symlink(outside, ws_dir / "link")
    r = client.get(f"{ART}/link/passwd", headers=owen.headers)
    assert r.status_code == 422
    assert "root:x" not in r.text
    r = client.put(f"{ART}/link/planted", content=b"x", headers=owen.headers)
    assert r.status_code == 422
    assert not (outside / "planted").exists()
    assert "passwd" not in client.get(ART, headers=owen.headers).text


@pytest.mark.slow
def test_artifact_api_on_s3(tmp_path: Path, db_url: str, world: World, s3_server: S3Server) -> None:
    owen = world.user("owen")
    a_id = world.workspace("team-a", owen)
    bucket = s3_server.new_bucket()
    settings = make_settings(tmp_path / "home", db_url, artifacts_url=f"s3://{bucket}/dais")
    settings.artifacts.s3_endpoint_url = s3_server.endpoint
    settings.artifacts.s3_access_key_id = s3_server.key
    settings.artifacts.s3_secret_access_key = s3_server.secret  # type: ignore[assignment]
    settings.artifacts.s3_region = s3_server.region
    size = 7 * MB + 3
    with TestClient(create_app(settings)) as client:
        r = client.put(f"{ART}/data/big.bin", content=chunks(size), headers=owen.headers)
        assert r.status_code == 201, r.text
        assert r.json()["size"] == size
        assert r.json()["etag"]
        got = client.get(f"{ART}/data/big.bin", headers=owen.headers)
        assert hashlib.sha256(got.content).hexdigest() == digest_of(size)
        r = client.get(f"{ART}/data/big.bin", headers=owen.headers | {"Range": "bytes=-4"})
        assert r.status_code == 206
        assert r.content == b"".join(chunks(size))[-4:]
        assert client.head(f"{ART}/data/big.bin", headers=owen.headers).headers["content-length"] == str(size)
        assert [i["key"] for i in client.get(ART, headers=owen.headers).json()["items"]] == ["data/big.bin"]
        assert client.get(f"{ART}/%2e%2e/x", headers=owen.headers).status_code == 422
        assert client.delete(f"{ART}/data/big.bin", headers=owen.headers).status_code == 204
        assert client.get(f"{ART}/data/big.bin", headers=owen.headers).status_code == 404
    keys = s3_server.client().list_objects_v2(Bucket=bucket).get("Contents", [])
    assert keys == []
    assert a_id

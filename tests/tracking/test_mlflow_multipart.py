"""Multipart artifact uploads through the MLflow proxy: the real mlflow client, signed part URLs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.tracking.conftest import MlflowServer

mlflow = pytest.importorskip("mlflow", reason="mlflow-skinny (the dev extra) is the client under test")

from mlflow import MlflowClient  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::FutureWarning", "ignore::DeprecationWarning"
)

MB = 1024 * 1024
ART = "/api/2.0/mlflow-artifacts"


@pytest.fixture
def client(mlflow_server: MlflowServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MlflowClient]:
    """The mlflow client as alice, with multipart uploads on for files of 1 MB and up (5 MB parts)."""
    mlflow_server.login(monkeypatch, "alice")
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(1 * MB))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * MB))
    mlflow.set_tracking_uri(mlflow_server.url)
    yield MlflowClient()
    mlflow.set_tracking_uri(None)


def _raw(
    server: MlflowServer, method: str, path: str, user: str | None = "alice", **kw: Any
) -> httpx.Response:
    auth = (user, server.password) if user else None
    return httpx.request(method, server.url + path, auth=auth, timeout=30, **kw)


def _run_path(client: MlflowClient, name: str) -> tuple[str, str]:
    """A new run's id and its artifact folder as an mlflow-artifacts path."""
    exp_id = client.create_experiment(name)
    run = client.create_run(exp_id)
    return run.info.run_id, f"{exp_id}/{run.info.run_id}/artifacts"


def _staged(server: MlflowServer) -> list[Path]:
    return [p for p in server.home.rglob("*") if ".uploads" in p.parts and p.is_file()]


def test_client_uploads_a_large_file_in_parts_and_reads_it_back(
    client: MlflowClient, mlflow_server: MlflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id, _ = _run_path(client, "mpu-roundtrip")
    data = os.urandom(12 * MB + 12345)
    (tmp_path / "model.bin").write_bytes(data)

    from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository

    seen: list[int] = []
    original = HttpArtifactRepository._upload_part

    def spy(credential: Any, local_file: str, size: int, start_byte: int) -> Any:
        seen.append(credential.part_number)
        assert "sig=" in credential.url
        assert "password" not in credential.url
        assert credential.headers == {}
        return original(credential, local_file, size, start_byte)

    monkeypatch.setattr(HttpArtifactRepository, "_upload_part", staticmethod(spy))
    client.log_artifact(run_id, str(tmp_path / "model.bin"), artifact_path="weights")

    assert sorted(seen) == [1, 2, 3]
    out = Path(client.download_artifacts(run_id, "weights/model.bin", str(tmp_path / "out")))
    assert out.read_bytes() == data
    assert [f.path for f in client.list_artifacts(run_id, "weights")] == ["weights/model.bin"]
    assert _staged(mlflow_server) == []  # parts and manifest are gone
    root = _raw(mlflow_server, "GET", f"{ART}/artifacts").json()
    assert all(".uploads" not in f["path"] for f in root.get("files", []))


def test_part_urls_are_signed_and_complete_checks_its_input(
    client: MlflowClient, mlflow_server: MlflowServer
) -> None:
    _, path = _run_path(client, "mpu-signed")
    created = _raw(mlflow_server, "POST", f"{ART}/mpu/create/{path}", json={"path": "f.bin", "num_parts": 2})
    assert created.status_code == 200, created.text
    body = created.json()
    upload_id, creds = body["upload_id"], body["credentials"]
    assert [c["part_number"] for c in creds] == [1, 2]

    url = urlsplit(creds[0]["url"])
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    forged = dict(q, sig="0" * 64)
    r = httpx.put(f"{mlflow_server.url}{url.path}?{urlencode(forged)}", content=b"x", timeout=30)
    assert r.status_code == 403
    assert r.json()["error_code"] == "PERMISSION_DENIED"
    # A signature for part 1 does not sign part 2, nor another workspace, nor a later expiry.
    other_part = url.path.rsplit("/", 1)[0] + "/2"
    r = httpx.put(f"{mlflow_server.url}{other_part}?{url.query}", content=b"x", timeout=30)
    assert r.status_code == 403
    moved = dict(q, ws="another-workspace")
    assert (
        httpx.put(f"{mlflow_server.url}{url.path}?{urlencode(moved)}", content=b"x", timeout=30).status_code
        == 403
    )
    later = dict(q, expires=str(int(q["expires"]) + 1))
    assert (
        httpx.put(f"{mlflow_server.url}{url.path}?{urlencode(later)}", content=b"x", timeout=30).status_code
        == 403
    )

    assert httpx.put(creds[0]["url"], content=b"hello ", timeout=30).status_code == 200
    parts = [{"part_number": 1, "etag": ""}, {"part_number": 2, "etag": ""}]
    r = _raw(
        mlflow_server,
        "POST",
        f"{ART}/mpu/complete/{path}",
        json={"path": "f.bin", "upload_id": upload_id, "parts": parts},
    )
    assert r.status_code == 400  # part 2 never came
    assert "Part 2" in r.json()["message"]

    assert httpx.put(creds[1]["url"], content=b"world", timeout=30).status_code == 200
    r = _raw(
        mlflow_server,
        "POST",
        f"{ART}/mpu/complete/{path}",
        json={"path": "/home/me/other.bin", "upload_id": upload_id, "parts": parts},
    )
    assert r.status_code == 400  # not the path the upload was made for
    r = _raw(
        mlflow_server,
        "POST",
        f"{ART}/mpu/complete/{path}",
        json={"path": "f.bin", "upload_id": upload_id, "parts": parts},
    )
    assert r.status_code == 200, r.text
    assert _raw(mlflow_server, "GET", f"{ART}/artifacts/{path}/f.bin").content == b"hello world"

    # The upload is finished: its id is unknown now, for parts and for complete alike.
    assert httpx.put(creds[0]["url"], content=b"x", timeout=30).status_code == 404
    r = _raw(
        mlflow_server,
        "POST",
        f"{ART}/mpu/complete/{path}",
        json={"path": "f.bin", "upload_id": upload_id, "parts": parts},
    )
    assert r.status_code == 404
    assert r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_abort_drops_parts_and_other_workspaces_cannot_touch_an_upload(
    client: MlflowClient, mlflow_server: MlflowServer
) -> None:
    _, path = _run_path(client, "mpu-abort")
    created = _raw(mlflow_server, "POST", f"{ART}/mpu/create/{path}", json={"path": "g.bin", "num_parts": 1})
    upload_id, cred = created.json()["upload_id"], created.json()["credentials"][0]
    assert httpx.put(cred["url"], content=b"data", timeout=30).status_code == 200
    assert _staged(mlflow_server)

    payload = {"path": "g.bin", "upload_id": upload_id}
    other = {"X-MLFLOW-WORKSPACE": "other"}
    # bob's workspace has no such experiment; vera is a viewer; nobody at all is unauthenticated.
    assert (
        _raw(mlflow_server, "POST", f"{ART}/mpu/abort/{path}", "bob", json=payload, headers=other).status_code
        == 404
    )
    assert _raw(mlflow_server, "POST", f"{ART}/mpu/abort/{path}", "vera", json=payload).status_code == 403
    assert _raw(mlflow_server, "POST", f"{ART}/mpu/abort/{path}", None, json=payload).status_code == 401
    assert (
        _raw(
            mlflow_server,
            "POST",
            f"{ART}/mpu/create/{path}",
            "vera",
            json={"path": "g.bin", "num_parts": 1},
        ).status_code
        == 403
    )

    r = _raw(mlflow_server, "POST", f"{ART}/mpu/abort/{path}", json=payload)
    assert r.status_code == 200, r.text
    assert _staged(mlflow_server) == []
    assert _raw(mlflow_server, "POST", f"{ART}/mpu/abort/{path}", json=payload).status_code == 404
    assert httpx.put(cred["url"], content=b"x", timeout=30).status_code == 404

    bad = {"path": "g.bin", "upload_id": "../../etc"}
    assert _raw(mlflow_server, "POST", f"{ART}/mpu/abort/{path}", json=bad).status_code == 400
    too_many = {"path": "g.bin", "num_parts": 0}
    assert _raw(mlflow_server, "POST", f"{ART}/mpu/create/{path}", json=too_many).status_code == 400

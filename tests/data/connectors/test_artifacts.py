"""The workspace's artifact area as a connector (local folder and S3)."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dais.core.errors import UnsafePath
from dais.core.settings import Settings
from dais.data.connectors.artifacts import ArtifactsConnector
from dais.storage import open_store
from tests.conftest import S3Server, make_settings


def test_local_artifacts_are_read_inside_the_workspace(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", "sqlite://")
    store = open_store(settings)
    store.put_bytes("workspaces/ws1/uploads/u1/a.csv", b"x\n1\n")
    store.put_bytes("workspaces/ws2/uploads/u2/secret.csv", b"y\n2\n")
    conn = ArtifactsConnector.for_workspace(settings, "ws1")
    assert conn.check(timeout_s=5).ok
    assert [(e.path, e.kind) for e in conn.browse("uploads/u1", timeout_s=5)] == [
        ("uploads/u1/a.csv", "file")
    ]
    with open(conn.resolve("uploads/u1/a.csv"), "rb") as f:
        assert f.read() == b"x\n1\n"
    for path in ("../ws2/uploads/u2/secret.csv", "/etc/passwd"):
        with pytest.raises(UnsafePath):
            conn.resolve(path)
    os.symlink(tmp_path / "home" / "artifacts" / "workspaces" / "ws2", conn.root + "/other")
    with pytest.raises(UnsafePath):
        conn.resolve("other/uploads/u2/secret.csv")
    assert ArtifactsConnector.for_workspace(settings, "new-ws").check(timeout_s=5).ok


@pytest.mark.slow
def test_s3_artifacts_use_the_stores_credentials(tmp_path: Path, s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    base = make_settings(tmp_path / "home", "sqlite://", artifacts_url=f"s3://{bucket}/root")
    settings = Settings(
        **{
            **base.__dict__,
            "artifacts": base.artifacts.model_copy(
                update={
                    "s3_endpoint_url": s3_server.endpoint,
                    "s3_access_key_id": s3_server.key,
                    "s3_secret_access_key": s3_server.secret,
                    "s3_region": s3_server.region,
                }
            ),
        }
    )
    conn = ArtifactsConnector.for_workspace(settings, "ws1")
    assert conn.root == f"{bucket}/root/workspaces/ws1"
    fs = conn.filesystem(timeout_s=10)
    pq.write_table(pa.table({"a": [1]}), conn.resolve("v1/part-0.parquet"), filesystem=fs)
    assert [e.path for e in conn.browse("v1", timeout_s=10)] == ["v1/part-0.parquet"]
    assert conn.check(timeout_s=10).ok
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["root/workspaces/ws1/v1/part-0.parquet"]

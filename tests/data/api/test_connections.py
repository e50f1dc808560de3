"""Connections through the API: CRUD, credentials never returned and encrypted at rest, tests against
real sources (a local folder, moto S3), browsing, permissions and workspace isolation."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from dais.db import Database
from tests.conftest import S3Server
from tests.data.api.helpers import OTHER, WS, Team, file_connection


def _s3_body(s3: S3Server, bucket: str, name: str = "lake") -> dict[str, object]:
    return {
        "name": name,
        "kind": "s3",
        "config": {"bucket": bucket, "endpoint_url": s3.endpoint, "region": s3.region},
        "secrets": {"access_key_id": s3.key, "secret_access_key": "moto-secret-value-123"},
    }


def test_connector_kinds_list_their_form_schemas(api: TestClient, team: Team) -> None:
    r = api.get("/api/v1/connectors", headers=team.h)
    assert r.status_code == 200
    kinds = {k["name"]: k for k in r.json()}
    assert {"file", "s3", "sql"} <= set(kinds)
    assert "root" in kinds["file"]["config_schema"]["properties"]
    assert "secret_access_key" in kinds["s3"]["secrets_schema"]["properties"]
    assert kinds["file"]["available"] is True
    assert kinds["hive"]["available"] is False
    assert "spark" in kinds["hive"]["error"]


def test_file_connection_crud(api: TestClient, team: Team, data_root: Path) -> None:
    created = file_connection(api, team.h, data_root)
    assert created["kind"] == "file"
    assert created["health"] == "unknown"
    assert created["secrets_set"] == []
    r = api.get(f"{WS}/connections", headers=team.victor.headers)
    assert [c["name"] for c in r.json()["items"]] == ["files"]
    r = api.patch(f"{WS}/connections/files", headers=team.h, json={"name": "disk", "description": "local"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "disk"
    assert api.get(f"{WS}/connections/disk", headers=team.h).json()["description"] == "local"
    assert api.get(f"{WS}/connections/files", headers=team.h).status_code == 404
    assert api.delete(f"{WS}/connections/disk", headers=team.h).status_code == 204
    assert api.get(f"{WS}/connections", headers=team.h).json()["items"] == []


def test_connection_names_are_unique_and_slugs(api: TestClient, team: Team, data_root: Path) -> None:
    file_connection(api, team.h, data_root)
    r = api.post(
        f"{WS}/connections",
        headers=team.h,
        json={"name": "files", "kind": "file", "config": {"root": str(data_root)}},
    )
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    r = api.post(
        f"{WS}/connections",
        headers=team.h,
        json={"name": "Bad Name", "kind": "file", "config": {"root": "/"}},
    )
    assert r.status_code == 422


def test_file_connection_outside_allowed_roots_is_refused(
    api: TestClient, team: Team, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    r = api.post(
        f"{WS}/connections",
        headers=team.h,
        json={"name": "x", "kind": "file", "config": {"root": str(outside)}},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "config", "root"]
    r = api.post(f"{WS}/connections", headers=team.h, json={"name": "x", "kind": "nope", "config": {}})
    assert r.status_code == 422
    assert "known kinds" in r.json()["detail"]


def test_secrets_are_never_returned_and_encrypted_at_rest(
    api: TestClient, team: Team, db: Database, s3_server: S3Server
) -> None:
    secret = "moto-secret-value-123"
    r = api.post(f"{WS}/connections", headers=team.h, json=_s3_body(s3_server, s3_server.new_bucket()))
    assert r.status_code == 201, r.text
    assert secret not in r.text
    assert r.json()["secrets_set"] == ["access_key_id", "secret_access_key"]
    for url in (f"{WS}/connections", f"{WS}/connections/lake", f"{WS}/audit"):
        assert secret not in api.get(url, headers=team.h).text
    with db.engine.connect() as conn:
        config, sealed = conn.execute(
            text("SELECT config, secrets_encrypted FROM data_connections WHERE name = 'lake'")
        ).one()
    assert secret not in str(config)
    assert sealed
    assert secret not in sealed
    assert "secret_access_key" not in sealed
    # a secret can be removed (null) and set again; replies still only name them
    r = api.patch(f"{WS}/connections/lake", headers=team.h, json={"secrets": {"access_key_id": None}})
    assert r.json()["secrets_set"] == ["secret_access_key"]


def test_test_connection_against_a_local_folder(api: TestClient, team: Team, data_root: Path) -> None:
    (data_root / "a.csv").write_text("x\n1\n")
    file_connection(api, team.h, data_root)
    r = api.post(f"{WS}/connections/files/test", headers=team.h)
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True
    conn = api.get(f"{WS}/connections/files", headers=team.h).json()
    assert conn["health"] == "ok"
    assert conn["health_checked_at"] is not None
    r = api.get(f"{WS}/connections/files/browse", headers=team.victor.headers)
    assert r.status_code == 200
    assert [e["name"] for e in r.json()["entries"]] == ["a.csv"]
    r = api.get(f"{WS}/connections/files/browse", params={"path": "../"}, headers=team.h)
    assert r.status_code == 422


def test_test_connection_against_moto_s3(api: TestClient, team: Team, s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    s3_server.client().put_object(Bucket=bucket, Key="x/part.csv", Body=b"a\n1\n")  # type: ignore[no-untyped-call]
    assert api.post(f"{WS}/connections", headers=team.h, json=_s3_body(s3_server, bucket)).status_code == 201
    r = api.post(f"{WS}/connections/lake/test", headers=team.h)
    assert r.json()["ok"] is True, r.json()
    r = api.get(f"{WS}/connections/lake/browse", headers=team.h)
    assert [e["name"] for e in r.json()["entries"]] == ["x"]
    # a missing bucket: the test fails with S3's own message and the health says so
    body = _s3_body(s3_server, "no-such-bucket-here", name="missing")
    assert api.post(f"{WS}/connections", headers=team.h, json=body).status_code == 201
    r = api.post(f"{WS}/connections/missing/test", headers=team.h)
    assert r.json()["ok"] is False
    assert "bucket" in r.json()["message"].lower()
    conn = api.get(f"{WS}/connections/missing", headers=team.h).json()
    assert conn["health"] == "failing"
    assert "moto-secret-value-123" not in r.text


def test_test_an_unsaved_connection(api: TestClient, team: Team, data_root: Path) -> None:
    r = api.post(
        f"{WS}/connections/test", headers=team.h, json={"kind": "file", "config": {"root": str(data_root)}}
    )
    assert r.status_code == 200
    assert r.json()["ok"] is True
    r = api.post(f"{WS}/connections/test", headers=team.h, json={"kind": "file", "config": {"root": "/etc"}})
    assert r.status_code == 422


def test_viewers_read_but_cannot_change_connections(api: TestClient, team: Team, data_root: Path) -> None:
    file_connection(api, team.h, data_root)
    v = team.victor.headers
    assert api.get(f"{WS}/connections/files", headers=v).status_code == 200
    body = {"name": "mine", "kind": "file", "config": {"root": str(data_root)}}
    assert api.post(f"{WS}/connections", headers=v, json=body).status_code == 403
    assert api.patch(f"{WS}/connections/files", headers=v, json={"description": "x"}).status_code == 403
    assert api.delete(f"{WS}/connections/files", headers=v).status_code == 403
    assert api.post(f"{WS}/connections/files/test", headers=v).status_code == 403


def test_connections_are_isolated_between_workspaces(api: TestClient, team: Team, data_root: Path) -> None:
    conn = file_connection(api, team.h, data_root)
    e = team.eve.headers
    assert api.get(f"{WS}/connections", headers=e).status_code == 404
    assert api.get(f"{OTHER}/connections/files", headers=e).status_code == 404
    assert api.get(f"{OTHER}/connections/{conn['id']}", headers=e).status_code == 404
    assert api.post(f"{OTHER}/connections/{conn['id']}/test", headers=e).status_code == 404
    assert api.get(f"{OTHER}/connections/{conn['id']}/browse", headers=e).status_code == 404
    assert api.delete(f"{OTHER}/connections/{conn['id']}", headers=e).status_code == 404

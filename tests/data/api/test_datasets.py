"""Datasets through the API with a running worker: register CSV, parquet, partitioned parquet and an
image folder, then read back sample, schema, stats, partitions, versions, media, thumbnails and
downloads; editing, deleting, permissions and workspace isolation."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.data.api.helpers import OTHER, WS, Team, file_connection, wait_job

pytestmark = pytest.mark.slow


def _write_sources(root: Path) -> None:
    (root / "people.csv").write_text("id,name,score\n1,ann,3.5\n2,bob,4.0\n3,cy,\n")
    table = pa.table({"id": list(range(1000)), "value": [i * 0.5 for i in range(1000)]})
    pq.write_table(table, root / "numbers.parquet", row_group_size=100)
    for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
        part = root / "events" / f"dt={day}"
        part.mkdir(parents=True)
        pq.write_table(pa.table({"n": [1, 2, 3], "kind": ["a", "b", "a"]}), part / "part-0.parquet")
    for label, color in (("cat", "red"), ("dog", "blue")):
        folder = root / "pics" / label
        folder.mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (40 + i, 30), color).save(folder / f"{i}.png")


@pytest.fixture
def registered(api: TestClient, team: Team, data_root: Path, data_worker: None) -> dict[str, dict[str, Any]]:
    _write_sources(data_root)
    file_connection(api, team.h, data_root)
    jobs = {}
    for name, source in (
        ("people", {"path": "people.csv"}),
        ("numbers", {"path": "numbers.parquet"}),
        ("events", {"path": "events", "format": "parquet"}),
        ("daily", {"path": "events", "format": "parquet", "partition_filter": "dt=${ds}"}),
        ("pics", {"path": "pics", "format": "images"}),
    ):
        r = api.post(
            f"{WS}/datasets", headers=team.h, json={"name": name, "connection": "files", "source": source}
        )
        assert r.status_code == 202, r.text
        assert r.json()["dataset"] == name
        jobs[name] = r.json()["job"]["id"]
    done = {name: wait_job(api, team.h, job_id) for name, job_id in jobs.items()}
    for name, job in done.items():
        assert job["state"] == "succeeded", (name, job["error"])
    return done


def _read_back(api: TestClient, team: Team, registered: dict[str, Any]) -> None:
    h = team.victor.headers  # a viewer reads everything
    page = api.get(f"{WS}/datasets", headers=h).json()
    assert [d["name"] for d in page["items"]] == ["daily", "events", "numbers", "people", "pics"]
    people = api.get(f"{WS}/datasets/people", headers=h).json()
    assert people["format"] == "csv"
    assert people["connection"] == "files"
    assert people["current_version"] == 1
    sample = api.get(f"{WS}/datasets/people/sample", headers=h).json()
    assert sample["columns"] == ["id", "name", "score"]
    assert [r["name"] for r in sample["rows"]] == ["ann", "bob", "cy"]
    schema = api.get(f"{WS}/datasets/people/schema", headers=h).json()["columns"]
    assert [c["name"] for c in schema] == ["id", "name", "score"]
    stats = {c["name"]: c for c in api.get(f"{WS}/datasets/people/stats", headers=h).json()["columns"]}
    assert stats["score"]["nulls"] == 1
    numbers = api.get(f"{WS}/datasets/numbers", headers=h).json()
    assert numbers["row_count"] == 1000
    assert len(api.get(f"{WS}/datasets/numbers/sample", headers=h).json()["rows"]) == 100
    versions = api.get(f"{WS}/datasets/numbers/versions", headers=h).json()["items"]
    assert [(v["number"], v["kind"]) for v in versions] == [(1, "pointer")]
    assert versions[0]["fingerprint"]["files"] == 1
    assert versions[0]["produced_by_job_id"] == registered["numbers"]["id"]
    assert api.get(f"{WS}/datasets/numbers/versions/1", headers=h).json()["number"] == 1
    assert api.get(f"{WS}/datasets/numbers/versions/2", headers=h).status_code == 404


def _partitions(api: TestClient, team: Team, registered: dict[str, Any]) -> None:
    events = api.get(f"{WS}/datasets/events", headers=team.h).json()
    assert events["partition_style"] == "hive"
    assert events["partition_keys"] == ["dt"]
    parts = api.get(f"{WS}/datasets/events/partitions", headers=team.h).json()
    assert [p["path"] for p in parts["partitions"]] == ["dt=2024-01-01", "dt=2024-01-02", "dt=2024-01-03"]
    assert parts["partitions"][0]["files"] == 1
    schema = {c["name"]: c for c in api.get(f"{WS}/datasets/events/schema", headers=team.h).json()["columns"]}
    assert schema["dt"]["partition"] is True
    live = api.get(f"{WS}/datasets/events/partitions", params={"live": "true"}, headers=team.h).json()
    assert live["live"] is True
    assert len(live["partitions"]) == 3
    # a dynamic filter pins nothing: each read resolves it with the variables it is given
    v1 = api.get(f"{WS}/datasets/daily/versions/1", headers=team.h).json()
    assert v1["partitions"] is None
    r = api.get(
        f"{WS}/datasets/daily/download", params={"format": "arrow", "var": "ds=2024-01-02"}, headers=team.h
    )
    assert r.status_code == 200, r.text
    table = ipc.open_stream(io.BytesIO(r.content)).read_all()
    assert set(table.column("dt").to_pylist()) == {"2024-01-02"} or table.num_rows == 3
    r = api.get(f"{WS}/datasets/daily/download", params={"format": "arrow"}, headers=team.h)
    assert r.status_code == 422
    assert "ds" in r.json()["detail"]


def _downloads(api: TestClient, team: Team, registered: dict[str, Any]) -> None:
    r = api.get(f"{WS}/datasets/numbers/download", params={"format": "parquet"}, headers=team.victor.headers)
    assert r.status_code == 200, r.text
    assert pq.read_table(io.BytesIO(r.content)).num_rows == 1000
    r = api.get(f"{WS}/datasets/numbers/download", params={"format": "arrow", "limit": 250}, headers=team.h)
    assert ipc.open_stream(io.BytesIO(r.content)).read_all().num_rows == 250
    r = api.get(f"{WS}/datasets/people/download", params={"format": "csv"}, headers=team.h)
    assert pacsv.read_csv(io.BytesIO(r.content)).column("name").to_pylist() == ["ann", "bob", "cy"]
    r = api.get(f"{WS}/datasets/people/download", params={"format": "jsonl"}, headers=team.h)
    rows = [json.loads(line) for line in r.text.splitlines()]
    assert rows[0]["name"] == "ann"
    assert "attachment" in r.headers["content-disposition"]
    r = api.get(
        f"{WS}/datasets/events/download",
        params={"format": "arrow", "partitions": ["dt=2024-01-02"]},
        headers=team.h,
    )
    table = ipc.open_stream(io.BytesIO(r.content)).read_all()
    assert table.num_rows == 3
    assert (
        api.get(f"{WS}/datasets/people/download", params={"format": "xml"}, headers=team.h).status_code == 422
    )


def _media(api: TestClient, team: Team, registered: dict[str, Any]) -> None:
    pics = api.get(f"{WS}/datasets/pics", headers=team.h).json()
    assert pics["format"] == "images"
    assert pics["media_total"] == 6
    page = api.get(f"{WS}/datasets/pics/media", params={"limit": 4}, headers=team.victor.headers).json()
    assert page["labels"] == {"cat": 3, "dog": 3}
    assert len(page["items"]) == 4
    rest = api.get(f"{WS}/datasets/pics/media", params={"cursor": page["next_cursor"]}, headers=team.h).json()
    assert len(rest["items"]) == 2
    dogs = api.get(f"{WS}/datasets/pics/media", params={"label": "dog"}, headers=team.h).json()["items"]
    assert {m["label"] for m in dogs} == {"dog"}
    item = dogs[0]
    assert (item["width"], item["height"]) == (40, 30)
    r = api.get(f"{WS}/datasets/pics/media/{item['id']}/thumbnail", params={"max_px": 16}, headers=team.h)
    assert r.status_code == 200, r.text
    thumb = Image.open(io.BytesIO(r.content))
    assert max(thumb.size) <= 16
    r = api.get(f"{WS}/datasets/pics/media/{item['id']}/content", headers=team.h)
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    whole = r.content
    assert Image.open(io.BytesIO(whole)).size == (40, 30)
    r = api.get(f"{WS}/datasets/pics/media/{item['id']}/content", headers={**team.h, "Range": "bytes=0-9"})
    assert r.status_code == 206
    assert r.content == whole[:10]
    r = api.get(f"{WS}/datasets/pics/media/{item['id']}/content", headers={**team.h, "Range": "bytes=99999-"})
    assert r.status_code == 416
    assert api.get(f"{WS}/datasets/pics/media/nope/thumbnail", headers=team.h).status_code == 404


def _versions(api: TestClient, team: Team, registered: dict[str, Any], data_root: Path) -> None:
    r = api.post(
        f"{WS}/datasets/events/versions",
        headers=team.h,
        json={"partitions": ["dt=2024-01-02"], "note": "one day"},
    )
    assert r.status_code == 201, r.text
    v2 = r.json()
    assert (v2["number"], v2["kind"], v2["partitions"]) == (2, "pointer", ["dt=2024-01-02"])
    assert v2["fingerprint"]["files"] == 1
    r = api.post(
        f"{WS}/datasets/events/versions",
        headers=team.h,
        json={"partition_filter": "dt=${ds-1d}", "variables": {"ds": "2024-01-04"}},
    )
    assert r.status_code == 201, r.text
    assert r.json()["partitions"] == ["dt=2024-01-03"]
    r = api.post(f"{WS}/datasets/events/versions", headers=team.h, json={"partitions": ["dt=1999-01-01"]})
    assert r.status_code == 422
    # materialise version 2: a job writes a parquet copy, recorded with lineage to what it read
    r = api.post(
        f"{WS}/datasets/events/versions", headers=team.h, json={"kind": "materialized", "from_version": 2}
    )
    assert r.status_code == 202, r.text
    job = wait_job(api, team.h, r.json()["job"]["id"])
    assert job["state"] == "succeeded", job["error"]
    v4 = api.get(f"{WS}/datasets/events/versions/4", headers=team.h).json()
    assert v4["kind"] == "materialized"
    assert v4["row_count"] == 3
    assert v4["artifact_prefix"].startswith("datasets/")
    lineage = api.get(f"{WS}/datasets/events/lineage", headers=team.h).json()
    assert [(e["version"], e["input_version"]) for e in lineage["upstream"]] == [(4, 2)]
    assert lineage["upstream"][0]["job_id"] == job["id"]
    r = api.get(f"{WS}/datasets/events/download", params={"version": 4, "format": "arrow"}, headers=team.h)
    assert ipc.open_stream(io.BytesIO(r.content)).read_all().num_rows == 3
    # refresh: unchanged content keeps the version; a changed file adds a pointer version
    job = wait_job(
        api, team.h, api.post(f"{WS}/datasets/numbers/refresh", headers=team.h).json()["job"]["id"]
    )
    assert job["state"] == "succeeded", job["error"]
    assert job["result"]["changed"] is False
    pq.write_table(pa.table({"id": [1, 2], "value": [0.1, 0.2]}), data_root / "numbers.parquet")
    job = wait_job(
        api, team.h, api.post(f"{WS}/datasets/numbers/refresh", headers=team.h).json()["job"]["id"]
    )
    assert job["result"]["changed"] is True
    numbers = api.get(f"{WS}/datasets/numbers", headers=team.h).json()
    assert (numbers["current_version"], numbers["row_count"]) == (2, 2)


def _edit_delete_isolation(api: TestClient, team: Team, registered: dict[str, Any]) -> None:
    v, e = team.victor.headers, team.eve.headers
    assert api.patch(f"{WS}/datasets/people", headers=v, json={"description": "x"}).status_code == 403
    assert api.delete(f"{WS}/datasets/people", headers=v).status_code == 403
    assert api.post(f"{WS}/datasets/people/refresh", headers=v).status_code == 403
    assert api.post(f"{WS}/datasets/people/versions", headers=v, json={}).status_code == 403
    r = api.patch(
        f"{WS}/datasets/people", headers=team.h, json={"description": "folks", "tags": ["hr", "hr"]}
    )
    assert r.status_code == 200
    assert (r.json()["description"], r.json()["tags"]) == ("folks", ["hr"])
    assert api.patch(f"{WS}/datasets/people", headers=team.h, json={"name": "numbers"}).status_code == 409
    pics = api.get(f"{WS}/datasets/pics", headers=team.h).json()
    item = api.get(f"{WS}/datasets/pics/media", headers=team.h).json()["items"][0]["id"]
    for url in (
        f"{OTHER}/datasets/people",
        f"{OTHER}/datasets/{pics['id']}",
        f"{OTHER}/datasets/{pics['id']}/versions",
        f"{OTHER}/datasets/{pics['id']}/versions/1",
        f"{OTHER}/datasets/{pics['id']}/sample",
        f"{OTHER}/datasets/{pics['id']}/media",
        f"{OTHER}/datasets/{pics['id']}/media/{item}/thumbnail",
        f"{OTHER}/datasets/{pics['id']}/media/{item}/content",
        f"{OTHER}/datasets/{pics['id']}/download",
        f"{WS}/datasets/pics/media/{item}/content",
        f"{WS}/datasets",
    ):
        assert api.get(url, headers=e).status_code == 404, url
    # the connection a dataset uses cannot be deleted; the dataset can
    assert api.delete(f"{WS}/connections/files", headers=team.h).status_code == 409
    for name in ("people", "numbers", "events", "pics", "daily"):
        assert api.delete(f"{WS}/datasets/{name}", headers=team.h).status_code == 204
    assert api.get(f"{WS}/datasets/people", headers=team.h).status_code == 404
    assert api.delete(f"{WS}/connections/files", headers=team.h).status_code == 204


def test_registered_datasets_read_back(api: TestClient, team: Team, registered: dict[str, Any]) -> None:
    """Sample, schema, stats, versions; partitions (stored, live, dynamic); every download format;
    the media gallery and its proxy."""
    _read_back(api, team, registered)
    _partitions(api, team, registered)
    _downloads(api, team, registered)
    _media(api, team, registered)


def test_versions_lineage_refresh_edit_and_isolation(
    api: TestClient, team: Team, registered: dict[str, Any], data_root: Path
) -> None:
    """Pointer and materialised versions with lineage, refresh; then editing, deleting, permissions
    and workspace isolation."""
    _versions(api, team, registered, data_root)
    _edit_delete_isolation(api, team, registered)

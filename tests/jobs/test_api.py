"""Submitting jobs and DAGs through the API: validation, permissions, listing, cancel and retry."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dais.db import Database
from dais.jobs.models import Worker
from tests.conftest import World


def _ws(world: World) -> tuple[dict[str, str], dict[str, str]]:
    alice = world.user("alice")
    viewer = world.user("victor")
    world.workspace("team", alice, members={"victor": "viewer"})
    return alice.headers, viewer.headers


def test_unknown_kind_is_refused_with_the_known_ones(client: TestClient, world: World) -> None:
    h, _ = _ws(world)
    r = client.post("/api/v1/workspaces/team/jobs", headers=h, json={"kind": "nope"})
    assert r.status_code == 422
    assert "known kinds" in r.json()["detail"]
    assert "sleep" in r.json()["detail"]


def test_bad_spec_names_the_field(client: TestClient, world: World) -> None:
    h, _ = _ws(world)
    r = client.post(
        "/api/v1/workspaces/team/jobs", headers=h, json={"kind": "sleep", "spec": {"seconds": -1}}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "spec", "seconds"]


def test_script_spec_needs_exactly_one_entry_point(client: TestClient, world: World) -> None:
    h, _ = _ws(world)
    r = client.post(
        "/api/v1/workspaces/team/jobs",
        headers=h,
        json={"kind": "script", "spec": {"python": "a.py", "command": ["ls"]}},
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/workspaces/team/jobs", headers=h, json={"kind": "script", "spec": {"python": "../escape.py"}}
    )
    assert r.status_code == 422


def test_resource_request_no_worker_can_meet_is_refused(
    client: TestClient, world: World, db: Database
) -> None:
    h, _ = _ws(world)
    with db.session() as s:
        s.add(Worker(name="w", host="h", pid=1, cpus=4, memory_mb=8000, gpu_ids=["0"], slots=2))
    r = client.post(
        "/api/v1/workspaces/team/jobs", headers=h, json={"kind": "noop", "resources": {"gpus": 4}}
    )
    assert r.status_code == 422
    assert "No worker can ever run this job" in r.json()["detail"]
    ok = client.post(
        "/api/v1/workspaces/team/jobs", headers=h, json={"kind": "noop", "resources": {"gpus": 1}}
    )
    assert ok.status_code == 201


def test_cyclic_dag_is_refused(client: TestClient, world: World) -> None:
    h, _ = _ws(world)
    nodes = [
        {"node": "a", "kind": "noop", "after": ["c"]},
        {"node": "b", "kind": "noop", "after": ["a"]},
        {"node": "c", "kind": "noop", "after": ["b"]},
        {"node": "d", "kind": "noop"},
    ]
    r = client.post("/api/v1/workspaces/team/dags", headers=h, json={"nodes": nodes})
    assert r.status_code == 422
    assert "cycle" in r.json()["detail"]
    assert "a, b, c" in r.json()["detail"]


def test_dag_with_unknown_upstream_is_refused(client: TestClient, world: World) -> None:
    h, _ = _ws(world)
    r = client.post(
        "/api/v1/workspaces/team/dags",
        headers=h,
        json={"nodes": [{"node": "a", "kind": "noop", "after": ["zzz"]}]},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "nodes", "0", "after"]


def test_viewer_cannot_submit_and_strangers_see_nothing(client: TestClient, world: World) -> None:
    h, viewer = _ws(world)
    stranger = world.user("sam")
    assert (
        client.post("/api/v1/workspaces/team/jobs", headers=viewer, json={"kind": "noop"}).status_code == 403
    )
    job = client.post("/api/v1/workspaces/team/jobs", headers=h, json={"kind": "noop"}).json()
    assert client.get(f"/api/v1/workspaces/team/jobs/{job['id']}", headers=viewer).status_code == 200
    assert (
        client.get(f"/api/v1/workspaces/team/jobs/{job['id']}", headers=stranger.headers).status_code == 404
    )
    world.workspace("other", stranger)
    assert (
        client.get(f"/api/v1/workspaces/other/jobs/{job['id']}", headers=stranger.headers).status_code == 404
    )


def test_queued_job_says_no_worker_is_online_and_can_be_cancelled(client: TestClient, world: World) -> None:
    h, _ = _ws(world)
    job = client.post("/api/v1/workspaces/team/jobs", headers=h, json={"kind": "noop", "name": "n1"}).json()
    assert job["state"] == "queued"
    assert "no worker is online" in job["wait_reason"]
    r = client.post(f"/api/v1/workspaces/team/jobs/{job['id']}/cancel", headers=h)
    assert r.json()["state"] == "cancelled"
    assert client.post(f"/api/v1/workspaces/team/jobs/{job['id']}/cancel", headers=h).status_code == 409
    listed = client.get("/api/v1/workspaces/team/jobs", headers=h, params={"state": "cancelled"}).json()
    assert [j["id"] for j in listed["items"]] == [job["id"]]


def test_dag_nodes_wait_for_upstreams_and_cancel_cascades(client: TestClient, world: World) -> None:
    h, _ = _ws(world)
    nodes = [
        {"node": "extract", "kind": "noop"},
        {"node": "train", "kind": "noop", "after": ["extract"]},
        {"node": "report", "kind": "noop", "after": ["train"]},
    ]
    dag = client.post("/api/v1/workspaces/team/dags", headers=h, json={"name": "etl", "nodes": nodes}).json()
    states = {j["dag_node"]: j["state"] for j in dag["jobs"]}
    assert states == {"extract": "queued", "train": "pending", "report": "pending"}
    assert len(dag["edges"]) == 2
    extract = next(j for j in dag["jobs"] if j["dag_node"] == "extract")
    client.post(f"/api/v1/workspaces/team/jobs/{extract['id']}/cancel", headers=h)
    again = client.get(f"/api/v1/workspaces/team/dags/{dag['dag_id']}", headers=h).json()
    assert {j["dag_node"]: j["state"] for j in again["jobs"]} == {
        "extract": "cancelled",
        "train": "upstream_failed",
        "report": "upstream_failed",
    }
    retried = client.post(f"/api/v1/workspaces/team/jobs/{extract['id']}/retry", headers=h).json()
    assert retried["state"] == "queued"
    again = client.get(f"/api/v1/workspaces/team/dags/{dag['dag_id']}", headers=h).json()
    assert {j["dag_node"]: j["state"] for j in again["jobs"]} == {
        "extract": "queued",
        "train": "pending",
        "report": "pending",
    }


def test_job_kinds_are_listed_with_their_spec_schema(client: TestClient, world: World) -> None:
    h, _ = _ws(world)
    kinds = {k["name"]: k for k in client.get("/api/v1/job-kinds", headers=h).json()}
    assert {"noop", "sleep", "fail", "script"} <= set(kinds)
    assert "seconds" in kinds["sleep"]["spec_schema"]["properties"]


BATCH = "/api/v1/workspaces/team/jobs:batch"


def test_a_batch_is_queued_in_order_with_one_audit_event_each(client: TestClient, world: World) -> None:
    h, _ = _ws(world)
    first = client.post("/api/v1/workspaces/team/jobs", headers=h, json={"kind": "noop"}).json()
    body = {
        "jobs": [
            {"kind": "sleep", "name": "a", "spec": {"seconds": 0}},
            {"kind": "noop", "name": "b", "priority": 5, "resources": {"cpus": 0.25}},
            {"kind": "noop", "name": "c", "depends_on": [first["id"]]},
        ]
    }
    r = client.post(BATCH, headers=h, json=body)
    assert r.status_code == 201, r.text
    items = r.json()["items"]
    assert [j["name"] for j in items] == ["a", "b", "c"]
    assert [j["state"] for j in items] == ["queued", "queued", "pending"]
    assert items[0]["spec"] == {"seconds": 0.0, "steps": 10, "output": ""}  # normalised by its kind
    assert items[1]["priority"] == 5
    assert items[2]["depends_on"] == [first["id"]]
    listed = client.get("/api/v1/workspaces/team/jobs", headers=h, params={"limit": 10}).json()["items"]
    assert {j["id"] for j in items} <= {j["id"] for j in listed}
    audit = client.get("/api/v1/workspaces/team/audit", headers=h, params={"action": "job.submit"})
    assert audit.status_code == 200, audit.text
    assert {j["id"] for j in items} <= {e["target_id"] for e in audit.json()["items"]}


def test_a_batch_with_one_bad_job_queues_none_and_names_it(client: TestClient, world: World) -> None:
    h, viewer = _ws(world)
    bad = {"jobs": [{"kind": "noop"}, {"kind": "sleep", "spec": {"seconds": -1}}]}
    r = client.post(BATCH, headers=h, json=bad)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"][:5] == ["body", "jobs", "1", "spec", "seconds"]
    unknown = {"jobs": [{"kind": "noop"}, {"kind": "noop", "depends_on": ["no-such-job"]}]}
    r = client.post(BATCH, headers=h, json=unknown)
    assert r.status_code == 404
    assert r.json()["errors"][0]["loc"] == ["body", "jobs", "1", "depends_on"]
    assert client.post(BATCH, headers=h, json={"jobs": []}).status_code == 422
    assert client.post(BATCH, headers=h, json={"jobs": [{"kind": "noop"}] * 1001}).status_code == 422
    assert client.get("/api/v1/workspaces/team/jobs", headers=h).json()["items"] == []
    assert client.post(BATCH, headers=viewer, json={"jobs": [{"kind": "noop"}]}).status_code == 403
    stranger = world.user("sam")
    assert client.post(BATCH, headers=stranger.headers, json={"jobs": [{"kind": "noop"}]}).status_code == 404

"""Pipelines and versions through the API: CRUD, a version per changed save, apply and export,
the operator palette, validation without running, and workspace isolation."""

from __future__ import annotations

from typing import Any

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dais.db import Database
from dais.jobs.models import Job
from tests.pipelines.api.helpers import OTHER, WS, Team, chain, node


def _create(
    api: TestClient, team: Team, name: str = "etl", graph: dict[str, Any] | None = None
) -> dict[str, Any]:
    body = {
        "name": name,
        "description": "demo",
        "graph": graph or chain(node("src", "source", dataset="people")),
    }
    r = api.post(f"{WS}/pipelines", headers=team.h, json=body)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def test_operators_list_ports_and_param_schemas(api: TestClient, team: Team) -> None:
    r = api.get("/api/v1/operators", headers=team.h)
    assert r.status_code == 200, r.text
    ops = {o["id"]: o for o in r.json()}
    assert {"source", "sink", "filter", "cast", "scale", "profile"} <= set(ops)
    scale = ops["scale"]
    assert [p["name"] for p in scale["outputs"]] == ["out", "transform"]
    assert scale["outputs"][1]["type"] == "transform"
    picker = scale["params_schema"]["properties"]["columns"]
    assert picker["x-dais-columns"]["port"] == "in"
    assert ops["source"]["inputs"] == []
    assert api.get("/api/v1/operators").status_code == 401


def test_create_read_list_rename_and_delete_a_pipeline(api: TestClient, team: Team) -> None:
    created = _create(api, team)
    assert created["current_version"] == 1
    assert created["graph"]["nodes"][0]["id"] == "src"
    got = api.get(f"{WS}/pipelines/etl", headers=team.h).json()
    assert got["id"] == created["id"]
    assert got["last_run"] is None
    assert api.get(f"{WS}/pipelines/{created['id']}", headers=team.h).status_code == 200
    r = api.post(f"{WS}/pipelines", headers=team.h, json={"name": "etl"})
    assert r.status_code == 409
    assert api.post(f"{WS}/pipelines", headers=team.h, json={"name": "Bad Name"}).status_code == 422
    r = api.patch(f"{WS}/pipelines/etl", headers=team.h, json={"name": "etl2", "description": "x"})
    assert r.status_code == 200
    assert r.json()["name"] == "etl2"
    listed = api.get(f"{WS}/pipelines", headers=team.h, params={"q": "etl"}).json()
    assert [p["name"] for p in listed["items"]] == ["etl2"]
    assert api.delete(f"{WS}/pipelines/etl2", headers=team.h).status_code == 204
    assert api.get(f"{WS}/pipelines/etl2", headers=team.h).status_code == 404


def test_a_changed_graph_makes_a_new_version_and_an_unchanged_one_does_not(
    api: TestClient, team: Team
) -> None:
    _create(api, team)
    graph = chain(node("src", "source", dataset="people"), node("keep", "filter", expression="age > 30"))
    r = api.post(f"{WS}/pipelines/etl/versions", headers=team.h, json={"graph": graph, "message": "filter"})
    assert r.status_code == 201
    assert r.json()["number"] == 2
    r = api.post(f"{WS}/pipelines/etl/versions", headers=team.h, json={"graph": graph})
    assert r.status_code == 200
    assert r.json()["number"] == 2
    versions = api.get(f"{WS}/pipelines/etl/versions", headers=team.h).json()["items"]
    assert [(v["number"], v["nodes"]) for v in versions] == [(2, 2), (1, 1)]
    assert versions[0]["message"] == "filter"
    v1 = api.get(f"{WS}/pipelines/etl/versions/1", headers=team.h).json()
    assert [n["id"] for n in v1["graph"]["nodes"]] == ["src"]
    assert api.get(f"{WS}/pipelines/etl/versions/9", headers=team.h).status_code == 404
    assert api.get(f"{WS}/pipelines/etl", headers=team.h).json()["current_version"] == 2
    bad = {"graph": {"nodes": [{"id": "bad id!", "operator": "x"}]}}
    assert api.post(f"{WS}/pipelines/etl/versions", headers=team.h, json=bad).status_code == 422


def test_apply_creates_then_configures_then_changes_nothing_and_export_round_trips(
    api: TestClient, team: Team
) -> None:
    spec = {"description": "d", "graph": chain(node("src", "source", dataset="people"))}
    r = api.put(f"{WS}/pipelines/etl", headers=team.h, json=spec)
    assert r.status_code == 201
    assert r.json()["action"] == "created"
    assert api.put(f"{WS}/pipelines/etl", headers=team.h, json=spec).json()["action"] == "unchanged"
    spec["graph"] = chain(node("src", "source", dataset="people"), node("f", "filter", expression="age > 1"))
    r = api.put(f"{WS}/pipelines/etl", headers=team.h, json=spec)
    assert r.json()["action"] == "configured"
    assert r.json()["pipeline"]["current_version"] == 2
    text = api.get(f"{WS}/pipelines/etl/export", headers=team.h).text
    doc = yaml.safe_load(text)
    assert doc["kind"] == "Pipeline"
    assert doc["metadata"] == {"workspace": "team", "name": "etl"}
    again = {"description": doc["spec"]["description"], "graph": doc["spec"]["graph"]}
    assert api.put(f"{WS}/pipelines/etl", headers=team.h, json=again).json()["action"] == "unchanged"
    old = yaml.safe_load(api.get(f"{WS}/pipelines/etl/export?version=1", headers=team.h).text)
    assert len(old["spec"]["graph"]["nodes"]) == 1


def test_validate_reports_each_error_against_its_node_and_field(api: TestClient, team: Team) -> None:
    graph = {
        "nodes": [
            node("src", "source", dataset="nowhere"),
            node("s", "scale", method="nope"),
            node("x", "no_such_operator"),
            node("c", "filter", expression="a > 1"),
        ],
        "edges": [{"source": "src", "target": "s"}],
    }
    r = api.post(f"{WS}/pipelines/validate", headers=team.h, json={"graph": graph})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["valid"] is False
    found = {(e["node_id"], e["part"], e["code"]) for e in body["errors"]}
    assert ("src", "params", "param_invalid") in found  # unknown dataset in this workspace
    assert ("x", "operator", "unknown_operator") in found
    assert ("c", "inputs", "unconnected") in found
    assert ("s", "params", "param_invalid") in found
    src = next(e for e in body["errors"] if e["node_id"] == "src")
    assert src["field"] == "dataset"
    assert src["loc"] == ["nodes", "src", "params", "dataset"]
    assert "nowhere" in src["message"]


def test_an_invalid_pipeline_run_is_a_422_per_node_and_field_and_starts_no_job(
    api: TestClient, team: Team, db: Database
) -> None:
    _create(
        api, team, graph=chain(node("src", "source", dataset="nowhere"), node("f", "filter", expression=""))
    )
    r = api.post(f"{WS}/pipelines/etl/runs", headers=team.h, json={"mode": "full"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "pipeline_invalid"
    locs = [e["loc"] for e in body["errors"]]
    assert ["nodes", "src", "params", "dataset"] in locs
    assert ["nodes", "f", "params", "expression"] in locs
    r = api.post(f"{WS}/pipelines/etl/runs", headers=team.h, json={"from_node": "nope"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "from_node"]
    with db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0
    assert api.get(f"{WS}/pipelines/etl/runs", headers=team.h).json()["items"] == []


def test_pipelines_are_invisible_across_workspaces_and_viewers_cannot_change_them(
    api: TestClient, team: Team
) -> None:
    created = _create(api, team)
    eve = team.eve.headers
    assert api.get(f"{OTHER}/pipelines/etl", headers=eve).status_code == 404
    assert api.get(f"{OTHER}/pipelines/{created['id']}", headers=eve).status_code == 404
    assert api.get(f"{OTHER}/pipelines", headers=eve).json()["items"] == []
    assert api.get(f"{WS}/pipelines/etl", headers=eve).status_code in (403, 404)
    assert api.post(f"{WS}/pipelines/etl/runs", headers=eve, json={}).status_code in (403, 404)
    assert api.delete(f"{WS}/pipelines/etl", headers=eve).status_code in (403, 404)
    viewer = team.victor.headers
    assert api.get(f"{WS}/pipelines/etl", headers=viewer).status_code == 200
    assert api.post(f"{WS}/pipelines/validate", headers=viewer, json={"graph": {}}).status_code == 200
    assert api.patch(f"{WS}/pipelines/etl", headers=viewer, json={"description": "x"}).status_code == 403
    assert api.post(f"{WS}/pipelines/etl/runs", headers=viewer, json={}).status_code == 403
    assert api.delete(f"{WS}/pipelines/etl", headers=viewer).status_code == 403


def test_a_queued_run_is_cancelled_with_its_job(api: TestClient, team: Team) -> None:
    _create(api, team, graph={"nodes": [], "edges": []})  # no worker: the run stays queued
    r = api.post(f"{WS}/pipelines/etl/runs", headers=team.h, json={"mode": "debug"})
    assert r.status_code == 202, r.text
    run = r.json()
    cancelled = api.post(f"{WS}/pipelines/etl/runs/{run['id']}/cancel", headers=team.h)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert api.get(f"{WS}/jobs/{run['job_id']}", headers=team.h).json()["state"] == "cancelled"
    detail = api.get(f"{WS}/pipelines/etl/runs/{run['id']}", headers=team.h).json()
    assert detail["status"] == "cancelled"
    assert detail["finished_at"]
    assert api.post(f"{WS}/pipelines/etl/runs/{run['id']}/cancel", headers=team.h).status_code == 409
    assert (
        api.post(f"{WS}/pipelines/etl/runs/{run['id']}/cancel", headers=team.victor.headers).status_code
        == 403
    )

"""Pipeline runs with a real worker: a full run writes a dataset version with lineage; a debug run
keeps node samples and writes nothing; a failing node fails the run, skips its downstream and
leaves the inputs alone, and a run from that node after the fix reuses the cached upstream; runs
compare side by side; a schedule runs a pipeline with ``${ds}``; runs and outputs stay in their
workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.pipelines.api.helpers import (
    OTHER,
    WS,
    Team,
    chain,
    node,
    register_people,
    wait_job,
    wait_run,
)

pytestmark = pytest.mark.slow


def _pipeline(api: TestClient, team: Team, graph: dict[str, Any], name: str = "etl") -> None:
    r = api.post(f"{WS}/pipelines", headers=team.h, json={"name": name, "graph": graph})
    assert r.status_code == 201, r.text


def _run(api: TestClient, team: Team, name: str = "etl", **body: Any) -> dict[str, Any]:
    r = api.post(f"{WS}/pipelines/{name}/runs", headers=team.h, json=body)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    assert r.json()["job_id"]
    finished: dict[str, Any] = wait_run(api, team.h, name, r.json()["id"])
    return finished


def _nodes(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["node_id"]: n for n in run["nodes"]}


def test_a_full_run_writes_a_dataset_version_with_lineage(
    api: TestClient, team: Team, data_root: Path, worker: None
) -> None:
    register_people(api, team.h, data_root)
    graph = chain(
        node("src", "source", dataset="people"),
        node("adults", "filter", expression="age >= ${min_age}"),
        node("cols", "select", columns=["id", "age", "city"]),
        node("out", "sink", dataset="adults"),
        variables=[{"name": "min_age", "default": "18"}],
    )
    _pipeline(api, team, graph)
    checked = api.post(f"{WS}/pipelines/etl/validate", headers=team.h).json()
    assert checked["valid"] is True, checked["errors"]
    cols = checked["schemas"]["cols"]["out"]["columns"]
    assert [c["name"] for c in cols] == ["id", "age", "city"]

    run = _run(api, team, variables={"min_age": "40"})
    assert run["status"] == "succeeded", run
    nodes = _nodes(run)
    assert [n["status"] for n in run["nodes"]] == ["succeeded"] * 4
    expected = sum(1 for i in range(50) if 10 + (i * 7) % 60 >= 40)
    assert nodes["src"]["rows_out"] == 50
    assert nodes["adults"]["rows_in"] == 50
    assert nodes["adults"]["rows_out"] == expected
    assert nodes["out"]["rows_in"] == expected
    assert run["outputs"] == [
        {"node_id": "out", "dataset": "adults", "dataset_id": run["outputs"][0]["dataset_id"], "version": 1,
         "rows": expected}
    ]  # fmt: skip
    detail = api.get(f"{WS}/pipelines/etl/runs/{run['id']}/nodes/cols", headers=team.h).json()
    assert len(detail["sample"]["out"]) == expected
    assert set(detail["sample"]["out"][0]) == {
        "id",
        "age",
        "city",
    }
    assert all(row["age"] >= 40 for row in detail["sample"]["out"])

    ds = api.get(f"{WS}/datasets/adults", headers=team.h).json()
    assert ds["row_count"] == expected
    assert [c["name"] for c in ds["schema"]] == ["id", "age", "city"]
    versions = api.get(f"{WS}/datasets/adults/versions", headers=team.h).json()["items"]
    assert versions[0]["kind"] == "materialized"
    assert versions[0]["produced_by_job_id"] == run["job_id"]
    lineage = api.get(f"{WS}/datasets/adults/lineage", headers=team.h).json()
    assert [(e["input_dataset"], e["input_version"], e["job_id"]) for e in lineage["upstream"]] == [
        ("people", 1, run["job_id"])
    ]
    # A second run appends a new version of the same dataset, read back through the data domain.
    again = _run(api, team, variables={"min_age": "60"})
    assert again["outputs"][0]["version"] == 2
    latest = api.get(f"{WS}/datasets/adults/versions", headers=team.h).json()["items"][0]
    assert latest["number"] == 2
    assert latest["note"].startswith("written by pipeline run")
    assert latest["row_count"] == sum(1 for i in range(50) if 10 + (i * 7) % 60 >= 60)
    listed = api.get(f"{WS}/pipelines", headers=team.h).json()["items"][0]
    assert listed["last_run"]["id"] == again["id"]
    assert [r["id"] for r in api.get(f"{WS}/pipelines/etl/runs", headers=team.h).json()["items"]] == [
        again["id"],
        run["id"],
    ]
    _stay_in_their_workspace(api, team, graph, run)


def _stay_in_their_workspace(api: TestClient, team: Team, graph: dict[str, Any], run: dict[str, Any]) -> None:
    eve = team.eve.headers
    assert api.get(f"{WS}/pipelines/etl/runs/{run['id']}", headers=eve).status_code in (403, 404)
    r = api.post(f"{OTHER}/pipelines", headers=eve, json={"name": "etl", "graph": graph})
    assert r.status_code == 201
    assert api.get(f"{OTHER}/pipelines/etl/runs/{run['id']}", headers=eve).status_code == 404
    assert api.get(f"{OTHER}/pipelines/etl/runs/{run['id']}/nodes/src", headers=eve).status_code == 404
    assert api.post(f"{OTHER}/pipelines/etl/runs/{run['id']}/cancel", headers=eve).status_code == 404
    compare = {"a": run["id"], "b": run["id"]}
    assert api.get(f"{OTHER}/pipelines/etl/runs/compare", headers=eve, params=compare).status_code == 404
    # Eve's pipeline cannot read alice's datasets: "people" does not exist in her workspace.
    r = api.post(f"{OTHER}/pipelines/etl/runs", headers=eve, json={"variables": {"min_age": "1"}})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["nodes", "src", "params", "dataset"]
    assert api.get(f"{OTHER}/datasets/adults", headers=eve).status_code == 404
    assert api.get(f"{WS}/pipelines/etl/runs/{run['id']}", headers=team.victor.headers).status_code == 200
    r = api.post(f"{WS}/pipelines/etl/runs/{run['id']}/cancel", headers=team.h)
    assert r.status_code == 409  # already finished


def test_a_debug_run_keeps_node_samples_and_writes_nothing(
    api: TestClient, team: Team, data_root: Path, worker: None
) -> None:
    register_people(api, team.h, data_root)
    graph = chain(
        node("src", "source", dataset="people"),
        node("scaled", "scale", columns=["age"]),
        node("stats", "profile"),
    )
    graph["nodes"].append(node("out", "sink", dataset="scaled"))
    graph["edges"].append({"source": "scaled", "target": "out"})
    graph["edges"] = [e for e in graph["edges"] if e["source"] != "scaled" or e["target"] != "stats"]
    graph["edges"].append({"source": "scaled", "target": "stats"})
    _pipeline(api, team, graph)
    run = _run(api, team, mode="debug", sample_rows=10)
    assert run["status"] == "succeeded", run
    assert run["mode"] == "debug"
    assert run["sample_rows"] == 10
    assert run["outputs"] == []
    nodes = _nodes(run)
    assert nodes["src"]["rows_out"] == 10
    assert nodes["scaled"]["rows_out"] == 10
    scaled = api.get(f"{WS}/pipelines/etl/runs/{run['id']}/nodes/scaled", headers=team.h).json()
    assert len(scaled["sample"]["out"]) == 10
    assert scaled["report"]["transform"]["operator"] == "scale"
    stats = api.get(f"{WS}/pipelines/etl/runs/{run['id']}/nodes/stats", headers=team.h).json()
    assert stats["report"], stats
    sink = api.get(f"{WS}/pipelines/etl/runs/{run['id']}/nodes/out", headers=team.h).json()
    assert "nothing written" in sink["log"].lower()
    assert api.get(f"{WS}/datasets/scaled", headers=team.h).status_code == 404


def test_a_failing_node_fails_the_run_and_a_run_from_it_after_the_fix_reuses_the_cached_upstream(
    api: TestClient, team: Team, data_root: Path, worker: None
) -> None:
    register_people(api, team.h, data_root)
    before = api.get(f"{WS}/datasets/people/versions", headers=team.h).json()["items"]
    graph = chain(
        node("src", "source", dataset="people"),
        node("keep", "filter", expression="age > 0"),
        node("cast", "cast", types={"code": "int64"}, safe=False),  # "c0" is no number
        node("out", "sink", dataset="codes"),
    )
    _pipeline(api, team, graph)
    failed = _run(api, team)
    assert failed["status"] == "failed", failed
    assert "cast" in failed["error"]
    nodes = _nodes(failed)
    assert [nodes[n]["status"] for n in ("src", "keep", "cast", "out")] == [
        "succeeded",
        "succeeded",
        "failed",
        "skipped",
    ]
    assert nodes["cast"]["error"]
    assert failed["outputs"] == []
    cast = api.get(f"{WS}/pipelines/etl/runs/{failed['id']}/nodes/cast", headers=team.h).json()
    assert "Failed" in cast["log"]
    job = wait_job(api, team.h, failed["job_id"])
    assert job["state"] == "failed"
    assert "cast" in job["error"]
    # The inputs are untouched and nothing was written.
    assert api.get(f"{WS}/datasets/people/versions", headers=team.h).json()["items"] == before
    assert api.get(f"{WS}/datasets/codes", headers=team.h).status_code == 404

    graph["nodes"][2] = node("cast", "cast", types={"age": "float64"})
    r = api.post(f"{WS}/pipelines/etl/versions", headers=team.h, json={"graph": graph, "message": "fix cast"})
    assert r.status_code == 201
    fixed = _run(api, team, from_node="cast")
    assert fixed["status"] == "succeeded", fixed
    assert fixed["version"] == 2
    assert fixed["from_node"] == "cast"
    nodes = _nodes(fixed)
    assert nodes["src"]["status"] == "cached"
    assert nodes["keep"]["status"] == "cached"
    assert nodes["src"]["cache_key"] == _nodes(failed)["src"]["cache_key"]
    assert nodes["cast"]["status"] == "succeeded"
    assert nodes["out"]["status"] == "succeeded"
    assert fixed["outputs"][0]["dataset"] == "codes"
    assert fixed["outputs"][0]["rows"] == 50

    compared = api.get(
        f"{WS}/pipelines/etl/runs/compare", headers=team.h, params={"a": failed["id"], "b": fixed["id"]}
    ).json()
    rows = {n["node_id"]: n for n in compared["nodes"]}
    assert rows["cast"]["a"]["status"] == "failed"
    assert rows["cast"]["b"]["status"] == "succeeded"
    diffs = {(d["field"], d["a"], d["b"]) for d in rows["cast"]["params"]}
    assert ("types.code", "int64", None) in diffs
    assert ("types.age", None, "float64") in diffs
    assert ("safe", False, None) in diffs
    assert rows["src"]["params"] == []
    assert rows["src"]["b"]["rows_out"] == 50
    r = api.get(f"{WS}/pipelines/etl/runs/compare", headers=team.h, params={"a": failed["id"], "b": "nope"})
    assert r.status_code == 404


def test_a_schedule_runs_the_pipeline_with_ds(
    api: TestClient, team: Team, data_root: Path, worker: None
) -> None:
    register_people(api, team.h, data_root)
    graph = chain(
        node("src", "source", dataset="people"),
        node("day", "filter", expression="'${day}' <> ''"),
        node("out", "sink", dataset="daily"),
        variables=[{"name": "day"}],
    )
    _pipeline(api, team, graph)
    r = api.post(
        f"{WS}/pipelines/etl/schedules",
        headers=team.h,
        json={"name": "nightly", "cron": "0 3 * * *", "run": {"variables": {"day": "${ds}"}}},
    )
    assert r.status_code == 201, r.text
    assert r.json()["template"]["job"]["kind"] == "pipeline.run"
    assert r.json()["next_runs"]
    fired = api.post(f"{WS}/schedules/nightly/trigger", headers=team.h)
    assert fired.status_code == 201, fired.text
    job = wait_job(api, team.h, fired.json()["job_id"])
    assert job["state"] == "succeeded", job["error"]
    runs = api.get(f"{WS}/pipelines/etl/runs", headers=team.h).json()["items"]
    assert len(runs) == 1
    assert runs[0]["job_id"] == job["id"]
    assert runs[0]["status"] == "succeeded"
    assert runs[0]["variables"] == {"day": fired.json()["logical_date"][:10]}
    assert runs[0]["outputs"][0]["dataset"] == "daily"
    # A schedule whose run leaves a used variable without a value is refused at once.
    r = api.post(f"{WS}/pipelines/etl/schedules", headers=team.h, json={"name": "bad", "interval_s": 60})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "variables", "day"]

"""The training API: the algorithm list; launching checks everything before any run or job exists
(422 naming the field), then answers 202 with a SCHEDULED run and its queued job; a script run gets
the MLflow variables; roles and workspaces are enforced."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dais.core.settings import Settings
from dais.db import Database
from dais.jobs.models import Job
from dais.tracking.models import Run
from tests.training.conftest import WS, Team, customers, register

BASE: dict[str, Any] = {"dataset": "customers", "target": "churn", "algorithm": "lightgbm_classifier"}


@pytest.fixture
def data(settings: Settings, db: Database, team: Team) -> None:
    register(settings, db, team.team_id, "customers", customers(40))


def _counts(db: Database) -> tuple[int, int]:
    with db.session(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(Job)) or 0), int(
            s.scalar(select(func.count()).select_from(Run)) or 0
        )


def test_the_algorithm_list_carries_forms_and_spaces(api: TestClient, team: Team) -> None:
    r = api.get("/api/v1/algorithms", headers=team.h)
    assert r.status_code == 200
    listed = {a["name"]: a for a in r.json()}
    lgb = listed["lightgbm_classifier"]
    assert lgb["task"] == "classification"
    assert lgb["runtime"] == "lightgbm"
    assert lgb["iterative"] is True
    props = lgb["params_schema"]["properties"]
    assert props["learning_rate"]["default"] == 0.1
    assert props["learning_rate"]["exclusiveMinimum"] == 0
    assert props["learning_rate"]["description"]
    assert lgb["search_space"]["learning_rate"] == {"type": "float", "low": 0.01, "high": 0.3, "log": True}
    only = api.get("/api/v1/algorithms", params={"task": "clustering"}, headers=team.h).json()
    assert [a["name"] for a in only] == ["kmeans"]
    assert api.get("/api/v1/algorithms").status_code == 401


BAD: list[tuple[dict[str, Any], list[Any]]] = [
    ({"dataset": "nope"}, ["body", "dataset"]),
    ({"version": 9}, ["body", "version"]),
    ({"target": "ghost"}, ["body", "target"]),
    ({"features": ["tenure", "plan"]}, ["body", "features", 1]),
    ({"algorithm": "lightgbm_regressor"}, ["body", "target"]),  # a text target for regression
    ({"algorithm": "deep_magic"}, ["body", "algorithm"]),
    ({"params": {"num_leaves": 1}}, ["body", "params", "num_leaves"]),
    ({"split": {"kind": "kfold", "k": 45}}, ["body", "split", "k"]),
    ({"split": {"kind": "time", "column": "plan"}}, ["body", "split", "column"]),
    ({"split": {"kind": "holdout", "valid_fraction": 1.5}}, ["body", "split", "holdout", "valid_fraction"]),
    ({"dataset": None}, ["body"]),
    ({"transforms": {"pipeline_run": "nope"}}, ["body", "transforms", "pipeline_run"]),
]


def test_bad_requests_answer_422_naming_the_field_before_any_job(
    api: TestClient, team: Team, db: Database, data: None
) -> None:
    for change, loc in BAD:
        r = api.post(f"{WS}/training/runs", headers=team.h, json={**BASE, **change})
        assert r.status_code == 422, (change, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        errors = r.json()["errors"]
        assert any(e["loc"][: len(loc)] == loc for e in errors), (change, errors)
    assert _counts(db) == (0, 0)


def test_an_empty_split_is_refused_before_any_job(
    api: TestClient, team: Team, settings: Settings, db: Database
) -> None:
    register(settings, db, team.team_id, "tiny", customers(60).slice(0, 1))
    register(settings, db, team.team_id, "none", customers(5).slice(0, 0))
    r = api.post(f"{WS}/training/runs", headers=team.h, json={**BASE, "dataset": "tiny"})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "empty_split"
    assert r.json()["errors"][0]["loc"] == ["body", "split", "valid_fraction"]
    r = api.post(f"{WS}/training/runs", headers=team.h, json={**BASE, "dataset": "none"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "dataset"]
    assert _counts(db) == (0, 0)


def test_missing_values_are_refused_for_an_algorithm_that_cannot_take_them(
    api: TestClient, team: Team, settings: Settings, db: Database
) -> None:
    table = customers(60)
    spend = table.column("spend").to_pylist()
    spend[4] = None
    register(settings, db, team.team_id, "holes", table.set_column(1, "spend", pa.array(spend, pa.float64())))
    body = {**BASE, "dataset": "holes", "features": ["tenure", "spend"]}
    r = api.post(f"{WS}/training/runs", headers=team.h, json={**body, "algorithm": "logistic_regression"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "features", 1]
    assert _counts(db) == (0, 0)
    r = api.post(f"{WS}/training/runs", headers=team.h, json=body)  # LightGBM takes them
    assert r.status_code == 202, r.text


def test_a_launch_creates_a_scheduled_run_and_queues_its_job(
    api: TestClient, team: Team, db: Database, data: None
) -> None:
    body = {
        **BASE,
        "experiment": "churn",
        "run_name": "first",
        "params": {"n_estimators": 20},
        "resources": {"cpus": 2},
        "register_as": "churn-model",
    }
    r = api.post(f"{WS}/training/runs", headers=team.h, json=body)
    assert r.status_code == 202, r.text
    out = r.json()
    assert out["status"] == "SCHEDULED"
    assert out["run_name"] == "first"
    job = api.get(f"{WS}/jobs/{out['job_id']}", headers=team.h).json()
    assert job["kind"] == "train.run"
    assert job["state"] == "queued"
    spec = job["spec"]
    assert spec["run_id"] == out["run_id"]
    assert spec["threads"] == 2
    assert spec["params"]["n_estimators"] == 20
    assert spec["params"]["learning_rate"] == 0.1  # defaults filled in
    assert spec["split"]["kind"] == "holdout"
    assert spec["version"] == 1
    with db.session(write=False) as s:
        run = s.get(Run, out["run_id"])
        assert run is not None
        assert run.job_id == out["job_id"]
        assert str(run.experiment_id) == out["experiment_id"]
    # the experiment named is reused by the next launch
    again = api.post(f"{WS}/training/runs", headers=team.h, json={**body, "run_name": None}).json()
    assert again["experiment_id"] == out["experiment_id"]


def test_a_script_run_gets_the_mlflow_variables(api: TestClient, team: Team) -> None:
    body = {"script": {"command": ["python", "-c", "print(1)"], "env": {"A": "1"}}, "experiment": "custom"}
    r = api.post(f"{WS}/training/runs", headers=team.h, json=body)
    assert r.status_code == 202, r.text
    job = api.get(f"{WS}/jobs/{r.json()['job_id']}", headers=team.h).json()
    assert job["kind"] == "train.script"
    assert job["spec"]["run_id"] == r.json()["run_id"]
    assert job["spec"]["experiment_id"] == r.json()["experiment_id"]
    assert job["spec"]["workspace"] == "team"
    bad = {"script": {"command": ["x"], "env": {"MLFLOW_RUN_ID": "mine"}}}
    r = api.post(f"{WS}/training/runs", headers=team.h, json=bad)
    assert r.status_code == 422, r.text
    r = api.post(
        f"{WS}/training/runs", headers=team.h, json={"script": {"command": ["x"]}, "algorithm": "ridge"}
    )
    assert r.status_code == 422


def test_viewers_cannot_launch_and_other_workspaces_stay_hidden(
    api: TestClient, team: Team, db: Database, data: None
) -> None:
    r = api.post(f"{WS}/training/runs", headers=team.victor.headers, json=BASE)
    assert r.status_code == 403
    r = api.post(f"{WS}/training/runs", headers=team.eve.headers, json=BASE)
    assert r.status_code == 404
    r = api.post("/api/v1/workspaces/other/training/runs", headers=team.eve.headers, json=BASE)
    assert r.status_code == 422  # eve's workspace has no such dataset
    assert r.json()["errors"][0]["loc"] == ["body", "dataset"]
    assert _counts(db) == (0, 0)

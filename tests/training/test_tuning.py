"""The tuning API without a worker: requests are checked before anything is queued (422 naming the
field), a study is created with its parent run and coordinator job, a queued study stops at once,
roles and workspaces are enforced, a coordinator that ended for good closes its study; and the
coordinator's step ladder ("rungs") and search-space helpers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dais.app import create_app
from dais.core.errors import InvalidInput
from dais.db import Database, create_database
from dais.jobs.kinds import AttemptEnded
from dais.jobs.models import Job
from dais.tracking.models import Run
from dais.training.tuning import spaces
from dais.training.tuning.following import Live, rungs_between
from dais.training.tuning.jobs import TuneKind
from dais.training.tuning.models import Study
from dais.training.tuning.schemas import FloatParam
from tests.conftest import World, _PgDatabases, make_settings
from tests.training.conftest import WS, Team, customers, register
from tests.training.tuning_fixtures import module_database

BASE: dict[str, Any] = {
    "algorithm": "logistic_regression",
    "dataset": "customers",
    "target": "churn",
    "max_trials": 4,
}
SCRIPT: dict[str, Any] = {
    "script": {"command": ["python", "-c", "print(1)"]},
    "space": {"lr": {"type": "float", "low": 0.001, "high": 0.1, "log": True}},
    "metric": "val_loss",
    "max_trials": 2,
}


@dataclass
class Env:
    api: TestClient
    db: Database
    team: Team


@pytest.fixture(scope="module")
def env(_db_template: str | _PgDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """One app and database for the module: alice owns ``team`` (victor views it), eve owns ``other``;
    ``team`` has the dataset ``customers``. Each test makes its own studies."""
    tmp = tmp_path_factory.mktemp("tuning-api")
    with module_database(_db_template, tmp) as url:
        settings = make_settings(tmp / "home", url)
        db = create_database(settings.database_url)
        try:
            world = World(db)
            alice, victor, eve = world.user("alice"), world.user("victor"), world.user("eve")
            team_id = world.workspace("team", alice, members={"victor": "viewer"})
            other_id = world.workspace("other", eve)
            register(settings, db, team_id, "customers", customers(40))
            with TestClient(create_app(settings, db=db)) as api:
                yield Env(api, db, Team(alice, victor, eve, team_id, other_id))
        finally:
            db.dispose()


def _counts(db: Database) -> tuple[int, ...]:
    with db.session(write=False) as s:
        return tuple(int(s.scalar(select(func.count()).select_from(t)) or 0) for t in (Study, Job, Run))


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"algorithm": "deep_magic"}, ["body", "algorithm"]),
        ({"space": {"gamma": {"type": "float", "low": 0.1, "high": 1}}}, ["body", "space", "gamma"]),
        ({"space": {"C": {"type": "float", "low": 0, "high": 1}}}, ["body", "space", "C"]),
        ({"space": {"C": {"type": "float", "low": 2, "high": 1}}}, ["body", "space", "C", "low"]),
        (
            {"space": {"C": {"type": "float", "low": 1, "high": 2, "log": True, "step": 0.5}}},
            ["body", "space", "C"],
        ),
        (
            {"space": {"class_weight": {"type": "categorical", "choices": ["none", "some"]}}},
            ["body", "space"],
        ),
        ({"space": {"max_iter": {"type": "int", "low": 1, "high": 100}}}, ["body", "space", "max_iter"]),
        ({"sampler": "grid"}, ["body", "space", "C"]),  # a float without a step cannot be enumerated
        ({"max_trials": None}, ["body", "max_trials"]),
        ({"max_trials": 0}, ["body", "max_trials"]),
        ({"max_wall_time_s": -5}, ["body", "max_wall_time_s"]),
        ({"concurrency": 0}, ["body", "concurrency"]),
        ({"metric": "rmse"}, ["body", "metric"]),
        ({"target": "ghost"}, ["body", "target"]),
        ({"dataset": "nope"}, ["body", "dataset"]),
        ({"params": {"C": -1}}, ["body", "params", "C"]),
        ({"enqueue": [{"C": 5000.0}]}, ["body", "enqueue", 0, "C"]),
        ({"enqueue": [{"tol": 0.1}]}, ["body", "enqueue", 0, "tol"]),
        ({"pruner": {"kind": "hyperband"}}, ["body", "pruner", "kind"]),
        ({"trial_job": {"resources": {"cpus": 0}}}, ["body", "trial_job", "resources", "cpus"]),
    ],
)
def test_bad_study_requests_answer_422_naming_the_field_before_anything_is_queued(
    env: Env, change: dict[str, Any], loc: list[Any]
) -> None:
    before = _counts(env.db)
    r = env.api.post(f"{WS}/studies", headers=env.team.h, json={**BASE, **change})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = r.json()["errors"]
    assert any(e["loc"][: len(loc)] == loc for e in errors), errors
    assert _counts(env.db) == before


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({**SCRIPT, "metric": None}, ["body", "metric"]),
        ({**SCRIPT, "metric": "weirdness"}, ["body", "direction"]),
        ({**SCRIPT, "space": None}, ["body"]),
        ({**SCRIPT, "promote_to": "m"}, ["body"]),
        ({**SCRIPT, "script": {"command": ["x"], "env": {"MLFLOW_RUN_ID": "1"}}}, ["body", "script"]),
        ({**SCRIPT, "algorithm": "ridge", "dataset": "customers"}, ["body"]),
        (
            {
                **BASE,
                "sampler": "grid",
                "space": {"C": {"type": "float", "low": 0.1, "high": 1, "step": 0.3}},
                "enqueue": [{"C": 0.4}],
            },
            ["body", "enqueue"],
        ),
        (
            {
                "task": "classification",
                "dataset": "customers",
                "target": "churn",
                "max_wall_time_s": 10,
                "algorithms": ["ridge"],
            },
            ["body", "algorithms", 0],
        ),
        (
            {
                "task": "classification",
                "dataset": "customers",
                "target": "churn",
                "max_wall_time_s": 10,
                "algorithms": ["nope"],
            },
            ["body", "algorithms", "0"],
        ),
        ({"task": "classification", "dataset": "customers", "target": "churn"}, ["body", "max_wall_time_s"]),
        (
            {"task": "regression", "dataset": "customers", "target": "churn", "max_wall_time_s": 10},
            ["body", "target"],
        ),
    ],
)
def test_bad_script_and_auto_requests_answer_422(env: Env, body: dict[str, Any], loc: list[Any]) -> None:
    before = _counts(env.db)
    route = f"{WS}/studies:auto" if "task" in body else f"{WS}/studies"
    r = env.api.post(route, headers=env.team.h, json=body)
    assert r.status_code == 422, r.text
    errors = r.json().get("errors", [])
    assert any(e["loc"][: len(loc)] == loc for e in errors), errors
    assert _counts(env.db) == before


def test_a_study_is_queued_with_its_parent_run_and_a_queued_one_stops_at_once(env: Env) -> None:
    api, db, team = env.api, env.db, env.team
    r = api.post(f"{WS}/studies", headers=team.h, json={**BASE, "name": "lr", "concurrency": 2})
    assert r.status_code == 202, r.text
    created = r.json()
    assert created["state"] == "queued"
    job = api.get(f"{WS}/jobs/{created['coordinator_job_id']}", headers=team.h).json()
    assert job["kind"] == "train.tune"
    assert job["spec"] == {"study_id": created["id"]}
    assert job["max_attempts"] > 1  # a coordinator whose worker dies runs again
    detail = api.get(f"{WS}/studies/lr", headers=team.h).json()
    assert detail["id"] == created["id"]
    assert detail["space"] == {
        "C": {"type": "float", "low": 0.001, "high": 1000.0, "log": True},
        "class_weight": {"type": "categorical", "choices": ["none", "balanced"]},
    }
    assert detail["base_spec"]["kind"] == "train.run"
    assert detail["base_spec"]["spec"]["dataset"] == "customers"
    assert detail["trial_list"] == []
    assert detail["importance"] == {}
    assert detail["importance_note"]
    assert detail["metric"] == "accuracy"
    with db.session(write=False) as s:
        parent = s.get(Run, created["parent_run_id"])
        assert parent is not None
        assert parent.status == "SCHEDULED"
        assert parent.name == "lr"
    # The name is taken; promotion needs a complete trial.
    again = api.post(f"{WS}/studies", headers=team.h, json={**BASE, "name": "lr"})
    assert again.status_code == 409
    r = api.post(f"{WS}/studies/lr/promote", headers=team.h, json={"name": "m"})
    assert r.status_code == 409
    # Its coordinator has not started: stopping ends it now.
    r = api.post(f"{WS}/studies/lr/stop", headers=team.h)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "stopped"
    job = api.get(f"{WS}/jobs/{created['coordinator_job_id']}", headers=team.h).json()
    assert job["state"] == "cancelled"
    with db.session(write=False) as s:
        assert s.scalar(select(Run.status).where(Run.id == created["parent_run_id"])) == "KILLED"
    assert api.post(f"{WS}/studies/lr/stop", headers=team.h).status_code == 409
    listed = api.get(f"{WS}/studies", headers=team.h, params={"state": "stopped"}).json()
    assert "lr" in [s["name"] for s in listed["items"]]
    assert all(s["state"] == "stopped" for s in listed["items"])


def test_an_auto_model_searches_each_presets_own_space(env: Env) -> None:
    api, team = env.api, env.team
    body = {"task": "classification", "dataset": "customers", "target": "churn", "max_wall_time_s": 60}
    r = api.post(f"{WS}/studies:auto", headers=team.h, json=body)
    assert r.status_code == 202, r.text
    detail = api.get(f"{WS}/studies/{r.json()['id']}", headers=team.h).json()
    assert detail["kind"] == "auto"
    assert detail["metric"] == "accuracy"
    presets = detail["space"]["algorithm"]["choices"]
    assert {"logistic_regression", "lightgbm_classifier", "xgboost_classifier"} <= set(presets)
    assert "mlp_classifier" not in presets  # torch presets only when asked for
    assert set(detail["space"]["spaces"]) == set(presets)
    assert detail["space"]["spaces"]["logistic_regression"]["C"]["log"] is True


def test_roles_and_workspaces_are_enforced(env: Env) -> None:
    api, team = env.api, env.team
    r = api.post(f"{WS}/studies", headers=team.h, json={**BASE, "name": "mine"})
    assert r.status_code == 202, r.text
    # A viewer reads but cannot start or stop.
    victor = team.victor.headers
    assert api.get(f"{WS}/studies/mine", headers=victor).status_code == 200
    assert api.post(f"{WS}/studies", headers=victor, json=BASE).status_code == 403
    assert api.post(f"{WS}/studies/mine/stop", headers=victor).status_code == 403
    # Another workspace's member sees nothing of it.
    eve = team.eve.headers
    for method, path in [
        ("GET", f"{WS}/studies"),
        ("GET", f"{WS}/studies/mine"),
        ("POST", f"{WS}/studies/mine/stop"),
    ]:
        assert api.request(method, path, headers=eve).status_code == 404
    assert api.get("/api/v1/workspaces/other/studies/mine", headers=eve).status_code == 404
    assert api.get("/api/v1/workspaces/other/studies", headers=eve).json()["items"] == []
    r = api.post("/api/v1/workspaces/other/studies", headers=eve, json=BASE)
    assert r.status_code == 422  # eve's workspace has no such dataset
    assert api.get(f"{WS}/studies/{r.json().get('id', 'x')}", headers=team.h).status_code == 404


def test_a_coordinator_that_ended_for_good_closes_its_study(env: Env) -> None:
    api, db, team = env.api, env.db, env.team
    created = api.post(f"{WS}/studies", headers=team.h, json={**BASE, "name": "doomed"}).json()
    job_id = created["coordinator_job_id"]
    with db.session() as s:  # as if its last attempt died: the job failed
        job = s.get(Job, job_id)
        assert job is not None
        job.state, job.error = "failed", "the process died"
    detail = api.get(f"{WS}/studies/doomed", headers=team.h).json()
    assert detail["state"] == "failed"  # seen at once from its job
    assert "the process died" in detail["error"]
    ended = AttemptEnded(job_id, 1, team.team_id, "train.tune", {"study_id": created["id"]}, "failed", "boom")
    TuneKind.on_finished(db, AttemptEnded(**{**ended.__dict__, "retrying": True}))
    with db.session(write=False) as s:
        assert s.scalar(select(Study.state).where(Study.id == created["id"])) == "queued"  # it will run again
    TuneKind.on_finished(db, ended)
    with db.session(write=False) as s:
        study = s.get(Study, created["id"])
        assert study is not None
        assert study.state == "failed"
        assert study.ended_at is not None
        assert s.scalar(select(Run.status).where(Run.id == created["parent_run_id"])) == "FAILED"


def test_rungs_climb_two_per_octave_and_take_the_last_value_at_or_below() -> None:
    assert rungs_between(-1, 40) == [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32]
    assert rungs_between(4, 16) == [6, 8, 12, 16]
    assert rungs_between(16, 16) == []
    live = Live(0, "row", None, None, trial=None)  # type: ignore[arg-type]
    live.add_points([(1, 0.9), (2, 0.8), (5, 0.7), (10, 0.6)])
    assert live.rungs == {1: 0.9, 2: 0.8, 3: 0.8, 4: 0.8, 6: 0.7, 8: 0.7}
    live.add_points([(10, 0.1), (13, 0.5)])  # a step already folded in is not read again
    assert live.rungs[12] == 0.6
    assert live.seen_step == 13


def test_a_grid_enumerates_ints_categories_and_stepped_floats() -> None:
    space: dict[str, dict[str, Any]] = {
        "a": {"type": "int", "low": 1, "high": 5, "step": 2},
        "b": {"type": "categorical", "choices": ["x", "y"]},
        "c": {"type": "float", "low": 0.1, "high": 0.3, "step": 0.1},
    }
    values = spaces.grid(space, ["space"])
    assert values == {"a": [1, 3, 5], "b": ["x", "y"], "c": [0.1, 0.2, 0.3]}
    assert spaces.grid_size(values) == 18
    with pytest.raises(InvalidInput):
        spaces.grid({"d": {"type": "float", "low": 0, "high": 1}}, ["space"])
    with pytest.raises(InvalidInput):
        spaces.check_param("e", FloatParam(type="float", low=0, high=1, log=True), ["space", "e"])

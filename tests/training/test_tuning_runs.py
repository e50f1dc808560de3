"""Tuning studies through a real API server and a real worker: trials run as jobs up to the
concurrency, each a child run; a grid enumerates; the median pruner cancels a bad trial; a wall-time
budget stops the study; a killed coordinator continues without repeating trials; an auto model ranks
presets; a script study reads its objective from the metric the script logs.

One server, one worker and one database serve the whole module (the worker's training launcher,
which imports scikit-learn, LightGBM, XGBoost and Optuna, starts once); each test makes its own
studies.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from dais.app import create_app
from dais.core.settings import Settings
from dais.db import Database, create_database
from dais.jobs.models import Job, JobAttempt
from dais.jobs.worker import JobWorker
from dais.storage import open_store
from dais.tracking.models import Run, RunTag
from dais.training.tuning.models import Trial
from tests.conftest import Actor, World, _PgDatabases, make_settings
from tests.jobs.conftest import running_worker, wait_for
from tests.training.conftest import customers, register
from tests.training.tuning_fixtures import module_database

pytestmark = pytest.mark.slow

WS = "/api/v1/workspaces/team"
LR = {"algorithm": "logistic_regression", "dataset": "customers", "target": "churn"}
FINAL = {"completed", "stopped", "failed"}


@dataclass
class Env:
    url: str
    settings: Settings
    db: Database
    worker: JobWorker
    alice: Actor
    eve: Actor
    team_id: str

    def client(self, actor: Actor | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=(actor or self.alice).headers, timeout=30)


@pytest.fixture(scope="module")
def env(_db_template: str | _PgDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("tuning")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    with module_database(_db_template, tmp) as url:
        settings = make_settings(tmp / "home", url, port=port)
        db = create_database(settings.database_url)
        try:
            world = World(db)
            alice, eve = world.user("alice"), world.user("eve")
            team_id = world.workspace("team", alice)
            world.workspace("other", eve)
            register(settings, db, team_id, "customers", customers(200))
            app = create_app(settings, db=db)
            server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
            thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
            thread.start()
            while not server.started:
                assert thread.is_alive(), "the API server did not start"
                time.sleep(0.01)
            try:
                with running_worker(settings, db, open_store(settings), cpus=8.0, slots=6) as worker:
                    yield Env(f"http://127.0.0.1:{port}", settings, db, worker, alice, eve, team_id)
            finally:
                server.should_exit = True
                thread.join(timeout=10)
        finally:
            sock.close()
            db.dispose()


def start(http: httpx.Client, body: dict[str, Any], route: str = f"{WS}/studies") -> dict[str, Any]:
    r = http.post(route, json=body)
    assert r.status_code == 202, r.text
    created: dict[str, Any] = r.json()
    return created


def wait_study(http: httpx.Client, study: str, timeout: float = 90, until: Any = None) -> dict[str, Any]:
    """The study once it ended (or once ``until(detail)`` holds)."""
    deadline = time.monotonic() + timeout
    while True:
        r = http.get(f"{WS}/studies/{study}")
        assert r.status_code == 200, r.text
        detail: dict[str, Any] = r.json()
        if until(detail) if until else detail["state"] in FINAL:
            return detail
        if time.monotonic() > deadline:
            raise AssertionError(f"study still {detail['state']} after {timeout}s: {detail['trial_list']}")
        time.sleep(0.1)


def _trials(db: Database, study_id: str) -> list[Trial]:
    with db.session(write=False) as s:
        return list(s.scalars(select(Trial).where(Trial.study_id == study_id).order_by(Trial.number)))


def _run_status(db: Database, run_id: str, until: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while True:
        with db.session(write=False) as s:
            status = s.scalar(select(Run.status).where(Run.id == run_id))
        if status == until or time.monotonic() > deadline:
            return str(status)
        time.sleep(0.05)


def _jobs(db: Database, ids: list[str]) -> dict[str, Job]:
    with db.session(write=False) as s:
        return {j.id: j for j in s.scalars(select(Job).where(Job.id.in_(ids)))}


def test_a_grid_study_runs_every_point_as_a_child_run_and_promotes_the_best(env: Env) -> None:
    body = {
        **LR,
        "name": "lr-grid",
        "sampler": "grid",
        "concurrency": 2,
        "space": {
            "C": {"type": "categorical", "choices": [0.01, 1.0]},
            "class_weight": {"type": "categorical", "choices": ["none", "balanced"]},
        },
        "promote_to": "churn-best",
    }
    with env.client() as http:
        created = start(http, body)
        assert created["max_trials"] == 4  # the grid's size
        detail = wait_study(http, created["id"])
    assert detail["state"] == "completed", detail["error"]
    trials = detail["trial_list"]
    assert [t["number"] for t in trials] == [0, 1, 2, 3]
    assert all(t["state"] == "complete" for t in trials), trials
    points = {(t["params"]["C"], t["params"]["class_weight"]) for t in trials}
    assert points == {(0.01, "none"), (0.01, "balanced"), (1.0, "none"), (1.0, "balanced")}
    best = max(trials, key=lambda t: (t["value"], -t["number"]))
    assert detail["best_value"] == best["value"]
    assert detail["metric"] == "accuracy"
    assert detail["direction"] == "maximize"
    # Each trial is a child run of the study's parent run, trained by its own job.
    with env.db.session(write=False) as s:
        runs = list(s.scalars(select(Run).where(Run.id.in_([t["run_id"] for t in trials]))))
        parent = s.get(Run, created["parent_run_id"])
        tag = s.scalar(
            select(RunTag.value).where(
                RunTag.run_id == trials[0]["run_id"], RunTag.key == "mlflow.parentRunId"
            )
        )
    assert parent is not None
    assert parent.status == "FINISHED"
    assert len(runs) == 4
    assert all(r.parent_run_id == created["parent_run_id"] and r.status == "FINISHED" for r in runs)
    assert tag == created["parent_run_id"]
    # Never more than `concurrency` trials ran at once.
    jobs = _jobs(env.db, [t["job_id"] for t in trials])
    assert len(jobs) == 4
    spans = sorted((j.started_at, j.finished_at) for j in jobs.values() if j.started_at and j.finished_at)
    assert len(spans) == 4
    for i, (began, _) in enumerate(spans):
        assert len([1 for _, ended in spans[:i] if ended > began]) <= 1
    # The study page: history (best so far), importance, leaderboard.
    assert [p["number"] for p in detail["history"]] == [0, 1, 2, 3]
    assert detail["history"][-1]["best"] == detail["best_value"]
    assert set(detail["importance"]) <= {"C", "class_weight"}
    assert detail["importance"] or detail["importance_note"]
    board = detail["leaderboard"]
    assert [row["rank"] for row in board] == [1, 2, 3, 4]
    assert board[0]["value"] == detail["best_value"]
    assert board[0]["algorithm"] == "logistic_regression"
    assert {"accuracy", "log_loss"} <= set(board[0]["metrics"])
    # promote_to registered the best trial's model; another trial can be promoted by hand.
    assert detail["promoted"]["name"] == "churn-best"
    assert detail["promoted"]["trial"] == detail["best_trial"]
    assert detail["promoted"]["version"] == 1
    with env.client() as http:
        r = http.post(f"{WS}/studies/lr-grid/promote", json={"name": "churn-best", "trial": 0})
        assert r.status_code == 200, r.text
        assert r.json() == {"name": "churn-best", "version": 2, "trial": 0, "run_id": trials[0]["run_id"]}
        r = http.get(f"{WS}/studies", params={"kind": "preset"})
    assert "lr-grid" in [s["name"] for s in r.json()["items"]]


def test_the_median_pruner_cancels_a_trial_worse_than_the_finished_ones(env: Env) -> None:
    body = {
        "algorithm": "lightgbm_classifier",
        "dataset": "customers",
        "target": "churn",
        "name": "lgb-pruned",
        "sampler": "random",
        "seed": 1,
        "max_trials": 2,
        "params": {"n_estimators": 100_000, "early_stopping_rounds": 10, "train_loss": False},
        "space": {"learning_rate": {"type": "float", "low": 0.0001, "high": 0.5, "log": True}},
        "enqueue": [{"learning_rate": 0.3}, {"learning_rate": 0.0001}],
        "pruner": {"kind": "median", "n_startup_trials": 1},
        "metric": "log_loss",
    }
    with env.client() as http:
        created = start(http, body)
        detail = wait_study(http, created["id"], timeout=120)
    assert detail["state"] == "completed", detail["error"]
    good, bad = detail["trial_list"]
    assert good["state"] == "complete"
    assert good["params"] == {"learning_rate": 0.3}
    assert bad["state"] == "pruned", bad
    assert bad["params"] == {"learning_rate": 0.0001}
    assert bad["value"] is None
    assert "pruned at step" in bad["error"]
    # Judged at a step the finished trial reached, on the validation loss its run logged.
    assert detail["pruner"]["metric"] == "valid_logloss"
    assert bad["intermediate"]
    assert good["intermediate"]
    step = max(int(k) for k in good["intermediate"])
    assert bad["intermediate"][str(step)] > good["intermediate"][str(step)]
    # Its job was cancelled long before 100,000 rounds; its run was killed.
    assert wait_for(env.db, bad["job_id"]).state == "cancelled"
    assert _run_status(env.db, bad["run_id"], until="KILLED") == "KILLED"
    assert detail["best_trial"] == 0
    assert detail["history"][1]["state"] == "pruned"


SCRIPT = """
import json, os, sys, time, urllib.request
params = json.loads(os.environ["DAIS_PARAMS"])
x = params["x"]
if sys.argv[1:] != [f"--x={x}"] or os.environ["DAIS_PARAM_X"] != str(x):
    sys.exit(3)
if x > 5:
    time.sleep(120)
body = {"run_id": os.environ["MLFLOW_RUN_ID"], "key": "score", "value": (x - 2) ** 2,
        "timestamp": int(time.time() * 1000), "step": 0}
request = urllib.request.Request(
    os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/runs/log-metric",
    data=json.dumps(body).encode(),
    headers={"Content-Type": "application/json",
             "Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"]},
)
urllib.request.urlopen(request, timeout=30).read()
"""


def test_a_script_study_stops_when_its_wall_time_runs_out(env: Env) -> None:
    """Trials of a script get their params as arguments and environment, log the objective with the
    MLflow REST API; the budget ends the study and cancels the trial still running."""
    body = {
        "name": "script-timed",
        "script": {"command": [sys.executable, "-c", SCRIPT, "--x={x}"]},
        "space": {"x": {"type": "int", "low": 0, "high": 10}},
        "metric": "score",
        "direction": "minimize",
        "sampler": "random",
        "enqueue": [{"x": 1}, {"x": 9}],
        "concurrency": 2,
        "max_wall_time_s": 6,
    }
    with env.client() as http:
        created = start(http, body)
        detail = wait_study(http, created["id"], timeout=60)
    assert detail["state"] == "completed", detail["error"]
    first, second = detail["trial_list"][:2]
    assert first["state"] == "complete"
    assert first["value"] == 1.0
    assert second["state"] == "failed"
    assert "time budget" in second["error"]
    complete = [t for t in detail["trial_list"] if t["state"] == "complete"]
    assert all(t["params"]["x"] <= 5 for t in complete)  # the slow ones never finish
    assert detail["best_value"] == min(t["value"] for t in complete)
    ran = (_parse(detail["ended_at"]) - _parse(detail["started_at"])).total_seconds()
    assert 6 <= ran < 15
    assert wait_for(env.db, second["job_id"]).state == "cancelled"
    # The script's params were logged on its run, a child of the study's run.
    with env.client() as http:
        r = http.get(
            "/api/2.0/mlflow/runs/get",
            params={"run_id": first["run_id"]},
            headers={"X-MLFLOW-WORKSPACE": "team"},
        )
    assert r.status_code == 200, r.text
    data = r.json()["run"]["data"]
    assert {"key": "x", "value": "1"} in data["params"]
    assert {"key": "mlflow.parentRunId", "value": created["parent_run_id"]} in data["tags"]


def test_stopping_a_running_study_cancels_its_trials(env: Env) -> None:
    body = {
        "name": "script-stopped",
        "script": {"command": [sys.executable, "-c", SCRIPT, "--x={x}"]},
        "space": {"x": {"type": "int", "low": 6, "high": 10}},
        "metric": "score",
        "direction": "minimize",
        "max_trials": 10,
        "concurrency": 2,
    }
    with env.client() as http:
        created = start(http, body)
        wait_study(http, created["id"], until=lambda d: d["trials"]["running"] == 2)
        r = http.post(f"{WS}/studies/script-stopped/stop")
        assert r.status_code == 200, r.text
        assert r.json()["stop_requested"] is True
        detail = wait_study(http, created["id"], timeout=30)
    assert detail["state"] == "stopped"
    assert [t["state"] for t in detail["trial_list"]] == ["failed", "failed"]
    assert all(t["error"] == "the study was stopped" for t in detail["trial_list"])
    for trial in detail["trial_list"]:
        assert wait_for(env.db, trial["job_id"]).state == "cancelled"
    assert _run_status(env.db, created["parent_run_id"], until="KILLED") == "KILLED"


def _parse(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value)


def test_a_killed_coordinator_continues_without_repeating_trials(env: Env) -> None:
    body = {**LR, "name": "lr-resumed", "sampler": "random", "seed": 5, "max_trials": 3, "concurrency": 2}
    with env.client() as http:
        created = start(http, body)
        wait_study(http, created["id"], until=lambda d: d["trials"]["complete"] >= 1)
        job_id = created["coordinator_job_id"]
        running = env.worker.running[job_id]
        zygote, token = running.handle.native
        pid = zygote.pid(token)
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)  # the coordinator dies as if its machine went away
        detail = wait_study(http, created["id"])
    assert detail["state"] == "completed", detail["error"]
    trials = _trials(env.db, created["id"])
    assert [t.number for t in trials] == [0, 1, 2]
    assert all(t.state == "complete" for t in trials)
    assert len({t.job_id for t in trials}) == 3  # each trial trained once
    assert len({(t.params["C"], t.params["class_weight"]) for t in trials}) == 3
    with env.db.session(write=False) as s:
        attempts = s.scalars(select(JobAttempt).where(JobAttempt.job_id == job_id)).all()
        runs = s.scalars(select(Run).where(Run.parent_run_id == created["parent_run_id"])).all()
    assert len(attempts) == 2
    assert len(runs) == 3


def test_an_auto_model_ranks_presets_on_a_leaderboard(env: Env) -> None:
    algorithms = ["logistic_regression", "random_forest_classifier", "lightgbm_classifier"]
    body: dict[str, Any] = {
        "name": "auto-churn",
        "task": "classification",
        "dataset": "customers",
        "target": "churn",
        "algorithms": algorithms,
        "max_wall_time_s": 120,
        "max_trials": 4,
        "concurrency": 2,
        "seed": 0,
        "metric": "roc_auc",
    }
    with env.client() as http:
        created = start(http, body, f"{WS}/studies:auto")
        detail = wait_study(http, created["id"], timeout=120)
    assert detail["state"] == "completed", detail["error"]
    assert detail["kind"] == "auto"
    assert detail["space"]["algorithm"]["choices"] == algorithms
    board = detail["leaderboard"]
    assert len(board) == detail["trials"]["complete"] >= 3
    values = [row["value"] for row in board]
    assert values == sorted(values, reverse=True)
    for row in board:
        assert row["algorithm"] in algorithms
        assert not any("." in k for k in row["params"])  # without the preset prefix
        assert "roc_auc" in row["metrics"]
    with env.db.session(write=False) as s:
        for row in board:
            tag = s.scalar(
                select(RunTag.value).where(RunTag.run_id == row["run_id"], RunTag.key == "dais.algorithm")
            )
            assert tag == row["algorithm"]


def test_the_cli_and_sdk_start_follow_show_and_promote_a_study(env: Env, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from dais.cli.main import app as cli
    from dais.client import Client

    runner = CliRunner()
    environ = {"DAIS_URL": env.url, "DAIS_TOKEN": env.alice.token, "DAIS_CONFIG": str(tmp_path / "c.toml")}

    def dais(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, list(args), env=environ)
        assert result.exit_code == code, (result.output, result.exception)
        return result.output

    out = dais(
        "tune", "start", "-w", "team", "-a", "logistic_regression", "-d", "customers", "-t", "churn",
        "--sampler", "random", "--max-trials", "2", "--concurrency", "2", "--name", "cli-lr",
        "-p", "max_iter=300", "--wait", "-o", "json",
    )  # fmt: skip
    shown = json.loads(out)
    assert shown["state"] == "completed"
    assert [t["state"] for t in shown["trial_list"]] == ["complete", "complete"]
    listed = json.loads(dais("tune", "list", "-w", "team", "-o", "json"))
    assert "cli-lr" in [s["name"] for s in listed]
    table = dais("tune", "show", "cli-lr", "-w", "team")
    assert "Trials" in table
    assert "Leaderboard" in table
    assert "registered as cli-model version 1" in dais("tune", "promote", "cli-lr", "cli-model", "-w", "team")
    bad = dais("tune", "auto", "-w", "team", "--task", "regression", "-d", "customers", "-t", "churn",
               "--max-time", "10", code=1)  # fmt: skip
    assert "target" in bad
    with Client(env.url, env.alice.token) as c:
        detail = c.studies.get("cli-lr", workspace="team")
        assert detail.best_value == max(t.value or 0.0 for t in detail.trial_list)
        assert detail.leaderboard[0].params.keys() == {"C", "class_weight"}
        assert detail.promoted is not None
        assert detail.promoted.name == "cli-model"
        assert [s.name for s in c.studies.list(kind="preset", workspace="team")][:1] == ["cli-lr"]

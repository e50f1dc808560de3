"""Training jobs through a real worker (one worker, its jobs side by side, to start its training
launcher once): a preset run logs params, loss curves, final metrics, ``evaluation.json`` and a
package MLflow loads, and registers a version; k-fold logs each fold; a script run gets the MLflow
variables and its run ends with it; a run killed mid-way is marked KILLED and keeps the metrics
logged so far."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dais.core.settings import Settings
from dais.db import Database
from dais.registry import ModelVersion, RegisteredModel
from dais.registry.package import download_package
from dais.storage import WorkspaceArtifacts, open_store
from dais.tracking.models import Run, RunLatestMetric, RunMetric, RunParam
from tests.training.conftest import WS, Team, customers, register, wait_job

pytestmark = pytest.mark.slow


def _launch(api: TestClient, team: Team, **body: Any) -> dict[str, Any]:
    r = api.post(f"{WS}/training/runs", headers=team.h, json=body)
    assert r.status_code == 202, r.text
    out: dict[str, Any] = r.json()
    return out


def _run(db: Database, run_id: str) -> Run:
    with db.session(write=False) as s:
        run = s.get(Run, run_id)
        assert run is not None
        return run


def _latest(db: Database, run_id: str) -> dict[str, float]:
    with db.session(write=False) as s:
        rows = s.execute(
            select(RunLatestMetric.key, RunLatestMetric.value).where(RunLatestMetric.run_id == run_id)
        )
        return {str(k): float(v) for k, v in rows}


def _history(db: Database, run_id: str, key: str) -> list[tuple[int, float]]:
    with db.session(write=False) as s:
        rows = s.execute(
            select(RunMetric.step, RunMetric.value)
            .where(RunMetric.run_id == run_id, RunMetric.key == key)
            .order_by(RunMetric.step)
        )
        return [(int(step), float(value)) for step, value in rows]


def _check_preset_run(
    api: TestClient, team: Team, settings: Settings, db: Database, launched: dict[str, Any], local: Path
) -> Path:
    """The LightGBM run: params, loss curves, final metrics, evaluation.json, its package, its version."""
    run = _run(db, launched["run_id"])
    assert run.status == "FINISHED"
    assert run.end_time is not None
    with db.session(write=False) as s:
        params = dict(s.execute(select(RunParam.key, RunParam.value).where(RunParam.run_id == run.id)).all())
    assert params["algorithm"] == "lightgbm_classifier"
    assert params["learning_rate"] == "0.1"
    assert params["n_estimators"] == "25"
    assert params["split"] == "holdout"
    assert params["dataset_version"] == "1"
    latest = _latest(db, run.id)
    assert {"accuracy", "f1_macro", "roc_auc", "log_loss", "precision", "recall", "fit_seconds"} <= set(
        latest
    )
    assert latest["accuracy"] > 0.7
    curve = _history(db, run.id, "valid_logloss")
    assert [step for step, _ in curve] == list(range(1, 26))
    assert len(_history(db, run.id, "train_logloss")) == 25
    job = api.get(f"{WS}/jobs/{launched['job_id']}", headers=team.h).json()
    assert job["result"]["run_id"] == run.id
    assert job["result"]["model_version"] == 1

    arts = WorkspaceArtifacts(open_store(settings), team.team_id)
    base = f"mlflow/{run.experiment_id}/{run.id}/artifacts"
    evaluation = json.loads(b"".join(arts.read(f"{base}/evaluation.json")))
    assert evaluation["task"] == "classification"
    assert evaluation["classes"] == ["no", "yes"]
    assert np.asarray(evaluation["confusion_matrix"]["matrix"]).sum() == 60
    assert evaluation["rows"] == {"total": 300, "train": 240, "valid": 60}
    assert len(evaluation["roc_curves"]) == 1
    assert {f["feature"] for f in evaluation["feature_importance"]} == {"tenure", "spend", "support_calls"}
    package = download_package(arts, f"{base}/model", local)
    assert json.loads((package / "dais.json").read_text())["lineage"]["classes"] == ["no", "yes"]
    with db.session(write=False) as s:
        version = s.scalar(
            select(ModelVersion).join(RegisteredModel).where(RegisteredModel.name == "churn-model")
        )
        assert version is not None
        assert version.run_id == run.id
        assert version.storage_key == f"{base}/model"
        assert version.runtime == "lightgbm"
    return package


def _check_killed_run(api: TestClient, team: Team, db: Database, launched: dict[str, Any]) -> None:
    """Cancelled once its first metrics are in: KILLED, with those metrics kept."""
    deadline = time.monotonic() + 90
    while not _history(db, launched["run_id"], "valid_logloss"):
        assert time.monotonic() < deadline, "no metric was logged"
        time.sleep(0.1)
    assert _run(db, launched["run_id"]).status == "RUNNING"
    r = api.post(f"{WS}/jobs/{launched['job_id']}/cancel", headers=team.h)
    assert r.status_code == 200, r.text
    job = wait_job(api, team.h, launched["job_id"])
    assert job["state"] == "cancelled"
    deadline = time.monotonic() + 10
    while (run := _run(db, launched["run_id"])).status == "RUNNING":  # the worker's hook closes it
        assert time.monotonic() < deadline, "the run was not closed"
        time.sleep(0.05)
    assert run.status == "KILLED"
    assert run.end_time is not None
    kept = _history(db, launched["run_id"], "valid_logloss")
    assert kept
    assert [s for s, _ in kept] == list(range(1, len(kept) + 1))
    assert len(kept) < 100_000
    with db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(RunParam).where(RunParam.run_id == run.id))


def _check_logs(api: TestClient, team: Team, lgb: dict[str, Any], kfold: dict[str, Any]) -> None:
    """A preset job says what it does in its log: data, split, algorithm, rounds, metrics, package."""
    log = api.get(f"{WS}/jobs/{lgb['job_id']}/logs", headers=team.h).text
    lines = log.splitlines()
    for words in (
        f"({lgb['run_id']}) of experiment ",
        "dataset customers v1 (",
        "target 'churn'; 3 feature(s): tenure, spend, support_calls",
        "algorithm lightgbm_classifier (LightGBM (classification)): n_estimators=25, learning_rate=0.1,",
        "min_child_samples=5,",
        "read 300 rows of customers v1 (300 x 3 features) in ",
        "split: holdout, 240 rows train, 60 validate",
        "training lightgbm_classifier on 1 thread(s)",
        "metrics: accuracy=",
        f"model package: runs:/{lgb['run_id']}/model (mlflow-artifacts:/",
        "registered as churn-model version 1",
        f"run {lgb['run_id']} FINISHED",
    ):
        assert any(words in line for line in lines), (words, log)
    rounds = [line.split(":")[0] for line in lines if line.startswith("round ")]
    assert rounds == [f"round {n}/25" for n in (1, 3, 6, 9, 12, 15, 18, 21, 24, 25)], log
    assert "valid_logloss=" in next(line for line in lines if line.startswith("round 25/25"))

    log = api.get(f"{WS}/jobs/{kfold['job_id']}/logs", headers=team.h).text
    assert "left out identifier column(s) from the default features: customer_id" in log, log
    assert "split: 3-fold cross-validation over 300 rows (validation folds of 100, 100, 100)" in log
    assert "fold 2/3: " in log
    r = api.get(f"{WS}/runs/{kfold['run_id']}", headers=team.h)
    assert r.status_code == 200, r.text
    assert r.json()["tags"]["dais.features.left_out"] == "customer_id"
    assert r.json()["params"]["features"] == "tenure,spend,support_calls"


# importing mlflow warns about its own type hints
@pytest.mark.filterwarnings("ignore:.*Any type hint:UserWarning")
def test_training_jobs_log_package_register_and_survive_a_kill(
    api: TestClient, team: Team, settings: Settings, db: Database, worker: None, tmp_path: Path
) -> None:
    register(settings, db, team.team_id, "customers", customers(300))
    register(settings, db, team.team_id, "many", customers(3000))
    with_ids = customers(300).append_column("customer_id", pa.array(range(1000, 1300), pa.int64()))
    register(settings, db, team.team_id, "customers-ids", with_ids)
    small = {"resources": {"cpus": 0.5}, "experiment": "churn"}  # four at once on the test's worker
    killed = _launch(
        api,
        team,
        dataset="many",
        target="churn",
        algorithm="lightgbm_classifier",
        params={"n_estimators": 100_000, "learning_rate": 0.001, "train_loss": False},
        **small,
    )
    lgb = _launch(
        api,
        team,
        dataset="customers",
        target="churn",
        features=["tenure", "spend", "support_calls"],
        algorithm="lightgbm_classifier",
        params={"n_estimators": 25, "min_child_samples": 5},
        register_as="churn-model",
        **small,
    )
    kfold = _launch(  # default features: every numeric column but the target and the identifier
        api,
        team,
        dataset="customers-ids",
        target="value",
        algorithm="ridge",
        split={"kind": "kfold", "k": 3},
        **small,
    )
    script = _launch(
        api,
        team,
        script={"command": ["python", "-c", "import os; print('run=' + os.environ['MLFLOW_RUN_ID'])"]},
        **small,
    )
    clusters = _launch(api, team, dataset="customers", algorithm="kmeans", params={"n_clusters": 3}, **small)
    by_time = _launch(
        api,
        team,
        dataset="customers",
        target="value",
        algorithm="xgboost_regressor",
        params={"n_estimators": 20},
        split={"kind": "time", "column": "signup", "cutoff": "2024-09-01"},
        **small,
    )
    import mlflow.lightgbm  # while the jobs run
    import mlflow.pyfunc

    _check_killed_run(api, team, db, killed)
    for launched in (lgb, kfold, script, clusters, by_time):
        job = wait_job(api, team.h, launched["job_id"], timeout=120)
        assert job["state"] == "succeeded", job["error"]

    package = _check_preset_run(api, team, settings, db, lgb, tmp_path / "model")
    _check_logs(api, team, lgb, kfold)
    model = mlflow.lightgbm.load_model(str(package))
    rows = pd.DataFrame([[5.0, 50.0, 2.0], [55.0, 50.0, 2.0]], columns=["tenure", "spend", "support_calls"])
    assert model.predict(rows).tolist() == ["yes", "no"]
    assert model.predict_proba(rows).shape == (2, 2)
    assert mlflow.pyfunc.load_model(str(package)).predict(rows).tolist() == ["yes", "no"]

    # k-fold: each fold logged, the means and spreads as the run's metrics
    latest = _latest(db, kfold["run_id"])
    assert [step for step, _ in _history(db, kfold["run_id"], "fold_rmse")] == [1, 2, 3]
    assert latest["r2"] > 0.9
    assert "rmse_std" in latest
    assert _run(db, kfold["run_id"]).status == "FINISHED"

    # clustering (every row trains and is scored), a time split (rows from September on validate)
    assert {"silhouette", "davies_bouldin"} <= set(_latest(db, clusters["run_id"]))
    assert len(_history(db, clusters["run_id"], "inertia")) == 1
    assert {"rmse", "r2"} <= set(_latest(db, by_time["run_id"]))
    assert len(_history(db, by_time["run_id"], "valid_rmse")) == 20
    arts = WorkspaceArtifacts(open_store(settings), team.team_id)
    run = _run(db, by_time["run_id"])
    evaluation = json.loads(
        b"".join(arts.read(f"mlflow/{run.experiment_id}/{run.id}/artifacts/evaluation.json"))
    )
    assert evaluation["rows"] == {"total": 300, "train": 244, "valid": 56}  # days 244-299 from 2024-01-01
    assert len(evaluation["residuals"]["actual"]) == 56

    # the script saw its run, and its run ended with it
    log = api.get(f"{WS}/jobs/{script['job_id']}/logs", headers=team.h).text
    assert f"run={script['run_id']}" in log
    assert _run(db, script["run_id"]).status == "FINISHED"

"""The SDK's ``client.training`` and the ``dais train`` / ``dais algorithms`` commands against a live
server (no worker: the jobs stay queued, or are cancelled to end them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from dais.cli.main import app as cli_app
from dais.client import Client
from dais.client.training import TrainingFailed
from dais.core.errors import InvalidInput
from dais.core.settings import Settings
from dais.db import Database
from tests.client.live import serve_in_thread
from tests.training.conftest import Team, customers, register


@pytest.fixture
def server(train_app: FastAPI, settings: Settings, db: Database, team: Team) -> Iterator[str]:
    register(settings, db, team.team_id, "customers", customers(40))
    with serve_in_thread(train_app) as url:
        yield url


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DAIS_URL", "DAIS_TOKEN", "DAIS_PROFILE", "DAIS_HOME", "DAIS_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DAIS_CONFIG", str(tmp_path / "config.toml"))


def test_the_sdk_launches_waits_and_reports_field_errors(server: str, team: Team) -> None:
    with Client(server, team.alice.token, workspace="team") as client:
        names = {a.name: a for a in client.training.algorithms(task="classification")}
        assert "xgboost_classifier" in names
        assert names["xgboost_classifier"].runtime == "xgboost"
        with pytest.raises(InvalidInput) as err:
            client.training.train(dataset="customers", target="ghost", algorithm="ridge")
        assert err.value.errors[0]["loc"] == ["body", "target"]
        run = client.training.train(
            dataset="customers",
            target="churn",
            algorithm="random_forest_classifier",
            params={"n_estimators": 10},
        )
        assert run.status == "SCHEDULED"
        assert run.workspace == "team"
        assert run.refresh().state == "queued"
        run.cancel()
        with pytest.raises(TrainingFailed) as failed:
            run.wait(timeout=10, poll=0.05)
        assert failed.value.job is not None
        assert failed.value.job.state == "cancelled"


def test_the_cli_lists_algorithms_and_launches_runs(server: str, team: Team) -> None:
    env = {"DAIS_URL": server, "DAIS_TOKEN": team.alice.token}
    cli = CliRunner()
    listed = cli.invoke(cli_app, ["algorithms", "list", "-o", "json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "lightgbm_classifier" in {a["name"] for a in json.loads(listed.stdout)}
    shown = cli.invoke(cli_app, ["algorithms", "show", "ridge"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "alpha" in shown.stdout
    launched = cli.invoke(
        cli_app,
        ["train", "run", "-w", "team", "--dataset", "customers", "--target", "churn", "--algorithm",
         "lightgbm_classifier", "--param", "learning_rate=0.05", "--param", "n_estimators=30", "-o", "json"],
        env=env,
    )  # fmt: skip
    assert launched.exit_code == 0, launched.output
    out = json.loads(launched.stdout)
    assert out["status"] == "SCHEDULED"
    with Client(server, team.alice.token) as client:
        job = client.jobs.get("team", out["job_id"])
    assert job.spec["params"]["learning_rate"] == 0.05
    assert job.spec["params"]["n_estimators"] == 30
    bad = cli.invoke(
        cli_app,
        ["train", "run", "-w", "team", "-d", "customers", "-t", "churn", "-a", "ridge", "-p", "alpha=-1"],
        env=env,
    )
    assert bad.exit_code == 1
    assert "params.alpha" in bad.output


def test_tune_start_takes_the_script_options_train_script_has(server: str, team: Team) -> None:
    env = {"DAIS_URL": server, "DAIS_TOKEN": team.alice.token}
    cli = CliRunner()
    space = json.dumps({"lr": {"type": "float", "low": 0.001, "high": 0.1, "log": True}})
    started = cli.invoke(
        cli_app,
        ["tune", "start", "-w", "team", "--space", space, "--metric", "val_loss", "--direction", "minimize",
         "--max-trials", "1", "--name", "script-opts", "--files", "code/", "--env", "EPOCHS=3", "--env",
         "MODE=fast", "-o", "json", "--", "python", "train.py", "--lr", "{lr}"],
        env=env,
    )  # fmt: skip
    assert started.exit_code == 0, started.output
    base = json.loads(started.stdout)["base_spec"]["spec"]
    assert base["command"] == ["python", "train.py", "--lr", "{lr}"]
    assert base["files"] == "code/"
    assert base["env"] == {"EPOCHS": "3", "MODE": "fast"}
    path = cli.invoke(
        cli_app,
        ["tune", "start", "-w", "team", "--space", space, "--metric", "val_loss", "--direction", "minimize",
         "--max-trials", "1", "--path", "/nowhere", "-o", "json", "--", "python", "train.py"],
        env=env,
    )  # fmt: skip
    assert path.exit_code == 0, path.output
    assert json.loads(path.stdout)["base_spec"]["spec"]["path"] == "/nowhere"
    # the same checks as `dais train script`: one working dir; a preset study takes none of them
    both = cli.invoke(
        cli_app,
        ["tune", "start", "-w", "team", "--space", space, "--metric", "val_loss", "--max-trials", "1",
         "--files", "code/", "--path", "/nowhere", "--", "python", "train.py"],
        env=env,
    )  # fmt: skip
    assert both.exit_code == 1
    assert "at most one of `files`" in both.output, both.output
    preset = cli.invoke(
        cli_app,
        ["tune", "start", "-w", "team", "-a", "ridge", "-d", "customers", "-t", "value", "--max-trials", "1",
         "--env", "A=1"],
        env=env,
    )  # fmt: skip
    assert preset.exit_code == 2
    assert "script study" in preset.output

"""`dais experiments` and `dais runs` against a live server: listings as tables, JSON and YAML, run
search with filters, ordering and chosen columns, a run's details, comparison, a metric's history
with its sparkline, artifacts; mistakes end with a message and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI

from dais.db import Database
from dais.storage import WorkspaceArtifacts
from dais.tenancy import Role, require_workspace
from dais.tenancy.access import Principal
from dais.tenancy.service import get_user
from dais.tracking import service as svc
from dais.tracking.service import MetricIn, ParamIn
from tests.cli.conftest import Run, as_json
from tests.conftest import Actor, World

T0 = 1_700_000_000_000


@pytest.fixture
def alice(world: World) -> Actor:
    alice = world.user("alice")
    world.workspace("team", alice)
    return alice


@pytest.fixture
def runs(db: Database, app: FastAPI, alice: Actor) -> dict[str, str]:
    """Experiment ``churn`` with runs r0..r2 (lr, auc), r2 with a 40-step loss curve and an artifact."""
    with db.session() as s:
        access = require_workspace(s, Principal(get_user(s, "alice"), "token"), "team", Role.editor)
        exp = svc.create_experiment(s, access, "churn")
        ids = {}
        for i in range(3):
            run = svc.create_run(s, access, exp.id, name=f"r{i}", start_time=T0 + i * 1000)
            svc.log_batch(
                s,
                access,
                run.id,
                params=[ParamIn("lr", ("0.1", "0.01", "0.1")[i]), ParamIn("depth", "4")],
                metrics=[MetricIn("auc", 0.7 + i * 0.1, T0, 0)],
            )
            ids[f"r{i}"] = run.id
        svc.log_batch(
            s, access, ids["r2"], metrics=[MetricIn("loss", 2.0 - k / 20, T0 + k, k) for k in range(40)]
        )
        ids["exp"], ws_id = str(exp.id), access.workspace.id
    arts = WorkspaceArtifacts(app.state.store, ws_id)
    arts.store.put_bytes(
        arts.full_key(f"mlflow/{ids['exp']}/{ids['r2']}/artifacts/model/MLmodel"), b"flavors: {}\n"
    )
    return ids


def test_experiments_commands(run: Run, alice: Actor, runs: dict[str, str]) -> None:
    made = run("experiments", "create", "fraud", "-w", "team", "-d", "card fraud", as_=alice)
    assert "Created experiment fraud" in made.stdout
    listed = as_json(run("experiments", "list", "-w", "team", "-o", "json", as_=alice))
    assert {e["name"]: e["run_count"] for e in listed} == {"fraud": 0, "churn": 3}
    assert "churn" in run("experiments", "list", "-w", "team", as_=alice).stdout

    shown = run("experiments", "show", "churn", "-w", "team", as_=alice).stdout
    assert "depth, lr" in shown
    assert "auc" in shown
    data = yaml.safe_load(
        run("experiments", "show", runs["exp"], "-w", "team", "-o", "yaml", as_=alice).stdout
    )
    assert data["columns"]["metrics"] == ["auc", "loss"]

    assert (
        "Deleted experiment fraud"
        in run("experiments", "delete", "fraud", "-w", "team", "-y", as_=alice).stdout
    )
    gone = as_json(run("experiments", "list", "-w", "team", "--deleted", "-o", "json", as_=alice))
    assert [e["name"] for e in gone] == ["fraud"]
    assert (
        "Restored experiment fraud" in run("experiments", "restore", "fraud", "-w", "team", as_=alice).stdout
    )

    missing = run("experiments", "show", "nope", "-w", "team", as_=alice, ok=False)
    assert missing.exit_code == 1
    assert "No experiment 'nope'" in missing.output


def test_runs_list_show_compare_metrics_and_artifacts(
    run: Run, alice: Actor, runs: dict[str, str], tmp_path: Path
) -> None:
    found = as_json(
        run(
            "runs", "list", "-w", "team", "-e", "churn",
            "--filter", "params.lr = '0.1'", "--order-by", "metrics.auc DESC",
            "--columns", "metrics.auc,params.lr", "-o", "json",
            as_=alice,
        )
    )  # fmt: skip
    assert [r["name"] for r in found] == ["r2", "r0"]
    assert found[0]["params"] == {"lr": "0.1"}
    assert found[0]["metrics"]["auc"] == pytest.approx(0.9)
    table = run("runs", "list", "-w", "team", "-e", runs["exp"], "--columns", "metrics.auc", as_=alice).stdout
    assert "metrics.auc" in table
    assert "r1" in table

    shown = run("runs", "show", runs["r2"], "-w", "team", as_=alice).stdout
    assert "churn" in shown
    assert "loss" in shown
    assert "depth" in shown
    detail = as_json(run("runs", "show", runs["r2"], "-w", "team", "-o", "json", as_=alice))
    assert detail["params"] == {"depth": "4", "lr": "0.1"}

    compared = run("runs", "compare", runs["r0"], runs["r1"], "-w", "team", as_=alice).stdout
    assert "* lr" in compared
    assert "  depth" in compared
    only = as_json(run("runs", "compare", runs["r0"], runs["r1"], "-w", "team", "-o", "json", as_=alice))
    assert {p["key"]: p["differs"] for p in only["params"]} == {"depth": False, "lr": True}

    history = run("runs", "metrics", runs["r2"], "loss", "-w", "team", "--rows", "5", as_=alice).stdout
    assert any(ch in history for ch in "▁▂▃▄▅▆▇█")
    assert "steps 0..39" in history
    series = as_json(run("runs", "metrics", runs["r2"], "loss", "-w", "team", "-o", "json", as_=alice))
    assert len(series["points"]) == 40

    listing = run("runs", "artifacts", runs["r2"], "-w", "team", as_=alice).stdout
    assert "model/" in listing
    inner = as_json(run("runs", "artifacts", runs["r2"], "model", "-w", "team", "-o", "json", as_=alice))
    assert [a["path"] for a in inner] == ["model/MLmodel"]
    run(
        "runs", "artifacts", runs["r2"], "model/MLmodel", "-w", "team", "--download", str(tmp_path), as_=alice
    )
    assert (tmp_path / "MLmodel").read_bytes() == b"flavors: {}\n"


def test_runs_commands_report_mistakes(run: Run, alice: Actor, runs: dict[str, str]) -> None:
    bad = run(
        "runs", "list", "-w", "team", "-e", "churn", "--filter", "metrics.auc >> 1", as_=alice, ok=False
    )
    assert bad.exit_code == 1
    assert "The filter 'metrics.auc >> 1' is not valid" in bad.output
    columns = run("runs", "list", "-w", "team", "-e", "churn", "--columns", "auc", as_=alice, ok=False)
    assert columns.exit_code == 2
    assert "metrics.KEY" in columns.output
    unknown = run("runs", "metrics", runs["r0"], "loss", "-w", "team", as_=alice, ok=False)
    assert unknown.exit_code == 1
    assert "has no metric 'loss'" in unknown.output
    one = run("runs", "compare", runs["r0"], "-w", "team", as_=alice, ok=False)
    assert one.exit_code == 2

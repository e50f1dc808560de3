"""Experiments and tracked runs through the SDK against a live server: experiments by id or name,
run search across pages with chosen columns, a run whole with its metric history, artifacts and
evaluation, comparison, edits; errors come back as the core classes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI

from dais import Client
from dais.core.errors import InvalidInput, NotFound, PermissionDenied
from dais.db import Database
from dais.storage import WorkspaceArtifacts
from dais.tenancy import Role, require_workspace
from dais.tenancy.access import Principal
from dais.tenancy.service import get_user
from dais.tracking import service as svc
from dais.tracking.service import MetricIn, ParamIn
from tests.conftest import Actor, World

T0 = 1_700_000_000_000


@dataclass
class Seed:
    exp_id: str
    runs: dict[str, str]  # name -> id


@pytest.fixture
def people(world: World) -> dict[str, Actor]:
    alice, victor = world.user("alice"), world.user("victor")
    world.workspace("team", alice, {"victor": "viewer"})
    return {"alice": alice, "victor": victor}


@pytest.fixture
def seed(db: Database, app: FastAPI, people: dict[str, Actor]) -> Seed:
    """Experiment ``churn``: runs r0..r4 (lr alternating, auc rising), r4 with a loss curve and
    artifacts (``model/MLmodel``, ``evaluation.json``)."""
    with db.session() as s:
        access = require_workspace(s, Principal(get_user(s, "alice"), "token"), "team", Role.editor)
        exp = svc.create_experiment(s, access, "churn")
        runs = {}
        for i in range(5):
            run = svc.create_run(s, access, exp.id, name=f"r{i}", start_time=T0 + i * 1000)
            svc.log_batch(
                s,
                access,
                run.id,
                params=[ParamIn("lr", "0.1" if i % 2 else "0.01"), ParamIn("depth", str(3 + i))],
                metrics=[MetricIn("auc", 0.6 + i * 0.05, T0, 0)],
            )
            runs[f"r{i}"] = run.id
        svc.log_batch(
            s, access, runs["r4"], metrics=[MetricIn("loss", 1 / (k + 1), T0 + k, k) for k in range(50)]
        )
        exp_id, ws_id = str(exp.id), access.workspace.id
    arts = WorkspaceArtifacts(app.state.store, ws_id)
    root = f"mlflow/{exp_id}/{runs['r4']}/artifacts"
    arts.store.put_bytes(arts.full_key(f"{root}/model/MLmodel"), b"flavors:\n  sklearn: {}\n")
    arts.store.put_bytes(
        arts.full_key(f"{root}/evaluation.json"), json.dumps({"task": "classification"}).encode()
    )
    return Seed(exp_id, runs)


@pytest.fixture
def client(server_url: str, people: dict[str, Actor]) -> Iterator[Client]:
    with Client(server_url, people["alice"].token, workspace="team", page_size=2) as c:
        yield c


def test_experiments_by_id_or_name_through_the_sdk(client: Client, seed: Seed) -> None:
    made = client.experiments.create("fraud", description="card fraud", tags={"team": "risk"})
    assert made.id.isdigit()
    assert made.description == "card fraud"
    assert client.experiments.get("fraud").id == made.id
    assert client.experiments.get(made.id).name == "fraud"
    assert {e.name for e in client.experiments.list()} == {"churn", "fraud"}
    assert [e.name for e in client.experiments.list(sort="name", limit=1)] == ["churn"]
    renamed = client.experiments.update("fraud", name="fraud-2", tags={"team": None})
    assert renamed.name == "fraud-2"
    assert "team" not in renamed.tags

    client.experiments.delete("fraud-2")
    assert [e.name for e in client.experiments.list()] == ["churn"]
    assert [e.name for e in client.experiments.list(view="deleted")] == ["fraud-2"]
    assert client.experiments.get("fraud-2").deleted
    assert not client.experiments.restore("fraud-2").deleted

    churn = client.experiments.get("churn")
    assert churn.run_count == 5
    assert churn.columns().params == ["depth", "lr"]
    assert [r.name for r in churn.runs(filter="params.lr = '0.1'")] == ["r3", "r1"]
    with pytest.raises(NotFound):
        client.experiments.get("nope")
    slashed = client.experiments.create("/Shared/churn")
    assert client.experiments.get("/Shared/churn").id == slashed.id
    assert list(client.runs.search("/Shared/churn")) == []
    with pytest.raises(NotFound):
        client.experiments.get("/Shared/none")


def test_run_search_walks_pages_with_chosen_columns(client: Client, seed: Seed) -> None:
    found = list(
        client.runs.search(
            experiment="churn", order_by="metrics.auc DESC", params=["lr"], metrics=["auc", "loss"]
        )
    )
    assert [r.name for r in found] == ["r4", "r3", "r2", "r1", "r0"]  # 3 pages of 2
    assert found[0].params == {"lr": "0.01"}
    assert found[0].metrics["auc"] == pytest.approx(0.8)
    assert found[0].metrics["loss"] == pytest.approx(1 / 50)
    assert "loss" not in found[1].metrics
    assert [r.name for r in client.runs.search(seed.exp_id, filter="metrics.auc > 0.7", limit=1)] == ["r4"]
    assert client.runs.count("churn", filter="metrics.auc > 0.7") == 2
    with pytest.raises(InvalidInput) as bad:
        list(client.runs.search("churn", filter="metrics.auc >"))
    assert "filter" in str(bad.value)
    with pytest.raises(NotFound):
        list(client.runs.search("no-such-experiment"))


def test_a_run_whole_with_history_artifacts_evaluation_and_edits(
    client: Client, seed: Seed, tmp_path: Path, server_url: str, people: dict[str, Actor]
) -> None:
    run = client.runs.get(seed.runs["r4"])
    assert run.experiment_name == "churn"
    assert run.params == {"depth": "7", "lr": "0.01"}
    assert run.metrics["auc"] == pytest.approx(0.8)
    assert {m.key: m.step for m in run.latest_metrics}["loss"] == 49

    loss = run.metric_history("loss", max_points=20)
    assert loss.downsampled
    assert loss.steps[0] == 0
    assert loss.steps[-1] == 49
    assert len(loss.points) <= 20
    both = client.runs.metric_histories([seed.runs["r3"], seed.runs["r4"]], ["auc", "loss"])
    assert sorted((s.run_id == seed.runs["r4"], s.key) for s in both) == [
        (False, "auc"),
        (True, "auc"),
        (True, "loss"),
    ]

    assert [(a.path, a.is_dir) for a in run.artifacts()] == [("evaluation.json", False), ("model", True)]
    assert [a.path for a in run.artifacts("model")] == ["model/MLmodel"]
    assert run.read("model/MLmodel", start=0, end=8) == b"flavors:"
    written = run.download("model/MLmodel", tmp_path)
    assert written == tmp_path / "MLmodel"
    assert written.read_bytes().startswith(b"flavors:")
    assert run.evaluation() == {"task": "classification"}
    with pytest.raises(NotFound):
        client.runs.get(seed.runs["r0"]).evaluation()
    with pytest.raises(NotFound):
        run.download("nope.bin", tmp_path)

    diff = client.runs.compare([seed.runs["r0"], seed.runs["r1"], seed.runs["r2"]])
    assert [p.key for p in diff.differing_params()] == ["depth", "lr"]
    auc = {m.key: m for m in diff.metrics}["auc"]
    assert auc.min == pytest.approx(0.6)
    assert auc.max == pytest.approx(0.7)

    done = client.runs.update(seed.runs["r0"], name="baseline", status="KILLED", description="too slow")
    assert (done.name, done.status, done.description) == ("baseline", "KILLED", "too slow")
    client.runs.delete(seed.runs["r0"])
    assert client.runs.count("churn") == 4
    assert client.runs.restore(seed.runs["r0"]).lifecycle_stage == "active"
    with pytest.raises(NotFound):
        client.runs.get("0" * 32)
    with Client(server_url, people["victor"].token, workspace="team") as viewer:
        assert viewer.runs.get(seed.runs["r1"]).name == "r1"
        with pytest.raises(PermissionDenied):
            viewer.runs.delete(seed.runs["r1"])

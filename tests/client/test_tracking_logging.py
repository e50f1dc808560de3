"""Logging to runs through the SDK's MLflow-named calls against a live server: start/log/end, the
context manager (FAILED on an exception), buffered metrics in few HTTP calls, params sent at once (a
conflict raises there), artifacts, errors as the SDK's classes, workspaces kept apart; studies take
the client's workspace."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from dais import Client
from dais.client import ActiveRun
from dais.core.errors import InvalidInput, NotFound, PermissionDenied
from tests.conftest import Actor, World


@pytest.fixture
def people(world: World) -> dict[str, Actor]:
    alice, victor, bob = world.user("alice"), world.user("victor"), world.user("bob")
    world.workspace("team", alice, {"victor": "viewer"})
    world.workspace("lab", alice)
    return {"alice": alice, "victor": victor, "bob": bob}


@pytest.fixture
def client(server_url: str, people: dict[str, Actor]) -> Iterator[Client]:
    with Client(server_url, people["alice"].token, workspace="team") as c:
        yield c


def _count_requests(client: Client) -> Counter[str]:
    """Requests the client sends from now on, by path (an httpx event hook)."""
    seen: Counter[str] = Counter()

    def hook(request: httpx.Request) -> None:
        seen[request.url.path] += 1

    client._transport._http.event_hooks["request"].append(hook)
    return seen


def test_start_log_and_end_runs_with_mlflow_named_calls(client: Client) -> None:
    run = client.runs.start(experiment="churn", name="baseline", tags={"team": "risk"})
    assert (run.info.status, run.info.run_name) == ("RUNNING", "baseline")
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    run.log_param("lr", 0.1)
    run.log_params({"depth": 6, "model": "lgbm"})
    run.log_param("lr", "0.1")  # the same value again: nothing happens
    run.log_metric("auc", 0.7, step=1)
    run.log_metrics({"auc": 0.8, "loss": 0.3}, step=2)
    run.set_tag("stage", "dev")
    run.set_tags({"owner": "alice", "temp": "x"})
    run.delete_tag("temp")
    run.end()
    run.end()  # a second end does nothing
    assert run.info.status == "FINISHED"
    assert run.info.end_time is not None

    churn = client.experiments.get("churn")  # made by start()
    assert churn.run_count == 1
    got = client.runs.get(run.id)
    assert (got.name, got.status, got.experiment_name) == ("baseline", "FINISHED", "churn")
    assert got.params == {"lr": "0.1", "depth": "6", "model": "lgbm"}
    assert got.metrics == {"auc": 0.8, "loss": 0.3}
    assert got.tags.items() >= {"team": "risk", "stage": "dev", "owner": "alice"}.items()
    assert "temp" not in got.tags
    assert client.runs.metric_history(run.id, "auc").steps == [1, 2]

    # Nested under a parent, by id or by the run object; experiments by id too; in a `with` block.
    with client.runs.start(experiment=int(churn.id), parent=run) as child:
        assert isinstance(child, ActiveRun)
        child.log_metric("auc", 0.9)
    grandchild = churn.start_run(parent=child.id, name="gc")
    grandchild.end("KILLED")
    child_back = client.runs.get(child.id)
    assert child_back.status == "FINISHED"
    assert child_back.parent is not None
    assert child_back.parent.id == run.id
    gc_back = client.runs.get(grandchild.id)
    assert (gc_back.status, gc_back.tags["mlflow.parentRunId"]) == ("KILLED", child.id)

    # An existing run: resource-level calls, the object read back, and a buffered resume.
    client.runs.log_metric(run.id, "extra", 1.5, step=3)
    client.runs.log_params(run.id, {"seed": 7})
    client.runs.set_tag(run.id, "reviewed", True)
    back = client.runs.get(run.id)
    assert back.child_count == 1
    back.log_metric("extra", 2.5, step=4)
    back.set_tags({"checked": "yes"})
    with client.runs.start(run_id=run.id, tags={"resumed": "1"}) as again:
        assert again.info.status == "RUNNING"
        again.log_metric("extra", 3.5, step=5)
    final = client.runs.get(run.id)
    assert final.status == "FINISHED"
    assert final.params["seed"] == "7"
    assert final.tags.items() >= {"reviewed": "True", "checked": "yes", "resumed": "1"}.items()
    assert client.runs.metric_history(run.id, "extra").values == [1.5, 2.5, 3.5]
    final.end("KILLED")
    assert final.refresh().status == "KILLED"

    default = client.runs.start()  # no experiment: the workspace's Default one
    default.end()
    assert client.experiments.get(default.info.experiment_id).name == "Default"

    # A block that raises fails the run; the exception goes on and the points logged stay.
    started: list[ActiveRun] = []

    def train() -> None:
        with client.runs.start(experiment="churn") as doomed:
            started.append(doomed)
            for step in range(5):
                doomed.log_metric("loss", 1 / (5 - step), step=step)
            raise ZeroDivisionError("diverged")

    with pytest.raises(ZeroDivisionError):
        train()
    failed = started[0]
    assert failed.info.status == "FAILED"
    got = client.runs.get(failed.id)
    assert got.status == "FAILED"
    assert got.end_time is not None
    assert client.runs.metric_history(failed.id, "loss").steps == [0, 1, 2, 3, 4]


def test_metrics_are_buffered_and_sent_in_a_few_batches(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = client.runs.start(experiment="churn")
    sent = _count_requests(client)
    for step in range(1500):
        run.log_metric("loss", 1 / (step + 1), step=step)
    assert sent["/api/2.0/mlflow/runs/log-batch"] == 1  # the first 1,000 once the buffer was full
    assert run.pending == 500
    run.log_metrics({f"m{i}": i for i in range(1200)}, step=0)  # over one batch's limit: split
    run.log_metrics({"nan": math.nan, "inf": math.inf})
    run.end()
    assert run.pending == 0
    batches = sent["/api/2.0/mlflow/runs/log-batch"]
    assert 3 <= batches <= 5  # 2,702 points; not one call per point
    assert sent["/api/2.0/mlflow/runs/log-metric"] == 0

    history = client.runs.metric_history(run.id, "loss", max_points=2000)
    assert len(history.points) == 1500
    assert history.steps == list(range(1500))
    assert history.values[-1] == pytest.approx(1 / 1500)
    got = client.runs.get(run.id)
    assert len([k for k in got.metrics if k.startswith("m")]) == 1200
    assert got.metrics["nan"] is None
    assert "inf" in got.metrics

    # A slow loop still shows its points: a call after the interval sends the buffer.
    monkeypatch.setattr(ActiveRun, "flush_interval_s", 0.05)
    live = client.runs.start(experiment="churn")
    live.log_metric("acc", 0.5, step=0)
    assert live.pending in (0, 1)
    time.sleep(0.06)
    live.log_metric("acc", 0.6, step=1)
    assert live.pending == 0
    assert live.metric_history("acc").values == [0.5, 0.6]
    live.end()


def test_errors_come_back_as_the_sdk_classes(
    client: Client, server_url: str, people: dict[str, Actor]
) -> None:
    run = client.runs.start(experiment="churn")
    run.log_param("lr", "0.1")
    with pytest.raises(InvalidInput) as conflict:
        run.log_param("lr", "0.2")  # raised at once, not at the next flush
    assert conflict.value.extra["mlflow_code"] == "INVALID_PARAMETER_VALUE"
    assert "lr" in str(conflict.value)
    with pytest.raises(InvalidInput):
        client.runs.log_params(run.id, {"lr": "0.3", "other": "1"})
    with pytest.raises(InvalidInput):
        run.log_metric("bad key!", 1.0)  # refused before it is buffered
    with pytest.raises(InvalidInput):
        run.log_metric("loss", "high")  # type: ignore[arg-type]
    assert run.pending == 0
    with pytest.raises(InvalidInput):
        run.end("DONE")
    with pytest.raises(NotFound) as missing:
        client.runs.log_metric("0" * 32, "loss", 1.0)
    assert missing.value.extra["mlflow_code"] == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(NotFound):
        client.runs.start(experiment=999999)
    client.experiments.create("old")
    client.experiments.delete("old")
    with pytest.raises(InvalidInput, match="deleted"):
        client.runs.start(experiment="old")
    with Client(server_url, people["victor"].token, workspace="team") as viewer:
        with pytest.raises(PermissionDenied):
            viewer.runs.log_metric(run.id, "loss", 1.0)
        with pytest.raises(PermissionDenied):
            viewer.runs.start(experiment="churn")
    run.end()
    assert client.runs.get(run.id).params == {"lr": "0.1"}


def test_artifacts_round_trip(client: Client, tmp_path: Path) -> None:
    (tmp_path / "plot.png").write_bytes(b"\x89PNG fake")
    data = tmp_path / "data"
    (data / "nested").mkdir(parents=True)
    (data / "a.csv").write_text("x,y\n1,2\n")
    (data / "nested" / "b.txt").write_text("b")
    with client.runs.start(experiment="churn") as run:
        run.log_artifact(tmp_path / "plot.png", artifact_path="plots")
        run.log_artifact(tmp_path / "plot.png")
        run.log_artifacts(data, artifact_path="inputs")
        run.log_dict({"acc": 0.9, "labels": ["a", "b"]}, "eval/summary.json")
        run.log_dict({"acc": 0.9}, "eval/summary.yaml")
        run.log_text("hello", "notes.txt")
        with pytest.raises(InvalidInput):
            run.log_artifact(tmp_path / "missing.bin")
        with pytest.raises(InvalidInput):
            run.log_text("x", "../escape.txt")
    client.runs.log_text(run.id, "later", "later.txt")  # by id only: the run's artifact root is read

    got = client.runs.get(run.id)
    assert [(a.path, a.is_dir) for a in got.artifacts()] == [
        ("eval", True),
        ("inputs", True),
        ("later.txt", False),
        ("notes.txt", False),
        ("plot.png", False),
        ("plots", True),
    ]
    assert got.read("plots/plot.png") == b"\x89PNG fake"
    assert got.read("inputs/a.csv") == b"x,y\n1,2\n"
    assert got.read("inputs/nested/b.txt") == b"b"
    assert '"labels"' in got.read("eval/summary.json").decode()
    assert yaml.safe_load(got.read("eval/summary.yaml")) == {"acc": 0.9}
    assert got.read("notes.txt") == b"hello"
    assert got.read("later.txt") == b"later"


def test_workspaces_are_kept_apart_and_studies_use_the_clients_workspace(
    client: Client, server_url: str, people: dict[str, Actor]
) -> None:
    team_run = client.runs.start(experiment="churn")
    team_run.log_metric("auc", 0.5)
    team_run.end()
    with Client(server_url, people["alice"].token, workspace="lab") as lab:
        lab_run = lab.runs.start(experiment="churn")  # the same name, another experiment
        lab_run.end()
        assert lab_run.info.experiment_id != team_run.info.experiment_id
        assert client.experiments.get("churn").run_count == 1
        with pytest.raises(NotFound):
            lab.runs.log_metric(team_run.id, "auc", 0.9)
        with pytest.raises(NotFound):
            lab.runs.get(team_run.id)
        # the team run's artifact path named from the lab workspace: no such experiment there
        with pytest.raises(NotFound):
            lab.runs.writer.log_text("lab", team_run.info.artifact_uri, "x", "x.txt")
        assert client.runs.get(team_run.id).metrics == {"auc": 0.5}
        assert lab.runs.get(team_run.id, workspace="team").id == team_run.id  # named explicitly
        assert list(lab.studies.list()) == []
        assert list(lab.studies.list(workspace="team")) == []
    with Client(server_url, people["bob"].token, workspace="team") as outsider:
        with pytest.raises((NotFound, PermissionDenied)):
            outsider.runs.log_metric(team_run.id, "auc", 0.9)
        with pytest.raises((NotFound, PermissionDenied)):
            outsider.runs.start(experiment="churn")
    with Client(server_url, people["alice"].token) as nowhere:
        with pytest.raises(InvalidInput, match="workspace"):
            list(nowhere.studies.list())
        with pytest.raises(InvalidInput, match="workspace"):
            nowhere.runs.start(experiment="churn")

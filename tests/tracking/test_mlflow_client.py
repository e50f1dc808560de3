"""The real mlflow client against a live Dais server: experiments, runs, metrics, artifacts, errors, auth."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.tracking.conftest import MlflowServer

mlflow = pytest.importorskip("mlflow", reason="mlflow-skinny (the dev extra) is the client under test")

from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunTag, ViewType  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

# MLflow warns about its own internals (type hints, deprecations, pickles): not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::FutureWarning", "ignore::DeprecationWarning"
)


@pytest.fixture
def client(mlflow_server: MlflowServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MlflowClient]:
    """The mlflow client, logged in as alice with her password (workspace: her ``default``)."""
    mlflow_server.login(monkeypatch, "alice")
    mlflow.set_tracking_uri(mlflow_server.url)
    yield MlflowClient()
    if mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def _raw(server: MlflowServer, method: str, path: str, user: str = "alice", **kw: Any) -> httpx.Response:
    auth = (user, server.password) if user else None
    return httpx.request(method, server.url + path, auth=auth, timeout=30, **kw)


def _code(exc: pytest.ExceptionInfo[MlflowException]) -> str:
    return str(exc.value.error_code)


# -- experiments and runs ------------------------------------------------------------------------------


def test_fluent_logging_round_trips_params_metrics_tags(client: MlflowClient) -> None:
    exp_id = mlflow.set_experiment("fluent").experiment_id
    with mlflow.start_run(run_name="first") as run:
        mlflow.log_params({"lr": 0.1, "depth": 3})
        mlflow.log_metric("loss", 1.0, step=0)
        mlflow.log_metrics({"loss": 0.5, "acc": 0.8}, step=1)
        mlflow.log_metric("weird", float("nan"), step=1)
        mlflow.log_metric("big", float("inf"), step=1)
        mlflow.set_tags({"team": "vision", "note": "x"})
        mlflow.log_param("depth", 3)  # the same value again is fine
    got = client.get_run(run.info.run_id)
    assert got.info.experiment_id == exp_id
    assert got.info.run_name == "first"
    assert got.info.status == "FINISHED"
    assert got.info.end_time >= got.info.start_time
    assert got.info.artifact_uri == f"mlflow-artifacts:/{exp_id}/{run.info.run_id}/artifacts"
    assert got.data.params == {"lr": "0.1", "depth": "3"}
    assert got.data.metrics["loss"] == 0.5
    assert got.data.metrics["acc"] == 0.8
    assert math.isnan(got.data.metrics["weird"])
    assert got.data.metrics["big"] == math.inf
    assert got.data.tags["team"] == "vision"
    assert got.data.tags["mlflow.runName"] == "first"
    assert got.data.tags["mlflow.user"] == got.info.user_id
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5)]
    assert client.get_metric_history(run.info.run_id, "nothing") == []


def test_log_batch_and_the_latest_metric_rule(client: MlflowClient) -> None:
    exp_id = client.create_experiment("batch")
    run_id = client.create_run(exp_id).info.run_id
    client.log_batch(
        run_id,
        metrics=[
            Metric("m", 5.0, timestamp=10, step=2),
            Metric("m", 1.0, timestamp=20, step=1),  # a later time but an earlier step: not latest
            Metric("m", 7.0, timestamp=5, step=2),  # same step, earlier time: not latest
            Metric("m", 5.0, timestamp=10, step=2),  # an identical point: stored once
        ],
        params=[Param("p", "1")],
        tags=[RunTag("t", "a"), RunTag("t", "b")],
    )
    run = client.get_run(run_id)
    assert run.data.metrics == {"m": 5.0}
    assert run.data.tags["t"] == "b"
    assert [(m.timestamp, m.value) for m in client.get_metric_history(run_id, "m")] == [
        (5, 7.0),
        (10, 5.0),
        (20, 1.0),
    ]
    # More than one request's worth: the client splits it, every point arrives.
    client.log_batch(run_id, metrics=[Metric("n", float(i), 1, i) for i in range(2500)])
    assert len(client.get_metric_history(run_id, "n")) == 2500
    assert client.get_run(run_id).data.metrics["n"] == 2499.0


def test_experiment_lifecycle_and_tags(client: MlflowClient) -> None:
    exp_id = client.create_experiment("life", tags={"owner": "alice"})
    assert client.get_experiment(exp_id).artifact_location == f"mlflow-artifacts:/{exp_id}"
    client.set_experiment_tag(exp_id, "stage", "dev")
    client.delete_experiment_tag(exp_id, "owner")
    assert client.get_experiment(exp_id).tags == {"stage": "dev"}
    client.rename_experiment(exp_id, "life-renamed")
    assert client.get_experiment_by_name("life") is None
    run_id = client.create_run(exp_id).info.run_id
    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    names = [e.name for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)]
    assert "life-renamed" in names
    with pytest.raises(MlflowException) as exc:
        client.create_experiment("life-renamed")
    assert _code(exc) == "RESOURCE_ALREADY_EXISTS"
    client.restore_experiment(exp_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"
    found = client.search_experiments(filter_string="tags.stage = 'dev' AND name LIKE 'life%'")
    assert [e.experiment_id for e in found] == [exp_id]


def test_experiment_artifact_location_is_dais_own_store(client: MlflowClient) -> None:
    for location in ("s3://bucket/exp", "file:///tmp/exp", "/tmp/exp", "exp-artifacts"):
        with pytest.raises(MlflowException) as exc:
            client.create_experiment(f"elsewhere-{len(location)}", artifact_location=location)
        assert _code(exc) == "INVALID_PARAMETER_VALUE"
        assert "Dais keeps run artifacts in its own artifact store" in exc.value.message
    assert client.get_experiment_by_name("elsewhere-15") is None  # nothing was created
    exp_id = client.create_experiment("proxied", artifact_location="mlflow-artifacts:/anything")
    assert client.get_experiment(exp_id).artifact_location == f"mlflow-artifacts:/{exp_id}"
    run = client.create_run(exp_id)
    assert run.info.artifact_uri == f"mlflow-artifacts:/{exp_id}/{run.info.run_id}/artifacts"


def test_default_experiment_and_nested_runs(client: MlflowClient) -> None:
    mlflow.set_experiment(experiment_id="0")
    with mlflow.start_run(run_name="parent") as parent:
        for i in range(2):
            with mlflow.start_run(run_name=f"child-{i}", nested=True):
                mlflow.log_metric("score", i)
    default = client.get_experiment("0")
    assert default.name == "Default"
    assert parent.info.experiment_id == default.experiment_id
    children = client.search_runs(
        [default.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
        order_by=["metrics.score DESC"],
    )
    assert [r.info.run_name for r in children] == ["child-1", "child-0"]


def test_search_runs_filters_orders_and_pages(client: MlflowClient) -> None:
    exp_id = client.create_experiment("search")
    ids = {}
    for i, (acc, model) in enumerate([(0.9, "rf"), (0.7, "lr"), (0.95, "rf"), (0.5, "xgb")]):
        run_id = client.create_run(exp_id, run_name=f"run-{i}", tags={"model": model}).info.run_id
        client.log_batch(run_id, metrics=[Metric("acc", acc, 1, 0)], params=[Param("model", model)])
        ids[i] = run_id
    client.set_terminated(ids[0])
    no_metric = client.create_run(exp_id, run_name="empty").info.run_id

    def names(**kw: Any) -> list[str]:
        return [r.info.run_name for r in client.search_runs([exp_id], **kw)]

    assert names(filter_string="metrics.acc > 0.8", order_by=["metrics.acc DESC"]) == ["run-2", "run-0"]
    assert names(filter_string="params.model = 'rf' AND attributes.status = 'FINISHED'") == ["run-0"]
    assert names(filter_string="tags.model LIKE 'x%'") == ["run-3"]
    assert names(filter_string="tags.model ILIKE 'RF'", order_by=["attributes.run_name"]) == [
        "run-0",
        "run-2",
    ]
    assert names(
        filter_string=f"attributes.run_id IN ('{ids[1]}', '{no_metric}')", order_by=["run_name"]
    ) == [
        "empty",
        "run-1",
    ]
    assert names(filter_string="params.model IS NULL") == ["empty"]
    # Runs without the metric sort last either way.
    assert names(order_by=["metrics.acc ASC"])[-1] == "empty"
    assert names(order_by=["metrics.acc DESC"]) == ["run-2", "run-0", "run-1", "run-3", "empty"]
    page1 = client.search_runs([exp_id], max_results=2, order_by=["metrics.acc DESC"])
    page2 = client.search_runs([exp_id], max_results=2, order_by=["metrics.acc DESC"], page_token=page1.token)
    assert [r.info.run_name for r in page1 + page2] == ["run-2", "run-0", "run-1", "run-3"]
    assert mlflow.search_runs([exp_id], filter_string="metrics.acc < 0.6")[
        "tags.mlflow.runName"
    ].tolist() == ["run-3"]


def test_bulk_interval_history_samples_with_first_and_last(
    client: MlflowClient, mlflow_server: MlflowServer
) -> None:
    exp_id = client.create_experiment("bulk")
    run_id = client.create_run(exp_id).info.run_id
    client.log_batch(run_id, metrics=[Metric("loss", 1.0 / (i + 1), 1000 + i, i) for i in range(1000)])
    r = _raw(
        mlflow_server,
        "GET",
        "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
        params={"run_ids": [run_id], "metric_key": "loss", "max_results": 11},
    )
    assert r.status_code == 200, r.text
    steps = [m["step"] for m in r.json()["metrics"]]
    assert steps[0] == 0
    assert steps[-1] == 999
    assert len(steps) == 11
    assert all(m["run_id"] == run_id for m in r.json()["metrics"])
    window = _raw(
        mlflow_server,
        "GET",
        "/api/2.0/mlflow/metrics/get-history-bulk-interval",
        params={"run_ids": run_id, "metric_key": "loss", "start_step": 10, "end_step": 20},
    ).json()["metrics"]
    assert [m["step"] for m in window] == list(range(10, 21))
    paged = _raw(
        mlflow_server,
        "GET",
        "/api/2.0/mlflow/metrics/get-history",
        params={"run_id": run_id, "metric_key": "loss", "max_results": 600},
    ).json()
    rest = _raw(
        mlflow_server,
        "GET",
        "/api/2.0/mlflow/metrics/get-history",
        params={"run_id": run_id, "metric_key": "loss", "page_token": paged["next_page_token"]},
    ).json()
    assert len(paged["metrics"]) + len(rest["metrics"]) == 1000
    assert "next_page_token" not in rest


def test_sklearn_autolog_logs_params_metrics_and_dataset(client: MlflowClient) -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    mlflow.set_experiment("autolog")
    rng = np.random.default_rng(0)
    x = rng.random((40, 3))
    y = (x[:, 0] > 0.5).astype(int)
    mlflow.sklearn.autolog(log_models=False, log_input_examples=False, silent=True)
    try:
        with mlflow.start_run() as run:
            LogisticRegression(C=0.5, max_iter=50).fit(x, y)
    finally:
        mlflow.sklearn.autolog(disable=True)
    got = client.get_run(run.info.run_id)
    assert got.data.params["C"] == "0.5"
    assert got.data.params["max_iter"] == "50"
    assert 0.0 <= got.data.metrics["training_accuracy_score"] <= 1.0
    assert got.data.tags["estimator_name"] == "LogisticRegression"
    assert got.inputs is not None
    datasets = got.inputs.dataset_inputs
    assert len(datasets) == 1
    assert {t.key: t.value for t in datasets[0].tags}["mlflow.data.context"] == "train"


def test_log_model_outputs_and_get_with_query_parameters(
    client: MlflowClient, mlflow_server: MlflowServer
) -> None:
    exp_id = client.create_experiment("raw")
    run_id = client.create_run(exp_id).info.run_id
    model = {
        "artifact_path": "model",
        "flavors": {"sklearn": {}},
        "utc_time_created": "now",
        "run_id": run_id,
    }
    for _ in range(2):
        r = _raw(
            mlflow_server,
            "POST",
            "/api/2.0/mlflow/runs/log-model",
            json={"run_id": run_id, "model_json": json.dumps(model)},
        )
        assert r.status_code == 200, r.text
    assert json.loads(client.get_run(run_id).data.tags["mlflow.log-model.history"]) == [model, model]
    bad = _raw(
        mlflow_server,
        "POST",
        "/api/2.0/mlflow/runs/log-model",
        json={"run_id": run_id, "model_json": json.dumps({"flavors": {}})},
    )
    assert (bad.status_code, bad.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    r = _raw(
        mlflow_server,
        "POST",
        "/api/2.0/mlflow/runs/outputs",
        json={"run_id": run_id, "models": [{"model_id": "m-1", "step": 3}]},
    )
    assert r.status_code == 200, r.text
    got = _raw(mlflow_server, "GET", "/api/2.0/mlflow/runs/get", params={"run_id": run_id}).json()["run"]
    assert got["outputs"] == {"model_outputs": [{"model_id": "m-1", "step": 3}]}
    assert got["info"]["artifact_uri"] == f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts"
    found = _raw(
        mlflow_server,
        "GET",
        "/ajax-api/2.0/mlflow/experiments/search",
        params={"filter": "name = 'raw'", "max_results": "5", "order_by": ["name", "creation_time DESC"]},
    ).json()
    assert [e["experiment_id"] for e in found["experiments"]] == [exp_id]
    info = httpx.get(mlflow_server.url + "/api/3.0/mlflow/server-info", timeout=30).json()
    assert info["workspaces_enabled"] is True
    assert info["multipart_uploads_enabled"] is True


# -- artifacts ---------------------------------------------------------------------------------------------


def test_artifacts_upload_list_download_delete(
    client: MlflowClient, mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    exp_id = client.create_experiment("artifacts")
    run_id = client.create_run(exp_id).info.run_id
    (tmp_path / "report.txt").write_text("hello")
    folder = tmp_path / "folder"
    (folder / "deep").mkdir(parents=True)
    (folder / "a.json").write_text('{"a": 1}')
    (folder / "deep" / "b.bin").write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    client.log_artifact(run_id, str(tmp_path / "report.txt"))
    client.log_artifacts(run_id, str(folder), artifact_path="folder")
    top = client.list_artifacts(run_id)
    assert [(f.path, f.is_dir) for f in top] == [("folder", True), ("report.txt", False)]
    assert top[1].file_size == 5
    assert [f.path for f in client.list_artifacts(run_id, "folder")] == ["folder/a.json", "folder/deep"]
    out = Path(client.download_artifacts(run_id, "folder", str(tmp_path / "out")))
    assert (out / "deep" / "b.bin").read_bytes() == bytes(range(256)) * 4096
    assert (out / "a.json").read_text() == '{"a": 1}'
    listed = _raw(mlflow_server, "GET", "/api/2.0/mlflow/artifacts/list", params={"run_id": run_id}).json()
    assert listed["root_uri"] == f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts"
    assert {f["path"] for f in listed["files"]} == {"folder", "report.txt"}
    base = f"/api/2.0/mlflow-artifacts/artifacts/{exp_id}/{run_id}/artifacts"
    assert _raw(mlflow_server, "GET", f"{base}/report.txt").content == b"hello"
    assert _raw(mlflow_server, "DELETE", f"{base}/folder").status_code == 200
    assert [f.path for f in client.list_artifacts(run_id)] == ["report.txt"]
    missing = _raw(mlflow_server, "GET", f"{base}/nope.txt")
    assert (missing.status_code, missing.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    bad = _raw(mlflow_server, "PUT", f"/api/2.0/mlflow-artifacts/artifacts/{exp_id}/../x", content=b"x")
    assert bad.status_code in (400, 404)
    # Multipart uploads: tests/tracking/test_mlflow_multipart.py.


# -- bad input -------------------------------------------------------------------------------------------


def test_errors_carry_mlflow_codes(client: MlflowClient, mlflow_server: MlflowServer) -> None:
    with pytest.raises(MlflowException) as exc:
        client.get_run("0" * 32)
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as exc:
        client.get_experiment("987654")
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    exp_id = client.create_experiment("errors")
    run_id = client.create_run(exp_id).info.run_id
    client.log_param(run_id, "lr", "0.1")
    with pytest.raises(MlflowException) as exc:
        client.log_param(run_id, "lr", "0.2")
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    assert "Changing param values is not allowed" in exc.value.message
    with pytest.raises(MlflowException) as exc:
        client.search_runs([exp_id], filter_string="metrics.acc >> 1")
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as exc:
        client.search_runs([exp_id], order_by=["metrics.acc SIDEWAYS"])
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    client.delete_run(run_id)
    with pytest.raises(MlflowException) as exc:
        client.log_metric(run_id, "m", 1.0)
    assert _code(exc) == "INVALID_PARAMETER_VALUE"

    def batch(**body: Any) -> httpx.Response:
        return _raw(mlflow_server, "POST", "/api/2.0/mlflow/runs/log-batch", json=body)

    live = client.create_run(exp_id).info.run_id
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": i} for i in range(1001)]},
            "1000 metrics",
        ),
        ({"params": [{"key": f"p{i}", "value": "v"} for i in range(101)]}, "100 params"),
        ({"tags": [{"key": f"t{i}", "value": "v"} for i in range(101)]}, "100 tags"),
        (
            {
                "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": i} for i in range(901)],
                "params": [{"key": f"p{i}", "value": "v"} for i in range(100)],
            },
            "1000 metrics, params, and tags",
        ),
        ({"params": [{"key": "p", "value": "x" * 6001}]}, "6000"),
        ({"params": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]}, "Duplicate parameter keys"),
        ({"metrics": [{"key": "m", "value": "high", "timestamp": 1}]}, "value"),
        ({"metrics": [{"key": "../m", "value": 1, "timestamp": 1}]}, "resolve"),
    ]
    for body, words in cases:
        r = batch(run_id=live, **body)
        assert (r.status_code, r.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE"), r.text
        assert words in r.json()["message"]
    assert client.get_run(live).data.metrics == {}  # nothing of a refused batch was written
    assert batch(run_id="f" * 32).json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    r = _raw(mlflow_server, "POST", "/api/2.0/mlflow/runs/no-such-thing", json={})
    assert (r.status_code, r.json()["error_code"]) == (404, "ENDPOINT_NOT_FOUND")
    r = _raw(mlflow_server, "POST", "/api/2.0/mlflow/runs/log-metric", content=b"{not json")
    assert r.status_code == 400


def test_sixteen_clients_logging_to_one_run_lose_no_point(client: MlflowClient) -> None:
    exp_id = client.create_experiment("concurrent")
    run_id = client.create_run(exp_id).info.run_id
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        c = MlflowClient()
        try:
            for i in range(25):
                c.log_metric(run_id, "shared", float(worker * 100 + i), timestamp=1, step=worker * 100 + i)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    history = client.get_metric_history(run_id, "shared")
    assert sorted(m.step for m in history) == sorted(w * 100 + i for w in range(16) for i in range(25))
    assert client.get_run(run_id).data.metrics["shared"] == 1524.0


# -- auth and workspaces ---------------------------------------------------------------------------------


def test_auth_failures_are_unauthenticated(mlflow_server: MlflowServer) -> None:
    path = "/api/2.0/mlflow/experiments/search"
    for auth in [None, ("alice", "wrong-password"), ("nobody", "password-123")]:
        r = httpx.post(mlflow_server.url + path, json={}, auth=auth, timeout=30)
        assert (r.status_code, r.json()["error_code"]) == (401, "UNAUTHENTICATED"), auth
    r = httpx.post(
        mlflow_server.url + path, json={}, headers={"Authorization": "Bearer dais_nope"}, timeout=30
    )
    assert (r.status_code, r.json()["error_code"]) == (401, "UNAUTHENTICATED")


def test_workspaces_isolate_runs_and_roles_are_enforced(
    client: MlflowClient, mlflow_server: MlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp_id = client.create_experiment("private")
    run_id = client.create_run(exp_id).info.run_id
    client.log_metric(run_id, "secret", 1.0)
    # A token works as Bearer too, and in the Basic password field.
    mlflow_server.login(monkeypatch, "alice", token=True)
    assert MlflowClient().get_run(run_id).data.metrics == {"secret": 1.0}
    # Another workspace, chosen with MLFLOW_WORKSPACE (the X-MLFLOW-WORKSPACE header): not there.
    monkeypatch.setenv("MLFLOW_WORKSPACE", "team")
    with pytest.raises(MlflowException) as exc:
        MlflowClient().get_run(run_id)
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    team_exp = MlflowClient().create_experiment("private")  # same name, other workspace: fine
    assert team_exp != exp_id
    monkeypatch.delenv("MLFLOW_WORKSPACE")
    # Bob is no member of alice's workspace: her run and its artifacts do not exist for him.
    mlflow_server.login(monkeypatch, "bob")
    monkeypatch.setenv("MLFLOW_WORKSPACE", "other")
    bob = MlflowClient()
    with pytest.raises(MlflowException) as exc:
        bob.get_run(run_id)
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    assert bob.search_runs([exp_id]) == []
    r = _raw(
        mlflow_server,
        "GET",
        f"/api/2.0/mlflow-artifacts/artifacts/{exp_id}/{run_id}/artifacts/x",
        user="bob",
        headers={"X-MLFLOW-WORKSPACE": "other"},
    )
    assert r.status_code == 404
    monkeypatch.setenv("MLFLOW_WORKSPACE", "default")
    with pytest.raises(MlflowException) as exc:
        MlflowClient().get_run(run_id)
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    # Without a workspace, bob (no member of `default`) is told how to choose one.
    monkeypatch.delenv("MLFLOW_WORKSPACE")
    with pytest.raises(MlflowException) as exc:
        MlflowClient().search_experiments()
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    assert "X-MLFLOW-WORKSPACE" in exc.value.message
    # Vera is a viewer in `default`: she reads, she may not write.
    mlflow_server.login(monkeypatch, "vera")
    vera = MlflowClient()
    assert vera.get_run(run_id).data.metrics == {"secret": 1.0}
    with pytest.raises(MlflowException) as exc:
        vera.log_metric(run_id, "x", 1.0)
    assert _code(exc) == "PERMISSION_DENIED"

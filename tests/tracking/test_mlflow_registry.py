"""The real mlflow client against a live Dais server: the model registry and MLflow 3 logged models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from dais.registry import write_package
from tests.tracking.conftest import MlflowServer

mlflow = pytest.importorskip("mlflow", reason="mlflow-skinny (the dev extra) is the client under test")

from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException, RestException  # noqa: E402
from mlflow.models.model import ModelInfo  # noqa: E402

Data = tuple[pd.DataFrame, np.ndarray, LogisticRegression]

# MLflow warns about its own internals (pickle formats, type hints, deprecated stages): not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore::UserWarning", "ignore::FutureWarning", "ignore::pandas.errors.Pandas4Warning"
)


@pytest.fixture(scope="module")
def data() -> Data:
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.random(40), "b": rng.random(40)})
    y = (x.a > x.b).astype(int).to_numpy()
    return x, y, LogisticRegression().fit(x, y)


@pytest.fixture
def alice(mlflow_server: MlflowServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MlflowClient]:
    mlflow_server.login(monkeypatch, "alice")
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    mlflow.set_tracking_uri(mlflow_server.url)
    yield MlflowClient()
    mlflow.set_tracking_uri(None)


def _code(exc: pytest.ExceptionInfo[MlflowException]) -> str:
    return exc.value.error_code


def _rest(client: MlflowClient, endpoint: str, **params: str) -> dict[str, Any]:
    from mlflow.utils.rest_utils import http_request

    creds = client._tracking_client.store.get_host_creds()
    response = http_request(creds, f"/api/2.0/mlflow/{endpoint}", "GET", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _log(model: LogisticRegression, x: pd.DataFrame, **kw: object) -> ModelInfo:
    return mlflow.sklearn.log_model(
        model,
        name="model",
        serialization_format="cloudpickle",
        pip_requirements=["scikit-learn"],  # else MLflow infers them in a subprocess (seconds)
        input_example=x.head(2),
        **kw,
    )


def test_log_model_register_alias_and_load_back(alice: MlflowClient, data: Data) -> None:
    x, _, model = data
    mlflow.set_experiment("registry-flow")
    with mlflow.start_run() as run:
        mlflow.log_param("C", 1.0)
        mlflow.log_metric("acc", 0.93)
        info = _log(model, x, registered_model_name="churn")
    assert str(info.registered_model_version) == "1"
    logged = alice.get_logged_model(info.model_id)
    assert logged.status.to_proto() == mlflow.entities.LoggedModelStatus.READY.to_proto()
    assert logged.source_run_id == run.info.run_id
    assert logged.params["C"] == "1.0"
    assert [m.key for m in logged.metrics] == ["acc"]
    assert logged.artifact_location.endswith(f"/models/{info.model_id}/artifacts")

    version = alice.get_model_version("churn", "1")
    assert (version.source, version.status, version.run_id) == (
        f"models:/{info.model_id}",
        "READY",
        run.info.run_id,
    )
    # the client drops model_id from versions (mlflow's TODO); the REST reply carries it
    assert (
        _rest(alice, "model-versions/get", name="churn", version="1")["model_version"]["model_id"]
        == info.model_id
    )
    assert logged.model_id == info.model_id
    assert alice.get_logged_model(info.model_id).tags["mlflow.modelVersions"]  # set by the client
    assert alice.get_model_version_download_uri("churn", "1") == logged.artifact_location

    # register the same run's model again through runs:/ (MLflow finds the logged model by search)
    v2 = mlflow.register_model(f"runs:/{run.info.run_id}/model", "churn")
    assert v2.version == "2"
    alice.set_registered_model_alias("churn", "champion", "2")
    assert alice.get_model_version_by_alias("churn", "champion").version == "2"
    assert alice.get_registered_model("churn").aliases == {"champion": "2"}

    loaded = mlflow.pyfunc.load_model("models:/churn@champion")
    np.testing.assert_array_equal(np.asarray(loaded.predict(x)), model.predict(x))
    np.testing.assert_array_equal(mlflow.sklearn.load_model("models:/churn/1").predict(x), model.predict(x))
    np.testing.assert_array_equal(
        mlflow.sklearn.load_model("models:/churn/latest").predict(x), model.predict(x)
    )
    assert alice.search_logged_models([run.info.experiment_id], filter_string="metrics.acc > 0.9")[
        0
    ].model_id == (info.model_id)
    assert alice.search_logged_models([run.info.experiment_id], filter_string="params.C = '2'") == []


def test_log_model_relogs_metrics_for_each_model_not_into_the_history(
    alice: MlflowClient, data: Data
) -> None:
    x, _, model = data
    mlflow.set_experiment("relogged")
    with mlflow.start_run() as run:
        mlflow.log_metric("acc", 0.93)
        mlflow.log_metric("odd", float("nan"))
        first = _log(model, x)  # MLflow 3 logs the run's step-0 points again, with the model's id
        second = mlflow.sklearn.log_model(
            model, name="again", serialization_format="cloudpickle", pip_requirements=["scikit-learn"]
        )
    run_id = run.info.run_id
    history = alice.get_metric_history(run_id, "acc")
    assert [(m.step, m.value, m.model_id) for m in history] == [(0, 0.93, None)]
    assert len(alice.get_metric_history(run_id, "odd")) == 1
    assert alice.get_run(run_id).data.metrics["acc"] == 0.93
    for info in (first, second):  # each logged model has the metrics, as with MLflow's server
        metrics = alice.get_logged_model(info.model_id).metrics or []
        assert sorted(m.key for m in metrics) == ["acc", "odd"]


def test_register_a_dais_package_from_run_artifacts(alice: MlflowClient, data: Data, tmp_path: Path) -> None:
    x, _, model = data
    pkg = write_package(tmp_path / "pkg", model=model, input_example=x.head(2), metrics={"acc": 0.9})
    mlflow.set_experiment("registry-flow")
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(pkg), "package")
    version = mlflow.register_model(f"runs:/{run.info.run_id}/package", "dais-pkg")
    assert version.source.startswith("mlflow-artifacts:/")
    assert version.source.endswith(f"/{run.info.run_id}/artifacts/package")
    np.testing.assert_array_equal(
        mlflow.sklearn.load_model("models:/dais-pkg/1").predict(x), model.predict(x)
    )
    local = Path(mlflow.artifacts.download_artifacts("models:/dais-pkg/1", dst_path=str(tmp_path / "dl")))
    assert (local / "dais.json").is_file()


def test_registry_crud_search_and_errors(alice: MlflowClient) -> None:
    source = "mlflow-artifacts:/0/none/artifacts/model"
    alice.create_registered_model("search-a", tags={"team": "risk"}, description="A")
    alice.create_registered_model("Search-B", tags={"team": "ops"})
    alice.create_registered_model("other-c")
    for name in ("search-a", "search-a", "Search-B"):
        alice.create_model_version(name, source, tags={"ok": "yes"} if name == "Search-B" else None)

    names = [m.name for m in alice.search_registered_models(filter_string="name LIKE 'search%'")]
    assert names == ["search-a"]
    names = [m.name for m in alice.search_registered_models(filter_string="name ILIKE 'search%'")]
    assert names == ["Search-B", "search-a"]
    found = alice.search_registered_models(filter_string="tags.team = 'risk'", order_by=["name DESC"])
    assert [m.name for m in found] == ["search-a"]
    assert found[0].description == "A"
    assert {v.version for v in found[0].latest_versions} == {"2"}
    page = alice.search_registered_models(filter_string="name ILIKE 'search%'", max_results=1)
    assert [m.name for m in page] == ["Search-B"]
    assert page.token
    rest = alice.search_registered_models(
        filter_string="name ILIKE 'search%'", max_results=1, page_token=page.token
    )
    assert [m.name for m in rest] == ["search-a"]
    assert not rest.token

    # the UI's /ajax-api alias answers the same
    creds = alice._tracking_client.store.get_host_creds()
    reply = httpx.get(
        f"{creds.host}/ajax-api/2.0/mlflow/registered-models/get",
        params={"name": "search-a"},
        auth=(creds.username, creds.password),
    )
    assert reply.json()["registered_model"]["tags"] == [{"key": "team", "value": "risk"}]

    versions = alice.search_model_versions("name = 'search-a'")
    assert [v.version for v in versions] == ["2", "1"]
    assert [v.name for v in alice.search_model_versions("tags.ok = 'yes'")] == ["Search-B"]

    alice.set_registered_model_tag("search-a", "k", "v")
    alice.delete_registered_model_tag("search-a", "team")
    alice.set_model_version_tag("search-a", "1", "vk", "vv")
    alice.update_model_version("search-a", "1", description="first one")
    alice.update_registered_model("search-a", description="updated")
    v1 = alice.get_model_version("search-a", "1")
    assert (v1.tags, v1.description) == ({"vk": "vv"}, "first one")
    assert alice.get_registered_model("search-a").tags == {"k": "v"}
    alice.transition_model_version_stage("search-a", "1", "Staging")
    assert [v.version for v in alice.get_latest_versions("search-a", stages=["Staging"])] == ["1"]

    alice.rename_registered_model("search-a", "search-renamed")
    assert alice.get_model_version("search-renamed", "2").name == "search-renamed"
    alice.delete_model_version("search-renamed", "2")
    alice.delete_registered_model("other-c")

    with pytest.raises(MlflowException) as exc:
        alice.create_registered_model("Search-B")
    assert _code(exc) == "RESOURCE_ALREADY_EXISTS"
    for call in (
        lambda: alice.get_registered_model("other-c"),
        lambda: alice.get_model_version("search-renamed", "2"),
        lambda: alice.get_model_version("nope", "1"),
        lambda: alice.get_logged_model("m-00000000000000000000000000000000"),
    ):
        with pytest.raises(MlflowException) as exc:
            call()
        assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    for call in (
        lambda: alice.search_registered_models(filter_string="name = 'a' OR name = 'b'"),
        lambda: alice.set_registered_model_alias("Search-B", "latest", "1"),
        lambda: alice.create_model_version("Search-B", "file:///etc/passwd"),
        lambda: alice.get_model_version("Search-B", "one"),
    ):
        with pytest.raises(MlflowException) as exc:
            call()
        assert _code(exc) == "INVALID_PARAMETER_VALUE"


def test_workspace_isolation_and_roles(
    mlflow_server: MlflowServer, alice: MlflowClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice.create_registered_model("private-model")
    alice.create_model_version("private-model", "mlflow-artifacts:/0/x/artifacts/model")
    mlflow_server.login(monkeypatch, "bob", token=True)
    # bob has no "default" workspace: a token made for his workspace picks it
    monkeypatch.setenv(
        "MLFLOW_TRACKING_TOKEN", mlflow_server.world.token(mlflow_server.users["bob"], workspace="other")
    )
    bob = MlflowClient()
    with pytest.raises(RestException) as exc:
        bob.get_registered_model("private-model")
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    assert "private-model" not in [m.name for m in bob.search_registered_models()]
    assert bob.search_model_versions("name = 'private-model'") == []
    bob.create_registered_model("private-model")  # the name is free in bob's workspace

    mlflow_server.login(monkeypatch, "vera")  # a viewer in alice's workspace
    vera = MlflowClient()
    assert vera.get_registered_model("private-model").name == "private-model"
    with pytest.raises(RestException) as exc:
        vera.set_registered_model_alias("private-model", "prod", "1")
    assert _code(exc) == "PERMISSION_DENIED"


def test_logged_model_endpoints(alice: MlflowClient, data: Data) -> None:
    from mlflow.entities import LoggedModelStatus

    x, _, model = data
    exp = mlflow.set_experiment("logged-models")
    lm = alice.create_logged_model(exp.experiment_id, name="ext", params={"p": "1"}, tags={"a": "b"})
    assert lm.status == LoggedModelStatus.PENDING
    alice.set_logged_model_tags(lm.model_id, {"c": "d"})
    alice.delete_logged_model_tag(lm.model_id, "a")
    with pytest.raises(MlflowException) as exc:
        alice.delete_logged_model_tag(lm.model_id, "a")
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    done = alice.finalize_logged_model(lm.model_id, LoggedModelStatus.FAILED)
    assert (done.status, done.tags, done.params) == (LoggedModelStatus.FAILED, {"c": "d"}, {"p": "1"})

    info = _log(model, x)  # no run: a logged model alone, in the active experiment
    listing = _rest(alice, f"logged-models/{info.model_id}/artifacts/directories")
    assert {"MLmodel", "model.pkl"} <= {f["path"] for f in listing["files"]}
    assert {f.path for f in alice.list_logged_model_artifacts(info.model_id)} >= {"MLmodel", "model.pkl"}
    np.testing.assert_array_equal(
        mlflow.sklearn.load_model(f"models:/{info.model_id}").predict(x), model.predict(x)
    )

    found = alice.search_logged_models([exp.experiment_id], filter_string="name = 'ext'")
    assert [m.model_id for m in found] == [lm.model_id]
    ordered = alice.search_logged_models(
        [exp.experiment_id], order_by=[{"field_name": "name", "ascending": False}]
    )
    assert [m.name for m in ordered] == sorted([m.name for m in ordered], reverse=True)
    alice.delete_logged_model(lm.model_id)
    with pytest.raises(MlflowException) as exc:
        alice.get_logged_model(lm.model_id)
    assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as exc:
        alice.search_logged_models([exp.experiment_id], filter_string="name = ")
    assert _code(exc) == "INVALID_PARAMETER_VALUE"

"""The model package: written by Dais, loaded by MLflow's own flavor loaders, read back by Dais."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dais.core.errors import UnsafePath
from dais.registry import (
    RegistryInvalid,
    detect_runtime,
    download_package,
    read_package,
    upload_package,
    write_package,
)
from dais.storage import WorkspaceArtifacts, open_store
from tests.conftest import make_settings

Data = tuple[pd.DataFrame, np.ndarray]

pytest.importorskip("mlflow", reason="mlflow-skinny (the dev extra) loads the packages back")
# MLflow warns about its own internals (type hints, pickle formats) while loading: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


@pytest.fixture(scope="module")
def data() -> Data:
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.random(60), "b": rng.random(60), "n": rng.integers(0, 5, 60)})
    y = ((x.a + x.b) > 1).astype(int).to_numpy()
    return x, y


@pytest.fixture(autouse=True)
def _mlflow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # MLflow refuses to unpickle a model unless told the source is trusted (it is: we wrote it).
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")


CHAIN = {
    "transforms": [
        {
            "operator": "standard_scaler",
            "version": 1,
            "params": {"columns": ["a"]},
            "state": {"mean": {"a": 0.5}, "std": {"a": 0.3}},
            "input_columns": ["a"],
            "output_columns": ["a"],
        }
    ]
}


def test_sklearn_package_loads_with_mlflow_sklearn_and_pyfunc(tmp_path: Path, data: Data) -> None:
    import mlflow.pyfunc
    import mlflow.sklearn
    from sklearn.linear_model import LogisticRegression

    x, y = data
    model = LogisticRegression().fit(x, y)
    path = write_package(
        tmp_path / "pkg",
        model=model,
        input_example=x.head(3),
        transforms=CHAIN,
        metrics={"accuracy": 0.9},
        lineage={"run_id": "r1", "dataset_versions": [{"dataset": "d", "version": 2}]},
    )
    files = {p.name for p in path.iterdir()}
    assert {"MLmodel", "model.pkl", "dais.json", "input_example.json", "requirements.txt"} <= files
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    assert mlmodel["flavors"]["sklearn"]["serialization_format"] == "cloudpickle"
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"

    loaded = mlflow.sklearn.load_model(str(path))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    pyfunc = mlflow.pyfunc.load_model(str(path))
    np.testing.assert_array_equal(np.asarray(pyfunc.predict(x)), model.predict(x))
    # MLflow reads the signature and example Dais wrote
    assert [c.name for c in pyfunc.metadata.get_input_schema().inputs] == ["a", "b", "n"]

    info = read_package(path)
    assert info.runtime == "sklearn"
    assert info.model_file == "model.pkl"
    assert info.model_class == "sklearn.linear_model._logistic.LogisticRegression"
    assert info.metrics == {"accuracy": 0.9}
    assert info.lineage["run_id"] == "r1"
    assert info.transforms == CHAIN
    assert info.transform_chain().transforms[0].operator == "standard_scaler"
    assert info.signature is not None
    assert [c["type"] for c in info.signature["inputs"]] == ["double", "double", "long"]
    assert info.signature["outputs"][0]["type"] == "tensor"
    assert info.input_example["columns"] == ["a", "b", "n"]
    assert info.has_dais_metadata


def test_lightgbm_booster_and_sklearn_wrapper_packages_load_with_mlflow(tmp_path: Path, data: Data) -> None:
    import lightgbm as lgb
    import mlflow.lightgbm

    x, y = data
    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(x, y), 5)
    path = write_package(tmp_path / "booster", model=booster, input_example=x.head(2))
    assert (path / "model.lgb").is_file()
    np.testing.assert_allclose(mlflow.lightgbm.load_model(str(path)).predict(x), booster.predict(x))
    assert read_package(path).runtime == "lightgbm"

    clf = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(x, y)
    path = write_package(tmp_path / "wrapper", model=clf)
    np.testing.assert_array_equal(mlflow.lightgbm.load_model(str(path)).predict(x), clf.predict(x))
    assert read_package(path).model_class == "lightgbm.sklearn.LGBMClassifier"


def test_xgboost_packages_load_with_mlflow(tmp_path: Path, data: Data) -> None:
    import mlflow.xgboost
    import xgboost as xgb

    x, y = data
    clf = xgb.XGBClassifier(n_estimators=5).fit(x, y)
    path = write_package(tmp_path / "xgb", model=clf, input_example=x.to_numpy()[:2])
    assert (path / "model.ubj").is_file()
    np.testing.assert_array_equal(mlflow.xgboost.load_model(str(path)).predict(x), clf.predict(x))
    info = read_package(path)
    assert (info.runtime, info.model_class) == ("xgboost", "xgboost.sklearn.XGBClassifier")
    assert info.signature is not None
    assert info.signature["inputs"][0]["tensor-spec"]["shape"] == [-1, 3]

    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(x, y), 3)
    path = write_package(tmp_path / "booster", model=booster)
    loaded = mlflow.xgboost.load_model(str(path))
    np.testing.assert_allclose(loaded.predict(xgb.DMatrix(x)), booster.predict(xgb.DMatrix(x)))


def test_read_package_of_a_plain_mlflow_model_directory(tmp_path: Path, data: Data) -> None:
    import mlflow.sklearn
    from sklearn.tree import DecisionTreeClassifier

    x, y = data
    mlflow.sklearn.save_model(
        DecisionTreeClassifier().fit(x, y),
        str(tmp_path / "m"),
        serialization_format="cloudpickle",
        pip_requirements=["scikit-learn"],  # else MLflow infers them in a subprocess (seconds)
    )
    info = read_package(tmp_path / "m")
    assert (info.runtime, info.model_file, info.has_dais_metadata) == ("sklearn", "model.pkl", False)
    assert info.transforms == {"transforms": []}


def test_bad_packages_and_models_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RegistryInvalid, match="no MLmodel"):
        read_package(tmp_path)
    (tmp_path / "MLmodel").write_text("flavors: [unclosed")
    with pytest.raises(RegistryInvalid, match="not valid YAML"):
        read_package(tmp_path)
    with pytest.raises(RegistryInvalid, match=r"Cannot package a builtins\.dict"):
        detect_runtime({})
    with pytest.raises(RegistryInvalid, match="not empty"):
        write_package(tmp_path, model=object())


def test_upload_and_download_package_round_trip(tmp_path: Path, data: Data) -> None:
    from sklearn.linear_model import LinearRegression

    x, y = data
    path = write_package(tmp_path / "pkg", model=LinearRegression().fit(x, y), metrics={"r2": 0.5})
    store = open_store(make_settings(tmp_path / "home", "sqlite://"))
    artifacts = WorkspaceArtifacts(store, "ws1")
    keys = upload_package(artifacts, path, "mlflow/1/abc/artifacts/model")
    assert "mlflow/1/abc/artifacts/model/MLmodel" in keys
    back = download_package(artifacts, "mlflow/1/abc/artifacts/model", tmp_path / "back")
    assert json.loads((back / "dais.json").read_text())["metrics"] == {"r2": 0.5}
    assert read_package(back).runtime == "sklearn"
    with pytest.raises(RegistryInvalid, match="No model package"):
        download_package(artifacts, "mlflow/nothing", tmp_path / "none")
    with pytest.raises(UnsafePath):
        upload_package(artifacts, path, "../escape")

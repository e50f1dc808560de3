"""The PyTorch presets: an MLP over feature columns and a small CNN over an image folder dataset."""

from __future__ import annotations

import io
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dais.core.errors import InvalidInput
from dais.training.algorithms.base import MetricPoint, TrainData, TrainLogger

torch = pytest.importorskip(
    "torch", reason="the PyTorch presets need the torch extra (pip install 'dais[torch]')"
)

from dais.training.algorithms.torch_presets import (  # noqa: E402
    CNNImageClassifierPreset,
    MLPClassifierPreset,
    TorchModel,
    media_files,
)


def _blobs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated classes in 4 features."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[0, 0, 0, 0], [4, 4, 0, 0], [0, 4, 4, 0]], dtype=float)
    return centers[y] + rng.normal(scale=0.7, size=(n, 4)), y


def _logger() -> tuple[TrainLogger, list[MetricPoint]]:
    points: list[MetricPoint] = []
    return TrainLogger(points.extend, max_wait_s=0), points


def _steps(points: list[MetricPoint], key: str) -> list[int]:
    return [p.step for p in points if p.key == key]


@pytest.fixture(scope="module")
def tabular() -> TrainData:
    x, y = _blobs(360)
    return TrainData(
        X=x[:300],
        y=y[:300],
        feature_names=["a", "b", "c", "d"],
        X_valid=x[300:],
        y_valid=y[300:],
        classes=["setosa", "versicolor", "virginica"],
        seed=3,
        threads=1,
    )


@pytest.fixture(scope="module")
def mlp_fit(tabular: TrainData) -> tuple[MLPClassifierPreset, TorchModel, list[MetricPoint]]:
    algo = MLPClassifierPreset()
    log, points = _logger()
    model = algo.fit(tabular, algo.parse_params({"epochs": 6, "hidden_units": 32, "lr": 0.01}), log)
    return algo, model, points


def test_mlp_learns_and_logs_a_loss_curve_per_epoch(mlp_fit: Any, tabular: TrainData) -> None:
    algo, model, points = mlp_fit
    for key in ("train_logloss", "valid_logloss", "valid_accuracy"):
        assert _steps(points, key) == list(range(6)), key
    losses = [p.value for p in points if p.key == "train_logloss"]
    assert losses[-1] < losses[0]
    proba = algo.predict_proba(model, tabular.X_valid, tabular.classes)
    assert proba.shape == (60, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    accuracy = (algo.predict(model, tabular.X_valid) == tabular.y_valid).mean()
    assert accuracy > 0.9
    assert [p.value for p in points if p.key == "valid_accuracy"][-1] == pytest.approx(accuracy)


def test_mlp_model_is_torchscript_that_loads_without_dais(
    mlp_fit: Any, tabular: TrainData, tmp_path: Path
) -> None:
    algo, model, _ = mlp_fit
    path = model.save(tmp_path / "model")
    extra: dict[str, Any] = {"dais.json": ""}
    # what the torch runtime does: plain torch, no class of ours
    with pytest.warns(DeprecationWarning, match="torch.jit.load"):
        module = torch.jit.load(str(path), _extra_files=extra)
    x = torch.as_tensor(np.asarray(tabular.X_valid, dtype=np.float32))
    expected = algo.predict_proba(model, tabular.X_valid)
    np.testing.assert_allclose(module(x).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    assert '"classes": ["setosa", "versicolor", "virginica"]' in extra["dais.json"].decode()
    assert (tmp_path / "model" / "dais.json").is_file()
    again = TorchModel.load(tmp_path / "model")
    np.testing.assert_allclose(again.predict_proba(tabular.X_valid), expected, rtol=1e-6)
    unpickled = pickle.loads(pickle.dumps(model))  # noqa: S301 - our own bytes
    assert unpickled.meta["input"] == {
        "kind": "features",
        "features": ["a", "b", "c", "d"],
        "dtype": "float32",
    }
    np.testing.assert_allclose(unpickled.predict_proba(tabular.X_valid), expected, rtol=1e-6)


def test_mlp_package_loads_with_mlflow_pyfunc_answering_labels(
    mlp_fit: Any, tabular: TrainData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the other presets' packages: pyfunc ``predict`` answers class labels; the probabilities come
    from the native pytorch flavor and the unwrapped python model."""
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    mlflow_pytorch = pytest.importorskip("mlflow.pytorch", reason="the MLflow client is a dev dependency")
    import pandas as pd
    import yaml
    from mlflow import pyfunc

    from dais.registry.package import read_package, write_package

    algo, model, _ = mlp_fit
    names = list(tabular.feature_names)
    signature = {"inputs": [{"type": "double", "name": f, "required": True} for f in names], "outputs": None}
    package = write_package(tmp_path / "pkg", model=model, runtime="torch", signature=signature)
    flavors = yaml.safe_load((package / "MLmodel").read_text())["flavors"]
    assert flavors["python_function"]["loader_module"] == "mlflow.pyfunc.model"
    code = (package / flavors["python_function"]["model_code_path"]).read_text()
    assert "from dais" not in code  # it loads where Dais is not installed
    assert "import dais" not in code
    info = read_package(package)
    assert (info.runtime, info.model_file) == ("torch", "data/model.pth")

    expected = algo.predict_proba(model, tabular.X_valid)
    rows = pd.DataFrame(tabular.X_valid, columns=names)
    classes = np.asarray(tabular.classes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.load notes that it hands a TorchScript archive to torch.jit
        native = mlflow_pytorch.load_model(str(package))
        served = pyfunc.load_model(str(package))
    labels = served.predict(rows)
    assert labels.tolist() == classes[expected.argmax(axis=1)].tolist()
    assert set(labels.tolist()) <= set(tabular.classes or [])
    assert served.predict(rows[names[::-1]]).tolist() == labels.tolist()  # columns found by name
    x = torch.as_tensor(np.asarray(tabular.X_valid, dtype=np.float32))
    np.testing.assert_allclose(native(x).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    proba = served.unwrap_python_model().predict_proba(rows)
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)


def test_mlp_aligns_probabilities_to_the_callers_classes(mlp_fit: Any, tabular: TrainData) -> None:
    algo, model, _ = mlp_fit
    wider = ["setosa", "unseen", "versicolor", "virginica"]
    assert tabular.X_valid is not None
    proba = algo.predict_proba(model, tabular.X_valid[:5], wider)
    assert proba.shape == (5, 4)
    assert (proba[:, 1] == 0).all()


def test_mlp_stops_early_when_validation_loss_stops_improving(tabular: TrainData) -> None:
    algo = MLPClassifierPreset()
    # validating against shuffled labels: the validation loss gets worse as the fit gets better
    shuffled = np.random.default_rng(1).permutation(np.asarray(tabular.y_valid))
    data = TrainData(**{**tabular.__dict__, "y_valid": shuffled})
    log, points = _logger()
    algo.fit(data, algo.parse_params({"epochs": 40, "patience": 2, "lr": 0.05}), log)
    assert 3 <= len(_steps(points, "train_logloss")) < 40


def test_mlp_refuses_bad_input(tabular: TrainData) -> None:
    algo = MLPClassifierPreset()
    log, _ = _logger()
    params = algo.parse_params({"epochs": 1})
    one_class = TrainData(
        X=tabular.X[:10], y=np.zeros(10, dtype=int), feature_names=["a", "b", "c", "d"], classes=["x"]
    )
    with pytest.raises(InvalidInput, match="one class only"):
        algo.fit(one_class, params, log)
    holes = np.array(tabular.X, dtype=float)
    holes[3, 2] = np.nan
    with pytest.raises(InvalidInput, match=r"missing or infinite values \(training rows, in c\)"):
        algo.fit(TrainData(**{**tabular.__dict__, "X": holes}), params, log)
    with pytest.raises(InvalidInput, match="hidden_layers") as err:
        algo.parse_params({"hidden_layers": 0, "lr": 0.1})
    assert err.value.errors[0]["loc"] == ["body", "params", "hidden_layers"]


def test_presets_are_registered_with_a_form_and_a_search_space() -> None:
    from dais.training.algorithms.base import get_algorithm, list_algorithms

    infos = {i.name: i for i in list_algorithms()}
    for name, task in (
        ("mlp_classifier", "classification"),
        ("cnn_image_classifier", "image_classification"),
    ):
        assert isinstance(get_algorithm(name), MLPClassifierPreset | CNNImageClassifierPreset)
        info = infos[name]
        assert (info.task, info.runtime, info.error, info.iterative) == (task, "torch", None, True)
        props = info.params_schema["properties"]
        assert props["lr"]["description"]
        assert props["lr"]["exclusiveMinimum"] == 0
        assert info.search_space
    assert infos["mlp_classifier"].params_schema["properties"]["processes"]["default"] == 1


# -- CNN -------------------------------------------------------------------------------------------------


def _draw(label: str, rng: np.random.Generator, fmt: str) -> bytes:
    """A 20x20 noisy image with a red (label "red") or blue square somewhere in it."""
    from PIL import Image

    arr = rng.integers(0, 60, size=(20, 20, 3), dtype=np.uint8)
    top, left = rng.integers(0, 10, 2)
    arr[top : top + 10, left : left + 10, 0 if label == "red" else 2] = 230
    buf = io.BytesIO()
    img = Image.fromarray(arr)
    (img.convert("P") if fmt == "gif" else img).save(
        buf, format={"gif": "GIF", "png": "PNG", "jpg": "JPEG"}[fmt]
    )
    return buf.getvalue()


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An image folder dataset: ``<label>/<n>.<ext>``, labels from the folder names."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for label in ("red", "blue"):
        (root / label).mkdir()
        for i in range(24):
            fmt = ("png", "jpg", "png", "gif")[i % 4]
            (root / label / f"{i}.{fmt}").write_bytes(_draw(label, rng, fmt))
    return root


@pytest.fixture(scope="module")
def images(image_folder: Path) -> TrainData:
    """The folder read as a registered media dataset is: paths relative to the root, label = folder."""
    from dais.core.settings import DataSettings
    from dais.data.connectors.base import NoSecrets
    from dais.data.connectors.file import FileConfig, FileConnector
    from dais.data.media import label_of

    connector = FileConnector(
        FileConfig(root=str(image_folder)), NoSecrets(), settings=DataSettings(allowed_roots=[image_folder])
    )
    paths = sorted(str(p.relative_to(image_folder)) for p in image_folder.rglob("*.*"))
    rng = np.random.default_rng(2)
    paths = [paths[i] for i in rng.permutation(len(paths))]
    labels = [label_of(p) or "" for p in paths]
    classes = sorted(set(labels))
    refs = np.asarray(media_files(connector, paths, timeout_s=10), dtype=object)
    codes = np.asarray([classes.index(label) for label in labels])
    return TrainData(
        X=refs[:36].reshape(-1, 1),
        y=codes[:36],
        feature_names=["path"],
        X_valid=refs[36:].reshape(-1, 1),
        y_valid=codes[36:],
        classes=classes,
        seed=0,
        threads=1,
    )


CNN_PARAMS = {"image_size": 16, "conv_layers": 2, "filters": 8, "epochs": 8, "batch_size": 8, "lr": 0.01}


def test_cnn_learns_an_image_folder_dataset(images: TrainData, image_folder: Path, tmp_path: Path) -> None:
    algo = CNNImageClassifierPreset()
    log, points = _logger()
    model = algo.fit(images, algo.parse_params(CNN_PARAMS), log)
    for key in ("train_logloss", "valid_logloss", "valid_accuracy"):
        assert _steps(points, key) == list(range(8)), key
    assert (algo.predict(model, images.X_valid) == images.y_valid).mean() >= 0.9
    assert model.meta["input"] == {
        "kind": "image",
        "size": [16, 16],
        "mode": "RGB",
        "layout": "NCHW",
        "scale": 1 / 255,
        "resize": "stretch",
    }
    assert model.classes == ["blue", "red"]
    # other kinds of reference: bytes, a local path, a PIL image; and back from the saved TorchScript
    from PIL import Image

    rng = np.random.default_rng(9)
    red_png = _draw("red", rng, "png")
    blue_path = image_folder / "blue" / "0.png"
    refs = [red_png, str(blue_path), Image.open(io.BytesIO(_draw("blue", rng, "png")))]
    assert list(algo.predict(model, refs)) == [1, 0, 0]
    loaded = TorchModel.load(model.save(tmp_path / "cnn"))
    np.testing.assert_allclose(
        loaded.predict_proba(refs[:2]), algo.predict_proba(model, refs[:2]), rtol=1e-5, atol=1e-6
    )


def test_cnn_refuses_unreadable_images_and_too_small_sizes(images: TrainData, tmp_path: Path) -> None:
    algo = CNNImageClassifierPreset()
    log, _ = _logger()
    with pytest.raises(InvalidInput, match="too small for 4 convolution blocks") as err:
        algo.fit(images, algo.parse_params({**CNN_PARAMS, "image_size": 8, "conv_layers": 4}), log)
    assert err.value.errors[0]["loc"] == ["body", "params", "image_size"]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image at all")
    refs = np.asarray([str(broken), *images.X[:3, 0]], dtype=object)
    data = TrainData(X=refs, y=np.asarray([0, 1, 0, 1]), feature_names=["path"], classes=["blue", "red"])
    with pytest.raises(InvalidInput, match=r"broken\.png is not a readable image"):
        algo.fit(data, algo.parse_params({**CNN_PARAMS, "epochs": 1}), log)

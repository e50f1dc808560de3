"""The tabular presets on tiny data: each fits, predicts in the data's class order, logs loss curves
where its library has them, and its params form and search space agree."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import BaseModel

from dais.core.errors import InvalidInput
from dais.training.algorithms import (
    BUILTIN_ALGORITHMS,
    Choice,
    FloatRange,
    IntRange,
    MetricPoint,
    TrainData,
    TrainLogger,
    algorithms,
    get_algorithm,
    list_algorithms,
)

CLASSIFIERS = ["logistic_regression", "random_forest_classifier", "lightgbm_classifier", "xgboost_classifier"]
REGRESSORS = [
    "linear_regression",
    "ridge",
    "random_forest_regressor",
    "lightgbm_regressor",
    "xgboost_regressor",
]
TABULAR = sorted([*CLASSIFIERS, *REGRESSORS, "kmeans"])
FAST = {"n_estimators": 15}


def _params(name: str) -> dict[str, object]:
    algo = get_algorithm(name)
    return {k: v for k, v in FAST.items() if k in algo.Params.model_fields}


def _logger() -> tuple[TrainLogger, list[MetricPoint]]:
    points: list[MetricPoint] = []
    return TrainLogger(points.extend, max_wait_s=0), points


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 240)
    centers = np.array([[0, 0, 0], [3, 3, 0], [0, 3, 3]], dtype=float)
    return centers[y] + rng.normal(scale=0.6, size=(240, 3)), y


def _split(x: np.ndarray, y: np.ndarray, classes: list[object] | None) -> TrainData:
    return TrainData(
        X=x[:180], y=y[:180], feature_names=["a", "b", "c"], X_valid=x[180:], y_valid=y[180:], classes=classes
    )


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifiers_learn_and_answer_probabilities_in_class_order(
    name: str, blobs: tuple[np.ndarray, np.ndarray]
) -> None:
    x, codes = blobs
    algo = get_algorithm(name)
    log, points = _logger()
    data = _split(x, codes, ["cat", "dog", "emu"])  # text labels: codes index them
    model = algo.fit(data, algo.parse_params(_params(name)), log)
    proba = algo.predict_proba(model, x[180:], data.classes)
    assert proba is not None
    assert proba.shape == (60, 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert (algo.predict(model, x[180:], data.classes) == codes[180:]).mean() > 0.85
    importance = algo.feature_importance(model)
    assert importance is not None
    assert importance.shape == (3,)
    if algo.iterative:
        keys = {p.key for p in points}
        assert keys == {"train_logloss", "valid_logloss"}
        valid = [p.value for p in points if p.key == "valid_logloss"]
        assert len(valid) == 15
        assert valid[-1] < valid[0]  # the loss curve goes down
        assert [p.step for p in points if p.key == "valid_logloss"] == list(range(1, 16))


@pytest.mark.parametrize("name", ["lightgbm_classifier", "xgboost_classifier", "logistic_regression"])
def test_a_class_missing_from_the_training_rows_gets_a_zero_column(
    name: str, blobs: tuple[np.ndarray, np.ndarray]
) -> None:
    x, codes = blobs
    keep = codes != 1
    algo = get_algorithm(name)
    data = TrainData(X=x[keep], y=codes[keep], feature_names=["a", "b", "c"], classes=[0, 1, 2])
    model = algo.fit(data, algo.parse_params(_params(name)), TrainLogger())
    proba = algo.predict_proba(model, x, data.classes)
    assert proba is not None
    assert proba.shape == (len(x), 3)
    assert np.all(proba[:, 1] == 0)


@pytest.mark.parametrize("name", REGRESSORS)
def test_regressors_learn_a_linear_target(name: str) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3))
    y = x @ np.array([2.0, -1.0, 0.0]) + rng.normal(scale=0.05, size=200)
    algo = get_algorithm(name)
    log, points = _logger()
    data = TrainData(X=x[:150], y=y[:150], feature_names=["a", "b", "c"], X_valid=x[150:], y_valid=y[150:])
    model = algo.fit(
        data, algo.parse_params({**_params(name), **({"n_estimators": 60} if algo.iterative else {})}), log
    )
    rmse = float(np.sqrt(np.mean((algo.predict(model, x[150:]) - y[150:]) ** 2)))
    assert rmse < 1.0
    if algo.iterative:
        assert {p.key for p in points} == {"train_rmse", "valid_rmse"}


def test_kmeans_finds_the_clusters(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    x, codes = blobs
    algo = get_algorithm("kmeans")
    log, points = _logger()
    model = algo.fit(
        TrainData(X=x, y=None, feature_names=["a", "b", "c"]), algo.parse_params({"n_clusters": 3}), log
    )
    labels = algo.predict(model, x)
    # each true cluster maps to one found cluster
    assert all(len(set(labels[codes == c])) == 1 for c in range(3))
    assert [p.key for p in points] == ["inertia"]
    assert algo.scoring_space(model, x).shape == x.shape


def test_kmeans_refuses_more_clusters_than_rows() -> None:
    algo = get_algorithm("kmeans")
    with pytest.raises(InvalidInput) as err:
        algo.fit(
            TrainData(X=np.zeros((3, 2)), y=None, feature_names=["a", "b"]),
            algo.parse_params({"n_clusters": 5}),
            TrainLogger(),
        )
    assert err.value.errors[0]["loc"] == ["body", "params", "n_clusters"]


def test_bad_params_name_the_field() -> None:
    algo = get_algorithm("lightgbm_classifier")
    with pytest.raises(InvalidInput) as err:
        algo.parse_params({"learning_rate": 5, "nope": 1})
    locs = {tuple(e["loc"]) for e in err.value.errors}
    assert locs == {("body", "params", "learning_rate"), ("body", "params", "nope")}


def test_an_unknown_algorithm_names_the_field() -> None:
    with pytest.raises(InvalidInput) as err:
        get_algorithm("deep_magic")
    assert err.value.errors[0]["loc"] == ["body", "algorithm"]


def test_the_registry_lists_every_preset_with_form_and_search_space() -> None:
    listed = {a.name: a for a in list_algorithms()}
    assert set(BUILTIN_ALGORITHMS) <= set(listed)
    assert set(algorithms().names()) == set(listed)
    for name in TABULAR:
        info = listed[name]
        assert info.error is None
        assert info.task in {"classification", "regression", "clustering"}
        assert info.runtime in {"sklearn", "lightgbm", "xgboost"}
        props = info.params_schema["properties"]
        assert all("description" in p for p in props.values()), name
        assert set(info.search_space) <= set(props)
    assert {a.name for a in list_algorithms("regression")} >= set(REGRESSORS)


@pytest.mark.parametrize("name", TABULAR)
def test_the_search_space_stays_inside_the_params_ranges(name: str) -> None:
    algo = get_algorithm(name)
    for field, dist in algo.search_space().items():
        if isinstance(dist, FloatRange | IntRange):
            values: list[object] = [dist.low, dist.high]
        else:
            assert isinstance(dist, Choice)
            values = list(dist.choices)
        for value in values:
            parsed = algo.parse_params({field: value})
            assert isinstance(parsed, BaseModel)
            assert getattr(parsed, field) == value


def test_the_logger_sends_batches_with_a_prefix() -> None:
    batches: list[list[MetricPoint]] = []
    log = TrainLogger(batches.append, max_points=3, max_wait_s=3600)
    child = log.child("fold1_")
    for i in range(7):
        child.metric("loss", 1.0 / (i + 1), i)
    child.flush()
    assert [len(b) for b in batches] == [3, 3, 1]
    assert {p.key for b in batches for p in b} == {"fold1_loss"}
    assert child.last == {"fold1_loss": pytest.approx(1 / 7)}

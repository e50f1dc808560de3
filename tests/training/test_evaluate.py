"""Standard evaluation: metrics agree with scikit-learn's, undefined ones are left out, chart data is
bounded and plain JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    silhouette_score,
)

from dais.training.evaluate import CURVE_POINTS, SAMPLE_POINTS, downsample, evaluate


def _binary(n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    p1 = np.clip(0.3 * y + rng.uniform(0, 0.7, n), 0.01, 0.99)
    return y, np.column_stack([1 - p1, p1])


def test_binary_metrics_match_scikit_learn_and_curves_are_cut() -> None:
    y, proba = _binary()
    ev = evaluate(
        "classification",
        y=y,
        proba=proba,
        classes=["no", "yes"],
        feature_names=["a"],
        importance=np.array([2.0]),
    )
    m = ev.metrics
    assert m["accuracy"] == pytest.approx(accuracy_score(y, proba.argmax(1)))
    assert m["f1"] == pytest.approx(f1_score(y, proba.argmax(1)))
    assert m["f1_macro"] == pytest.approx(f1_score(y, proba.argmax(1), average="macro"))
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, proba[:, 1]))
    assert m["log_loss"] == pytest.approx(log_loss(y, proba))
    assert "average_precision" in m
    data = json.loads(json.dumps(ev.data, allow_nan=False))
    assert data["classes"] == ["no", "yes"]
    assert np.asarray(data["confusion_matrix"]["matrix"]).sum() == len(y)
    (roc,) = data["roc_curves"]
    assert roc["label"] == "yes"
    assert roc["auc"] == pytest.approx(m["roc_auc"], abs=1e-6)
    assert 2 < len(roc["fpr"]) <= CURVE_POINTS
    assert roc["fpr"][0] == 0.0
    assert roc["tpr"][-1] == 1.0
    (pr,) = data["pr_curves"]
    assert len(pr["precision"]) == len(pr["recall"]) == len(pr["thresholds"]) <= CURVE_POINTS
    assert data["feature_importance"] == [{"feature": "a", "importance": 2.0}]


def test_multiclass_uses_one_vs_rest_and_skips_a_class_absent_from_the_rows() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    proba = rng.dirichlet([1, 1, 1], 300)
    proba[np.arange(300), y] += 1
    proba = np.column_stack([proba, np.zeros(300)])  # a 4th class no row has
    proba /= proba.sum(axis=1, keepdims=True)
    ev = evaluate("classification", y=y, proba=proba, classes=[0, 1, 2, 3])
    expected = np.mean([roc_auc_score(y == c, proba[:, c]) for c in range(3)])
    assert ev.metrics["roc_auc"] == pytest.approx(expected)
    assert "f1" not in ev.metrics  # binary-only metrics
    assert [c["label"] for c in ev.data["roc_curves"]] == [0, 1, 2]
    assert len(ev.data["confusion_matrix"]["matrix"]) == 4


def test_undefined_metrics_are_left_out() -> None:
    y = np.zeros(5, dtype=int)
    proba = np.tile([0.9, 0.1], (5, 1))
    ev = evaluate("classification", y=y, proba=proba, classes=[0, 1])
    assert "roc_auc" not in ev.metrics
    assert ev.data["roc_curves"] == []
    ev = evaluate("regression", y=np.ones(4), pred=np.ones(4))
    assert "r2" not in ev.metrics
    assert ev.metrics["rmse"] == 0.0


def test_regression_metrics_and_a_bounded_residual_sample() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(size=5000)
    pred = y + rng.normal(scale=0.1, size=5000)
    ev = evaluate("regression", y=y, pred=pred)
    assert ev.metrics["rmse"] == pytest.approx(np.sqrt(np.mean((y - pred) ** 2)))
    assert ev.metrics["mae"] == pytest.approx(mean_absolute_error(y, pred))
    assert ev.metrics["r2"] == pytest.approx(r2_score(y, pred))
    assert len(ev.data["residuals"]["actual"]) == SAMPLE_POINTS
    assert sum(ev.data["residual_histogram"]["counts"]) == 5000


def test_clustering_metrics_and_projection() -> None:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 400)
    x = np.eye(3)[labels] * 5 + rng.normal(size=(400, 3))
    ev = evaluate("clustering", x=x, pred=labels)
    assert ev.metrics["silhouette"] == pytest.approx(silhouette_score(x, labels))
    assert {"davies_bouldin", "calinski_harabasz"} <= set(ev.metrics)
    assert sum(ev.data["clusters"]["sizes"]) == 400
    assert len(ev.data["clusters"]["projection"]["x"]) == 400


def test_downsample_keeps_the_ends() -> None:
    x = np.arange(1000)
    (cut,) = downsample(x, max_points=50)
    assert len(cut) == 50
    assert cut[0] == 0
    assert cut[-1] == 999

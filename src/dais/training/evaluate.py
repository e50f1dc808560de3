"""Standard evaluation of a fitted preset: final metrics and the data the UI charts.

:func:`evaluate` answers an :class:`Evaluation`: ``metrics`` (what the run logs) and ``data`` (what
``evaluation.json`` holds: confusion matrix, ROC and precision-recall curves cut to about
:data:`CURVE_POINTS` points, feature importance, a residuals sample, cluster sizes and a 2-D
projection). Metrics that are undefined for the rows at hand (ROC-AUC when the rows hold one class,
R² of a constant target) are left out rather than logged as NaN.

Metrics: classification -- ``accuracy``, ``precision_macro``, ``recall_macro``, ``f1_macro``,
``log_loss``, ``roc_auc`` (binary, or one-vs-rest macro average) and, for two classes,
``precision``, ``recall``, ``f1`` and ``average_precision`` of the positive class (the second one);
regression -- ``rmse``, ``mae``, ``r2``; clustering -- ``silhouette`` (on a sample of at most
:data:`SILHOUETTE_ROWS` rows), ``davies_bouldin``, ``calinski_harabasz``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

CURVE_POINTS = 200
SAMPLE_POINTS = 1000
SILHOUETTE_ROWS = 5000
MAX_CLASSES_CHARTED = 50
MAX_FEATURES_CHARTED = 100
EPS = 1e-15


@dataclass
class Evaluation:
    """Final metrics (logged on the run) and chart data (``evaluation.json``)."""

    metrics: dict[str, float] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


def json_value(value: Any) -> Any:
    """A NumPy scalar (or NaN/inf) as plain JSON."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _floats(values: Any, digits: int = 6) -> list[float | None]:
    return [None if not math.isfinite(v) else round(float(v), digits) for v in values]


def downsample(*columns: np.ndarray, max_points: int = CURVE_POINTS) -> list[np.ndarray]:
    """Every column cut to at most ``max_points`` rows at even steps (first and last kept)."""
    import numpy as np

    n = len(columns[0])
    if n <= max_points:
        return list(columns)
    index = np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
    return [c[index] for c in columns]


# -- classification ---------------------------------------------------------------------------------


def classification_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Metrics of class codes ``y`` against probability columns ``proba`` (one per class)."""
    import numpy as np
    from sklearn.metrics import accuracy_score, average_precision_score, precision_recall_fscore_support

    k = proba.shape[1]
    pred = proba.argmax(axis=1)
    out: dict[str, float] = {"accuracy": float(accuracy_score(y, pred))}
    present = np.unique(np.concatenate([y, pred]))
    p, r, f, _ = precision_recall_fscore_support(y, pred, labels=present, average="macro", zero_division=0)
    out.update(precision_macro=float(p), recall_macro=float(r), f1_macro=float(f))
    if k == 2:
        p, r, f, _ = precision_recall_fscore_support(
            y, pred, labels=[1], average="binary", pos_label=1, zero_division=0
        )
        out.update(precision=float(p), recall=float(r), f1=float(f))
    rows = proba / np.clip(proba.sum(axis=1, keepdims=True), EPS, None)
    picked = np.clip(rows[np.arange(len(y)), y], EPS, 1.0)
    out["log_loss"] = float(-np.log(picked).mean())
    auc = _roc_auc(y, rows)
    if auc is not None:
        out["roc_auc"] = auc
    if k == 2 and 0 < int(y.sum()) < len(y):
        out["average_precision"] = float(average_precision_score(y, rows[:, 1]))
    return out


def _roc_auc(y: np.ndarray, proba: np.ndarray) -> float | None:
    """Binary ROC-AUC, or the one-vs-rest macro average over the classes both present and absent."""
    from sklearn.metrics import roc_auc_score

    k = proba.shape[1]
    if k == 2:
        if 0 < int(y.sum()) < len(y):
            return float(roc_auc_score(y, proba[:, 1]))
        return None
    scores = []
    for c in range(k):
        positive = y == c
        if 0 < int(positive.sum()) < len(y):
            scores.append(float(roc_auc_score(positive, proba[:, c])))
    return sum(scores) / len(scores) if scores else None


def classification_charts(y: np.ndarray, proba: np.ndarray, classes: list[Any]) -> dict[str, Any]:
    """Confusion matrix, ROC and precision-recall curves (binary: the positive class; otherwise one
    curve per class, one-vs-rest, for the first :data:`MAX_CLASSES_CHARTED` classes)."""
    import numpy as np
    from sklearn.metrics import auc, confusion_matrix, precision_recall_curve, roc_curve

    k = len(classes)
    labels = [json_value(c) for c in classes]
    out: dict[str, Any] = {"classes": labels}
    if k <= MAX_CLASSES_CHARTED:
        matrix = confusion_matrix(y, proba.argmax(axis=1), labels=list(range(k)))
        out["confusion_matrix"] = {"labels": labels, "matrix": matrix.tolist()}
    curves_roc, curves_pr = [], []
    targets = [1] if k == 2 else list(range(min(k, MAX_CLASSES_CHARTED)))
    for c in targets:
        positive = (y == c).astype(int)
        if not 0 < int(positive.sum()) < len(y):
            continue
        fpr, tpr, thr = roc_curve(positive, proba[:, c])
        area = float(auc(fpr, tpr))
        fpr, tpr, thr = downsample(fpr, tpr, thr)
        curves_roc.append(
            {"label": labels[c], "auc": round(area, 6), "fpr": _floats(fpr), "tpr": _floats(tpr),
             "thresholds": _floats(thr)}
        )  # fmt: skip
        precision, recall, thr = precision_recall_curve(positive, proba[:, c])
        ap = float(-np.sum(np.diff(recall) * precision[:-1]))
        thr = np.append(thr, np.nan)  # one threshold fewer than points
        precision, recall, thr = downsample(precision, recall, thr)
        curves_pr.append(
            {"label": labels[c], "average_precision": round(ap, 6), "precision": _floats(precision),
             "recall": _floats(recall), "thresholds": _floats(thr)}
        )  # fmt: skip
    out["roc_curves"] = curves_roc
    out["pr_curves"] = curves_pr
    return out


# -- regression -------------------------------------------------------------------------------------


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    import numpy as np

    err = np.asarray(pred, dtype=float) - np.asarray(y, dtype=float)
    out = {"rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err)))}
    total = float(np.sum((y - np.mean(y)) ** 2))
    if len(y) >= 2 and total > 0:
        out["r2"] = 1.0 - float(np.sum(err**2)) / total
    return out


def regression_charts(y: np.ndarray, pred: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """A sample of (actual, predicted) points and a histogram of the residuals."""
    import numpy as np

    y = np.asarray(y, dtype=float)
    pred = np.asarray(pred, dtype=float)
    rng = np.random.default_rng(seed)
    index = (
        np.arange(len(y)) if len(y) <= SAMPLE_POINTS else np.sort(rng.choice(len(y), SAMPLE_POINTS, False))
    )
    residuals = pred - y
    counts, edges = np.histogram(residuals[np.isfinite(residuals)], bins=30)
    return {
        "residuals": {"actual": _floats(y[index]), "predicted": _floats(pred[index])},
        "residual_histogram": {"edges": _floats(edges), "counts": counts.tolist()},
    }


# -- clustering -------------------------------------------------------------------------------------


def clustering_metrics(x: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict[str, float]:
    import numpy as np
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    found = len(np.unique(labels))
    if not 2 <= found <= len(x) - 1:
        return {}
    size = min(len(x), SILHOUETTE_ROWS)
    return {
        "silhouette": float(silhouette_score(x, labels, sample_size=size, random_state=seed)),
        "davies_bouldin": float(davies_bouldin_score(x, labels)),
        "calinski_harabasz": float(calinski_harabasz_score(x, labels)),
    }


def clustering_charts(x: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """Cluster sizes and a sample of points projected on their two principal components."""
    import numpy as np

    sizes = np.bincount(labels.astype(int)) if len(labels) else np.array([], dtype=int)
    out: dict[str, Any] = {"clusters": {"sizes": sizes.tolist()}}
    rng = np.random.default_rng(seed)
    index = (
        np.arange(len(x)) if len(x) <= SAMPLE_POINTS else np.sort(rng.choice(len(x), SAMPLE_POINTS, False))
    )
    if len(index) >= 2 and x.shape[1] >= 2:
        from sklearn.decomposition import PCA

        points = PCA(n_components=2, random_state=seed).fit_transform(np.nan_to_num(x[index]))
        out["clusters"]["projection"] = {
            "x": _floats(points[:, 0]),
            "y": _floats(points[:, 1]),
            "cluster": labels[index].astype(int).tolist(),
        }
    return out


# -- all together -----------------------------------------------------------------------------------


def importance_chart(importance: np.ndarray | None, feature_names: list[str]) -> list[dict[str, Any]]:
    """Features by importance, largest first (at most :data:`MAX_FEATURES_CHARTED`)."""
    if importance is None or len(importance) != len(feature_names):
        return []
    ranked = sorted(zip(feature_names, importance, strict=True), key=lambda p: -float(p[1]))
    return [
        {"feature": n, "importance": json_value(round(float(v), 8))} for n, v in ranked[:MAX_FEATURES_CHARTED]
    ]


def evaluate(
    task: str,
    *,
    y: np.ndarray | None = None,
    proba: np.ndarray | None = None,
    pred: np.ndarray | None = None,
    x: np.ndarray | None = None,
    classes: list[Any] | None = None,
    feature_names: list[str] | None = None,
    importance: np.ndarray | None = None,
    seed: int = 0,
) -> Evaluation:
    """Metrics and chart data for predictions on evaluation rows.

    classification: ``y`` (class codes) and ``proba``; regression: ``y`` and ``pred``; clustering:
    ``x`` (the rows as the model clusters them) and ``pred`` (cluster ids).
    """
    ev = Evaluation(data={"task": task})
    if task == "classification":
        assert y is not None
        assert proba is not None
        assert classes is not None
        ev.data["rows"] = len(y)
        if len(y):
            ev.metrics = classification_metrics(y, proba)
            ev.data.update(classification_charts(y, proba, classes))
    elif task == "regression":
        assert y is not None
        assert pred is not None
        ev.data["rows"] = len(y)
        if len(y):
            ev.metrics = regression_metrics(y, pred)
            ev.data.update(regression_charts(y, pred, seed))
    elif task == "clustering":
        assert x is not None
        assert pred is not None
        ev.data["rows"] = len(x)
        if len(x):
            ev.metrics = clustering_metrics(x, pred, seed)
            ev.data.update(clustering_charts(x, pred, seed))
    else:
        raise ValueError(f"no standard evaluation for task {task!r}")
    ev.metrics = {k: v for k, v in ev.metrics.items() if math.isfinite(v)}
    ev.data["metrics"] = {k: round(v, 8) for k, v in ev.metrics.items()}
    ev.data["feature_importance"] = importance_chart(importance, feature_names or [])
    return ev

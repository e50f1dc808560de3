"""scikit-learn presets: logistic regression, random forests, linear and ridge regression, k-means.

Models are plain scikit-learn estimators (a ``Pipeline`` with a ``StandardScaler`` first when
``standardize`` is on), so the MLflow sklearn flavor loads them as they are.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from dais.training.algorithms.base import (
    Algorithm,
    Choice,
    FloatRange,
    IntRange,
    SearchSpace,
    TrainData,
    TrainLogger,
    final_estimator,
)

if TYPE_CHECKING:
    import numpy as np


def _quiet_fit(estimator: Any, x: Any, y: Any = None) -> Any:
    """Fit, turning a convergence warning into a line in the job's log (not an error)."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        estimator.fit(x, y) if y is not None else estimator.fit(x)
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            print(f"note: {w.message}", flush=True)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return estimator


def _scaled(estimator: Any, standardize: bool) -> Any:
    if not standardize:
        return estimator
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline([("scale", StandardScaler()), ("model", estimator)])


class _SklearnPreset(Algorithm):
    runtime: ClassVar[str] = "sklearn"


# -- classification -----------------------------------------------------------------------------------


class LogisticRegressionParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    C: float = Field(
        default=1.0, gt=0, le=1e6, description="Inverse regularisation strength: smaller regularises more."
    )
    l1_ratio: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Mix of L1 in the penalty (0: L2 only, 1: L1 only; >0 uses saga).",
    )
    max_iter: int = Field(default=200, ge=10, le=100_000, description="Most solver iterations.")
    tol: float = Field(default=1e-4, gt=0, le=1, description="Tolerance for stopping.")
    class_weight: Literal["none", "balanced"] = Field(
        default="none", description="'balanced' weighs classes inversely to their frequency."
    )
    fit_intercept: bool = Field(default=True, description="Fit an intercept term.")
    standardize: bool = Field(default=True, description="Scale features to zero mean, unit variance first.")


class LogisticRegressionPreset(_SklearnPreset):
    """Linear classifier with probabilistic outputs; a fast, strong baseline."""

    name = "logistic_regression"
    title = "Logistic regression"
    description = "A linear classifier (L2/L1 penalties); a fast, interpretable baseline."
    task = "classification"
    Params = LogisticRegressionParams

    def fit(self, data: TrainData, params: Any, log: TrainLogger) -> Any:
        from sklearn.linear_model import LogisticRegression

        estimator = LogisticRegression(
            C=params.C,
            l1_ratio=params.l1_ratio,
            solver="saga" if params.l1_ratio > 0 else "lbfgs",
            max_iter=params.max_iter,
            tol=params.tol,
            class_weight=None if params.class_weight == "none" else "balanced",
            fit_intercept=params.fit_intercept,
            random_state=data.seed,
        )
        assert data.y is not None
        return _quiet_fit(_scaled(estimator, params.standardize), data.frame(data.X), data.labels(data.y))

    def search_space(self) -> SearchSpace:
        return {"C": FloatRange(1e-3, 1e3, log=True), "class_weight": Choice(("none", "balanced"))}


class _ForestParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_estimators: int = Field(default=100, ge=1, le=5000, description="Number of trees.")
    max_depth: int = Field(default=0, ge=0, le=200, description="Deepest a tree may grow (0: no limit).")
    min_samples_split: int = Field(default=2, ge=2, le=100_000, description="Fewest rows to split a node.")
    min_samples_leaf: int = Field(default=1, ge=1, le=100_000, description="Fewest rows in a leaf.")
    max_features: Literal["sqrt", "log2", "all"] = Field(
        default="sqrt", description="Features considered at each split."
    )
    bootstrap: bool = Field(default=True, description="Train each tree on a bootstrap sample.")
    max_samples: float = Field(
        default=1.0, gt=0, le=1, description="Share of rows each tree samples (with bootstrap)."
    )


class RandomForestClassifierParams(_ForestParams):
    criterion: Literal["gini", "entropy", "log_loss"] = Field(default="gini", description="Split quality.")
    class_weight: Literal["none", "balanced", "balanced_subsample"] = Field(
        default="none", description="Weigh classes inversely to their frequency."
    )


def _forest_kwargs(params: Any, data: TrainData) -> dict[str, Any]:
    return {
        "n_estimators": params.n_estimators,
        "max_depth": params.max_depth or None,
        "min_samples_split": params.min_samples_split,
        "min_samples_leaf": params.min_samples_leaf,
        "max_features": None if params.max_features == "all" else params.max_features,
        "bootstrap": params.bootstrap,
        "max_samples": params.max_samples if params.bootstrap and params.max_samples < 1 else None,
        "n_jobs": data.threads,
        "random_state": data.seed,
    }


_FOREST_SPACE: SearchSpace = {
    "n_estimators": IntRange(50, 500, log=True),
    "max_depth": IntRange(0, 32),
    "min_samples_leaf": IntRange(1, 20, log=True),
    "max_features": Choice(("sqrt", "log2", "all")),
}


class RandomForestClassifierPreset(_SklearnPreset):
    """Bagged decision trees; robust, little tuning, handles missing values."""

    name = "random_forest_classifier"
    title = "Random forest (classification)"
    description = "An ensemble of decision trees on bootstrap samples; robust with little tuning."
    task = "classification"
    Params = RandomForestClassifierParams
    handles_missing = True

    def fit(self, data: TrainData, params: Any, log: TrainLogger) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        estimator = RandomForestClassifier(
            criterion=params.criterion,
            class_weight=None if params.class_weight == "none" else params.class_weight,
            **_forest_kwargs(params, data),
        )
        assert data.y is not None
        return _quiet_fit(estimator, data.frame(data.X), data.labels(data.y))

    def search_space(self) -> SearchSpace:
        return dict(_FOREST_SPACE)


# -- regression ---------------------------------------------------------------------------------------


class LinearRegressionParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fit_intercept: bool = Field(default=True, description="Fit an intercept term.")
    positive: bool = Field(default=False, description="Force the coefficients to be positive.")


class LinearRegressionPreset(_SklearnPreset):
    """Ordinary least squares."""

    name = "linear_regression"
    title = "Linear regression"
    description = "Ordinary least squares: the plainest regression baseline."
    task = "regression"
    Params = LinearRegressionParams

    def fit(self, data: TrainData, params: Any, log: TrainLogger) -> Any:
        from sklearn.linear_model import LinearRegression

        estimator = LinearRegression(fit_intercept=params.fit_intercept, positive=params.positive)
        return _quiet_fit(estimator, data.frame(data.X), data.y)

    def search_space(self) -> SearchSpace:
        return {"fit_intercept": Choice((True, False))}


class RidgeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alpha: float = Field(default=1.0, ge=0, le=1e6, description="L2 regularisation strength.")
    fit_intercept: bool = Field(default=True, description="Fit an intercept term.")
    standardize: bool = Field(default=True, description="Scale features to zero mean, unit variance first.")


class RidgePreset(_SklearnPreset):
    """Least squares with an L2 penalty."""

    name = "ridge"
    title = "Ridge regression"
    description = "Linear regression with an L2 penalty: stable with correlated features."
    task = "regression"
    Params = RidgeParams

    def fit(self, data: TrainData, params: Any, log: TrainLogger) -> Any:
        from sklearn.linear_model import Ridge

        estimator = Ridge(alpha=params.alpha, fit_intercept=params.fit_intercept, random_state=data.seed)
        return _quiet_fit(_scaled(estimator, params.standardize), data.frame(data.X), data.y)

    def search_space(self) -> SearchSpace:
        return {"alpha": FloatRange(1e-3, 1e3, log=True)}


class RandomForestRegressorParams(_ForestParams):
    criterion: Literal["squared_error", "absolute_error", "friedman_mse", "poisson"] = Field(
        default="squared_error", description="Split quality."
    )
    max_features: Literal["sqrt", "log2", "all"] = Field(
        default="all", description="Features considered at each split."
    )


class RandomForestRegressorPreset(_SklearnPreset):
    """Bagged regression trees."""

    name = "random_forest_regressor"
    title = "Random forest (regression)"
    description = "An ensemble of regression trees on bootstrap samples; robust with little tuning."
    task = "regression"
    Params = RandomForestRegressorParams
    handles_missing = True

    def fit(self, data: TrainData, params: Any, log: TrainLogger) -> Any:
        from sklearn.ensemble import RandomForestRegressor

        estimator = RandomForestRegressor(criterion=params.criterion, **_forest_kwargs(params, data))
        return _quiet_fit(estimator, data.frame(data.X), data.y)

    def search_space(self) -> SearchSpace:
        return dict(_FOREST_SPACE)


# -- clustering ---------------------------------------------------------------------------------------


class KMeansParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_clusters: int = Field(default=8, ge=2, le=10_000, description="How many clusters.")
    init: Literal["k-means++", "random"] = Field(default="k-means++", description="How centres start.")
    n_init: int = Field(default=1, ge=1, le=100, description="Runs with different starts; the best is kept.")
    max_iter: int = Field(default=300, ge=1, le=100_000, description="Most iterations of one run.")
    tol: float = Field(default=1e-4, ge=0, le=1, description="Tolerance for stopping.")
    standardize: bool = Field(default=True, description="Scale features to zero mean, unit variance first.")


class KMeansPreset(_SklearnPreset):
    """Lloyd's k-means."""

    name = "kmeans"
    title = "K-means"
    description = "Partitions rows into k clusters around centres; scored by silhouette."
    task = "clustering"
    Params = KMeansParams

    def fit(self, data: TrainData, params: Any, log: TrainLogger) -> Any:
        from sklearn.cluster import KMeans

        if params.n_clusters > len(data.X):
            from dais.core.errors import InvalidInput

            raise InvalidInput(
                f"n_clusters is {params.n_clusters} but the training split has only {len(data.X)} rows.",
                errors=[{"loc": ["body", "params", "n_clusters"], "msg": "more clusters than rows"}],
            )
        estimator = KMeans(
            n_clusters=params.n_clusters,
            init=params.init,
            n_init=params.n_init,
            max_iter=params.max_iter,
            tol=params.tol,
            random_state=data.seed,
        )
        model = _quiet_fit(_scaled(estimator, params.standardize), data.frame(data.X))
        log.metric("inertia", float(final_estimator(model).inertia_), int(final_estimator(model).n_iter_))
        return model

    def feature_importance(self, model: Any) -> np.ndarray | None:
        return None

    def search_space(self) -> SearchSpace:
        return {"n_clusters": IntRange(2, 20), "init": Choice(("k-means++", "random"))}

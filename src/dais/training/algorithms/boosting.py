"""Gradient boosting presets: LightGBM and XGBoost, for classification and regression.

Models are the libraries' scikit-learn estimators (``LGBMClassifier``, ``XGBRegressor``...), which
their MLflow flavors load. Each boosting round logs the loss on the training rows (when
``train_loss`` is on) and on the validation rows, under the same keys for both libraries
(``train_logloss``, ``valid_logloss``; ``train_rmse``, ``valid_rmse``), so their curves compare.
With a validation split, ``early_stopping_rounds`` stops when the validation loss stops improving.
"""

from __future__ import annotations

import json
import re
import warnings
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from dais.training.algorithms.base import (
    Algorithm,
    FloatRange,
    IntRange,
    SearchSpace,
    TrainData,
    TrainLogger,
    align_proba,
    model_input,
)

if TYPE_CHECKING:
    import numpy as np

# LightGBM refuses these characters in feature names: such columns train unnamed.
_LGB_UNSAFE = re.compile(r'[\[\]{}":,]')

# The library's metric names -> the keys Dais logs (the same for both libraries).
_METRIC_KEYS = {
    "binary_logloss": "logloss",
    "multi_logloss": "logloss",
    "logloss": "logloss",
    "mlogloss": "logloss",
    "rmse": "rmse",
    "l2": "mse",
    "l1": "mae",
    "mae": "mae",
    "huber": "huber",
}


def _metric_key(split: str, metric: str) -> str:
    return f"{split}_{_METRIC_KEYS.get(metric, metric)}"


class _BoostingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_estimators: int = Field(default=200, ge=1, le=100_000, description="Boosting rounds (trees).")
    learning_rate: float = Field(default=0.1, gt=0, le=1, description="Shrinkage of each tree's step.")
    max_depth: int = Field(default=0, ge=0, le=64, description="Deepest a tree may grow (0: no limit).")
    subsample: float = Field(default=1.0, gt=0, le=1, description="Share of rows each tree samples.")
    colsample_bytree: float = Field(default=1.0, gt=0, le=1, description="Share of features each tree sees.")
    reg_alpha: float = Field(default=0.0, ge=0, le=1e4, description="L1 regularisation of leaf weights.")
    reg_lambda: float = Field(default=0.0, ge=0, le=1e4, description="L2 regularisation of leaf weights.")
    early_stopping_rounds: int = Field(
        default=0,
        ge=0,
        le=10_000,
        description="Stop when the validation loss has not improved for this many rounds (0: off).",
    )
    train_loss: bool = Field(
        default=True,
        description="Also compute the loss on the training rows each round (a second curve; costs a "
        "little time on large data).",
    )


class LightGBMParams(_BoostingParams):
    num_leaves: int = Field(default=31, ge=2, le=131_072, description="Most leaves per tree.")
    min_child_samples: int = Field(default=20, ge=1, le=1_000_000, description="Fewest rows in a leaf.")
    min_split_gain: float = Field(default=0.0, ge=0, le=1e4, description="Least gain to make a split.")


class LightGBMClassifierParams(LightGBMParams):
    class_weight: Literal["none", "balanced"] = Field(
        default="none", description="'balanced' weighs classes inversely to their frequency."
    )


class LightGBMRegressorParams(LightGBMParams):
    objective: Literal["regression", "regression_l1", "huber"] = Field(
        default="regression", description="Loss to minimise: squared error, absolute error or Huber."
    )


class XGBoostParams(_BoostingParams):
    max_depth: int = Field(default=6, ge=0, le=64, description="Deepest a tree may grow (0: no limit).")
    reg_lambda: float = Field(default=1.0, ge=0, le=1e4, description="L2 regularisation of leaf weights.")
    min_child_weight: float = Field(default=1.0, ge=0, le=1e6, description="Least hessian sum in a leaf.")
    gamma: float = Field(default=0.0, ge=0, le=1e4, description="Least loss reduction to make a split.")
    max_bin: int = Field(default=256, ge=2, le=65_536, description="Histogram bins per feature.")


class XGBoostClassifierParams(XGBoostParams):
    pass


class XGBoostRegressorParams(XGBoostParams):
    objective: Literal["reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror"] = Field(
        default="reg:squarederror", description="Loss to minimise."
    )


_LGB_SPACE: SearchSpace = {
    "n_estimators": IntRange(50, 1000, log=True),
    "learning_rate": FloatRange(0.01, 0.3, log=True),
    "num_leaves": IntRange(8, 256, log=True),
    "min_child_samples": IntRange(5, 100, log=True),
    "subsample": FloatRange(0.5, 1.0),
    "colsample_bytree": FloatRange(0.5, 1.0),
    "reg_lambda": FloatRange(1e-3, 10.0, log=True),
}

_XGB_SPACE: SearchSpace = {
    "n_estimators": IntRange(50, 1000, log=True),
    "learning_rate": FloatRange(0.01, 0.3, log=True),
    "max_depth": IntRange(2, 12),
    "min_child_weight": FloatRange(0.5, 20.0, log=True),
    "subsample": FloatRange(0.5, 1.0),
    "colsample_bytree": FloatRange(0.5, 1.0),
    "reg_lambda": FloatRange(1e-3, 10.0, log=True),
}


def _eval_rows(data: TrainData, y_valid: np.ndarray | None, frame: bool) -> tuple[Any, Any] | None:
    """The validation rows whose class the training rows have (a library refuses unseen labels)."""
    import numpy as np

    if data.X_valid is None or y_valid is None or len(y_valid) == 0:
        return None
    x, y = data.X_valid, y_valid
    if data.classes is not None and data.y is not None:
        seen = np.isin(np.asarray(data.y_valid), np.unique(data.y))
        if not seen.any():
            return None
        if not seen.all():
            x, y = x[seen], y[seen]
    return (data.frame(x) if frame else x), y


def _named(data: TrainData) -> bool:
    """Whether LightGBM takes the feature names (it refuses some characters in them)."""
    return not any(_LGB_UNSAFE.search(n) for n in data.feature_names)


# -- LightGBM -----------------------------------------------------------------------------------------


class _LightGBMPreset(Algorithm):
    runtime: ClassVar[str] = "lightgbm"
    handles_missing = True
    iterative = True

    def _kwargs(self, data: TrainData, params: Any) -> dict[str, Any]:
        return {
            "n_estimators": params.n_estimators,
            "learning_rate": params.learning_rate,
            "num_leaves": params.num_leaves,
            "max_depth": params.max_depth or -1,
            "min_child_samples": params.min_child_samples,
            "min_split_gain": params.min_split_gain,
            "subsample": params.subsample,
            "subsample_freq": 1 if params.subsample < 1 else 0,
            "colsample_bytree": params.colsample_bytree,
            "reg_alpha": params.reg_alpha,
            "reg_lambda": params.reg_lambda,
            "n_jobs": data.threads,
            "random_state": data.seed,
            "verbose": -1,
        }

    def _fit(self, estimator: Any, data: TrainData, params: Any, log: TrainLogger, y: Any, yv: Any) -> Any:
        import lightgbm as lgb

        named = _named(data)
        x = data.frame(data.X) if named else data.X
        eval_set: list[tuple[Any, Any]] = []
        names: list[str] = []
        if params.train_loss:
            eval_set.append((x, y))
            names.append("training")  # LightGBM's own name for the training rows: early stopping skips it
        valid = _eval_rows(data, yv, named)
        if valid is not None:
            eval_set.append(valid)
            names.append("valid")
        total = params.n_estimators
        log.expect(total, unit="round")

        def record(env: lgb.callback.CallbackEnv) -> None:
            step = env.iteration + 1
            for item in env.evaluation_result_list or []:
                split = "train" if item[0] == "training" else item[0]
                log.metric(_metric_key(split, item[1]), float(item[2]), step)
            log.progress(step, total)

        callbacks: list[Any] = [record]
        if params.early_stopping_rounds and valid is not None:
            callbacks.append(
                lgb.early_stopping(params.early_stopping_rounds, first_metric_only=True, verbose=False)
            )
        with warnings.catch_warnings():
            # ``eval_set`` is deprecated for ``eval_X``/``eval_y``, but only ``eval_set`` lets LightGBM
            # (4.7) see that an entry is the training data (evaluated from its cached scores, not
            # copied into a second Dataset) and encode a classifier's labels for every entry.
            warnings.simplefilter("ignore", lgb.basic.LGBMDeprecationWarning)
            estimator.fit(
                x,
                y,
                eval_set=eval_set or None,
                eval_names=names or None,
                callbacks=callbacks,
            )
        log.flush()
        return estimator

    def feature_importance(self, model: Any) -> np.ndarray | None:
        import numpy as np

        # Total gain says more than split counts (LightGBM's default).
        return np.asarray(model.booster_.feature_importance(importance_type="gain"), dtype=float)

    def search_space(self) -> SearchSpace:
        return dict(_LGB_SPACE)


class LightGBMClassifierPreset(_LightGBMPreset):
    """LightGBM gradient-boosted trees for classification."""

    name = "lightgbm_classifier"
    title = "LightGBM (classification)"
    description = "Fast gradient-boosted trees; a strong default for tabular data."
    task = "classification"
    Params = LightGBMClassifierParams

    def fit(self, data: TrainData, params: Any, log: TrainLogger) -> Any:
        import lightgbm as lgb

        assert data.y is not None
        estimator = lgb.LGBMClassifier(
            class_weight=None if params.class_weight == "none" else "balanced", **self._kwargs(data, params)
        )
        yv = data.labels(data.y_valid) if data.y_valid is not None else None
        return self._fit(estimator, data, params, log, data.labels(data.y), yv)


class LightGBMRegressorPreset(_LightGBMPreset):
    """LightGBM gradient-boosted trees for regression."""

    name = "lightgbm_regressor"
    title = "LightGBM (regression)"
    description = "Fast gradient-boosted trees; a strong default for tabular data."
    task = "regression"
    Params = LightGBMRegressorParams

    def fit(self, data: TrainData, params: Any, log: TrainLogger) -> Any:
        import lightgbm as lgb

        estimator = lgb.LGBMRegressor(objective=params.objective, metric="rmse", **self._kwargs(data, params))
        return self._fit(estimator, data, params, log, data.y, data.y_valid)


# -- XGBoost ------------------------------------------------------------------------------------------


class _XGBoostPreset(Algorithm):
    runtime: ClassVar[str] = "xgboost"
    handles_missing = True
    iterative = True

    def _kwargs(self, data: TrainData, params: Any) -> dict[str, Any]:
        return {
            "n_estimators": params.n_estimators,
            "learning_rate": params.learning_rate,
            "max_depth": params.max_depth,
            "min_child_weight": params.min_child_weight,
            "gamma": params.gamma,
            "subsample": params.subsample,
            "colsample_bytree": params.colsample_bytree,
            "reg_alpha": params.reg_alpha,
            "reg_lambda": params.reg_lambda,
            "max_bin": params.max_bin,
            "tree_method": "hist",
            "n_jobs": data.threads,
            "random_state": data.seed,
        }

    def _fit(self, estimator: Any, data: TrainData, params: Any, log: TrainLogger, y: Any, yv: Any) -> Any:
        import xgboost as xgb

        x = data.frame(data.X)
        eval_set: list[tuple[Any, Any]] = []
        names: list[str] = []
        if params.train_loss:
            eval_set.append((x, y))
            names.append("train")
        valid = _eval_rows(data, yv, True) if yv is not None else None
        if valid is not None:
            eval_set.append(valid)  # the last set is the one early stopping watches
            names.append("valid")
        total = params.n_estimators
        log.expect(total, unit="round")

        class Record(xgb.callback.TrainingCallback):
            def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
                step = epoch + 1
                for i, name in enumerate(names):
                    for metric, values in evals_log.get(f"validation_{i}", {}).items():
                        value = values[-1]
                        value = value[0] if isinstance(value, tuple) else value
                        log.metric(_metric_key(name, metric), float(value), step)
                log.progress(step, total)
                return False

        estimator.set_params(
            callbacks=[Record()],
            early_stopping_rounds=(params.early_stopping_rounds or None) if valid is not None else None,
        )
        try:
            estimator.fit(x, y, eval_set=eval_set or None, verbose=False)
        finally:
            # The callback holds the logger (and its sink): it must not travel inside the model.
            estimator.set_params(callbacks=None)
        log.flush()
        return estimator

    def search_space(self) -> SearchSpace:
        return dict(_XGB_SPACE)


class XGBoostClassifierPreset(_XGBoostPreset):
    """XGBoost gradient-boosted trees for classification."""

    name = "xgboost_classifier"
    title = "XGBoost (classification)"
    description = "Gradient-boosted trees (histogram method); strong on tabular data."
    task = "classification"
    Params = XGBoostClassifierParams

    def fit(self, data: TrainData, params: Any, log: TrainLogger) -> Any:
        import numpy as np
        import xgboost as xgb

        assert data.y is not None
        # XGBoost wants the labels 0..m-1: the codes of the classes the training rows have.
        present = np.unique(data.y)
        y = np.searchsorted(present, data.y)
        yv = None
        if data.y_valid is not None:
            yv = np.where(np.isin(data.y_valid, present), np.searchsorted(present, data.y_valid), -1)
        metric = "logloss" if len(present) <= 2 else "mlogloss"
        estimator = xgb.XGBClassifier(eval_metric=metric, **self._kwargs(data, params))
        local = TrainData(
            X=data.X,
            y=y,
            feature_names=data.feature_names,
            X_valid=data.X_valid,
            y_valid=yv,
            classes=list(range(len(present))),
            seed=data.seed,
            threads=data.threads,
        )
        model = self._fit(estimator, local, params, log, y, yv)
        # Which of the data's classes each probability column is (kept in the booster's saved file too).
        model.dais_class_codes_ = present.tolist()
        model.get_booster().set_attr(dais_class_codes=json.dumps(model.dais_class_codes_))
        return model

    def predict_proba(self, model: Any, x: np.ndarray, classes: list[Any] | None = None) -> np.ndarray | None:
        proba: np.ndarray = model.predict_proba(model_input(model, x))
        codes = getattr(model, "dais_class_codes_", None)
        if codes is None:
            saved = model.get_booster().attr("dais_class_codes")
            codes = json.loads(saved) if saved else None
        if classes is None or codes is None:
            return proba
        return align_proba(proba, [classes[c] for c in codes], classes)


class XGBoostRegressorPreset(_XGBoostPreset):
    """XGBoost gradient-boosted trees for regression."""

    name = "xgboost_regressor"
    title = "XGBoost (regression)"
    description = "Gradient-boosted trees (histogram method); strong on tabular data."
    task = "regression"
    Params = XGBoostRegressorParams

    def fit(self, data: TrainData, params: Any, log: TrainLogger) -> Any:
        import xgboost as xgb

        estimator = xgb.XGBRegressor(
            objective=params.objective, eval_metric="rmse", **self._kwargs(data, params)
        )
        return self._fit(estimator, data, params, log, data.y, data.y_valid)

"""The preset algorithm interface (group ``dais.algorithms``) and its registry.

A preset declares its task, the runtime its models need (``sklearn``, ``lightgbm``, ``xgboost``,
``torch``), a pydantic ``Params`` model (defaults, ranges and help text: the UI's form), a search
space for tuning, and how to fit and predict. Training code (the ``train.run`` job, tuning trials)
gives it a :class:`TrainData` and a :class:`TrainLogger` for per-iteration metrics (loss curves).

Conventions every preset keeps, so evaluation is the same for all of them:

- classification: ``TrainData.y`` holds class *codes* (``0..k-1``, positions in ``classes``);
  :meth:`Algorithm.predict_proba` answers one column per class in that order;
- regression: ``y`` is float; :meth:`Algorithm.predict` answers values;
- clustering: ``y`` is ``None``; :meth:`Algorithm.predict` answers cluster ids.

Presets fit their estimators on DataFrames (:meth:`TrainData.frame`), so a model knows its feature
names: MLflow's pyfunc (which hands it named columns) and Dais's own calls (NumPy rows, named by
:func:`model_input`) agree, and a column in the wrong place is caught by name.
"""

from __future__ import annotations

import abc
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ValidationError

from dais.core.errors import InvalidInput, PluginError
from dais.core.plugins import Registry, registry

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

#: A training job's log gets a line of per-step metrics at least this often (seconds) while a fit
#: completes steps, whatever their count.
ECHO_EVERY_S = 30.0

Task = Literal["classification", "regression", "clustering", "image_classification"]
TASKS: tuple[str, ...] = ("classification", "regression", "clustering", "image_classification")

#: Built-in presets as lazy "module:Class" strings (the registry imports them on first use).
BUILTIN_ALGORITHMS: dict[str, str] = {
    "logistic_regression": "dais.training.algorithms.sklearn_presets:LogisticRegressionPreset",
    "random_forest_classifier": "dais.training.algorithms.sklearn_presets:RandomForestClassifierPreset",
    "linear_regression": "dais.training.algorithms.sklearn_presets:LinearRegressionPreset",
    "ridge": "dais.training.algorithms.sklearn_presets:RidgePreset",
    "random_forest_regressor": "dais.training.algorithms.sklearn_presets:RandomForestRegressorPreset",
    "kmeans": "dais.training.algorithms.sklearn_presets:KMeansPreset",
    "lightgbm_classifier": "dais.training.algorithms.boosting:LightGBMClassifierPreset",
    "lightgbm_regressor": "dais.training.algorithms.boosting:LightGBMRegressorPreset",
    "xgboost_classifier": "dais.training.algorithms.boosting:XGBoostClassifierPreset",
    "xgboost_regressor": "dais.training.algorithms.boosting:XGBoostRegressorPreset",
    "mlp_classifier": "dais.training.algorithms.torch_presets:MLPClassifierPreset",
    "cnn_image_classifier": "dais.training.algorithms.torch_presets:CNNImageClassifierPreset",
}


# -- search spaces ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FloatRange:
    """A float parameter drawn from ``[low, high]`` (log-uniformly when ``log``)."""

    low: float
    high: float
    log: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"type": "float", "low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True)
class IntRange:
    """An integer parameter drawn from ``[low, high]`` in steps of ``step``."""

    low: int
    high: int
    log: bool = False
    step: int = 1

    def as_json(self) -> dict[str, Any]:
        return {"type": "int", "low": self.low, "high": self.high, "log": self.log, "step": self.step}


@dataclass(frozen=True)
class Choice:
    """A parameter drawn from a list of values."""

    choices: tuple[Any, ...]

    def as_json(self) -> dict[str, Any]:
        return {"type": "categorical", "choices": list(self.choices)}


Distribution = FloatRange | IntRange | Choice
SearchSpace = dict[str, Distribution]


def space_json(space: SearchSpace) -> dict[str, dict[str, Any]]:
    """A search space as plain JSON (``{"param": {"type": "float", "low": ..., ...}}``)."""
    return {name: dist.as_json() for name, dist in space.items()}


# -- data and metrics -------------------------------------------------------------------------------


@dataclass
class TrainData:
    """The rows one fit sees: training arrays, optional validation arrays, and what they mean."""

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    X_valid: np.ndarray | None = None
    y_valid: np.ndarray | None = None
    #: classification: the class labels; ``y`` holds positions in this list
    classes: list[Any] | None = None
    seed: int = 0
    #: CPU threads the fit may use
    threads: int = 1

    @property
    def n_classes(self) -> int:
        return len(self.classes or [])

    def frame(self, x: np.ndarray) -> Any:
        """Rows as a DataFrame with the feature names (no copy)."""
        import pandas as pd  # type: ignore[import-untyped]

        return pd.DataFrame(x, columns=list(self.feature_names), copy=False)

    def labels(self, codes: np.ndarray) -> np.ndarray:
        """Class codes as the original labels (for libraries that keep labels themselves)."""
        import numpy as np

        out: np.ndarray = np.asarray(self.classes, dtype=object if _mixed(self.classes) else None)[codes]
        return out


def _mixed(values: list[Any] | None) -> bool:
    return bool(values) and len({type(v) for v in values or []}) > 1


@dataclass
class MetricPoint:
    """One metric value at one step (``timestamp`` in epoch milliseconds, as MLflow keeps it)."""

    key: str
    value: float
    step: int
    timestamp: int


class TrainLogger:
    """Per-iteration metrics of a fit, buffered and handed to ``sink`` in batches.

    A batch goes out when ``max_points`` are waiting or ``max_wait_s`` passed since the last one,
    and on :meth:`flush`, so a loss curve shows up live without a database write per point.
    ``prefix`` is put before every key (``fold2_``). A sink that raises stops the fit (tuning uses
    it to prune a trial).

    With ``echo`` (a training job's log), a step's metrics are also written as one line once the
    step is complete (the next step begins, or :meth:`flush` ends the fit) at a modest rate: the
    first step, every tenth of the steps a preset announced with :meth:`expect` (powers of two when
    it announced none), the last one, and at least every :data:`ECHO_EVERY_S` seconds.
    """

    def __init__(
        self,
        sink: Callable[[list[MetricPoint]], None] | None = None,
        *,
        max_points: int = 500,
        max_wait_s: float = 1.0,
        prefix: str = "",
        on_progress: Callable[[float], None] | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.sink = sink
        self.on_progress = on_progress
        self.echo = echo
        self.max_points = max_points
        self.max_wait_s = max_wait_s
        self.prefix = prefix
        self._buffer: list[MetricPoint] = []
        self._last = time.monotonic()
        #: the last value of each key (what a caller may look at after the fit)
        self.last: dict[str, float] = {}
        self.points = 0
        #: steps the fit announced (:meth:`expect`), what one is called, the number of the first
        self.total: int | None = None
        self.unit = "step"
        self._first = 1
        self._step: int | None = None
        self._values: dict[str, float] = {}
        self._echoed_at = time.monotonic()

    def expect(self, total: int, *, unit: str = "step", first: int = 1) -> None:
        """Announce ``total`` steps (each called ``unit``, numbered from ``first``): lines in the log
        at every tenth of them, and progress as each one completes."""
        self.total, self.unit, self._first = max(0, int(total)), unit, first

    def metric(self, key: str, value: float, step: int) -> None:
        """Record ``key`` = ``value`` at ``step``."""
        full = self.prefix + key
        step = int(step)
        if self._step is not None and step != self._step:
            self._step_done(final=False)
        self._step = step
        self._values[full] = float(value)
        self._buffer.append(MetricPoint(full, float(value), step, int(time.time() * 1000)))
        self.last[full] = float(value)
        self.points += 1
        if len(self._buffer) >= self.max_points or time.monotonic() - self._last >= self.max_wait_s:
            self._send()

    def metrics(self, values: dict[str, float], step: int) -> None:
        """Record several metrics at one step."""
        for key, value in values.items():
            self.metric(key, value, step)

    def flush(self) -> None:
        """Hand what is waiting to the sink (the fit ended: its last step is complete)."""
        self._send()
        self._step_done(final=True)

    def _send(self) -> None:
        batch, self._buffer = self._buffer, []
        self._last = time.monotonic()
        if batch and self.sink is not None:
            self.sink(batch)

    def _step_done(self, *, final: bool) -> None:
        """The step in progress is complete: progress, and its line in the log when one is due."""
        step, values = self._step, self._values
        self._step, self._values = None, {}
        if step is None or not values:
            return
        number = step - self._first + 1
        if self.total:
            self.progress(number, self.total)
        if self.echo is None or not (final or self._due(number)):
            return
        where = f"{self.unit} {number}/{self.total}" if self.total else f"{self.unit} {number}"
        shown = "  ".join(f"{key}={value:.6g}" for key, value in values.items())
        self.echo(f"{where}: {shown}")
        self._echoed_at = time.monotonic()

    def _due(self, number: int) -> bool:
        if number <= 1 or time.monotonic() - self._echoed_at >= ECHO_EVERY_S:
            return True
        if self.total:
            return number % max(1, math.ceil(self.total / 10)) == 0 or number >= self.total
        return number & (number - 1) == 0

    def progress(self, done: int, total: int) -> None:
        """How far the fit is (``done`` of ``total`` iterations)."""
        if self.on_progress is not None and total > 0:
            self.on_progress(min(done / total, 1.0))

    def child(self, prefix: str = "", on_progress: Callable[[float], None] | None = None) -> TrainLogger:
        """A logger writing to the same sink with ``prefix`` added to every key."""
        return TrainLogger(
            self.sink,
            max_points=self.max_points,
            max_wait_s=self.max_wait_s,
            prefix=self.prefix + prefix,
            on_progress=on_progress or self.on_progress,
            echo=self.echo,
        )


# -- the interface ----------------------------------------------------------------------------------


class Algorithm(abc.ABC):
    """A preset training algorithm. Subclasses set the class attributes and implement :meth:`fit`."""

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str] = ""
    task: ClassVar[Task]
    #: the runtime that loads its models: sklearn | lightgbm | xgboost | torch
    runtime: ClassVar[str]
    Params: ClassVar[type[BaseModel]]
    #: whether missing feature values (NaN) are accepted as they are
    handles_missing: ClassVar[bool] = False
    #: whether the fit logs per-iteration metrics (loss curves)
    iterative: ClassVar[bool] = False

    @abc.abstractmethod
    def fit(self, data: TrainData, params: Any, log: TrainLogger) -> Any:
        """Fit a model on ``data`` with ``params`` (an instance of ``Params``); the fitted model."""

    def predict(self, model: Any, x: np.ndarray, classes: list[Any] | None = None) -> np.ndarray:
        """Regression: values; clustering: cluster ids; classification: class codes."""
        if self.task == "classification":
            proba = self.predict_proba(model, x, classes)
            assert proba is not None
            codes: np.ndarray = proba.argmax(axis=1)
            return codes
        result: np.ndarray = model.predict(model_input(model, x))
        return result

    def predict_proba(self, model: Any, x: np.ndarray, classes: list[Any] | None = None) -> np.ndarray | None:
        """Classification: one probability column per class of ``classes`` (the training data's), in
        that order, even when the model met only some of them."""
        if self.task != "classification":
            return None
        proba = model.predict_proba(model_input(model, x))
        fitted = getattr(final_estimator(model), "classes_", None)
        if classes is None or fitted is None:
            result: np.ndarray = proba
            return result
        aligned: np.ndarray = align_proba(proba, list(fitted), classes)
        return aligned

    def feature_importance(self, model: Any) -> np.ndarray | None:
        """One importance per feature (``None`` when the model has none)."""
        import numpy as np

        model = final_estimator(model)
        values = getattr(model, "feature_importances_", None)
        if values is not None:
            return np.asarray(values, dtype=float)
        coef = getattr(model, "coef_", None)
        if coef is not None:
            arr: np.ndarray = np.abs(np.asarray(coef, dtype=float))
            return np.asarray(arr.mean(axis=0)) if arr.ndim == 2 else arr
        return None

    def scoring_space(self, model: Any, x: np.ndarray) -> np.ndarray:
        """Clustering: the rows as the model clusters them (after a pipeline's scaling steps), where
        silhouette and the projection are computed."""
        import numpy as np

        steps = getattr(model, "steps", None)
        if steps and len(steps) > 1:
            out: np.ndarray = np.asarray(model[:-1].transform(model_input(model, x)))
            return out
        return x

    @abc.abstractmethod
    def search_space(self) -> SearchSpace:
        """A sensible space of ``Params`` fields for tuning (the fields it leaves out keep defaults)."""

    # -- helpers shared by every preset ---------------------------------------------------------

    @classmethod
    def parse_params(cls, raw: dict[str, Any] | None, loc: tuple[str, ...] = ("body", "params")) -> Any:
        """``raw`` as a ``Params`` instance; 422 naming each wrong field."""
        try:
            return cls.Params.model_validate(raw or {})
        except ValidationError as exc:
            errors = [
                {"loc": [*loc, *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]} for e in exc.errors()
            ]
            fields = ", ".join(".".join(map(str, e["loc"][len(loc) :])) for e in errors[:5])
            raise InvalidInput(
                f"The params do not fit the algorithm {cls.name!r}: check {fields}.", errors=errors
            ) from exc

    @classmethod
    def params_schema(cls) -> dict[str, Any]:
        """The JSON schema of ``Params`` (the UI's form)."""
        return cls.Params.model_json_schema()

    @classmethod
    def param_strings(cls, params: BaseModel) -> dict[str, str]:
        """``params`` as the strings a tracking run keeps."""
        out: dict[str, str] = {}
        for key, value in params.model_dump(mode="json").items():
            out[key] = "None" if value is None else str(value)
        return out


def model_input(model: Any, x: Any) -> Any:
    """NumPy rows as a DataFrame named like the columns the model was fitted on (as they are if it
    knows no names)."""
    names = getattr(model, "feature_names_in_", None)
    if names is None or not hasattr(x, "ndim") or x.ndim != 2:
        return x
    import pandas as pd

    return pd.DataFrame(x, columns=list(names), copy=False)


def final_estimator(model: Any) -> Any:
    """The estimator itself (the last step of a scikit-learn pipeline)."""
    steps = getattr(model, "steps", None)
    return steps[-1][1] if steps else model


def align_proba(proba: np.ndarray, fitted: list[Any], classes: list[Any]) -> np.ndarray:
    """Probability columns for the model's ``fitted`` classes laid out as ``classes`` (zeros for a
    class the model never met)."""
    import numpy as np

    if len(fitted) == len(classes) and all(a == b for a, b in zip(fitted, classes, strict=True)):
        return proba
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros((proba.shape[0], len(classes)), dtype=float)
    for j, c in enumerate(fitted):
        out[:, index[c]] = proba[:, j]
    return out


@dataclass
class AlgorithmInfo:
    """What the algorithm list shows about one preset (or why it cannot load)."""

    name: str
    title: str = ""
    description: str = ""
    task: str = ""
    runtime: str = ""
    params_schema: dict[str, Any] = field(default_factory=dict)
    search_space: dict[str, Any] = field(default_factory=dict)
    handles_missing: bool = False
    iterative: bool = False
    error: str | None = None


def algorithms() -> Registry[type[Algorithm]]:
    """The preset registry (``dais.algorithms`` entry points plus the built-ins)."""
    return registry("dais.algorithms", builtins=BUILTIN_ALGORITHMS)


def get_algorithm(name: str, loc: tuple[str, ...] = ("body", "algorithm")) -> Algorithm:
    """The preset called ``name``; 422 naming ``loc`` if unknown or broken."""
    reg = algorithms()
    if name not in reg:
        raise InvalidInput(
            f"Unknown algorithm {name!r}; known: {', '.join(reg.names())}.",
            errors=[{"loc": list(loc), "msg": "unknown algorithm"}],
        )
    try:
        return reg.get(name)()
    except PluginError as exc:
        raise InvalidInput(
            f"The algorithm {name!r} cannot be loaded here: {exc.detail}",
            errors=[{"loc": list(loc), "msg": "cannot be loaded"}],
        ) from exc


def list_algorithms(task: str | None = None) -> list[AlgorithmInfo]:
    """Every preset with its form and search space; a broken plugin is listed with its error."""
    reg = algorithms()
    out: list[AlgorithmInfo] = []
    for name in reg.names():
        try:
            cls = reg.get(name)
            algo = cls()
            info = AlgorithmInfo(
                name=name,
                title=cls.title,
                description=cls.description,
                task=cls.task,
                runtime=cls.runtime,
                params_schema=cls.params_schema(),
                search_space=space_json(algo.search_space()),
                handles_missing=cls.handles_missing,
                iterative=cls.iterative,
            )
        except Exception as exc:  # a broken plugin is listed, never fatal
            log.warning("algorithm %s cannot be listed: %s", name, exc)
            info = AlgorithmInfo(name=name, error=f"{type(exc).__name__}: {exc}")
        if task is None or info.task == task or info.error:
            out.append(info)
    return out

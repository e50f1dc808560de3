"""Search spaces: checking them (against a preset's params), turning them into Optuna distributions,
drawing a trial's params from them (define-by-run), and enumerating them for a grid.

A space is JSON, the shape :func:`dais.training.algorithms.space_json` gives:
``{"C": {"type": "float", "low": 0.001, "high": 1000, "log": true}, "class_weight": {"type":
"categorical", "choices": ["none", "balanced"]}}``. An auto model's space is conditional:
``{"algorithm": {"type": "categorical", "choices": [...]}, "spaces": {"<preset>": {...}}}``; its
params are named ``<preset>.<param>`` in Optuna (so two presets' ``n_estimators`` never clash).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from dais.core.errors import InvalidInput
from dais.training.tuning.schemas import CategoricalParam, FloatParam, IntParam, ParamSpace

if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution

    from dais.training.algorithms import Algorithm

ALGORITHM_PARAM = "algorithm"
#: The most points a grid study may enumerate.
MAX_GRID_POINTS = 100_000


def _invalid(loc: list[Any], message: str) -> InvalidInput:
    return InvalidInput(message, errors=[{"loc": loc, "msg": message}])


def check_param(name: str, p: ParamSpace, loc: list[Any]) -> dict[str, Any]:
    """One param's space as JSON, after the checks Optuna's distributions make (422 naming ``loc``)."""
    if isinstance(p, CategoricalParam):
        if len({repr(c) for c in p.choices}) != len(p.choices):
            raise _invalid([*loc, "choices"], f"The choices of {name!r} repeat a value.")
        return p.model_dump()
    if p.low > p.high:
        raise _invalid([*loc, "low"], f"The space of {name!r} has low {p.low} above high {p.high}.")
    if p.log and p.low <= 0:
        raise _invalid([*loc, "low"], f"A log space needs low > 0 ({name!r} has {p.low}).")
    if isinstance(p, FloatParam):
        if p.log and p.step is not None:
            raise _invalid([*loc, "step"], f"{name!r}: a float space cannot be both log and stepped.")
        if not (math.isfinite(p.low) and math.isfinite(p.high)):
            raise _invalid([*loc, "low"], f"The bounds of {name!r} must be finite numbers.")
    if isinstance(p, IntParam) and p.log and p.step != 1:
        raise _invalid([*loc, "step"], f"{name!r}: a log int space takes step 1 only.")
    return p.model_dump()


def _endpoints(p: dict[str, Any]) -> list[Any]:
    if p["type"] == "categorical":
        return list(p["choices"])
    return [p["low"], p["high"]]


def check_preset_space(
    algo: Algorithm, space: dict[str, ParamSpace] | None, fixed: dict[str, Any], loc: list[Any]
) -> dict[str, dict[str, Any]]:
    """The space to search for ``algo`` (its own when ``space`` is None), checked: every param is one
    of the preset's, and every bound or choice is a value the preset accepts with ``fixed``."""
    if space is None:
        from dais.training.algorithms import space_json

        out = space_json(algo.search_space())
        for name in list(out):
            if name in fixed:  # a fixed param is not searched
                out.pop(name)
        return out
    fields = algo.Params.model_fields
    out = {}
    for name, p in space.items():
        where = [*loc, name]
        if name not in fields:
            raise _invalid(
                where, f"{algo.name!r} has no param {name!r}; its params: {', '.join(sorted(fields))}."
            )
        spec = check_param(name, p, where)
        for value in _endpoints(spec):
            algo.parse_params({**fixed, name: value}, loc=tuple(map(str, where)))
        out[name] = spec
    return out


def auto_space(algos: list[Algorithm]) -> dict[str, Any]:
    """The conditional space of an auto model: the preset first, then that preset's own space."""
    from dais.training.algorithms import space_json

    return {
        ALGORITHM_PARAM: {"type": "categorical", "choices": [a.name for a in algos]},
        "spaces": {a.name: space_json(a.search_space()) for a in algos},
    }


# -- Optuna ------------------------------------------------------------------------------------------


def distribution(p: dict[str, Any]) -> BaseDistribution:
    """The Optuna distribution of one param's JSON space."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if p["type"] == "float":
        return FloatDistribution(p["low"], p["high"], log=p.get("log", False), step=p.get("step"))
    if p["type"] == "int":
        return IntDistribution(p["low"], p["high"], log=p.get("log", False), step=p.get("step", 1))
    return CategoricalDistribution(p["choices"])


def suggest(trial: optuna.Trial, space: dict[str, Any], *, auto: bool) -> dict[str, Any]:
    """Draw a trial's params (define-by-run: an auto model's preset first, then its space)."""
    if not auto:
        return {name: _suggest(trial, name, p) for name, p in space.items()}
    algorithm = trial.suggest_categorical(ALGORITHM_PARAM, space[ALGORITHM_PARAM]["choices"])
    out: dict[str, Any] = {ALGORITHM_PARAM: algorithm}
    for name, p in space["spaces"].get(algorithm, {}).items():
        key = f"{algorithm}.{name}"
        out[key] = _suggest(trial, key, p)
    return out


def _suggest(trial: optuna.Trial, name: str, p: dict[str, Any]) -> Any:
    if p["type"] == "float":
        return trial.suggest_float(name, p["low"], p["high"], log=p.get("log", False), step=p.get("step"))
    if p["type"] == "int":
        return trial.suggest_int(name, p["low"], p["high"], log=p.get("log", False), step=p.get("step", 1))
    return trial.suggest_categorical(name, p["choices"])


def grid(space: dict[str, dict[str, Any]], loc: list[Any]) -> dict[str, list[Any]]:
    """Every value of each param, for a grid study (a float needs a ``step``; 422 otherwise)."""
    out: dict[str, list[Any]] = {}
    for name, p in space.items():
        if p["type"] == "categorical":
            out[name] = list(p["choices"])
        elif p["type"] == "int":
            out[name] = list(range(p["low"], p["high"] + 1, p.get("step", 1)))
        elif p.get("step"):
            n = math.floor((p["high"] - p["low"]) / p["step"] + 1e-9) + 1
            out[name] = [round(p["low"] + i * p["step"], 12) for i in range(n)]
        else:
            raise _invalid(
                [*loc, name],
                f"A grid needs the values of {name!r}: give it a `step`, or make it categorical.",
            )
    size = math.prod(len(v) for v in out.values())
    if size > MAX_GRID_POINTS:
        raise _invalid(loc, f"The grid has {size} points; at most {MAX_GRID_POINTS} can be enumerated.")
    return out


def grid_size(values: dict[str, list[Any]]) -> int:
    return math.prod(len(v) for v in values.values())


def check_enqueued(
    space: dict[str, dict[str, Any]], enqueued: list[dict[str, Any]], loc: list[Any]
) -> list[dict[str, Any]]:
    """Param sets to try first: each names params of the space with values inside it."""
    for i, params in enumerate(enqueued):
        for name, value in params.items():
            if name not in space:
                raise _invalid([*loc, i, name], f"{name!r} is not a param of the search space.")
            dist = distribution(space[name])
            try:
                inside = dist._contains(dist.to_internal_repr(value))
            except (ValueError, TypeError):
                inside = False
            if not inside:
                raise _invalid([*loc, i, name], f"{value!r} is outside the space of {name!r}.")
    return enqueued


def study_direction(direction: str) -> optuna.study.StudyDirection:
    """``minimize``/``maximize`` as Optuna's enum."""
    from optuna.study import StudyDirection

    return StudyDirection.MAXIMIZE if direction == "maximize" else StudyDirection.MINIMIZE


# -- what a trial trains ---------------------------------------------------------------------------


def split_params(params: dict[str, Any], *, auto: bool) -> tuple[str | None, dict[str, Any]]:
    """A trial's preset (auto model) and its params without the ``<preset>.`` prefix."""
    if not auto:
        return None, dict(params)
    algorithm = params.get(ALGORITHM_PARAM)
    prefix = f"{algorithm}."
    return algorithm, {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}

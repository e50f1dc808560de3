"""MLflow's limits, reserved tags and naming rules, with MLflow's messages (mlflow/utils/validation.py)."""

from __future__ import annotations

import json
import posixpath
import re
from typing import Any

from dais.tracking.entries import MetricIn, ParamIn, TagIn
from dais.tracking.errors import InvalidParameterValue
from dais.tracking.models import ACTIVE, DELETED

MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
MAX_ENTITIES_PER_BATCH = 1000
MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000
MAX_RUN_NAME_LENGTH = 250
MAX_DATASET_NAME_SIZE = 500
MAX_DATASET_DIGEST_SIZE = 36
MAX_DATASET_SOURCE_SIZE = 65535
MAX_INPUT_TAG_KEY_SIZE = 255
MAX_INPUT_TAG_VALUE_SIZE = 500
SEARCH_MAX_RESULTS_DEFAULT = 1000
SEARCH_MAX_RESULTS_THRESHOLD = 50000
RUN_NAME_TAG = "mlflow.runName"
PARENT_RUN_TAG = "mlflow.parentRunId"
USER_TAG = "mlflow.user"
LOGGED_MODELS_TAG = "mlflow.log-model.history"
DATASET_CONTEXT_TAG = "mlflow.data.context"
DEFAULT_EXPERIMENT_NAME = "Default"
VIEW_TYPES = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")
_KEY_RE = re.compile(r"^[/\w.\- :]*$")


def _invalid_value(path: str, value: Any, message: str | None = None) -> InvalidParameterValue:
    shown = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    tail = f": {message}" if message else "."
    return InvalidParameterValue(f"Invalid value {shown} for parameter '{path}' supplied{tail}")


def validate_key(key: Any, path: str = "key") -> str:
    """A metric, param or tag name as MLflow allows them (and at most 250 characters)."""
    if not isinstance(key, str) or key == "":
        raise InvalidParameterValue(f"Missing value for required parameter '{path}'.")
    if not _KEY_RE.match(key):
        raise _invalid_value(
            path,
            key,
            "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), "
            "colon(:) and slashes (/).",
        )
    norm = posixpath.normpath(key)
    if norm != key or norm == "." or norm.startswith(("..", "/")):
        raise _invalid_value(
            path,
            key,
            "Names may be treated as files in certain cases, and must not resolve to other names when "
            f"treated as such. This name would resolve to {norm!r}",
        )
    max_length(path, key, MAX_ENTITY_KEY_LENGTH)
    return key


def max_length(what: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise InvalidParameterValue(f"'{what}' exceeds the maximum length of {limit} characters")


def validate_batch_limits(metrics: int, params: int, tags: int) -> None:
    for name, limit, n in (
        ("metrics", MAX_METRICS_PER_BATCH, metrics),
        ("params", MAX_PARAMS_TAGS_PER_BATCH, params),
        ("tags", MAX_PARAMS_TAGS_PER_BATCH, tags),
        ("metrics, params, and tags", MAX_ENTITIES_PER_BATCH, metrics + params + tags),
    ):
        if n > limit:
            raise InvalidParameterValue(
                f"A batch logging request can contain at most {limit} {name}. Got {n} {name}. "
                f"Please split up {name} across multiple requests and try again."
            )


def validate_metric(m: MetricIn, path: str, valid_keys: set[str] | None = None) -> None:
    if valid_keys is None or m.key not in valid_keys:
        validate_key(m.key, f"{path}name" if not path else f"{path}.key")
        if valid_keys is not None:
            valid_keys.add(m.key)
    if isinstance(m.value, bool) or not isinstance(m.value, int | float):
        raise _invalid_value(
            f"{path}.value" if path else "value",
            m.value,
            f"(timestamp={m.timestamp}). Please specify value as a valid double (64-bit floating point)",
        )
    if isinstance(m.timestamp, bool) or not isinstance(m.timestamp, int) or m.timestamp < 0:
        raise _invalid_value(
            f"{path}.timestamp" if path else "timestamp",
            m.timestamp,
            f"metric '{m.key}' (value={m.value}). Timestamp must be a nonnegative long (64-bit integer) ",
        )
    if isinstance(m.step, bool) or not isinstance(m.step, int):
        raise _invalid_value(
            f"{path}.step" if path else "step",
            m.step,
            f"metric '{m.key}' (value={m.value}). Step must be a valid long (64-bit integer).",
        )


def validate_param(p: ParamIn, path: str) -> None:
    validate_key(p.key, f"{path}.key" if path else "key")
    if not isinstance(p.value, str):
        raise _invalid_value(f"{path}.value" if path else "value", p.value, "it must be a string")
    max_length("Param value", p.value, MAX_PARAM_VAL_LENGTH)


def validate_tag(t: TagIn, path: str) -> None:
    validate_key(t.key, f"{path}.key" if path else "key")
    if not isinstance(t.value, str):
        raise _invalid_value(f"{path}.value" if path else "value", t.value, "it must be a string")
    max_length(f"{path}.value" if path else "value", t.value, MAX_TAG_VAL_LENGTH)


def validate_experiment_name(name: Any) -> str:
    if not isinstance(name, str) or name == "":
        raise InvalidParameterValue(f"Invalid experiment name: '{name}'")
    max_length("name", name, MAX_EXPERIMENT_NAME_LENGTH)
    return name


def parse_experiment_id(experiment_id: str | int) -> int:
    try:
        value = int(experiment_id)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterValue(
            f"Invalid experiment ID '{experiment_id}'. Experiment ID must be a valid integer."
        ) from exc
    if value < 0:
        raise InvalidParameterValue(f"Invalid experiment ID: '{experiment_id}'")
    return value


def view_stages(view: str) -> tuple[str, ...]:
    if view not in VIEW_TYPES:
        raise InvalidParameterValue(f"Invalid view type '{view}'. Valid values are {list(VIEW_TYPES)}.")
    return {"ACTIVE_ONLY": (ACTIVE,), "DELETED_ONLY": (DELETED,), "ALL": (ACTIVE, DELETED)}[view]


def check_max_results(value: int, *, default: int = SEARCH_MAX_RESULTS_DEFAULT) -> int:
    if value is None:
        return default
    if value <= 0 or value > SEARCH_MAX_RESULTS_THRESHOLD:
        raise InvalidParameterValue(
            "Invalid value for request parameter max_results. It must be at most "
            f"{SEARCH_MAX_RESULTS_THRESHOLD}, but got value {value}"
        )
    return value

"""The Dais model package: an MLflow model directory plus Dais's own ``dais.json``.

A package is what MLflow writes (``MLmodel`` with the native flavor and ``python_function``,
``requirements.txt``, ``python_env.yaml``, ``conda.yaml``, the signature, ``input_example.json``)
laid out exactly as MLflow's own flavor writes it, so ``mlflow.<flavor>.load_model`` and
``mlflow.pyfunc.load_model`` load it and models move freely between Dais and MLflow. ``dais.json``
adds the runtime, the fitted transform chain of the pipeline that fed training (serving applies
exactly what training saw), metrics and lineage (run, dataset versions).

Runtimes written here: ``sklearn`` (``model.pkl``, cloudpickle, like ``mlflow.sklearn``),
``lightgbm`` (a Booster as native ``model.lgb``; the scikit-learn wrappers pickled, like
``mlflow.lightgbm``), ``xgboost`` (native ``model.ubj``, like ``mlflow.xgboost``) and ``torch``
(the PyTorch presets' TorchScript as ``data/model.pth``, like ``mlflow.pytorch``). Plain MLflow
model directories read back too (without ``dais.json``): their runtime comes from their flavors.
"""

from __future__ import annotations

import json
import math
import platform
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from dais import __version__
from dais.registry.errors import RegistryInvalid

if TYPE_CHECKING:
    import numpy as np

    from dais.pipelines.transforms import TransformChain
    from dais.storage import WorkspaceArtifacts

MLMODEL = "MLmodel"
DAIS_FILE = "dais.json"
FORMAT_VERSION = 1
INPUT_EXAMPLE = "input_example.json"
SERVING_INPUT = "serving_input_example.json"
RUNTIMES = ("sklearn", "lightgbm", "xgboost", "torch")
#: Flavor name in ``MLmodel`` -> Dais runtime, for reading packages MLflow wrote.
FLAVOR_RUNTIMES = {
    "sklearn": "sklearn",
    "lightgbm": "lightgbm",
    "xgboost": "xgboost",
    "pytorch": "torch",
    "onnx": "onnx",
}
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class PackageInfo:
    """What a package holds, read from its ``MLmodel`` and ``dais.json``."""

    path: Path
    runtime: str  # sklearn | lightgbm | xgboost | torch | onnx | mlflow_pyfunc
    model_file: str | None  # the model data, relative to ``path``
    model_class: str | None
    flavors: dict[str, Any]
    signature: dict[str, Any] | None  # {"inputs": [...] | None, "outputs": [...] | None, "params": ...}
    input_example: Any | None
    transforms: dict[str, Any]  # a TransformChain as JSON ({"transforms": [...]})
    metrics: dict[str, float] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)
    requirements: list[str] = field(default_factory=list)
    has_dais_metadata: bool = False

    def transform_chain(self) -> TransformChain:
        """The fitted transforms as a :class:`~dais.pipelines.TransformChain`."""
        from dais.pipelines.transforms import TransformChain

        return TransformChain.model_validate(self.transforms)


# -- writing ---------------------------------------------------------------------------------------


def detect_runtime(model: Any) -> str:
    """The runtime for a fitted model object; RegistryInvalid for a kind Dais cannot package."""
    module = type(model).__module__.split(".")[0]
    if module == "lightgbm":
        return "lightgbm"
    if module == "xgboost":
        return "xgboost"
    try:
        from sklearn.base import BaseEstimator
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        BaseEstimator = ()  # noqa: N806
    if isinstance(model, BaseEstimator):
        return "sklearn"
    raise RegistryInvalid(
        f"Cannot package a {type(model).__module__}.{type(model).__name__}: the runtimes written here are "
        f"{', '.join(RUNTIMES)}."
    )


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _pinned(*dists: str) -> list[str]:
    out = []
    for dist in dists:
        v = _version(dist)
        out.append(f"{dist}=={v}" if v else dist)
    return out


def _class_path(model: Any) -> str:
    return f"{type(model).__module__}.{type(model).__name__}"


def _dump_pickle(model: Any, path: Path) -> None:
    import cloudpickle  # type: ignore[import-untyped]

    with path.open("wb") as f:
        cloudpickle.dump(model, f)


def _save_sklearn(model: Any, dest: Path) -> tuple[dict[str, Any], str, str, list[str]]:
    _dump_pickle(model, dest / "model.pkl")
    flavor = {
        "code": None,
        "pickled_model": "model.pkl",
        "serialization_format": "cloudpickle",
        "sklearn_version": _version("scikit-learn"),
        "skops_trusted_types": None,
    }
    pyfunc = {"loader_module": "mlflow.sklearn", "model_path": "model.pkl", "predict_fn": "predict"}
    return (
        {"sklearn": flavor, "python_function": pyfunc},
        "model.pkl",
        _class_path(model),
        ["cloudpickle", "scikit-learn"],
    )


def _save_lightgbm(model: Any, dest: Path) -> tuple[dict[str, Any], str, str, list[str]]:
    import lightgbm as lgb

    if isinstance(model, lgb.Booster):
        data, model_class = "model.lgb", "lightgbm.basic.Booster"
        model.save_model(str(dest / data))
        flavor: dict[str, Any] = {"code": None, "data": data, "model_class": model_class}
        reqs = ["lightgbm"]
    else:  # the scikit-learn API (LGBMClassifier, ...): pickled, as mlflow.lightgbm does
        data, model_class = "model.pkl", _class_path(model)
        _dump_pickle(model, dest / data)
        flavor = {
            "code": None,
            "data": data,
            "model_class": model_class,
            "serialization_format": "cloudpickle",
            "skops_trusted_types": None,
        }
        reqs = ["cloudpickle", "lightgbm", "scikit-learn"]
    flavor["lgb_version"] = _version("lightgbm")
    pyfunc = {"loader_module": "mlflow.lightgbm", "data": data}
    return {"lightgbm": flavor, "python_function": pyfunc}, data, model_class, reqs


def _save_xgboost(model: Any, dest: Path) -> tuple[dict[str, Any], str, str, list[str]]:
    data, model_class = "model.ubj", _class_path(model)
    model.save_model(str(dest / data))
    flavor = {
        "code": None,
        "data": data,
        "model_class": model_class,
        "model_format": "ubj",
        "xgb_version": _version("xgboost") or _version("xgboost-cpu"),
    }
    pyfunc = {"loader_module": "mlflow.xgboost", "data": data}
    dist = "xgboost-cpu" if _version("xgboost-cpu") else "xgboost"
    return {"xgboost": flavor, "python_function": pyfunc}, data, model_class, [dist]


def _save_torch(model: Any, dest: Path) -> tuple[dict[str, Any], str, str, list[str]]:
    """A model of the PyTorch presets (a TorchScript module), laid out as ``mlflow.pytorch`` does by
    the model itself (``write_mlflow_data``: ``data/model.pth``)."""
    if not hasattr(model, "write_mlflow_data"):
        raise RegistryInvalid(
            f"Cannot package a {_class_path(model)} as the torch runtime: it has no write_mlflow_data()."
        )
    flavors: dict[str, Any] = model.write_mlflow_data(dest)
    (dest / DAIS_FILE).unlink(missing_ok=True)  # the package's own dais.json is written last
    return flavors, "data/model.pth", "torch.jit.ScriptModule", ["torch"]


_WRITERS = {
    "sklearn": _save_sklearn,
    "lightgbm": _save_lightgbm,
    "xgboost": _save_xgboost,
    "torch": _save_torch,
}

# numpy dtype kind/size -> MLflow column type
_COLSPEC_TYPES = {"b": "boolean", "O": "string", "U": "string", "S": "binary", "M": "datetime"}


def _colspec_type(dtype: np.dtype[Any]) -> str:
    if dtype.kind in "iu":
        return "long" if dtype.itemsize >= 8 or dtype.kind == "u" else "integer"
    if dtype.kind == "f":
        return "double" if dtype.itemsize >= 8 else "float"
    if dtype.kind in _COLSPEC_TYPES:
        return _COLSPEC_TYPES[dtype.kind]
    raise RegistryInvalid(f"Cannot describe a column of dtype {dtype} in a model signature.")


def _tensor_spec(array: np.ndarray[Any, Any]) -> list[dict[str, Any]]:
    shape = [-1, *array.shape[1:]]
    return [{"type": "tensor", "tensor-spec": {"dtype": str(array.dtype), "shape": shape}}]


def _jsonable(value: Any) -> Any:
    """Example values as JSON: numpy scalars to Python, NaN to None, datetimes to ISO strings."""
    import numpy as np

    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _json_default(value: Any) -> Any:
    converted = _jsonable(value)
    return str(value) if converted is value else converted


@dataclass
class _Example:
    frame: Any  # what the model predicts on (a DataFrame or an ndarray)
    stored: Any  # input_example.json content
    serving: dict[str, Any]  # serving_input_example.json content
    info: dict[str, Any]
    inputs: list[dict[str, Any]]


def _example(example: Any) -> _Example:
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped]

    if isinstance(example, dict):
        example = pd.DataFrame({k: np.asarray(v) for k, v in example.items()})
    if isinstance(example, pd.DataFrame):
        columns = [str(c) for c in example.columns]
        rows = [[_jsonable(v) for v in row] for row in example.itertuples(index=False, name=None)]
        split = {"columns": columns, "data": rows}
        inputs = [
            {"type": _colspec_type(example[c].to_numpy().dtype), "name": str(c), "required": True}
            for c in example.columns
        ]
        info = {
            "artifact_path": INPUT_EXAMPLE,
            "pandas_orient": "split",
            "serving_input_path": SERVING_INPUT,
            "type": "dataframe",
        }
        return _Example(example, split, {"dataframe_split": split}, info, inputs)
    if isinstance(example, np.ndarray):
        data = (
            [[_jsonable(v) for v in row] for row in example.tolist()]
            if example.ndim == 2
            else example.tolist()
        )
        info = {"artifact_path": INPUT_EXAMPLE, "serving_input_path": SERVING_INPUT, "type": "ndarray"}
        return _Example(example, data, {"inputs": data}, info, _tensor_spec(example))
    raise RegistryInvalid(
        "An input example must be a pandas DataFrame, a dict of columns or a NumPy array, "
        f"not {type(example)}."
    )


def _infer_outputs(model: Any, frame: Any) -> list[dict[str, Any]] | None:
    import numpy as np

    try:
        predictions = np.asarray(model.predict(frame))
    except Exception:  # a model that cannot predict its example simply gets no output schema
        return None
    if predictions.dtype.kind not in "biuf":
        return None
    return _tensor_spec(predictions)


def _env_files(dest: Path, requirements: list[str]) -> None:
    python = platform.python_version()
    (dest / "requirements.txt").write_text("\n".join(requirements) + "\n")
    (dest / "python_env.yaml").write_text(
        yaml.safe_dump(
            {
                "python": python,
                "build_dependencies": ["pip", "setuptools", "wheel"],
                "dependencies": ["-r requirements.txt"],
            },
            sort_keys=False,
        )
    )
    (dest / "conda.yaml").write_text(
        yaml.safe_dump(
            {
                "channels": ["conda-forge"],
                "dependencies": [f"python={python}", "pip", {"pip": requirements}],
                "name": "mlflow-env",
            },
            sort_keys=False,
        )
    )


def write_package(
    dest_dir: str | Path,
    *,
    model: Any,
    runtime: str | None = None,
    signature: dict[str, Any] | None = None,
    input_example: Any | None = None,
    transforms: TransformChain | dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
    lineage: dict[str, Any] | None = None,
    requirements: list[str] | None = None,
) -> Path:
    """Write ``model`` as a Dais model package into ``dest_dir`` (created; must be empty).

    ``signature``: MLflow's schema as JSON lists (``{"inputs": [{"name": "a", "type": "double"}],
    "outputs": [...]}``); inferred from ``input_example`` (a DataFrame, a dict of columns or an
    ndarray) and the model's prediction on it when not given. ``transforms``: the fitted
    :class:`~dais.pipelines.TransformChain`. ``lineage``: where it came from (``run_id``,
    ``experiment_id``, ``dataset_versions``, ``algorithm``, ...). Returns the package path.
    """
    dest = Path(dest_dir)
    if dest.exists() and any(dest.iterdir()):
        raise RegistryInvalid(f"The package folder {dest} is not empty.")
    runtime = runtime or detect_runtime(model)
    if runtime not in _WRITERS:
        raise RegistryInvalid(
            f"Unknown runtime {runtime!r}: the runtimes written here are {', '.join(RUNTIMES)}."
        )
    dest.mkdir(parents=True, exist_ok=True)
    flavors, model_file, model_class, libs = _WRITERS[runtime](model, dest)
    python = platform.python_version()
    pyfunc = flavors["python_function"]
    pyfunc["env"] = {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
    pyfunc["python_version"] = python

    mlmodel: dict[str, Any] = {
        "flavors": flavors,
        "model_size_bytes": sum(p.stat().st_size for p in dest.rglob("*") if p.is_file()),
        "model_uuid": uuid.uuid4().hex,
        "utc_time_created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    example = _example(input_example) if input_example is not None else None
    if example is not None:
        (dest / INPUT_EXAMPLE).write_text(json.dumps(example.stored))
        (dest / SERVING_INPUT).write_text(json.dumps(example.serving, indent=2))
        mlmodel["saved_input_example_info"] = example.info
    if signature is None and example is not None:
        signature = {"inputs": example.inputs, "outputs": _infer_outputs(model, example.frame)}
    if signature is not None:
        mlmodel["signature"] = {
            "inputs": json.dumps(signature.get("inputs")) if signature.get("inputs") else None,
            "outputs": json.dumps(signature.get("outputs")) if signature.get("outputs") else None,
            "params": json.dumps(signature["params"]) if signature.get("params") else None,
        }
    (dest / MLMODEL).write_text(yaml.safe_dump(mlmodel, sort_keys=True))

    reqs = requirements if requirements is not None else ["mlflow", *_pinned("numpy", "pandas", *libs)]
    _env_files(dest, reqs)

    if transforms is None:
        chain: dict[str, Any] = {"transforms": []}
    elif isinstance(transforms, dict):
        chain = transforms
    else:
        chain = transforms.model_dump(mode="json")
    dais = {
        "format": FORMAT_VERSION,
        "runtime": runtime,
        "model_file": model_file,
        "model_class": model_class,
        "signature": signature,
        "transforms": chain,
        "metrics": dict(metrics or {}),
        "lineage": dict(lineage or {}),
        "dais_version": __version__,
        "created_at": datetime.now(UTC).isoformat(),
    }
    (dest / DAIS_FILE).write_text(json.dumps(dais, indent=2, default=_json_default))
    return dest


# -- reading ---------------------------------------------------------------------------------------


def _parse_schema(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise RegistryInvalid(f"The package's signature is not valid JSON: {exc}") from exc
    return value


def read_package(path: str | Path) -> PackageInfo:
    """What the package (or plain MLflow model directory) at ``path`` holds."""
    root = Path(path)
    mlmodel_path = root / MLMODEL
    if not mlmodel_path.is_file():
        raise RegistryInvalid(f"{root} is not a model package: it has no {MLMODEL} file.")
    try:
        mlmodel = yaml.safe_load(mlmodel_path.read_text())
    except yaml.YAMLError as exc:
        raise RegistryInvalid(f"The {MLMODEL} file of {root} is not valid YAML: {exc}") from exc
    if not isinstance(mlmodel, dict) or not isinstance(mlmodel.get("flavors"), dict):
        raise RegistryInvalid(f"The {MLMODEL} file of {root} has no flavors.")
    flavors: dict[str, Any] = mlmodel["flavors"]
    dais: dict[str, Any] = {}
    if (root / DAIS_FILE).is_file():
        try:
            dais = json.loads((root / DAIS_FILE).read_text())
        except json.JSONDecodeError as exc:
            raise RegistryInvalid(f"The {DAIS_FILE} file of {root} is not valid JSON: {exc}") from exc

    runtime = dais.get("runtime")
    native: dict[str, Any] = {}
    for flavor, name in FLAVOR_RUNTIMES.items():
        if flavor in flavors:
            native = flavors[flavor] or {}
            runtime = runtime or name
            break
    if runtime is None:
        if "python_function" not in flavors:
            raise RegistryInvalid(f"The model at {root} has no flavor Dais can serve (no python_function).")
        runtime = "mlflow_pyfunc"
        native = flavors["python_function"] or {}
    model_file = (
        dais.get("model_file")
        or native.get("pickled_model")
        or native.get("data")
        or native.get("model_path")
    )

    signature = None
    if isinstance(mlmodel.get("signature"), dict):
        sig = mlmodel["signature"]
        signature = {k: _parse_schema(sig.get(k)) for k in ("inputs", "outputs", "params")}
    example = None
    info = mlmodel.get("saved_input_example_info")
    if isinstance(info, dict) and (root / str(info.get("artifact_path", INPUT_EXAMPLE))).is_file():
        example = json.loads((root / str(info.get("artifact_path", INPUT_EXAMPLE))).read_text())
    requirements: list[str] = []
    if (root / "requirements.txt").is_file():
        requirements = [
            line.strip()
            for line in (root / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
    return PackageInfo(
        path=root,
        runtime=str(runtime),
        model_file=model_file,
        model_class=dais.get("model_class") or native.get("model_class"),
        flavors=flavors,
        signature=signature,
        input_example=example,
        transforms=dais.get("transforms") or {"transforms": []},
        metrics=dict(dais.get("metrics") or {}),
        lineage=dict(dais.get("lineage") or {}),
        requirements=requirements,
        has_dais_metadata=bool(dais),
    )


# -- moving packages in and out of the artifact store ----------------------------------------------


def upload_package(artifacts: WorkspaceArtifacts, local_dir: str | Path, key_prefix: str) -> list[str]:
    """Copy every file of the package at ``local_dir`` under ``key_prefix``; the keys written.

    Files stream in chunks; symbolic links are refused (they could point outside the package).
    """
    root = Path(local_dir)
    if not (root / MLMODEL).is_file():
        raise RegistryInvalid(f"{root} is not a model package: it has no {MLMODEL} file.")
    prefix = key_prefix.strip("/")
    keys: list[str] = []
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            raise RegistryInvalid(
                f"The package holds a symbolic link ({path.relative_to(root)}); copy the file in."
            )
        if not path.is_file():
            continue
        key = f"{prefix}/{path.relative_to(root).as_posix()}" if prefix else path.relative_to(root).as_posix()
        writer = artifacts.open_writer(key)
        try:
            with path.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        writer.commit()
        keys.append(key)
    return keys


def download_package(artifacts: WorkspaceArtifacts, key_prefix: str, local_dir: str | Path) -> Path:
    """Copy the package stored under ``key_prefix`` into ``local_dir`` (created); returns it."""
    prefix = key_prefix.strip("/") + "/"
    dest = Path(local_dir)
    listing = artifacts.list(prefix, recursive=True)
    files = [item for item in listing.items if not item.is_folder]
    if not any(item.key == prefix + MLMODEL for item in files):
        raise RegistryInvalid(f"No model package is stored at '{key_prefix}'.")
    for item in files:
        target = dest / item.key[len(prefix) :]
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as f:
            for chunk in artifacts.read(item.key):
                f.write(chunk)
    return dest

"""What a ``train.run`` job records on its tracking run: params, tags, its input dataset version;
and, at the end, ``evaluation.json``, the model package under the run's ``model/`` artifacts, a
logged model, and a model version when ``register_as`` is set."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dais.jobs.kinds import JobContext
from dais.training.algorithms import Algorithm
from dais.training.data import LoadedData
from dais.training.evaluate import Evaluation
from dais.training.image_data import IMAGE_TASK
from dais.training.jobs import TrainSpec

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy.orm import Session

    from dais.core.settings import Settings
    from dais.db import Database
    from dais.pipelines.transforms import TransformChain
    from dais.tenancy import WorkspaceAccess
    from dais.tracking.models import Run

EVALUATION_FILE = "evaluation.json"
MODEL_PATH = "model"


def _clip(value: str, limit: int = 6000) -> str:
    return value if len(value) <= limit else value[: limit - 20] + f"... ({len(value)} chars)"


def run_params(
    spec: TrainSpec,
    algo: Algorithm,
    params: BaseModel,
    split: BaseModel,
    dataset: dict[str, Any],
    features: list[str],
) -> list[Any]:
    from dais.tracking.service import ParamIn

    out = dict(algo.param_strings(params))
    out.update(
        {
            "algorithm": algo.name,
            "dataset": str(dataset["name"]),
            "dataset_version": str(dataset["version"]),
            "target": spec.target or "",
            "n_features": str(len(features)),
            "features": _clip(",".join(features)),
            "seed": str(spec.seed),
        }
    )
    for key, value in split.model_dump(mode="json").items():
        out[f"split.{key}" if key != "kind" else "split"] = "None" if value is None else str(value)
    if spec.transforms is not None:
        out["transforms.pipeline_run"] = spec.transforms.pipeline_run
    return [ParamIn(k, v) for k, v in out.items() if v != ""]


#: The tag naming the identifier columns left out of the default features (comma-separated).
LEFT_OUT_TAG = "dais.features.left_out"


def run_tags(spec: TrainSpec, algo: Algorithm, ctx: JobContext, *, left_out: Sequence[str] = ()) -> list[Any]:
    from dais.tracking.service import TagIn

    tags = {
        "mlflow.source.type": "JOB",
        "mlflow.source.name": "dais train.run",
        "dais.job_id": ctx.job_id,
        "dais.algorithm": algo.name,
        "dais.task": algo.task,
        "dais.runtime": algo.runtime,
        **spec.tags,
    }
    if left_out:
        tags[LEFT_OUT_TAG] = _clip(",".join(left_out), 8000)
    return [TagIn(k, v) for k, v in tags.items()]


def dataset_input(dataset: dict[str, Any], fingerprint: str, features: list[str]) -> Any:
    import hashlib

    from dais.tracking.service import DATASET_CONTEXT_TAG, DatasetInput

    digest = hashlib.sha256(f"{dataset['id']}:{fingerprint}".encode()).hexdigest()[:8]
    return DatasetInput(
        name=f"{dataset['name']}",
        digest=digest,
        source_type="dais",
        source=json.dumps({"dataset": dataset["name"], "version": dataset["version"], "id": dataset["id"]}),
        schema=json.dumps({"mlflow_colspec": [{"name": f, "type": "double"} for f in features[:1000]]}),
        tags={DATASET_CONTEXT_TAG: "training", "dais.version": str(dataset["version"])},
        dataset_version_id=str(dataset["id"]),
    )


def image_signature(spec: dict[str, Any], classes: list[Any]) -> dict[str, Any]:
    """An image classifier's MLflow signature: a float NCHW batch in [0, 1] (resized as ``spec``
    says) in, a class label per image out (its type when the labels are numbers)."""
    import numpy as np

    height, width = (int(n) for n in spec["size"])
    channels = 1 if spec.get("mode") == "L" else 3

    def tensor(dtype: str, shape: list[int]) -> list[dict[str, Any]]:
        return [{"type": "tensor", "tensor-spec": {"dtype": dtype, "shape": shape}}]

    labels = np.asarray(classes)
    outputs = tensor(str(labels.dtype), [-1]) if labels.dtype.kind in "biuf" else None
    return {"inputs": tensor("float32", [-1, channels, height, width]), "outputs": outputs}


def publish(
    ctx: JobContext,
    spec: TrainSpec,
    settings: Settings,
    db: Database,
    access: WorkspaceAccess,
    run: Run,
    algo: Algorithm,
    params: BaseModel,
    model: Any,
    data: LoadedData,
    ev: Evaluation,
    chain: TransformChain | None,
    dataset: dict[str, Any],
) -> dict[str, Any]:
    """``evaluation.json`` and the model package under the run's artifacts; a logged model; a model
    version when ``register_as`` is set."""
    import numpy as np

    from dais import registry
    from dais.storage import WorkspaceArtifacts, open_store
    from dais.tracking import service as tracking

    arts = WorkspaceArtifacts(open_store(settings), ctx.workspace_id)
    body = json.dumps(ev.data, allow_nan=False, default=str).encode()
    arts.store.put_bytes(arts.full_key(tracking.run_artifact_key(run, EVALUATION_FILE)), body)

    example: dict[str, Any] | None = None
    if algo.task == IMAGE_TASK:  # no example: a batch of pixels is no help to read
        signature = image_signature(model.meta["input"], list(data.classes or []))
    else:
        example_rows = data.X[:5]
        outputs = None
        predicted = np.asarray(algo.predict(model, example_rows, data.classes))
        if algo.task == "classification" and data.classes is not None:
            predicted = np.asarray([data.classes[int(c)] for c in predicted])
        if predicted.dtype.kind in "biuf":
            outputs = [{"type": "tensor", "tensor-spec": {"dtype": str(predicted.dtype), "shape": [-1]}}]
        signature = {
            "inputs": [{"type": "double", "name": f, "required": True} for f in data.feature_names],
            "outputs": outputs,
        }
        example = {f: example_rows[:, j] for j, f in enumerate(data.feature_names)}
    lineage = {
        "run_id": run.id,
        "experiment_id": str(run.experiment_id),
        "job_id": ctx.job_id,
        "algorithm": algo.name,
        "task": algo.task,
        "params": algo.param_strings(params),
        "dataset_versions": [dataset],
        "target": spec.target,
        "features": data.feature_names,
        "classes": list(data.classes) if data.classes is not None else None,
    }
    local = ctx.scratch / "package"
    registry.write_package(
        local,
        model=model,
        runtime=algo.runtime,
        signature=signature,
        input_example=example,
        transforms=chain,
        metrics=ev.metrics,
        lineage=lineage,
    )
    key = tracking.run_artifact_key(run, MODEL_PATH)
    registry.upload_package(arts, local, key)
    info = registry.read_package(local)

    out: dict[str, Any] = {"model_uri": f"runs:/{run.id}/{MODEL_PATH}"}
    with db.session() as s:
        logged = registry.create_logged_model(
            s,
            access,
            int(run.experiment_id),
            name=spec.model_name or algo.name,
            source_run_id=run.id,
            model_type=algo.runtime,
            params=algo.param_strings(params),
            tags={"dais.algorithm": algo.name},
        )
        logged.artifact_location = f"{run.artifact_uri}/{MODEL_PATH}"
        registry.finalize_logged_model(s, access, logged.id, "READY")
        tracking.record_logged_model(
            s,
            access,
            run.id,
            {
                "artifact_path": MODEL_PATH,
                "flavors": info.flavors,
                "utc_time_created": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                "run_id": run.id,
                "model_uuid": logged.id,
            },
        )
        tracking.log_outputs(s, access, run.id, [(logged.id, 0)])
        out["logged_model_id"] = logged.id
        if spec.register_as:
            out.update(
                _register(s, access, spec.register_as, run, key, logged.id, algo, ev, dataset, signature)
            )
    return out


def _register(
    s: Session,
    access: WorkspaceAccess,
    name: str,
    run: Run,
    key: str,
    model_id: str,
    algo: Algorithm,
    ev: Evaluation,
    dataset: dict[str, Any],
    signature: dict[str, Any],
) -> dict[str, Any]:
    from dais import registry

    try:
        registry.get_registered_model(s, access, name)
    except registry.RegisteredModelNotFound:
        registry.create_registered_model(s, access, name)
    version = registry.create_model_version(
        s,
        access,
        name,
        f"runs:/{run.id}/{MODEL_PATH}",
        run_id=run.id,
        model_id=model_id,
        storage_key=key,
        runtime=algo.runtime,
        signature=signature,
        metrics=ev.metrics,
        dataset_versions=[dataset],
    )
    return {"registered_model": name, "model_version": version.version}

"""The ``python_function`` flavor of the PyTorch presets' model packages.

A package carries a copy of this file (MLflow's "models from code": ``model_code_path`` in the
``python_function`` flavor), so ``mlflow.pyfunc.load_model(package)`` needs MLflow, torch, NumPy and
pandas, never Dais. Its ``predict`` answers class labels, as the scikit-learn, LightGBM and XGBoost
packages' pyfunc does; the probabilities stay with the native flavor (``mlflow.pytorch.load_model``:
the TorchScript module, a float batch in and one probability column per class out) and with
``load_model(...).unwrap_python_model().predict_proba(rows)``.

The copy ends with ``set_model(TorchClassifier())`` (what MLflow runs to get the model); the
TorchScript archive is the ``model`` artifact, its metadata (classes, input) inside it.
"""

import json
import warnings
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from mlflow.models import set_model  # noqa: F401 - the package's copy calls it last
from mlflow.pyfunc.model import PythonModel, PythonModelContext

#: the artifact naming the TorchScript archive, and the metadata file inside it
MODEL_ARTIFACT = "model"
META_FILE = "dais.json"
BATCH_ROWS = 1024


class TorchClassifier(PythonModel):
    """A TorchScript classifier answering class labels (rows of features, or a float image batch)."""

    def __init__(self) -> None:
        self.module: Any = None
        self.meta: dict[str, Any] = {}
        self.labels: np.ndarray = np.empty(0)

    def load_context(self, context: PythonModelContext) -> None:
        import torch

        extra = {META_FILE: ""}
        with warnings.catch_warnings():  # torch 2.13 notes that torch.jit is deprecated
            warnings.filterwarnings("ignore", message=r"`torch\.jit\.", category=DeprecationWarning)
            module = torch.jit.load(  # type: ignore[no-untyped-call]
                context.artifacts[MODEL_ARTIFACT], map_location="cpu", _extra_files=extra
            )
        module.eval()
        self.module = module
        self.meta = json.loads(extra[META_FILE])
        classes = list(self.meta.get("classes") or [])
        mixed = len({type(c) for c in classes}) > 1
        self.labels = np.asarray(classes, dtype=object if mixed else None)

    def predict(
        self, context: PythonModelContext, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> np.ndarray:
        """The class label of each row."""
        result: np.ndarray = self.labels[self.predict_proba(model_input).argmax(axis=1)]
        return result

    def predict_proba(self, model_input: Any) -> np.ndarray:
        """One probability column per class (in ``meta["classes"]`` order)."""
        import torch

        rows = self._rows(model_input)
        out: list[np.ndarray] = []
        with torch.inference_mode():
            for start in range(0, len(rows), BATCH_ROWS):
                out.append(self.module(torch.as_tensor(rows[start : start + BATCH_ROWS])).numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)), dtype=np.float32)

    def _rows(self, model_input: Any) -> np.ndarray:
        """Float32 rows: a DataFrame's feature columns by name when it has them all, else in order."""
        spec = self.meta.get("input") or {}
        if isinstance(model_input, pd.DataFrame):
            names = spec.get("features") if spec.get("kind") == "features" else None
            if names and set(names) <= set(map(str, model_input.columns)):
                model_input = model_input[list(names)]
            model_input = model_input.to_numpy(dtype=np.float32)
        # torch wants its own writable memory (a DataFrame's values may be a read-only view)
        return np.require(model_input, dtype=np.float32, requirements=["C", "W"])

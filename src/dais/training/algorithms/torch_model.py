"""The fitted model of the PyTorch presets: a TorchScript module and the metadata that says how to
feed it. Importing this module does not import torch (unpickling a model does)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from dais.training.algorithms.torch_images import image_batch, image_column

if TYPE_CHECKING:
    import numpy as np

    from dais.training.distributed import LaunchResult

#: the name of the TorchScript file in a saved model folder, and of the metadata inside it
MODEL_FILE = "model.pt"
META_FILE = "dais.json"
#: the ``python_function`` flavor's code in a package (MLflow's models from code)
PYFUNC_FILE = "torch_pyfunc.py"


@contextlib.contextmanager
def quiet_torchscript() -> Iterator[None]:
    """Silence torch 2.13's deprecation notes on ``torch.jit``: TorchScript is still the one format
    that loads without our Python classes and that MLflow's pytorch flavor reads."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.", category=DeprecationWarning)
        yield


class TorchModel:
    """A fitted classifier: a TorchScript module (float batch -> class probabilities) and what it means.

    ``meta`` says how to feed it: ``{"task", "classes", "input": {"kind": "features", "features":
    [...]}}`` or ``{"input": {"kind": "image", "size": [h, w], "mode": "RGB", "layout": "NCHW",
    "scale": 1/255, "resize": "stretch"}}``. It pickles (the module travels as TorchScript bytes) and
    saves as ``model.pt`` with ``dais.json`` inside the archive and beside it.
    """

    runtime: ClassVar[str] = "torch"

    def __init__(self, module: Any, meta: dict[str, Any], launch: LaunchResult[Any] | None = None) -> None:
        self.module = module
        self.meta = meta
        #: distributed training: what the launch reported (per-rank shards, attempts); not saved
        self.launch = launch

    @property
    def classes(self) -> list[Any]:
        return list(self.meta.get("classes") or [])

    def predict_proba(self, X: Any, *, batch_size: int = 1024) -> np.ndarray:  # noqa: N803
        """Class probabilities for feature rows (``features``) or image references (``image``)."""
        import numpy as np
        import torch

        images = self.meta["input"]["kind"] == "image"
        rows = image_column(X) if images else X
        batches: list[np.ndarray] = []
        with torch.inference_mode():
            for start in range(0, len(rows), batch_size):
                chunk = rows[start : start + batch_size]
                if images:
                    tensor = image_batch(chunk, self.meta["input"])
                else:
                    tensor = torch.as_tensor(np.asarray(chunk, dtype=np.float32))
                batches.append(self.module(tensor).numpy())
        width = len(self.classes)
        return np.concatenate(batches) if batches else np.zeros((0, width), dtype=np.float32)

    def predict(self, X: Any) -> np.ndarray:  # noqa: N803
        """Class codes (positions in :attr:`classes`)."""
        result: np.ndarray = self.predict_proba(X).argmax(axis=1)
        return result

    def to_bytes(self) -> bytes:
        import torch

        buf = io.BytesIO()
        with quiet_torchscript():
            torch.jit.save(self.module, buf, _extra_files={META_FILE: json.dumps(self.meta)})
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TorchModel:
        import torch

        extra = {META_FILE: ""}
        with quiet_torchscript():
            module = torch.jit.load(  # type: ignore[no-untyped-call]
                io.BytesIO(data), map_location="cpu", _extra_files=extra
            )
        module.eval()
        return cls(module, json.loads(extra[META_FILE]))

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``model.pt`` (TorchScript, metadata inside) and ``dais.json`` into ``folder``."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        (out / MODEL_FILE).write_bytes(self.to_bytes())
        (out / META_FILE).write_text(json.dumps(self.meta, indent=2))
        return out / MODEL_FILE

    def write_mlflow_data(self, package_dir: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
        """Lay the model out as MLflow's pytorch flavor does (``data/model.pth``, a TorchScript
        archive that ``mlflow.pytorch.load_model`` loads: probabilities), plus ``dais.json`` and the
        ``python_function`` flavor's code (:mod:`~dais.training.algorithms.torch_pyfunc`: its
        ``predict`` answers class labels, like the other presets' packages); answer the ``flavors``
        entries of the package's ``MLmodel``."""
        import torch

        root = Path(package_dir)
        data = root / "data"
        data.mkdir(parents=True, exist_ok=True)
        (data / "model.pth").write_bytes(self.to_bytes())
        (data / "pickle_module_info.txt").write_text("mlflow.pytorch.pickle_module")
        (root / META_FILE).write_text(json.dumps(self.meta, indent=2))
        code = Path(__file__).with_name("torch_pyfunc.py").read_text()
        (root / PYFUNC_FILE).write_text(f"{code.rstrip()}\n\n\nset_model(TorchClassifier())\n")
        return {
            "pytorch": {"model_data": "data", "pytorch_version": str(torch.__version__), "code": None},
            "python_function": {
                "loader_module": "mlflow.pyfunc.model",
                "model_code_path": PYFUNC_FILE,
                "artifacts": {"model": {"path": "data/model.pth", "uri": "data/model.pth"}},
                "predict_fn": "predict",
            },
        }

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TorchModel:
        """A model saved by :meth:`save` (the folder or the ``model.pt`` file)."""
        p = Path(path)
        return cls.from_bytes((p / MODEL_FILE if p.is_dir() else p).read_bytes())

    def __getstate__(self) -> dict[str, Any]:
        return {"torchscript": self.to_bytes()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        loaded = TorchModel.from_bytes(state["torchscript"])
        self.module, self.meta, self.launch = loaded.module, loaded.meta, None


def script_model(net: Any, meta: dict[str, Any]) -> TorchModel:
    """``net`` (a module answering logits) scripted with a softmax on top, as a :class:`TorchModel`."""
    import torch

    from dais.training.algorithms.torch_networks import Probabilities

    with quiet_torchscript():
        module = torch.jit.script(Probabilities(net.cpu().eval()))
    return TorchModel(module, meta)

"""PyTorch presets: an MLP classifier over feature columns and a small CNN over an image dataset.

Both train with AdamW on cross-entropy, log ``train_logloss`` (and, with validation rows,
``valid_logloss`` and ``valid_accuracy``: the boosting presets' names) once per epoch, can stop
early on the validation loss, and answer a :class:`~dais.training.algorithms.torch_model.TorchModel`:
a TorchScript module that maps a float batch to class probabilities (feature scaling and image
normalisation inside it), so the ``torch`` runtime needs no Python class of ours. The MLP trains
data-parallel over ``processes`` ranks (:mod:`dais.training.distributed`) when asked, with
checkpoints and restarts.

torch is an optional extra (``dais[torch]``): it is imported inside functions only (the networks
live in :mod:`~dais.training.algorithms.torch_networks`, the loop in ``torch_loop``, images in
``torch_images``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from dais.core.errors import InvalidInput
from dais.training.algorithms.base import (
    Algorithm,
    Choice,
    FloatRange,
    IntRange,
    SearchSpace,
    TrainData,
    TrainLogger,
    align_proba,
)
from dais.training.algorithms.torch_images import MediaFile, decode_images, image_column, media_files
from dais.training.algorithms.torch_loop import (
    Loop,
    batches_in_order,
    shuffled_batches,
    torch_threads,
    train_epochs,
)
from dais.training.algorithms.torch_model import TorchModel, script_model

if TYPE_CHECKING:
    import numpy as np

    from dais.training.distributed import LaunchResult, RankContext

__all__ = [
    "CNNImageClassifierPreset",
    "MLPClassifierPreset",
    "MediaFile",
    "TorchModel",
    "media_files",
]


def _require_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise InvalidInput(
            "PyTorch presets need the torch extra: pip install 'dais[torch]' (torch==2.13.0, CPU build)."
        ) from exc


def _seed_of(params: Any, data: TrainData) -> int:
    return int(params.seed if params.seed is not None else data.seed)


def _class_codes(data: TrainData) -> tuple[np.ndarray, list[Any]]:
    import numpy as np

    if data.y is None or not data.classes:
        raise InvalidInput("A classifier needs a target column with class labels.")
    if len(data.classes) < 2:
        raise InvalidInput(f"The target has one class only ({data.classes[0]!r}): a classifier needs two.")
    return np.asarray(data.y, dtype=np.int64), list(data.classes)


def _proba(model: TorchModel, rows: Any, classes: list[Any] | None) -> np.ndarray:
    proba = model.predict_proba(rows)
    if classes is None or list(classes) == model.classes:
        return proba
    return align_proba(proba, model.classes, list(classes))


class _TorchPreset(Algorithm):
    runtime: ClassVar[str] = "torch"
    iterative: ClassVar[bool] = True

    def predict_proba(self, model: Any, X: Any, classes: list[Any] | None = None) -> np.ndarray:  # noqa: N803
        return _proba(model, X, classes)

    def predict(self, model: Any, X: Any, classes: list[Any] | None = None) -> np.ndarray:  # noqa: N803
        codes: np.ndarray = self.predict_proba(model, X, classes).argmax(axis=1)
        return codes

    def feature_importance(self, model: Any) -> np.ndarray | None:
        return None


class _CommonParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lr: float = Field(default=1e-3, gt=0, le=1, description="Learning rate of the AdamW optimiser.")
    weight_decay: float = Field(
        default=1e-4, ge=0, le=1, description="AdamW weight decay (L2-like shrinkage)."
    )
    dropout: float = Field(default=0.1, ge=0, lt=1, description="Share of units dropped in training.")
    patience: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="Stop after this many epochs without a better validation loss and keep the best "
        "weights (0: train every epoch).",
    )
    seed: int | None = Field(default=None, ge=0, description="Random seed (unset: the run's seed).")


# -- MLP -------------------------------------------------------------------------------------------


class MLPParams(_CommonParams):
    hidden_layers: int = Field(default=2, ge=1, le=8, description="Number of hidden layers.")
    hidden_units: int = Field(
        default=64,
        ge=2,
        le=4096,
        description="Units in the first hidden layer (each next one has half, at least 8).",
    )
    activation: Literal["relu", "gelu", "tanh"] = Field(
        default="relu", description="Hidden-layer activation."
    )
    epochs: int = Field(default=30, ge=1, le=10_000, description="Passes over the training rows.")
    batch_size: int = Field(default=64, ge=1, le=65_536, description="Rows per gradient step (per process).")
    standardize: bool = Field(default=True, description="Scale features to zero mean, unit variance first.")
    processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Data-parallel worker processes (PyTorch DDP: gloo on CPU, nccl on GPUs); each "
        "trains on its own shard of the rows and gradients are averaged.",
    )
    checkpoint_every: int = Field(
        default=0,
        ge=0,
        le=10_000,
        description="With processes > 1: save a checkpoint every N epochs and, if a process dies, "
        "restart all of them from it (0: off; a dead process then fails the run).",
    )
    max_restarts: int = Field(default=2, ge=0, le=20, description="Most restarts from a checkpoint.")


def _widths(params: Any) -> list[int]:
    return [
        max(min(8, params.hidden_units), params.hidden_units // 2**i) for i in range(params.hidden_layers)
    ]


def _features(data: TrainData) -> tuple[np.ndarray, np.ndarray | None]:
    import numpy as np

    try:
        x = np.asarray(data.X, dtype=np.float32)
        xv = None if data.X_valid is None else np.asarray(data.X_valid, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"The MLP needs numeric features: {exc}") from exc
    if x.ndim != 2 or len(x) == 0:
        raise InvalidInput("The MLP needs a non-empty table of feature columns.")
    for name, arr in (("training", x), ("validation", xv)):
        if arr is not None and not np.isfinite(arr).all():
            bad = [data.feature_names[i] for i in np.flatnonzero(~np.isfinite(arr).all(axis=0))[:5]]
            raise InvalidInput(
                f"The MLP cannot train on missing or infinite values ({name} rows, in {', '.join(bad)}): "
                "add an imputing transform first."
            )
    return x, xv


@dataclass(frozen=True)
class _MLPJob:
    """What each DDP rank gets: where the arrays are and how to train (no data inline)."""

    folder: str
    n_in: int
    n_out: int
    widths: list[int]
    params: dict[str, Any]
    seed: int
    has_valid: bool


def _mlp_net(job: _MLPJob, mean: np.ndarray, scale: np.ndarray) -> Any:
    import torch

    from dais.training.algorithms.torch_networks import MLP

    torch.manual_seed(job.seed)
    net = MLP(job.n_in, job.widths, job.n_out, job.params["dropout"], job.params["activation"])
    net.mean.copy_(torch.as_tensor(mean))
    net.scale.copy_(torch.as_tensor(scale))
    return net


def mlp_rank(ctx: RankContext, job: _MLPJob) -> dict[str, Any]:
    """One DDP rank of the MLP: read this rank's shard of the rows, train, rank 0 answers the weights."""
    import hashlib

    import numpy as np
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from dais.training.distributed import shard_indices

    folder = Path(job.folder)
    x_all = np.load(folder / "x.npy", mmap_mode="r")
    y_all = np.load(folder / "y.npy", mmap_mode="r")
    shard = np.sort(np.asarray(shard_indices(len(y_all), ctx.rank, ctx.world_size, seed=job.seed)))
    x = torch.as_tensor(np.ascontiguousarray(x_all[shard]))  # reads only this shard's rows
    y = torch.as_tensor(np.ascontiguousarray(y_all[shard]))
    valid = None
    if job.has_valid:
        xv_all = np.load(folder / "x_valid.npy", mmap_mode="r")
        part = np.array_split(np.arange(len(xv_all)), ctx.world_size)[ctx.rank]  # no padding: exact sums
        yv_all = np.load(folder / "y_valid.npy", mmap_mode="r")
        xv = torch.as_tensor(np.ascontiguousarray(xv_all[part]))
        yv = torch.as_tensor(np.ascontiguousarray(yv_all[part]))
        valid = batches_in_order(xv, yv, 4096, ctx.device)
    digest = hashlib.blake2b(shard.tobytes(), digest_size=16).hexdigest()
    ctx.report(rows=len(shard), shard_digest=digest)
    stats = np.load(folder / "scale.npy")
    net = _mlp_net(job, stats[0], stats[1]).to(ctx.device)
    ddp = DistributedDataParallel(net)

    def reduce(values: list[float]) -> list[float]:
        t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
        dist.all_reduce(t)
        return [float(v) for v in t.cpu()]

    loop = Loop(
        epochs=job.params["epochs"],
        lr=job.params["lr"],
        weight_decay=job.params["weight_decay"],
        patience=job.params["patience"],
        seed=job.seed,
        log=ctx.log,
        reduce=reduce,
        rank=ctx.rank,
        ctx=ctx,
    )
    batches = shuffled_batches(x, y, job.params["batch_size"], job.seed + ctx.rank, ctx.device)
    state = train_epochs(net, ddp, batches, valid, loop)
    checksum = float(sum(float(p.detach().double().sum()) for p in net.parameters()))
    ctx.report(epochs=len(loop.history), param_checksum=checksum)
    return {k: v.detach().cpu().numpy() for k, v in state.items()}  # numpy: pickles by value


class MLPClassifierPreset(_TorchPreset):
    """A feed-forward network in PyTorch; trains data-parallel over several processes if asked."""

    name = "mlp_classifier"
    title = "MLP classifier (PyTorch)"
    description = (
        "A multi-layer perceptron trained with AdamW on cross-entropy; per-epoch loss curves, early "
        "stopping, and distributed data-parallel training over several processes."
    )
    task = "classification"
    Params = MLPParams

    def fit(self, data: TrainData, params: Any, log: TrainLogger) -> Any:
        _require_torch()
        import numpy as np
        import torch

        y, classes = _class_codes(data)
        log.expect(params.epochs, unit="epoch", first=0)
        x, xv = _features(data)
        yv = None if data.y_valid is None else np.asarray(data.y_valid, dtype=np.int64)
        if xv is not None and (yv is None or len(yv) != len(xv) or len(xv) == 0):
            xv = yv = None
        mean = x.mean(axis=0) if params.standardize else np.zeros(x.shape[1], dtype=np.float32)
        scale = x.std(axis=0) if params.standardize else np.ones(x.shape[1], dtype=np.float32)
        scale = np.where(scale > 1e-12, scale, 1.0).astype(np.float32)
        job = _MLPJob(
            folder="",
            n_in=x.shape[1],
            n_out=len(classes),
            widths=_widths(params),
            params=params.model_dump(),
            seed=_seed_of(params, data),
            has_valid=xv is not None,
        )
        meta = {
            "task": "classification",
            "classes": classes,
            "input": {"kind": "features", "features": list(data.feature_names), "dtype": "float32"},
            "output": "probabilities",
        }
        launched = None
        if params.processes > 1:
            stats = np.stack([mean, scale])
            launched = self._fit_distributed(job, x, y, xv, yv, stats, params, log, data.threads)
            net = _mlp_net(job, mean, scale)
            net.load_state_dict({k: torch.as_tensor(v) for k, v in launched.value.items()})
            meta["training"] = {
                "processes": params.processes,
                "backend": launched.backend,
                "attempts": launched.attempts,
                "resumed_from_epoch": launched.resumed_from,
            }
        else:
            with torch_threads(data.threads):
                net = _mlp_net(job, mean, scale)
                loop = Loop(
                    epochs=params.epochs,
                    lr=params.lr,
                    weight_decay=params.weight_decay,
                    patience=params.patience,
                    seed=job.seed,
                    log=log.metric,
                )
                xt, yt = torch.as_tensor(x), torch.as_tensor(y)
                valid = None
                if xv is not None and yv is not None:
                    valid = batches_in_order(torch.as_tensor(xv), torch.as_tensor(yv), 4096, "cpu")
                net.load_state_dict(
                    train_epochs(
                        net, net, shuffled_batches(xt, yt, params.batch_size, job.seed, "cpu"), valid, loop
                    )
                )
        log.flush()
        model = script_model(net, meta)
        model.launch = None if launched is None else replace(launched, value={})  # reports only
        return model

    def _fit_distributed(
        self,
        job: _MLPJob,
        x: np.ndarray,
        y: np.ndarray,
        xv: np.ndarray | None,
        yv: np.ndarray | None,
        stats: np.ndarray,
        params: Any,
        log: TrainLogger,
        threads: int,
    ) -> LaunchResult[dict[str, Any]]:
        import numpy as np

        from dais.training.distributed import DDPOptions, launch

        if len(y) < params.processes:
            raise InvalidInput(f"{len(y)} training rows cannot be split over {params.processes} processes.")
        with tempfile.TemporaryDirectory(prefix="dais-ddp-") as tmp:
            folder = Path(tmp)
            np.save(folder / "x.npy", x)
            np.save(folder / "y.npy", y)
            np.save(folder / "scale.npy", stats)
            if xv is not None and yv is not None:
                np.save(folder / "x_valid.npy", xv)
                np.save(folder / "y_valid.npy", yv)
            options = DDPOptions(
                processes=params.processes,
                checkpoint_dir=folder / "checkpoints" if params.checkpoint_every else None,
                checkpoint_every=max(1, params.checkpoint_every),
                max_restarts=params.max_restarts,
                threads=max(1, threads // params.processes),
            )
            return launch(mlp_rank, replace(job, folder=str(folder)), options, log_metric=log.metric)

    def search_space(self) -> SearchSpace:
        return {
            "hidden_layers": IntRange(1, 3),
            "hidden_units": IntRange(16, 256, log=True),
            "lr": FloatRange(1e-4, 3e-2, log=True),
            "weight_decay": FloatRange(1e-6, 1e-2, log=True),
            "dropout": FloatRange(0.0, 0.5),
            "batch_size": Choice((32, 64, 128, 256)),
        }


# -- CNN over images -------------------------------------------------------------------------------


class CNNParams(_CommonParams):
    image_size: int = Field(default=64, ge=8, le=512, description="Images are resized to this square size.")
    color: Literal["rgb", "grayscale"] = Field(default="rgb", description="Colour mode images are read in.")
    conv_layers: int = Field(
        default=3,
        ge=1,
        le=6,
        description="Convolution blocks (each halves the image; needs image_size >= 2^n).",
    )
    filters: int = Field(
        default=16, ge=4, le=256, description="Filters in the first block (doubling each block)."
    )
    epochs: int = Field(default=10, ge=1, le=1000, description="Passes over the training images.")
    batch_size: int = Field(default=32, ge=2, le=4096, description="Images per gradient step.")
    augment: bool = Field(default=True, description="Flip training images left-right at random.")


class CNNImageClassifierPreset(_TorchPreset):
    """A small convolutional network over an image dataset (labels from the folder names)."""

    name = "cnn_image_classifier"
    title = "CNN image classifier (PyTorch)"
    description = (
        "A small convolutional network (conv/batch-norm/ReLU/pool blocks) trained from scratch on "
        "images resized to a fixed square; per-epoch loss and accuracy curves."
    )
    task = "image_classification"
    Params = CNNParams

    def fit(self, data: TrainData, params: Any, log: TrainLogger) -> Any:
        _require_torch()
        import numpy as np
        import torch

        if params.image_size < 2**params.conv_layers:
            raise InvalidInput(
                f"image_size {params.image_size} is too small for {params.conv_layers} convolution blocks "
                f"(each halves the image): use at least {2**params.conv_layers}.",
                errors=[{"loc": ["body", "params", "image_size"], "msg": "too small for conv_layers"}],
            )
        y, classes = _class_codes(data)
        log.expect(params.epochs, unit="epoch", first=0)
        refs = image_column(data.X)
        mode = "RGB" if params.color == "rgb" else "L"
        with torch_threads(data.threads):
            images = decode_images(refs, params.image_size, mode, data.threads)
            pixels = torch.as_tensor(images).permute(0, 3, 1, 2).contiguous()  # uint8 NCHW: 1/4 of float
            yt = torch.as_tensor(y)
            valid = None
            if data.X_valid is not None and data.y_valid is not None and len(data.y_valid):
                vrefs = image_column(data.X_valid)
                xv = torch.as_tensor(decode_images(vrefs, params.image_size, mode, data.threads))
                xv = xv.permute(0, 3, 1, 2).float().div_(255.0)
                valid = batches_in_order(
                    xv, torch.as_tensor(np.asarray(data.y_valid, dtype=np.int64)), 256, "cpu"
                )
            seed = _seed_of(params, data)
            torch.manual_seed(seed)
            from dais.training.algorithms.torch_networks import CNN

            channels = 3 if mode == "RGB" else 1
            net = CNN(channels, params.conv_layers, params.filters, len(classes), params.dropout)
            unit = pixels.float().div_(255.0)
            net.mean.copy_(unit.mean(dim=(0, 2, 3)).view(1, -1, 1, 1))
            net.scale.copy_(unit.std(dim=(0, 2, 3)).clamp_min(1e-3).view(1, -1, 1, 1))
            del unit

            def batches(epoch: int) -> Iterator[tuple[Any, Any]]:
                order = np.random.default_rng((seed, epoch)).permutation(len(yt))
                for start in range(0, len(order), params.batch_size):
                    idx = torch.as_tensor(order[start : start + params.batch_size])
                    if len(idx) < 2 < len(order):  # batch-norm needs two images: fold a lone one in
                        continue
                    xb = pixels[idx].float().div_(255.0)
                    if params.augment:
                        flip = torch.rand(len(idx)) < 0.5
                        xb[flip] = xb[flip].flip(-1)
                    yield xb, yt[idx]

            loop = Loop(
                epochs=params.epochs,
                lr=params.lr,
                weight_decay=params.weight_decay,
                patience=params.patience,
                seed=seed,
                log=log.metric,
            )
            net.load_state_dict(train_epochs(net, net, batches, valid, loop))
        log.flush()
        meta = {
            "task": "image_classification",
            "classes": classes,
            "input": {
                "kind": "image",
                "size": [params.image_size, params.image_size],
                "mode": mode,
                "layout": "NCHW",
                "scale": 1 / 255,
                "resize": "stretch",
            },
            "output": "probabilities",
        }
        return script_model(net, meta)

    def predict_proba(self, model: Any, X: Any, classes: list[Any] | None = None) -> np.ndarray:  # noqa: N803
        return _proba(model, image_column(X), classes)

    def search_space(self) -> SearchSpace:
        return {
            "lr": FloatRange(1e-4, 1e-2, log=True),
            "filters": Choice((8, 16, 32)),
            "conv_layers": IntRange(2, 4),
            "dropout": FloatRange(0.0, 0.5),
            "weight_decay": FloatRange(1e-6, 1e-2, log=True),
        }

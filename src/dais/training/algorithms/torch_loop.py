"""The training loop the PyTorch presets share (one process, or one rank of a DDP run)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dais.training.distributed import RankContext


@dataclass
class Loop:
    """What one training loop needs; ``reduce`` sums values over ranks (identity in one process)."""

    epochs: int
    lr: float
    weight_decay: float
    patience: int
    seed: int
    log: Callable[[str, float, int], None]
    reduce: Callable[[list[float]], list[float]] = lambda values: values
    rank: int = 0
    ctx: RankContext | None = None
    history: list[dict[str, float]] = field(default_factory=list)


def train_epochs(
    net: Any,
    trainable: Any,
    batches: Callable[[int], Iterator[tuple[Any, Any]]],
    valid: Callable[[], Iterator[tuple[Any, Any]]] | None,
    loop: Loop,
) -> dict[str, Any]:
    """Run the epochs; the state dict to keep (the best on validation loss when early stopping).

    ``net`` is the plain module, ``trainable`` what the optimiser steps through (``net`` itself or
    its ``DistributedDataParallel`` wrapper).
    """
    import torch
    from torch import nn

    criterion = nn.CrossEntropyLoss(reduction="sum")
    optimizer = torch.optim.AdamW(net.parameters(), lr=loop.lr, weight_decay=loop.weight_decay)
    start, best, best_state, stale = 0, math.inf, None, 0
    saved = loop.ctx.load_checkpoint() if loop.ctx is not None else None
    if saved is not None:
        state = saved["state"]
        net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start, best, best_state, stale = (
            saved["epoch"] + 1,
            state["best"],
            state["best_state"],
            state["stale"],
        )
        if state["stopped"]:
            start = loop.epochs
    stopped = False
    for epoch in range(start, loop.epochs):
        torch.manual_seed(hash((loop.seed, epoch, loop.rank)) & 0x7FFF_FFFF)  # dropout, augmentation
        trainable.train()
        total, count = 0.0, 0
        for xb, yb in batches(epoch):
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(trainable(xb), yb)
            (loss / len(yb)).backward()
            optimizer.step()
            total, count = total + float(loss.detach()), count + len(yb)
        sums = [total, float(count)]
        if valid is not None:
            net.eval()
            v_loss, v_right, v_count = 0.0, 0.0, 0.0
            with torch.no_grad():
                for xb, yb in valid():
                    logits = net(xb)
                    v_loss += float(criterion(logits, yb))
                    v_right += float((logits.argmax(dim=1) == yb).sum())
                    v_count += len(yb)
            sums += [v_loss, v_right, v_count]
        sums = loop.reduce(sums)
        metrics = {"train_logloss": sums[0] / max(sums[1], 1.0)}
        if valid is not None and sums[4] > 0:
            metrics["valid_logloss"] = sums[2] / sums[4]
            metrics["valid_accuracy"] = sums[3] / sums[4]
        for key, value in metrics.items():
            loop.log(key, value, epoch)
        loop.history.append(metrics)
        watched = metrics.get("valid_logloss")
        if loop.patience and watched is not None:
            if watched < best:
                best, stale = watched, 0
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                stale += 1
                stopped = stale >= loop.patience
        if loop.ctx is not None:
            progress = {"best": best, "best_state": best_state, "stale": stale, "stopped": stopped}
            loop.ctx.maybe_checkpoint(
                epoch,
                lambda progress=progress: {  # type: ignore[misc]
                    "model": net.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    **progress,
                },
            )
        if stopped:
            break
    result: dict[str, Any] = best_state if best_state is not None else net.state_dict()
    return result


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def shuffled_batches(
    x: Any, y: Any, batch_size: int, seed: int, device: Any
) -> Callable[[int], Iterator[tuple[Any, Any]]]:
    import numpy as np
    import torch

    def run(epoch: int) -> Iterator[tuple[Any, Any]]:
        order = np.random.default_rng((seed, epoch)).permutation(len(y))
        for start in range(0, len(order), batch_size):
            idx = torch.as_tensor(order[start : start + batch_size])
            yield x[idx].to(device), y[idx].to(device)

    return run


def batches_in_order(x: Any, y: Any, batch_size: int, device: Any) -> Callable[[], Iterator[tuple[Any, Any]]]:
    def run() -> Iterator[tuple[Any, Any]]:
        for start in range(0, len(y), batch_size):
            yield x[start : start + batch_size].to(device), y[start : start + batch_size].to(device)

    return run

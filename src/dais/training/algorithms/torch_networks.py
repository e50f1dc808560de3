"""The torch networks (``nn.Module``s) of the PyTorch presets (:mod:`dais.training.algorithms.torch_presets`).

This module imports torch at the top: import it only where torch is needed. It has no
``from __future__ import annotations``: TorchScript reads these annotations at run time.
"""

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


class MLP(nn.Module):
    """Scaled features -> hidden layers (linear, activation, dropout) -> class logits."""

    mean: torch.Tensor
    scale: torch.Tensor

    def __init__(self, n_in: int, hidden: list[int], n_out: int, dropout: float, activation: str) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_in))
        self.register_buffer("scale", torch.ones(n_in))
        layers: list[nn.Module] = []
        prev = n_in
        for width in hidden:
            layers += [nn.Linear(prev, width), ACTIVATIONS[activation](), nn.Dropout(dropout)]
            prev = width
        layers.append(nn.Linear(prev, n_out))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.net((x - self.mean) / self.scale)
        return logits


class CNN(nn.Module):
    """Normalised NCHW images -> conv/batch-norm/ReLU/max-pool blocks -> global average -> logits."""

    mean: torch.Tensor
    scale: torch.Tensor

    def __init__(self, channels: int, layers: int, filters: int, n_out: int, dropout: float) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(1, channels, 1, 1))
        self.register_buffer("scale", torch.ones(1, channels, 1, 1))
        blocks: list[nn.Module] = []
        prev = channels
        for i in range(layers):
            width = filters * 2**i
            blocks += [
                nn.Conv2d(prev, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            prev = width
        self.features = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(prev, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.head(self.pool(self.features((x - self.mean) / self.scale)))
        return logits


class Probabilities(nn.Module):
    """What a model package holds: the network's logits turned into class probabilities."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x), dim=1)

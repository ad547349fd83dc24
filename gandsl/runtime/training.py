"""The two interfaces a generated `Objective` uses to train: where samples come from (`Draw`)
and what happens to a player's loss (`Update`). The trainer (`gandsl.train`) provides both;
a user may provide their own to drive the generated code from a hand-written loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from torch import Tensor


class Draw(Protocol):
    """One batch of every sampled value: data batches and noise, on the training device."""

    def data(self, name: str) -> tuple[Tensor, ...]:
        """A batch of the dataset `name`: the image, then its labels if it has any."""

    def labels(self, name: str) -> tuple[Tensor, ...]:
        """The labels of a batch of `name`, for code that uses no image of it (CGAN's sample
        grid); a draw told the labels (`gandsl sample --label`) reads no data for them."""

    def normal(self, n: int | tuple[int, ...], mean: float = 0.0, std: float = 1.0) -> Tensor:
        """(B, n) Gaussian noise; (B, *n) for a shape (`normal(like=x)`)."""

    def uniform(self, n: int | tuple[int, ...], low: float = 0.0, high: float = 1.0) -> Tensor:
        """(B, n) uniform noise in [low, high); (B, *n) for a shape."""

    def categorical(self, n: int) -> Tensor:
        """(B,) class indices in [0, n)."""

    def bernoulli(self, n: int | tuple[int, ...], p: float = 0.5) -> Tensor:
        """(B, n) multi-hot labels, each 1 with probability p; (B, *n) for a shape."""


# update(player, loss, terms): backward of `loss` into the player's parameters only, then its
# optimizer step; `terms` are the unweighted loss terms, for metrics.
Update = Callable[[str, Tensor, dict[str, Tensor]], None]

"""`rt.Draw` for training (fresh batches and noise each call) and for sample grids (the same
fixed batch and noise every time, without touching the training random state)."""

from __future__ import annotations

import torch
from torch import Tensor


class TrainDraw:
    """Batches from the data sources; noise from torch's global generator, so that the
    checkpointed RNG state makes a resumed run draw exactly what the straight run draws.

    In data-parallel training (`shard=(rank, world)`) `batch_size` is the global batch: every
    process draws the noise of the whole batch, from a generator in the same state, and keeps
    its own rows, so the shards together are one process's draw and the generators stay in
    step. The sources already serve this process's rows of the data."""

    def __init__(self, sources: dict, batch_size: int, device: torch.device,
                 shard: tuple[int, int] = (0, 1)) -> None:
        self.sources, self.batch_size, self.device = sources, batch_size, device
        self.rank, self.world = shard

    def _shape(self, n: int | tuple[int, ...]) -> tuple[int, ...]:
        """(B, n), or (B, *n) for a sample's shape (`normal(like=x)`)."""
        return (self.batch_size, *n) if isinstance(n, tuple) else (self.batch_size, n)

    def _mine(self, t: Tensor) -> Tensor:
        if self.world == 1:
            return t
        n = self.batch_size // self.world
        return t[self.rank * n:(self.rank + 1) * n]

    def labels(self, name: str) -> tuple[Tensor, ...]:
        return self.data(name)[1:]

    def data(self, name: str) -> tuple[Tensor, ...]:
        return self.sources[name].next()

    def normal(self, n: int | tuple[int, ...], mean: float = 0.0, std: float = 1.0) -> Tensor:
        z = self._mine(torch.randn(self._shape(n), device=self.device))
        return z * std + mean if (mean, std) != (0.0, 1.0) else z

    def uniform(self, n: int | tuple[int, ...], low: float = 0.0, high: float = 1.0) -> Tensor:
        return self._mine(torch.rand(self._shape(n), device=self.device)) * (high - low) + low

    def categorical(self, n: int) -> Tensor:
        return self._mine(torch.randint(0, n, (self.batch_size,), device=self.device))

    def bernoulli(self, n: int | tuple[int, ...], p: float = 0.5) -> Tensor:
        return (self._mine(torch.rand(self._shape(n), device=self.device)) < p).float()


class FixedDraw(TrainDraw):
    """The same draw every time: a fixed data batch per dataset and noise from a generator
    re-seeded on each use. Used for sample grids, so that grids of different steps compare."""

    def __init__(self, batches: dict[str, tuple[Tensor, ...]], batch_size: int,
                 device: torch.device, seed: int, truncation: float | None = None) -> None:
        super().__init__({}, batch_size, device)
        self.batches, self.seed, self.truncation = batches, seed, truncation
        self.generator = torch.Generator(device="cpu")
        self.reset()

    def reset(self) -> None:
        self.generator.manual_seed(self.seed)

    def data(self, name: str) -> tuple[Tensor, ...]:
        return self.batches[name]

    def _on_device(self, t: Tensor) -> Tensor:
        # drawn on the CPU from a CPU generator: the same numbers whatever the device
        return t.to(self.device)

    def normal(self, n: int | tuple[int, ...], mean: float = 0.0, std: float = 1.0) -> Tensor:
        z = torch.randn(self._shape(n), generator=self.generator)
        if self.truncation is not None:  # the truncation trick: resample outside ±t
            bad = z.abs() > self.truncation
            while bad.any():
                z[bad] = torch.randn(int(bad.sum()), generator=self.generator)
                bad = z.abs() > self.truncation
        return self._on_device(z * std + mean)

    def uniform(self, n: int | tuple[int, ...], low: float = 0.0, high: float = 1.0) -> Tensor:
        return self._on_device(torch.rand(self._shape(n), generator=self.generator)
                               * (high - low) + low)

    def categorical(self, n: int) -> Tensor:
        return self._on_device(torch.arange(self.batch_size) % n)  # every class in turn

    def bernoulli(self, n: int | tuple[int, ...], p: float = 0.5) -> Tensor:
        drawn = torch.rand(self._shape(n), generator=self.generator)
        return self._on_device((drawn < p).float())

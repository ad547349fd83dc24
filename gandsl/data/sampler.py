"""The sampling order: a fresh permutation per epoch from (seed, key, epoch), full batches.

The order lives here and nowhere else (not in worker RNGs), as a pure function of
(seed, key, epoch, position): resuming is setting (epoch, position), and it does not matter
how many batches a DataLoader had prefetched when the state was saved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np
from torch.utils.data import Sampler


def permutation(n: int, seed: int, key: str, epoch: int) -> np.ndarray:
    """A permutation of range(n), the same on every platform for the same arguments."""
    digest = hashlib.sha256(f"{seed}\x00{key}\x00{epoch}".encode()).digest()
    rng = np.random.Generator(np.random.PCG64(int.from_bytes(digest[:16], "little")))
    return rng.permutation(n)


class EpochBatchSampler(Sampler[list[int]]):
    """Infinite batches of `batch_size` indices; the last partial batch of an epoch is dropped.

    Iteration starts at (epoch, position) and goes on across epochs; `position` counts the
    batches of the epoch already served. With `shard=(rank, world)` (data-parallel training)
    every process walks the same global batches and yields its contiguous share of each,
    `batch_size // world` indices: together the processes read exactly one process's batches.
    """

    def __init__(self, n: int, batch_size: int, seed: int, key: str, epoch: int = 0,
                 position: int = 0, shard: tuple[int, int] = (0, 1)) -> None:
        if n < batch_size:
            raise ValueError(f"{n} samples cannot fill a batch of {batch_size}")
        rank, world = shard
        if batch_size % world or not 0 <= rank < world:
            raise ValueError(f"a batch of {batch_size} has no shard {rank} of {world}")
        self.n, self.batch_size, self.seed, self.key = n, batch_size, seed, key
        self.epoch, self.position = epoch, position
        self.rank, self.world = rank, world

    @property
    def batches_per_epoch(self) -> int:
        return self.n // self.batch_size

    def __iter__(self) -> Iterator[list[int]]:
        epoch, position = self.epoch, self.position
        while True:
            order = permutation(self.n, self.seed, self.key, epoch)
            share = self.batch_size // self.world
            for b in range(position, self.batches_per_epoch):
                start = b * self.batch_size + self.rank * share
                yield order[start:start + share].tolist()
            epoch, position = epoch + 1, 0

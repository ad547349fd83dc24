"""The runtime's view of data-parallel training: which shard of the global batch this process
holds, so that random draws and operations that mix the batch give the global result.

Under `gandsl train` with several processes, each one computes the iteration on a contiguous
shard (rows `rank·b .. rank·b + b − 1`) of the global batch, and every process draws from the
same random generators in the same order. A function that draws one number per sample draws
them for the *global* batch and keeps its own rows (`rows`): the shards together then hold
exactly the numbers one process would draw, and the generators stay in step on every process.
A function that mixes samples across the batch (`shuffle`) gathers the batch first (`gather`).

Outside `sharded(...)` (one process, sample grids, a user's own loop) every function here is
the identity of the single-process code: `rows` draws just the local rows, `gather` returns
its argument. A leaf below both the runtime and the kernels (the gradient penalty's α):
it imports nothing of gandsl.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

_shard: tuple[int, int] | None = None  # (rank, world size) while a sharded iteration runs


@contextmanager
def sharded(rank: int, world: int) -> Iterator[None]:
    """Within the block, this process holds shard `rank` of `world` equal shards."""
    global _shard
    saved, _shard = _shard, ((rank, world) if world > 1 else None)
    try:
        yield
    finally:
        _shard = saved


def current() -> tuple[int, int]:
    """(rank, world size); (0, 1) outside a sharded iteration."""
    return _shard or (0, 1)


def rows(draw: Callable[[int], torch.Tensor], n: int) -> torch.Tensor:
    """This shard's `n` rows of `draw(n · world)`, a draw for the global batch; `draw(n)`
    when not sharded. Drawing the global batch keeps every process's generator in step and
    gives each sample the number one process would give it."""
    rank, world = current()
    if world == 1:
        return draw(n)
    return draw(n * world)[rank * n:(rank + 1) * n]


def gather(x: torch.Tensor) -> torch.Tensor:
    """The global batch of `x` (every shard concatenated in rank order along dim 0); `x`
    itself when not sharded. Differentiable when `x` requires grad: the gradient of a row
    goes back to the process that holds it."""
    _, world = current()
    if world == 1:
        return x
    import torch.distributed as dist

    if x.requires_grad:
        from torch.distributed.nn.functional import all_gather

        return torch.cat(all_gather(x), dim=0)
    parts = [torch.empty_like(x) for _ in range(world)]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)


def local(x: torch.Tensor) -> torch.Tensor:
    """This shard's rows of a global-batch tensor (the inverse of `gather`)."""
    rank, world = current()
    if world == 1:
        return x
    n = x.shape[0] // world
    return x[rank * n:(rank + 1) * n]


def all_sum(x: torch.Tensor) -> torch.Tensor:
    """The sum of `x` over the processes (every process gets it); `x` itself when not
    sharded. Differentiable: the gradient of the sum reaches every process's `x`
    (synchronized batch norm's statistics)."""
    _, world = current()
    if world == 1:
        return x
    from torch.distributed.nn.functional import all_reduce

    return all_reduce(x)

"""Data-parallel training on torch.distributed, without DistributedDataParallel.

Networks are not wrapped: DDP's hooks do not support the double backward of gradient
penalties and R1 (`autograd.grad(..., create_graph=True)` through the wrapped module), and a
GAN iteration calls a network several times per step. Instead, as StyleGAN2-ADA does, each
process computes its player's loss on its shard of the global batch, backpropagates as one
process does, and the gradients of that player's parameters are averaged across processes
(one flattened all-reduce) before the optimizer step. Equal shards make the mean of the shard
means the global mean, so every process takes the step one process would take on the global
batch; the random numbers and batch-mixing operations are made global by
`gandsl.shard`, the data by the sampler's shards.

The process group comes from the environment torchrun sets (RANK, WORLD_SIZE, MASTER_ADDR,
...): gloo on the CPU, NCCL on CUDA. Without it (WORLD_SIZE unset or 1) every function here
is the single-process identity.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import torch
import torch.distributed as dist

_owned = False  # whether `init` created the process group (and `destroy` should end it)


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def launched() -> bool:
    """Whether this process is one of several that a launcher (torchrun) started."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def restarted() -> bool:
    """Whether torchrun has restarted the processes after a failure (`--max-restarts`)."""
    return int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")) > 0


def device_for(device: torch.device) -> torch.device:
    """The device of this process: on CUDA, the GPU of its local rank."""
    if device.type == "cuda" and launched():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if local >= torch.cuda.device_count():
            from .config import RunError

            raise RunError(f"process {local} on this machine has no GPU: "
                           f"{torch.cuda.device_count()} visible, so run at most that many "
                           "processes per node")
        torch.cuda.set_device(local)
        return torch.device("cuda", local)
    return device


def init(device: torch.device) -> None:
    """Join the process group torchrun describes, once (a group the caller made is used)."""
    global _owned
    if not launched() or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    device_id = device if device.type == "cuda" else None
    attempt = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
    if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True":
        # torchrun's agent keeps one store for every attempt; the keys that env:// init
        # writes there (each process's address) would outlive a failed attempt, and the
        # processes of a restarted one would connect to the dead ones. A prefix per attempt
        # keeps the attempts apart.
        store = dist.PrefixStore(f"gandsl/attempt_{attempt}", dist.TCPStore(
            os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), world_size=None,
            is_master=False))
        dist.init_process_group(backend, store=store, rank=int(os.environ["RANK"]),
                                world_size=int(os.environ["WORLD_SIZE"]), device_id=device_id)
    else:
        dist.init_process_group(backend, device_id=device_id)
    _owned = True


def destroy() -> None:
    global _owned
    if _owned and dist.is_initialized():
        dist.destroy_process_group()
    _owned = False


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()


def broadcast_modules(modules: Iterable[torch.nn.Module]) -> None:
    """Every process starts from rank 0's weights and buffers, as DDP does on wrapping: the
    seeded initialization already agrees, this guards against nondeterministic init kernels."""
    if world_size() == 1:
        return
    tensors = [t for m in modules for t in m.state_dict().values()]
    for group in _by_dtype(tensors):
        flat = torch.cat([t.detach().reshape(-1) for t in group])
        dist.broadcast(flat, src=0)
        _unflatten_into(flat, group)


def average_gradients(params: Sequence[torch.nn.Parameter], loss: torch.Tensor,
                      buffers: Sequence[torch.Tensor] = ()) -> torch.Tensor:
    """Average the gradients of `params` and the `buffers` (running statistics) over the
    processes, in place, and return the mean of `loss` (0-d): one all-reduce of one flat
    buffer (one per dtype, if the tensors have several).

    A parameter without a gradient takes part as zeros with a flag; it gets the averaged
    gradient when some process had one and stays None when none had, as one process would
    leave it. A non-finite value anywhere makes the average non-finite on every process, so
    every process skips the same steps. Running statistics are averages of per-sample or
    per-batch values, updated by the same affine step on every process: their mean over the
    processes is the value one process would hold (exactly for instance norm and running
    means; batch norm's variance lacks the spread between the shards' means)."""
    world = world_size()
    if world == 1:
        return loss.detach()
    params = [p for p in params if p.requires_grad]
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    stat = torch.tensor([float(p.grad is not None) for p in params] + [0.0],
                        device=loss.device)
    stat[-1] = loss.detach().float()
    tensors = [*grads, *buffers, stat]
    for group in _by_dtype(tensors):
        flat = torch.cat([t.detach().reshape(-1) for t in group])
        dist.all_reduce(flat)
        flat /= world
        _unflatten_into(flat, group)
    for p, g, had in zip(params, grads, stat[:-1].tolist(), strict=True):
        if p.grad is None and had > 0:
            p.grad = g  # the zeros it lent now hold the mean
    return stat[-1]


def average_buffers(modules: Iterable[torch.nn.Module]) -> None:
    """The floating-point buffers (running statistics) of `modules`, averaged over the
    processes in place (see `average_gradients`)."""
    if world_size() == 1:
        return
    tensors = [b for m in modules for b in m.buffers() if b.is_floating_point()]
    for group in _by_dtype(tensors):
        flat = torch.cat([t.reshape(-1) for t in group])
        dist.all_reduce(flat)
        flat /= world_size()
        _unflatten_into(flat, group)


def average_values(values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The mean over processes of each (0-d) value: one all-reduce for the whole row. Every
    process holds the same keys (they run the same iteration)."""
    world = world_size()
    if world == 1 or not values:
        return values
    keys = sorted(values)
    device = values[keys[0]].device
    flat = torch.stack([values[k].detach().float().reshape(()).to(device) for k in keys])
    dist.all_reduce(flat)
    flat /= world
    return dict(zip(keys, flat.unbind(), strict=True))


def average_state(state: dict[str, float | torch.Tensor]) -> None:
    """An objective's `state` (BEGAN's k, StyleGAN2's pl_mean) computed from per-shard loss
    values differs between processes: replace each by its mean over processes, in place, so
    that every process weighs the next losses alike."""
    if world_size() == 1 or not state:
        return
    averaged = average_values({k: torch.as_tensor(v, dtype=torch.float32)
                               for k, v in state.items()})
    for k, v in averaged.items():
        old = state[k]
        state[k] = v.to(old.device, old.dtype) if isinstance(old, torch.Tensor) else float(v)


def _by_dtype(tensors: Sequence[torch.Tensor]) -> list[list[torch.Tensor]]:
    groups: dict[tuple[torch.dtype, torch.device], list[torch.Tensor]] = {}
    for t in tensors:
        groups.setdefault((t.dtype, t.device), []).append(t)
    return list(groups.values())


def _unflatten_into(flat: torch.Tensor, tensors: Sequence[torch.Tensor]) -> None:
    offset = 0
    with torch.no_grad():
        for t in tensors:
            t.copy_(flat[offset:offset + t.numel()].view_as(t))
            offset += t.numel()


class NoMetrics:
    """What processes other than rank 0 log: nothing (rank 0 writes metrics.csv)."""

    def add(self, step: int, values: dict[str, torch.Tensor]) -> None:
        pass

    def flush(self) -> dict[str, float]:
        return {}

    def close(self) -> None:
        pass

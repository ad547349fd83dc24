"""How large a spec's networks are: parameters, activation values, and the memory training
needs at the least. Read from the checked IR (every node's type and parameter count), so the
checker can warn and the trainer can refuse before anything is allocated."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .catalog import DEFAULT_OPTIMIZER, OPTIMIZERS
from .ir import Network, Spec

FLOAT_BYTES = 4  # weights, gradients, optimizer state and activations in float32


def parameters(net: Network) -> int:
    return sum(n.params for n in net.nodes)


def activations(net: Network) -> int:
    """Values one training forward pass of one sample must keep at the least: the input of
    every layer with weights (its weight gradient is computed from it)."""
    return sum(math.prod(net.nodes[n.x].type.dims) for n in net.nodes
               if n.params and n.x is not None and net.nodes[n.x].type is not None)


@dataclass(frozen=True)
class Estimate:
    total: int  # bytes
    largest: str  # the network that needs the most
    largest_bytes: int
    largest_params: int


def training_memory(spec: Spec, batch: int) -> Estimate:
    """A lower bound of the memory one training iteration holds: the weights of every
    network; for each trained one its gradients and its optimizer's state (and an EMA copy);
    and one forward pass's activations at `batch`, kept for the backward pass."""
    trained = {n: p.name for p in spec.objective.players for n in p.networks} \
        if spec.objective else {}
    optimizer = {o.player: o.kind for o in spec.train.optimizers} if spec.train else {}
    averaged = {o.player for o in spec.train.options if o.kind == "ema"} if spec.train else set()
    total, largest = 0, ("", 0, 0)
    for net in spec.networks:
        copies = 1
        if net.name in trained and not net.frozen:
            player = trained[net.name]
            copies += 1 + OPTIMIZERS[optimizer.get(player, DEFAULT_OPTIMIZER[0])].state_copies
            copies += net.name in averaged or player in averaged
        params = parameters(net)
        need = FLOAT_BYTES * (copies * params + batch * activations(net))
        total += need
        if need > largest[1]:
            largest = (net.name, need, params)
    return Estimate(total, *largest)


def gigabytes(n: int) -> str:
    return f"{n / 2 ** 30:,.1f} GiB"

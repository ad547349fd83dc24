"""Running networks for samples without disturbing training.

Samples are drawn with the networks in training mode, as the reference training loops draw
their sample grids (StarGAN's tracked instance norm and DCGAN's batch norm then use the
statistics of the sample batch, not running averages that lag early in training), but with
dropout off: a sample is the network's output, not a noisy version of it. Buffers
that a forward pass in training mode updates (running statistics) are restored afterwards,
and so are the modes and torch's random state, so drawing a grid changes nothing in the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from ..runtime.style import Truncation


@contextmanager
def sampling(networks: dict[str, nn.Module], device: torch.device, seed: int,
             frozen: frozenset[str] = frozenset()) -> Iterator[None]:
    """Inside: no gradients, networks in training mode with dropout off and truncation on
    (`frozen` ones stay in eval mode, as they train), and torch's random state seeded with
    `seed`, so that any randomness in a forward pass (noise inputs) is the same for every
    grid."""
    modes = {n: m.training for n, m in networks.items()}
    buffers = {n: [b.clone() for b in m.buffers()] for n, m in networks.items()}
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        torch.manual_seed(seed)
        for name, m in networks.items():
            m.train(name not in frozen)
            for sub in m.modules():  # no dropout; StyleGAN's truncation on
                if isinstance(sub, nn.modules.dropout._DropoutNd | Truncation):
                    sub.eval()
        try:
            yield
        finally:
            for n, m in networks.items():
                for b, saved in zip(m.buffers(), buffers[n], strict=True):
                    b.copy_(saved)
                m.train(modes[n])

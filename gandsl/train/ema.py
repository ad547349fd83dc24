"""Exponential moving averages of a player's networks (generator EMA: ProGAN, BigGAN,
StyleGAN): `ema ← decay·ema + (1 − decay)·θ` after each of the player's steps, buffers copied.
Sample grids and `gandsl sample` use the averaged weights."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, networks: dict[str, nn.Module], decay: float, start: int = 0,
                 every: int = 1) -> None:
        self.decay, self.start, self.every = decay, start, every
        self.averaged = {name: copy.deepcopy(net).eval().requires_grad_(False)
                         for name, net in networks.items()}
        # Flat lists, made once: `update` is then two fused kernels whatever the network size.
        self._live = [p for net in networks.values() for p in net.parameters()]
        self._avg = [a for net in self.averaged.values() for a in net.parameters()]
        self._live_buffers = [b for net in networks.values() for b in net.buffers()]
        self._avg_buffers = [b for net in self.averaged.values() for b in net.buffers()]

    @torch.no_grad()
    def update(self, step: int) -> None:
        if step % self.every:
            return
        # Before `start`, the average follows the weights exactly (BigGAN's ema_start).
        decay = self.decay if step >= self.start else 0.0
        torch._foreach_lerp_(self._avg, self._live, 1.0 - decay)
        if self._avg_buffers:
            torch._foreach_copy_(self._avg_buffers, self._live_buffers)

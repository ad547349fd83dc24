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
        self.live = networks
        self.averaged = {name: copy.deepcopy(net).eval().requires_grad_(False)
                         for name, net in networks.items()}

    @torch.no_grad()
    def update(self, step: int) -> None:
        if step % self.every:
            return
        # Before `start`, the average follows the weights exactly (BigGAN's ema_start).
        decay = self.decay if step >= self.start else 0.0
        for name, live in self.live.items():
            avg = self.averaged[name]
            for a, p in zip(avg.parameters(), live.parameters(), strict=True):
                a.lerp_(p, 1.0 - decay)
            for a, b in zip(avg.buffers(), live.buffers(), strict=True):
                a.copy_(b)

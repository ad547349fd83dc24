"""Schedules of the train section: learning rates as factors of the base rate, and momentum
ramps (the vanilla GAN's 0.5 → 0.7)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def factor(kind: str, kwargs: dict[str, Any], total_steps: int,
           base: float = 1.0) -> Callable[[int], float]:
    """The multiplier of the base learning rate `base` at iteration `step` (from 0)."""
    if kind == "constant":
        return lambda step: 1.0
    if kind == "cosine":  # base until `start`, then half a cosine down to `min_lr` at `end`
        start = int(kwargs.get("start", 0))
        end = float(kwargs.get("end", total_steps))
        low = float(kwargs.get("min_lr", 0.0))

        def cosine(step: int) -> float:
            u = min(max((step - start) / max(1.0, end - start), 0.0), 1.0)
            return (low + (base - low) * 0.5 * (1 + math.cos(math.pi * u))) / base
        return cosine
    if kind == "linear_decay":
        start = int(kwargs.get("start", 0))
        end = float(kwargs.get("end", total_steps))

        def linear(step: int) -> float:
            if step < start:
                return 1.0
            return max(0.0, (end - step) / max(1.0, end - start))
        return linear
    if kind == "step_decay":
        every = int(kwargs.get("every", 1))
        gamma = float(kwargs.get("gamma", 0.5))

        def decay(step: int) -> float:
            return gamma ** (step // every)
        return decay
    raise ValueError(f"unknown schedule {kind!r}")


def min_lr(kind: str, kwargs: dict[str, Any]) -> float:
    return float(kwargs.get("min_lr", 0.0)) if kind in ("step_decay", "cosine") else 0.0


def momentum(kwargs: dict[str, Any], initial: float) -> Callable[[int], float]:
    """`ramp(to, start, end)`: the optimizer's own momentum until `start`, then linearly to
    `to` at `end`, then `to` (pylearn2's MomentumAdjustor, by steps instead of epochs)."""
    to, start, end = float(kwargs["to"]), int(kwargs.get("start", 0)), float(kwargs["end"])

    def at(step: int) -> float:
        t = min(max((step - start) / (end - start), 0.0), 1.0)
        return initial + t * (to - initial)
    return at


def level(step: int, stable: int, fade: int, first: int = 0) -> float:
    """Progressive growing's level of detail at `step`: from level `first`, each level is
    trained `stable` steps, then the next fades in over `fade` (PGGAN's lod schedule, counted
    in steps). Networks clip it to their own number of levels."""
    phase, within = divmod(step, stable + fade)
    return first + phase + min(max((within - stable) / fade, 0.0), 1.0)

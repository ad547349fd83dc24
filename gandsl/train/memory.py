"""Refusing a run that cannot fit, before anything is allocated.

`sizes.training_memory` is a lower bound of what one training iteration holds (weights,
gradients, optimizer state, one forward pass's activations); a spec whose lower bound exceeds
the device's whole memory would die in an out-of-memory error somewhere in the first
iteration, so it is refused up front with the numbers (W508 warned at compile time).
"""

from __future__ import annotations

import os

import torch

from ..ir import Spec
from ..sizes import gigabytes, training_memory
from .config import RunError


def device_memory(device: torch.device) -> tuple[int, str]:
    """(bytes, what they are) of the device's whole memory."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return props.total_memory, f"the {props.name}'s {gigabytes(props.total_memory)}"
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return total, f"this machine's {gigabytes(total)} of memory"


def check_fits(spec: Spec, batch: int, device: torch.device) -> None:
    """Raise `RunError` when training `spec` at `batch` (per process) cannot fit."""
    need = training_memory(spec, batch)
    have, what = device_memory(device)
    if need.total <= have:
        return
    raise RunError(
        f"training needs at least {gigabytes(need.total)} at batch {batch} (weights, gradients "
        f"and optimizer state, and one forward pass's activations), more than {what}; the "
        f"largest part is `{need.largest}`, {need.largest_params:,} parameters and "
        f"{gigabytes(need.largest_bytes)} in all. Lower the spec's sizes (--param) or the "
        "batch (--batch)")

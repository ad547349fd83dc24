"""Choosing between a Triton kernel and its plain-PyTorch reference.

Every fused op takes `impl="ref"|"triton"|"auto"`. `ref` is plain PyTorch and the oracle the
kernels are tested against; `auto` takes Triton for CUDA tensors and the reference elsewhere;
`triton` insists, and also runs on CPU tensors under Triton's interpreter
(`TRITON_INTERPRET=1`, how CI checks the kernels). When Triton cannot run what was asked (not
installed, a CPU tensor without the interpreter, float64) the op falls back to the reference
and warns once per reason.

Triton is imported only when a kernel is about to run: compiling specs and CPU training never
pay for the import.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from contextlib import nullcontext

import torch

IMPLS = ("ref", "triton", "auto")
# `GANDSL_KERNELS=ref` makes `auto` take the reference everywhere: the same run without the
# kernels, for comparing (`gandsl bench --kernels ref`).
KERNELS_ENV = "GANDSL_KERNELS"
KERNEL_DTYPES = (torch.float32, torch.bfloat16, torch.float16)  # computed in fp32 inside

_warned: set[str] = set()


def triton_installed() -> bool:
    return importlib.util.find_spec("triton") is not None


def interpreting() -> bool:
    """Triton's interpreter runs kernels on CPU tensors (slowly), for tests without a GPU."""
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def use_triton(op: str, impl: str, *tensors: torch.Tensor) -> bool:
    """True to run `op` as a Triton kernel for these tensors, False for the reference."""
    if impl not in IMPLS:
        raise ValueError(f"{op}: impl must be one of {', '.join(IMPLS)}, got {impl!r}")
    cuda = all(t.is_cuda for t in tensors)
    if impl == "auto" and os.environ.get(KERNELS_ENV) == "ref":
        impl = "ref"
    if impl == "ref" or (impl == "auto" and not cuda):
        return False
    why = _cannot(cuda, tensors)
    if why is None:
        return True  # auto on CUDA tensors, or triton where it can run
    if why not in _warned:
        _warned.add(why)
        warnings.warn(f"{op}: Triton cannot run here ({why}); using the PyTorch reference",
                      RuntimeWarning, stacklevel=3)
    return False


def on_device(t: torch.Tensor):
    """Triton launches on the current CUDA device and stream: make that t's device."""
    return torch.cuda.device(t.device) if t.is_cuda else nullcontext()


# The oldest NVIDIA target the kernels are compiled for in the tests (sm_70, Volta).
MIN_CAPABILITY = (7, 0)


def _cannot(cuda: bool, tensors: tuple[torch.Tensor, ...]) -> str | None:
    if not triton_installed():
        return "triton is not installed"
    if not cuda and not interpreting():
        return "CPU tensors need TRITON_INTERPRET=1"
    if cuda:
        capability = torch.cuda.get_device_capability(tensors[0].device)
        if capability < MIN_CAPABILITY:
            return (f"compute capability {capability[0]}.{capability[1]}; the kernels need "
                    f"{MIN_CAPABILITY[0]}.{MIN_CAPABILITY[1]} or newer")
    bad = sorted({str(t.dtype) for t in tensors if t.dtype not in KERNEL_DTYPES})
    if bad:
        return f"the kernels take float32, bfloat16 and float16, not {', '.join(bad)}"
    return None

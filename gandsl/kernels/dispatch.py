"""Choosing between a Triton kernel and its plain-PyTorch reference.

Every fused op takes `impl="ref"|"triton"|"auto"`. `ref` is plain PyTorch and the oracle the
kernels are tested against; `auto` takes Triton for CUDA tensors and the reference elsewhere;
`triton` insists, and also runs on CPU tensors under Triton's interpreter
(`TRITON_INTERPRET=1`, how CI checks the kernels). When Triton cannot run what was asked (not
installed, a CPU tensor without the interpreter, float64) the op falls back to the reference
and warns once per reason.

A run chooses for every op it calls with `impl="auto"` (as generated code does) with
`kernels(choice)`, a context the trainer enters around each iteration (`gandsl train
--kernels`); outside one, the `GANDSL_KERNELS` environment variable is the default, else
`auto`. The choice lives in a `ContextVar`, set and reset by the context: no module-level
setting is assigned, and a thread or task outside the context never sees it.

Triton is imported only when a kernel is about to run: compiling specs and CPU training never
pay for the import.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar

import torch

IMPLS = ("ref", "triton", "auto")
# The default of a run's choice (`gandsl train/bench --kernels` name it explicitly):
# `GANDSL_KERNELS=ref` makes `auto` take the reference everywhere, the same run without the
# kernels, for comparing.
KERNELS_ENV = "GANDSL_KERNELS"
# The choice of the `kernels(...)` block being run, None outside one.
_CHOICE: ContextVar[str | None] = ContextVar("gandsl_kernels", default=None)
KERNEL_DTYPES = (torch.float32, torch.bfloat16, torch.float16)  # computed in fp32 inside

_warned: set[str] = set()


def triton_installed() -> bool:
    return importlib.util.find_spec("triton") is not None


def interpreting() -> bool:
    """Triton's interpreter runs kernels on CPU tensors (slowly), for tests without a GPU."""
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def check_choice(choice: str, what: str = "kernels") -> str:
    """`choice` if it is one of `IMPLS`; else a ValueError naming them."""
    if choice not in IMPLS:
        raise ValueError(f"{what} must be one of {', '.join(IMPLS)}, got {choice!r}")
    return choice


def default_kernels() -> str:
    """The choice of a run that names none: `GANDSL_KERNELS` if set, else `auto`."""
    value = os.environ.get(KERNELS_ENV) or "auto"
    return check_choice(value, KERNELS_ENV)


@contextmanager
def kernels(choice: str) -> Iterator[None]:
    """Within the block, ops called with `impl="auto"` run as `choice` says: `ref` the
    references, `triton` the kernels wherever Triton can run, `auto` Triton on CUDA tensors."""
    token = _CHOICE.set(check_choice(choice))
    try:
        yield
    finally:
        _CHOICE.reset(token)


def chosen() -> str:
    """What `impl="auto"` means here: the enclosing `kernels(...)`'s choice, else the
    default (`default_kernels`)."""
    return _CHOICE.get() or default_kernels()


def use_triton(op: str, impl: str, *tensors: torch.Tensor) -> bool:
    """True to run `op` as a Triton kernel for these tensors, False for the reference. An
    explicit `ref` or `triton` stands; `auto` takes the run's choice (`chosen`)."""
    check_choice(impl, f"{op}: impl")
    cuda = all(t.is_cuda for t in tensors)
    if impl == "auto":
        impl = chosen()
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

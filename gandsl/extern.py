"""Externs: a spec's escape hatch to the user's own PyTorch (`extern layer blur(x: map, k: int
= 3) -> map = "mypkg.layers:Blur"`, `extern function my_loss(...) -> loss = "mypkg:f"`).

Naming a module is not trusting it. Importing one runs its code, so a spec's externs are
imported only when the user allows their modules: `--allow-extern mypkg` on the command line
or `GANDSL_EXTERN=mypkg,other` in the environment (a module or any package above it).
Otherwise the spec is `E111` and nothing is imported.

The checker learns what an extern computes by running it on meta tensors (shapes, no data,
no compute): a layer is built under `torch.device("meta")` and applied to a (2, *dims)
input, a function to its arguments' shapes. Results are cached per target, arguments and
shapes for the life of the process.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import sys
from dataclasses import dataclass
from typing import Any

ENV = "GANDSL_EXTERN"
TARGET = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*", re.ASCII)
BATCH = 2  # the probes' batch: batch statistics need more than one sample


class ExternError(Exception):
    """An extern that cannot be used: its message says why."""


def allowed_modules() -> list[str]:
    return [m.strip() for m in os.environ.get(ENV, "").split(",") if m.strip()]


def allow(*modules: str) -> None:
    """Allow these modules (and their submodules) for this process and its children."""
    current = allowed_modules()
    os.environ[ENV] = ",".join(current + [m for m in modules if m not in current])


def is_allowed(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in allowed_modules())


def resolve(target: str) -> Any:
    """The callable `module.path:Name` names; ExternError when it is not allowed or cannot be
    imported. The working directory is on the import path, as for `python -m`."""
    if not TARGET.fullmatch(target):
        raise ExternError(f"`{target}` is not `module.path:Name`")
    module, name = target.split(":")
    if not is_allowed(module):
        raise ExternError(f"`{module}` is not allowed: importing a module runs its code, so "
                          f"allow it with `--allow-extern {module.split('.')[0]}` (or "
                          f"{ENV}={module.split('.')[0]})")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        mod = importlib.import_module(module)
    except Exception as e:  # noqa: BLE001 - any failure of the user's module is reported
        raise ExternError(f"cannot import `{module}`: {type(e).__name__}: {_first(e)}") from None
    fn = getattr(mod, name, None)
    if fn is None or not callable(fn):
        raise ExternError(f"`{module}` has no callable `{name}`")
    return fn


@dataclass(frozen=True)
class Probe:
    dims: tuple[int, ...]  # the result's per-sample dimensions
    params: int = 0  # learnable parameters (a layer)


def _meta(dims: tuple[int, ...]):
    import torch

    return torch.empty((BATCH, *dims), device="meta")


@functools.lru_cache(maxsize=512)
def probe_layer(target: str, kwargs: tuple[tuple[str, Any], ...],
                dims: tuple[int, ...]) -> Probe:
    """Build `target(**kwargs)` on the meta device and apply it to a (2, *dims) input."""
    import torch

    cls = resolve(target)
    try:
        with torch.device("meta"):
            module = cls(**dict(kwargs))
    except Exception as e:  # noqa: BLE001
        raise ExternError(f"`{target}({_args(kwargs)})` failed: {type(e).__name__}: "
                          f"{_first(e)}") from None
    if not isinstance(module, torch.nn.Module):
        raise ExternError(f"`{target}` made {type(module).__name__}, not a torch.nn.Module")
    out = _run(target, lambda: module(_meta(dims)), dims)
    params = sum(p.numel() for p in module.parameters())
    return Probe(tuple(out.shape[1:]), params)


@functools.lru_cache(maxsize=512)
def probe_function(target: str, shapes: tuple[tuple[int, ...] | None, ...],
                   kwargs: tuple[tuple[str, Any], ...]) -> Probe:
    """Apply `target` to meta tensors of these per-sample shapes (None: a one-number loss)."""
    import torch

    fn = resolve(target)
    args = [torch.empty((), device="meta") if s is None else _meta(s) for s in shapes]
    out = _run(target, lambda: fn(*args, **dict(kwargs)), shapes)
    return Probe(tuple(out.shape))


def _run(target: str, call, shapes) -> Any:
    import torch

    try:
        out = call()
    except Exception as e:  # noqa: BLE001
        raise ExternError(f"`{target}` failed on meta tensors of shapes {shapes} (batch "
                          f"{BATCH}): {type(e).__name__}: {_first(e)}") from None
    if not isinstance(out, torch.Tensor):
        raise ExternError(f"`{target}` returned {type(out).__name__}, not a tensor")
    return out


def _args(kwargs) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs)


def _first(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else ""


__all__ = ["ENV", "ExternError", "Probe", "allow", "is_allowed", "probe_function",
           "probe_layer", "resolve"]

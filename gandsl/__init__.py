"""gandsl: a small, typed language for GANs, and its compiler to readable PyTorch.

`gandsl.load(path, **params)` compiles a spec and imports the generated module. The package
import itself stays light (generated code imports `gandsl.runtime`), so `load` and the
compiler are imported on first use.
"""

from __future__ import annotations

from typing import Any

from .version import __version__

__all__ = ["__version__", "load", "compile_source", "check_source", "GandslError",
           "allow_extern"]


def __getattr__(name: str) -> Any:
    if name == "load":
        from .loader import load
        return load
    if name in ("compile_source", "check_source"):
        from . import pipeline
        return getattr(pipeline, name)
    if name == "allow_extern":  # `gandsl.allow_extern("mypkg")`: a spec's externs may use it
        from .extern import allow
        return allow
    if name == "GandslError":
        from .diagnostics import GandslError
        return GandslError
    raise AttributeError(f"module 'gandsl' has no attribute {name!r}")

"""Fused GPU kernels (Triton) behind plain-PyTorch references: AdaIN and gradient penalties.

Each op takes `impl="ref"|"triton"|"auto"` (see `dispatch`); the reference is the oracle the
kernels are tested against, values and gradients.
"""

from gandsl.kernels.adain import adain_ref, fused_adain

__all__ = ["adain_ref", "fused_adain"]

"""One-process stand-ins for runtime machinery an exported network does without, copied into
`gandsl export --format python` files in place of the real thing (`closure.SUBSTITUTED`).

Data-parallel training shards a batch over processes (`gandsl.shard`); an exported network is
one process, whose batch is the whole batch. The fused Triton AdaIN kernel needs Triton and a
GPU; its reference, `adain_ref`, gives the same values with torch alone.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gandsl.kernels.adain import adain_ref


class shard:  # noqa: N801 - named as the module it stands for, which the copied code calls
    """`gandsl.shard` in one process: this process holds the whole batch."""

    @staticmethod
    def current() -> tuple[int, int]:
        return 0, 1

    @staticmethod
    def rows(draw: Callable[[int], torch.Tensor], n: int) -> torch.Tensor:
        return draw(n)

    @staticmethod
    def gather(x: torch.Tensor) -> torch.Tensor:
        return x

    @staticmethod
    def local(x: torch.Tensor) -> torch.Tensor:
        return x

    @staticmethod
    def all_sum(x: torch.Tensor) -> torch.Tensor:
        return x


def fused_adain(x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5,
                impl: str = "auto") -> torch.Tensor:
    """AdaIN of x (N, C, H, W) with scale and bias (N, C), without the Triton kernel."""
    return adain_ref(x, scale, bias, eps)

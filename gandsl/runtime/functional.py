"""Stateless tensor functions used by the runtime modules and by generated code.

`adain_ref` is the plain-PyTorch reference for adaptive instance normalisation; it lives with
its fused kernel in `gandsl.kernels.adain`, the oracle the kernel is tested against.
"""

import torch

from gandsl.kernels.adain import adain_ref

__all__ = ["adain_ref", "tile"]


def tile(v: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Broadcast a (B, N) vector to a (B, N, H, W) map without copying.

    Used to concatenate a latent or label vector onto a feature map (as in conditional
    DCGAN / pix2pix-style conditioning). The result is an `expand` view: write to a clone.
    """
    if v.dim() != 2:
        raise ValueError(f"tile expects a (B, N) tensor, got shape {tuple(v.shape)}")
    return v[:, :, None, None].expand(-1, -1, height, width)  # (B, N, H, W)

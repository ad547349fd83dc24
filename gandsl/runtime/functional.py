"""Stateless tensor functions used by the runtime modules and by generated code.

`adain_ref` is the plain-PyTorch reference for adaptive instance normalisation; it lives with
its fused kernel in `gandsl.kernels.adain`, the oracle the kernel is tested against.
"""

import torch
import torch.nn.functional as F

from gandsl.kernels.adain import adain_ref

__all__ = ["adain_ref", "fade_in", "tile"]


def tile(v: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Broadcast a (B, N) vector to a (B, N, H, W) map without copying.

    Used to concatenate a latent or label vector onto a feature map (as in conditional
    DCGAN / pix2pix-style conditioning). The result is an `expand` view: write to a clone.
    """
    if v.dim() != 2:
        raise ValueError(f"tile expects a (B, N) tensor, got shape {tuple(v.shape)}")
    return v[:, :, None, None].expand(-1, -1, height, width)  # (B, N, H, W)


def fade_in(old: torch.Tensor, new: torch.Tensor, alpha: float | torch.Tensor) -> torch.Tensor:
    """Progressive growing's fade (Karras et al. 2018): `old + (new − old)·α`, α in [0, 1];
    an `old` of half the size (G's image of the level below) is upsampled ×2, nearest."""
    if old.shape[-1] != new.shape[-1]:
        old = F.interpolate(old, scale_factor=2, mode="nearest")
    return torch.lerp(old, new, float(alpha))

"""Stateless tensor functions used by the runtime modules and by generated code.

`adain_ref` is the plain-PyTorch reference for adaptive instance normalisation; it lives with
its fused kernel in `gandsl.kernels.adain`, the oracle the kernel is tested against.
"""

import torch
import torch.nn.functional as F

from gandsl.kernels.adain import adain_ref

__all__ = ["adain_ref", "fade_in", "mix_styles", "normalize", "tile"]


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


def mix_styles(a: torch.Tensor, b: torch.Tensor, layers: int, prob: float = 0.9) -> torch.Tensor:
    """StyleGAN's style mixing regularization on per-layer styles (B, layers·D): with
    probability `prob`, one cutoff c for the batch, uniform in 1..layers−1; the styles of
    layers c.. come from `b` (NVlabs' `mixing_cutoff` and `tf.where(layer_idx < cutoff)`).
    Draws from torch's global generator, which checkpoints save."""
    if layers < 2 or float(torch.rand(())) >= prob:
        return a
    cut = int(torch.randint(1, layers, ())) * (a.shape[1] // layers)
    return torch.cat([a[:, :cut], b[:, cut:]], dim=1)


def normalize(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """Images in [−1, 1] as a pretrained network expects them: to [0, 1], then
    `(x − mean) / std` per channel (torchvision's ImageNet normalization for VGG)."""
    m = torch.tensor(mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return ((x + 1) / 2 - m) / s

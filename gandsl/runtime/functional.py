"""Stateless tensor functions used by the runtime modules and by generated code.

`adain_ref` is the plain-PyTorch reference for adaptive instance normalisation. `AdaIN`
always goes through it, so a fused kernel can later be swapped in behind this one name
and checked against it.
"""

import torch

__all__ = ["adain_ref", "tile"]


def tile(v: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Broadcast a (B, N) vector to a (B, N, H, W) map without copying.

    Used to concatenate a latent or label vector onto a feature map (as in conditional
    DCGAN / pix2pix-style conditioning). The result is an `expand` view: write to a clone.
    """
    if v.dim() != 2:
        raise ValueError(f"tile expects a (B, N) tensor, got shape {tuple(v.shape)}")
    return v[:, :, None, None].expand(-1, -1, height, width)  # (B, N, H, W)


def adain_ref(
    x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    """Adaptive instance normalisation, reference implementation (Huang & Belongie 2017).

    Each (n, c) plane of `x` is normalised by its own mean and biased variance over H x W,
    then scaled and shifted by `scale[n, c]` and `bias[n, c]`:
    `(x - mean) / sqrt(var + eps) * scale + bias`.

    Statistics and arithmetic run in at least float32 even for bf16 / fp16 inputs (a
    reduced-precision variance over a whole plane loses too many digits); the result is
    cast back to `x.dtype`. float64 inputs stay in float64 (needed for gradcheck).
    """
    if x.dim() != 4:
        raise ValueError(f"adain_ref expects x of shape (N, C, H, W), got {tuple(x.shape)}")
    n, c = x.shape[:2]
    if scale.shape != (n, c) or bias.shape != (n, c):
        raise ValueError(
            f"adain_ref expects scale and bias of shape {(n, c)}, "
            f"got {tuple(scale.shape)} and {tuple(bias.shape)}"
        )
    compute = torch.promote_types(x.dtype, torch.float32)
    xf = x.to(compute)  # (N, C, H, W)
    mean = xf.mean(dim=(2, 3), keepdim=True)  # (N, C, 1, 1)
    var = xf.var(dim=(2, 3), keepdim=True, correction=0)  # (N, C, 1, 1), biased
    xhat = (xf - mean) / torch.sqrt(var + eps)  # (N, C, H, W)
    out = xhat * scale.to(compute)[:, :, None, None] + bias.to(compute)[:, :, None, None]
    return out.to(x.dtype)  # (N, C, H, W)

"""Normalisation layers used by GANs that torch.nn does not provide.

Every class documents the paper / reference code it follows. Parameter counts are part of
the contract: the compiler predicts them analytically, so do not add parameters here
without changing the compiler's formulas too.
"""

import torch
import torch.nn.functional as F
from torch import nn

from gandsl.kernels.adain import fused_adain
from gandsl.runtime.sync_norm import batch_norm

__all__ = ["AdaIN", "ConditionalBatchNorm", "PixelNorm", "SPADE"]


def _per_channel(v: torch.Tensor, ndim: int) -> torch.Tensor:
    """Reshape a (B, C) tensor so it broadcasts over a (B, C, *spatial) tensor of rank `ndim`."""
    return v.reshape(v.shape[0], v.shape[1], *([1] * (ndim - 2)))  # (B, C, 1, ...)


class PixelNorm(nn.Module):
    """Pixelwise feature-vector normalisation (Karras et al. 2018, PGGAN, section 4.2).

    Each feature vector (dim 1) is divided by its root mean square, which keeps generator
    activations from escalating without any learned parameters. Works on (B, N) latents
    and (B, C, H, W) feature maps alike.
    """

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps  # added under the square root, avoids division by zero

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rms = torch.sqrt(torch.mean(x * x, dim=1, keepdim=True) + self.eps)  # (B, 1, ...)
        return x / rms  # same shape as x

    def extra_repr(self) -> str:
        return f"eps={self.eps}"


class ConditionalBatchNorm(nn.Module):
    """Batch norm whose affine gain and bias are predicted from a condition.

    Two modes, chosen by which of `num_classes` / `cond_dim` is given:

    * class mode (categorical CBN, Miyato & Koyama 2018 / SNGAN projection code): the
      condition is a (B,) int64 class index; `gain` and `bias` are embeddings initialised
      to ones and zeros so the layer starts as plain batch norm.
      `out = xhat * gain[y] + bias[y]`.
    * vector mode (BigGAN `ccbn`, Brock et al. 2019): the condition is a (B, cond_dim)
      float vector (e.g. a shared class embedding concatenated with a latent chunk);
      `gain` and `bias` are bias-free linear maps and `out = xhat * (1 + gain(y)) + bias(y)`.

    The normalisation itself has no affine parameters; running statistics are buffers.
    `F.batch_norm` is used so (B, C) and (B, C, H, W) inputs both work.
    """

    def __init__(
        self,
        num_features: int,
        num_classes: int | None = None,
        cond_dim: int | None = None,
        eps: float = 1e-5,
        momentum: float = 0.1,
        sn: bool = False,
        sync: bool = False,
    ) -> None:
        super().__init__()
        if (num_classes is None) == (cond_dim is None):
            raise ValueError(
                "ConditionalBatchNorm needs exactly one of num_classes (class mode) "
                f"or cond_dim (vector mode), got num_classes={num_classes}, cond_dim={cond_dim}"
            )
        self.num_features = num_features  # C, channels being normalised
        self.num_classes = num_classes  # K, class mode: number of class embeddings
        self.cond_dim = cond_dim  # vector mode: length of the conditioning vector
        self.eps = eps  # variance epsilon, as in nn.BatchNorm
        self.momentum = momentum  # running-statistics momentum, as in nn.BatchNorm
        self.sync = sync  # statistics of the global batch in data-parallel training
        self.register_buffer("running_mean", torch.zeros(num_features))  # (C,)
        self.register_buffer("running_var", torch.ones(num_features))  # (C,)

        self.gain: nn.Embedding | nn.Linear
        self.bias: nn.Embedding | nn.Linear
        if num_classes is not None:
            self.gain = nn.Embedding(num_classes, num_features)  # (K, C), starts at 1
            self.bias = nn.Embedding(num_classes, num_features)  # (K, C), starts at 0
            nn.init.ones_(self.gain.weight)
            nn.init.zeros_(self.bias.weight)
        else:
            assert cond_dim is not None
            self.gain = nn.Linear(cond_dim, num_features, bias=False)  # (C, cond_dim)
            self.bias = nn.Linear(cond_dim, num_features, bias=False)  # (C, cond_dim)
        if sn:  # BigGAN's ccbn uses SNLinear for both maps
            for m in (self.gain, self.bias):
                nn.utils.parametrizations.spectral_norm(m)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        xhat = batch_norm(
            x,
            self.running_mean,
            self.running_var,
            training=self.training,
            momentum=self.momentum,
            eps=self.eps,
            sync=self.sync,
        )  # (B, C) or (B, C, H, W)
        if self.num_classes is not None:
            gain = self.gain(y)  # (B, C)
        else:
            gain = 1 + self.gain(y)  # (B, C)
        bias = self.bias(y)  # (B, C)
        return xhat * _per_channel(gain, x.dim()) + _per_channel(bias, x.dim())

    def extra_repr(self) -> str:
        cond = (
            f"num_classes={self.num_classes}"
            if self.num_classes is not None
            else f"cond_dim={self.cond_dim}"
        )
        return f"{self.num_features}, {cond}, eps={self.eps}, momentum={self.momentum}"


class AdaIN(nn.Module):
    """Adaptive instance normalisation driven by a style vector (StyleGAN, Karras et al. 2019).

    A learned affine map `style` turns the intermediate latent w into a per-channel scale
    and bias; x is instance-normalised (no affine of its own) and modulated:
    `scale = 1 + style(w)[:, :C]`, `bias = style(w)[:, C:]`, as in StyleGAN's `ApplyStyle`.
    The `1 +` together with a zero initial bias of `style` centres the initial scale at 1 and
    the shift at 0. The arithmetic is `fused_adain`'s, checked against `adain_ref`.
    """

    def __init__(self, channels: int, style_dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.channels = channels  # C, feature-map channels to modulate
        self.style_dim = style_dim  # length of the style / w vector
        self.eps = eps  # variance epsilon of the instance norm
        self.style = nn.Linear(style_dim, 2 * channels)  # w -> (scale, bias) per channel
        nn.init.zeros_(self.style.bias)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        s = self.style(w)  # (B, 2C)
        scale = 1 + s[:, : self.channels]  # (B, C)
        bias = s[:, self.channels :]  # (B, C)
        # One fused Triton kernel on CUDA tensors (forward and backward), the reference
        # elsewhere: `gandsl.kernels.fused_adain`.
        return fused_adain(x, scale, bias, self.eps)  # (B, C, H, W)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, style_dim={self.style_dim}, eps={self.eps}"


class SPADE(nn.Module):
    """Spatially-adaptive denormalisation (Park et al. 2019, NVlabs/SPADE `SPADE`).

    x goes through a parameter-free norm; the segmentation map, resized to x's spatial size
    with nearest-neighbour interpolation, goes through a shared conv + ReLU and then two
    convs that give a per-pixel `gamma` and `beta`: `out = norm(x) * (1 + gamma) + beta`.
    """

    NORMS = ("batch", "instance")

    def __init__(
        self,
        channels: int,
        label_channels: int,
        hidden: int = 128,
        kernel: int = 3,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        if norm not in self.NORMS:
            raise ValueError(f"SPADE norm must be one of {self.NORMS}, got {norm!r}")
        self.channels = channels  # C, channels of x
        self.label_channels = label_channels  # channels of the segmentation map
        pad = kernel // 2  # "same" padding for odd kernels
        self.norm: nn.Module
        if norm == "batch":
            self.norm = nn.BatchNorm2d(channels, affine=False)
        else:
            self.norm = nn.InstanceNorm2d(channels, affine=False)
        self.shared = nn.Sequential(
            nn.Conv2d(label_channels, hidden, kernel, padding=pad),  # seg -> hidden features
            nn.ReLU(),
        )
        self.gamma = nn.Conv2d(hidden, channels, kernel, padding=pad)  # per-pixel scale - 1
        self.beta = nn.Conv2d(hidden, channels, kernel, padding=pad)  # per-pixel shift

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        normalized = self.norm(x)  # (B, C, H, W)
        segmap = F.interpolate(seg, size=x.shape[2:], mode="nearest")  # (B, L, H, W)
        actv = self.shared(segmap)  # (B, hidden, H, W)
        gamma = self.gamma(actv)  # (B, C, H, W)
        beta = self.beta(actv)  # (B, C, H, W)
        return normalized * (1 + gamma) + beta  # (B, C, H, W)

"""GAN building blocks that torch.nn does not provide.

Each class names the paper and reference implementation it follows. Parameter counts are
part of the contract with the compiler, which predicts them analytically.
"""

import torch
import torch.nn.functional as F
from torch import nn

from gandsl import shard
from gandsl.runtime.inits import initialized

__all__ = [
    "ConstantInput",
    "Maxout",
    "MinibatchStdDev",
    "NoiseInjection",
    "Projection",
    "SelfAttention",
]


class MinibatchStdDev(nn.Module):
    """Minibatch standard deviation (PGGAN section 3; StyleGAN2-ADA `MinibatchStdLayer`).

    Splits the batch into groups of `group_size`, measures each feature's standard
    deviation across the group, averages it over channels-per-feature and pixels, and
    appends the result as `num_features` constant maps. This lets the discriminator see
    batch diversity and discourages mode collapse. Output has C + num_features channels.
    Sample n belongs to group `n % (N // G)`, as in the reference reshape.
    """

    def __init__(self, group_size: int = 4, num_features: int = 1) -> None:
        super().__init__()
        self.group_size = group_size  # samples per statistics group (capped at the batch)
        self.num_features = num_features  # F, channel groups -> extra output channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n)
        f = self.num_features
        if n % g != 0:
            raise ValueError(f"MinibatchStdDev: batch size {n} is not divisible by group size {g}")
        if c % f != 0:
            raise ValueError(f"MinibatchStdDev: channels {c} are not divisible by num_features {f}")
        y = x.reshape(g, -1, f, c // f, h, w)  # (G, M, F, C/F, H, W)
        y = y - y.mean(dim=0)  # (G, M, F, C/F, H, W), centred within each group
        y = y.square().mean(dim=0)  # (M, F, C/F, H, W), variance over the group
        y = (y + 1e-8).sqrt()  # (M, F, C/F, H, W), standard deviation
        y = y.mean(dim=[2, 3, 4])  # (M, F)
        y = y.reshape(-1, f, 1, 1)  # (M, F, 1, 1)
        y = y.repeat(g, 1, h, w)  # (N, F, H, W)
        return torch.cat([x, y], dim=1)  # (N, C + F, H, W)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_features={self.num_features}"


class NoiseInjection(nn.Module):
    """Per-pixel noise with a learned per-channel strength (StyleGAN, Karras et al. 2019).

    A single-channel noise image is broadcast over all channels and scaled by `weight`,
    which starts at zero so the layer is initially the identity.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels))  # (C,) per-channel noise strength
        # Noise given from outside, (B or 1, 1, H, W), used instead of a fresh draw: an
        # exported generator takes its noise as inputs, so that its graph is deterministic.
        self.fixed: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        if noise is None:
            noise = self.fixed
        if noise is None:
            b, _, h, w = x.shape
            # each sample of the global batch its own noise in data-parallel training
            noise = shard.rows(lambda n: torch.randn(n, 1, h, w, device=x.device,
                                                     dtype=x.dtype), b)  # (B, 1, H, W)
        return x + self.weight.view(1, -1, 1, 1) * noise  # (B, C, H, W)


class ConstantInput(nn.Module):
    """Learned constant starting tensor of the StyleGAN synthesis network (Karras et al. 2019).

    Replaces the latent-to-image projection: the generator starts from this learned
    (1, C, H, W) block, expanded (not copied) to the batch size.
    """

    def __init__(self, channels: int, height: int, width: int) -> None:
        super().__init__()
        self.const = nn.Parameter(torch.randn(1, channels, height, width))  # (1, C, H, W)

    def forward(self, batch_size: int) -> torch.Tensor:
        return self.const.expand(batch_size, -1, -1, -1)  # (B, C, H, W)


class Bias(nn.Module):
    """A learned per-channel bias, starting at 0, for maps (B, C, H, W) and vectors (B, C).

    PGGAN adds its first dense layer's bias after the reshape to 4×4 (one per channel, not one
    per output feature); StyleGAN adds one to its learned constant.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))  # (C,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bias.view(1, -1, *([1] * (x.dim() - 2)))


class SelfAttention(nn.Module):
    """Non-local self-attention over feature-map positions, in one of two published forms.

    * `kind="sagan"`: SAGAN (Zhang et al. 2019), following heykeetae/Self-Attention-GAN
      `Self_Attn`: 1x1 query / key convs C -> C/8 and value conv C -> C, all with bias.
    * `kind="biggan"`: BigGAN (Brock et al. 2019), following BigGAN-PyTorch `Attention`:
      bias-free 1x1 convs theta, phi (C -> C/8), g (C -> C/2) and o (C/2 -> C); phi and g
      are 2x2 max-pooled, which cuts the attention matrix by 4.

    Both return `gamma * attended + x` with `gamma` initialised to 0, so the block starts as
    the identity and learns how much non-local evidence to use.
    """

    KINDS = ("sagan", "biggan")

    def __init__(self, channels: int, kind: str = "sagan", sn: bool = False) -> None:
        super().__init__()
        if kind not in self.KINDS:
            raise ValueError(f"SelfAttention kind must be one of {self.KINDS}, got {kind!r}")
        if channels < 8:
            raise ValueError(f"SelfAttention needs channels >= 8 (C/8 keys), got {channels}")
        self.channels = channels  # C, input and output channels
        self.kind = kind  # which reference formulation to follow
        c8 = channels // 8
        if kind == "sagan":
            self.query = nn.Conv2d(channels, c8, 1)  # (C/8, C, 1, 1) + bias
            self.key = nn.Conv2d(channels, c8, 1)  # (C/8, C, 1, 1) + bias
            self.value = nn.Conv2d(channels, channels, 1)  # (C, C, 1, 1) + bias
        else:
            c2 = channels // 2
            self.theta = nn.Conv2d(channels, c8, 1, bias=False)  # queries
            self.phi = nn.Conv2d(channels, c8, 1, bias=False)  # keys (pooled)
            self.g = nn.Conv2d(channels, c2, 1, bias=False)  # values (pooled)
            self.o = nn.Conv2d(c2, channels, 1, bias=False)  # back to C channels
        self.gamma = nn.Parameter(torch.zeros(1))  # (1,) residual weight, starts at 0
        if sn:  # both references spectrally normalize the attention's convolutions
            for m in self.children():
                nn.utils.parametrizations.spectral_norm(m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "sagan":
            return self._sagan(x)
        return self._biggan(x)

    def _sagan(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q = self.query(x).view(b, -1, h * w).permute(0, 2, 1)  # (B, HW, C/8)
        k = self.key(x).view(b, -1, h * w)  # (B, C/8, HW)
        energy = torch.bmm(q, k)  # (B, HW, HW)
        attention = F.softmax(energy, dim=-1)  # (B, HW, HW), rows: query positions
        v = self.value(x).view(b, c, h * w)  # (B, C, HW)
        out = torch.bmm(v, attention.permute(0, 2, 1)).view(b, c, h, w)  # (B, C, H, W)
        return self.gamma * out + x  # (B, C, H, W)

    def _biggan(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        theta = self.theta(x).view(b, -1, h * w)  # (B, C/8, HW)
        phi = F.max_pool2d(self.phi(x), 2).view(b, theta.shape[1], -1)  # (B, C/8, HW/4)
        g = F.max_pool2d(self.g(x), 2).view(b, c // 2, -1)  # (B, C/2, HW/4)
        beta = F.softmax(torch.bmm(theta.transpose(1, 2), phi), dim=-1)  # (B, HW, HW/4)
        attended = torch.bmm(g, beta.transpose(1, 2)).view(b, c // 2, h, w)  # (B, C/2, H, W)
        return self.gamma * self.o(attended) + x  # (B, C, H, W)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, kind={self.kind!r}"


class Projection(nn.Module):
    """Class term of the projection discriminator (Miyato & Koyama 2018).

    Scores agreement between the discriminator's pooled features h and the class embedding:
    `<embed(y), h>`, one number per sample, added by the caller to the unconditional logit.
    """

    def __init__(self, num_classes: int, features: int, sn: bool = False,
                 init: str | None = None, **options: float) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_classes, features)  # (K, features) class vectors
        if init is not None:  # the embedding's own (`projection(y, init=...)`), before sn
            initialized(self.embed, init, **options)
        if sn:  # the official code's SNEmbedID: the (K, features) matrix over its top σ
            nn.utils.parametrizations.spectral_norm(self.embed)

    def forward(self, h: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (self.embed(y) * h).sum(dim=1, keepdim=True)  # (B, 1)


class Maxout(nn.Module):
    """Maxout units (Goodfellow et al. 2013), grouped as in pylearn2's `Maxout`.

    One linear layer produces `units * pieces` values; unit i outputs the maximum of the
    consecutive pieces i*pieces .. (i+1)*pieces - 1 (used by the original GAN's
    discriminator on MNIST / CIFAR-10).
    """

    def __init__(self, in_features: int, units: int, pieces: int) -> None:
        super().__init__()
        self.units = units  # output features
        self.pieces = pieces  # linear pieces per unit
        self.linear = nn.Linear(in_features, units * pieces)  # (units*pieces, in) + bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.linear(x)  # (B, units * pieces)
        return z.view(*z.shape[:-1], self.units, self.pieces).max(dim=-1).values  # (B, units)

    def extra_repr(self) -> str:
        return f"units={self.units}, pieces={self.pieces}"

"""Style-modulated convolution of StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the
Image Quality of StyleGAN", section 2.2, weight demodulation).

Follows NVlabs/stylegan2-ada-pytorch `training/networks.py`: `modulated_conv2d` with
`fused_modconv=True` (one grouped convolution for the whole batch), `SynthesisLayer` (affine,
weight, bias; with demodulation) and `ToRGBLayer` (without demodulation, styles scaled by the
weight gain). rosinality/stylegan2-pytorch `ModulatedConv2d` has the same parameters.

Parameter count, the contract with the compiler (`gandsl.layers.style`):
    style_dim·C_in + C_in   the affine map A from w to one style per input channel
  + C_out·C_in·k²           the convolution weight, shared by all samples
  + C_out                   the bias (optional)
The 4-tap blur of the ×2 upsampling is a fixed buffer, not a parameter.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from gandsl.runtime.modifiers import equalized_lr

__all__ = ["ModulatedConv2d"]

# The low-pass filter of StyleGAN2's resampling (`resample_filter=[1,3,3,1]`).
_BLUR_TAPS = (1.0, 3.0, 3.0, 1.0)


def _blur_kernel(up: int) -> torch.Tensor:
    """The separable [1, 3, 3, 1] filter as a (4, 4) kernel that sums to up², as
    `upfirdn2d.setup_filter` followed by `upfirdn2d(..., gain=up**2)`: the zeros inserted by
    the stride-`up` transposed convolution would otherwise dim the image by up²."""
    taps = torch.tensor(_BLUR_TAPS)
    kernel = torch.outer(taps, taps)  # (4, 4)
    return kernel / kernel.sum() * up**2


class ModulatedConv2d(nn.Module):
    """A convolution whose weights are scaled per sample by a style computed from w.

    For each sample n, the style `s = A(w_n)` (one number per input channel, A an
    equalized-lr linear map whose bias starts at 1, so styles start near 1) scales the
    weight's input channels: `w'[o, i] = s[i] · weight[o, i]`. With `demodulate`, each output
    filter is then rescaled to unit norm, `w''[o] = w'[o] / sqrt(Σ_{i,kh,kw} w'[o]² + eps)`,
    which removes the style's effect on the output's scale: this replaces AdaIN's instance
    norm without normalizing the activations (the cause of StyleGAN's droplet artifacts).

    `up=2` doubles the resolution like `conv2d_resample(up=2)` in the reference: a stride-2
    transposed convolution, then the [1, 3, 3, 1] blur. Padding keeps the size (`k // 2`),
    so the output is (B, out, H·up, W·up). The bias is added after the convolution; the
    reference adds noise first and the bias second, which gives the same sum.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        style_dim: int,
        demodulate: bool = True,
        up: int = 1,
        bias: bool = True,
        eps: float = 1e-8,
    ) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"ModulatedConv2d keeps the size, which needs an odd kernel, got "
                             f"{kernel_size}")
        if up not in (1, 2):
            raise ValueError(f"ModulatedConv2d upsamples by 1 or 2, got {up}")
        self.in_channels = in_channels  # C_in, channels of x and length of a style
        self.out_channels = out_channels  # C_out
        self.kernel_size = kernel_size  # k, odd
        self.style_dim = style_dim  # length of w
        self.demodulate = demodulate
        self.up = up
        self.eps = eps  # under the square root of the demodulation, as the reference's 1e-8
        # A: w -> styles. Equalized lr with gain 1 (`FullyConnectedLayer(bias_init=1)`).
        self.affine = equalized_lr(nn.Linear(style_dim, in_channels), gain=1.0, bias_init=1.0)
        # Stored N(0, 1); scaled at run time (equalized lr), as the reference stores it.
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size,
                                               kernel_size))  # (O, I, k, k)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None  # (O,)
        # He constant of the weight, gain 1. Demodulation cancels any constant factor, so the
        # reference applies it only without demodulation (ToRGB, through the styles).
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size**2)
        if up == 2:
            self.register_buffer("blur", _blur_kernel(up), persistent=False)  # (4, 4)
        # One grouped convolution for the batch (the reference's `fused_modconv=True`), or the
        # styles applied to the activations around one shared convolution (`False`): the same
        # values, and the form an exporter can write with a fixed number of groups
        # (`gandsl export` turns it off; ONNX's Conv takes no batch-sized group count).
        self.fused = True

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        b, c, h, wd = x.shape
        o, k = self.out_channels, self.kernel_size
        styles = self.affine(w)  # (B, I)
        if not self.demodulate:
            styles = styles * self.weight_gain  # ToRGB: the equalized-lr scale of the weight
        if not self.fused:
            return self._unfused(x, styles)
        # Modulate: every sample gets its own copy of the weight, input channels scaled.
        weight = self._modulated(styles)  # (B, O, I, k, k)
        if self.demodulate:
            weight = weight * self._dcoefs(weight).reshape(b, o, 1, 1, 1)  # (B, O, I, k, k)
        # The batch becomes the groups of one convolution: sample n's C_in channels meet only
        # sample n's C_out filters.
        x = x.reshape(1, b * c, h, wd)  # (1, B·I, H, W)
        if self.up == 1:
            out = F.conv2d(x, weight.reshape(b * o, c, k, k), padding=k // 2,
                           groups=b)  # (1, B·O, H, W)
        else:
            # conv_transpose2d wants (in, out/groups, k, k): per sample (I, O, k, k).
            weight_t = weight.transpose(1, 2).reshape(b * c, o, k, k)  # (B·I, O, k, k)
            out = F.conv_transpose2d(x, weight_t, stride=2, groups=b)  # (1, B·O, 2H+k-2, ..)
            # The blur's padding brings 2H + k − 2 back to 2H: (5 − k) / 2 on each side
            # (1 for k = 3, as the reference; negative values crop).
            p = (5 - k) // 2
            out = F.pad(out, [p, p, p, p])  # (1, B·O, 2H+3, 2W+3)
            blur = self.blur.to(out.dtype).expand(b * o, 1, 4, 4)  # one filter per channel
            out = F.conv2d(out, blur, groups=b * o)  # (1, B·O, 2H, 2W)
        out = out.reshape(b, o, h * self.up, wd * self.up)  # (B, O, H·up, W·up)
        if self.bias is not None:
            out = out + self.bias.reshape(1, o, 1, 1)
        return out

    def _modulated(self, styles: torch.Tensor) -> torch.Tensor:
        """Every sample's copy of the weight, its input channels scaled by the sample's
        styles: (B, O, I, k, k)."""
        b, c = styles.shape
        return self.weight.unsqueeze(0) * styles.reshape(b, 1, c, 1, 1)

    def _dcoefs(self, weight: torch.Tensor) -> torch.Tensor:
        """Demodulation: one factor per sample and output filter, the inverse of the filter's
        L2 norm after modulation (B, O)."""
        return (weight.square().sum(dim=[2, 3, 4]) + self.eps).rsqrt()

    def _unfused(self, x: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        """`forward` with the batch kept as the batch: conv(x · s, W) · d equals
        conv(x, W · s · d) sample by sample, d the demodulation factors."""
        b, c = x.shape[:2]
        o, k = self.out_channels, self.kernel_size
        x = x * styles.reshape(b, c, 1, 1)  # (B, I, H, W)
        if self.up == 1:
            out = F.conv2d(x, self.weight, padding=k // 2)  # (B, O, H, W)
        else:
            out = F.conv_transpose2d(x, self.weight.transpose(0, 1), stride=2)
            p = (5 - k) // 2
            out = F.pad(out, [p, p, p, p])
            blur = self.blur.to(out.dtype).expand(o, 1, 4, 4)
            out = F.conv2d(out, blur, groups=o)  # (B, O, 2H, 2W)
        if self.demodulate:
            out = out * self._dcoefs(self._modulated(styles)).reshape(b, o, 1, 1)
        if self.bias is not None:
            out = out + self.bias.reshape(1, o, 1, 1)
        return out

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"style_dim={self.style_dim}, demodulate={self.demodulate}, up={self.up}, "
                f"bias={self.bias is not None}")


class Truncation(nn.Module):
    """StyleGAN's truncation trick on per-layer styles (B, layers·D).

    Training: the running mean of w (layer 0's style: all layers hold the same w before
    mixing) is updated, `avg ← lerp(mean_batch(w), avg, decay)` (dlatent_avg_beta 0.995), and
    the styles pass unchanged. Eval: the first `cutoff` layers' styles become
    `avg + psi·(w − avg)` (truncation_psi 0.7, truncation_cutoff 8), the others pass.
    """

    def __init__(self, dim: int, layers: int, psi: float = 0.7, cutoff: int = 8,
                 decay: float = 0.995) -> None:
        super().__init__()
        self.dim, self.layers = dim, layers  # D, and how many layers' styles
        self.psi, self.cutoff, self.decay = psi, cutoff, decay
        self.register_buffer("avg", torch.zeros(dim))  # (D,) the running mean of w

    def forward(self, ws: torch.Tensor) -> torch.Tensor:
        styles = ws.view(ws.shape[0], self.layers, self.dim)  # (B, L, D)
        if self.training:
            with torch.no_grad():
                self.avg.lerp_(styles[:, 0].mean(0).to(self.avg.dtype), 1 - self.decay)
            return ws
        # ψ may be a tensor (an exported generator's input): then it is always applied
        if self.cutoff == 0 or (not torch.is_tensor(self.psi) and self.psi == 1):
            return ws
        near = self.avg.to(styles.dtype) + self.psi * (styles[:, :self.cutoff] - self.avg)
        return torch.cat([near, styles[:, self.cutoff:]], dim=1).reshape(ws.shape)

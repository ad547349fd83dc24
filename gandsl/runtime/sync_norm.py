"""Batch norm whose statistics are those of the global batch: `batch_norm(sync=true)`.

In data-parallel training each process holds a shard of the batch; plain batch norm
normalizes by the shard's statistics, so N processes train a different network than one
process on the same global batch (the BigGAN and pix2pix recipes rely on the global
statistics). Here the per-channel sums are added across processes inside a training
iteration (`shard.all_sum`, differentiable, so the backward pass is the global batch's too),
the mean first and then the centred squares (two reductions, as stable as one process's
two-pass variance). With one process, in eval mode, or outside a training iteration
(sample grids on rank 0) it is exactly `nn.BatchNorm`: same parameters, buffers and
checkpoint keys.

Works on the CPU with gloo as on GPUs with NCCL, unlike `torch.nn.SyncBatchNorm`, which
needs CUDA tensors.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .. import shard


def sync_batch_norm(x: torch.Tensor, running_mean: torch.Tensor | None,
                    running_var: torch.Tensor | None, weight: torch.Tensor | None,
                    bias: torch.Tensor | None, momentum: float, eps: float) -> torch.Tensor:
    """Training-mode batch norm of `x` (B, C, ...) with the global batch's statistics,
    updating the running ones (PyTorch's convention: the unbiased variance is averaged)."""
    dtype = x.dtype
    if dtype in (torch.float16, torch.bfloat16):  # statistics in fp32, as batch norm's
        x = x.float()
    dims = [0, *range(2, x.dim())]
    shape = (1, -1) + (1,) * (x.dim() - 2)
    count = x.numel() // x.shape[1] * shard.current()[1]  # equal shards: the global count
    mean = shard.all_sum(x.sum(dims)) / count
    centred = x - mean.view(shape)
    var = shard.all_sum((centred * centred).sum(dims)) / count
    if running_mean is not None and running_var is not None:
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(mean.detach(), alpha=momentum)
            running_var.mul_(1 - momentum).add_(var.detach() * count / max(count - 1, 1),
                                                alpha=momentum)
    y = centred * torch.rsqrt(var + eps).view(shape)
    if weight is not None:
        y = y * weight.view(shape)
    if bias is not None:
        y = y + bias.view(shape)
    return y.to(dtype)


class SyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """`nn.BatchNorm1d/2d/3d` (any input of 2 to 5 dimensions) with statistics over every
    process's shard while a data-parallel iteration runs."""

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if not 2 <= x.dim() <= 5:
            raise ValueError(f"expected a (B, C, ...) input of 2 to 5 dimensions, got {x.dim()}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch_stats = self.training or self.running_mean is None
        if shard.current()[1] == 1 or not batch_stats:
            return super().forward(x)
        self._check_input_dim(x)
        tracking = self.training and self.track_running_stats
        momentum = self.momentum
        if tracking:
            self.num_batches_tracked.add_(1)
            if momentum is None:  # a cumulative average, as nn.BatchNorm
                momentum = 1.0 / float(self.num_batches_tracked)
        return sync_batch_norm(x, self.running_mean if tracking else None,
                               self.running_var if tracking else None, self.weight,
                               self.bias, momentum or 0.0, self.eps)


def batch_norm(x: torch.Tensor, running_mean: torch.Tensor | None,
               running_var: torch.Tensor | None, training: bool, momentum: float, eps: float,
               sync: bool) -> torch.Tensor:
    """Affine-free batch norm (conditional batch norm's first half), synchronized when
    `sync` and a data-parallel iteration runs."""
    if sync and training and shard.current()[1] > 1:
        return sync_batch_norm(x, running_mean, running_var, None, None, momentum, eps)
    return F.batch_norm(x, running_mean, running_var, training=training, momentum=momentum,
                        eps=eps)

"""`rt.SyncBatchNorm` and synchronized conditional batch norm in one process are batch norm
itself: values, gradients, running statistics and checkpoint keys. (Across processes:
tests/train/test_distributed.py.)"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import gandsl
from gandsl import shard
from gandsl.runtime import ConditionalBatchNorm, SyncBatchNorm
from gandsl.runtime.sync_norm import sync_batch_norm


@pytest.mark.parametrize("shape", [(6, 4), (6, 4, 5, 5), (3, 4, 2, 3, 3)])
def test_one_process_is_batch_norm(shape):
    torch.manual_seed(0)
    ref = {2: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}[len(shape)](4,
                                                                                 momentum=0.3)
    mine = SyncBatchNorm(4, momentum=0.3)
    assert mine.state_dict().keys() == ref.state_dict().keys()
    with torch.no_grad():
        ref.weight.uniform_(0.5, 1.5)
        ref.bias.uniform_(-1, 1)
    mine.load_state_dict(ref.state_dict())
    x = torch.randn(shape, requires_grad=True)
    for m in (ref, mine):
        y = m(x)
        (y * torch.arange(y.numel()).reshape(y.shape).sin()).sum().backward()
    grads = [t.grad for t in (ref.weight, ref.bias, mine.weight, mine.bias)]
    assert torch.allclose(grads[0], grads[2]) and torch.allclose(grads[1], grads[3])
    assert torch.equal(ref.running_mean, mine.running_mean)
    assert torch.equal(ref.num_batches_tracked, mine.num_batches_tracked)
    ref.eval(), mine.eval()
    assert torch.equal(ref(x), mine(x))


def test_the_two_pass_statistics_equal_batch_norms():
    # the synchronized path's own arithmetic, in one process (world 1: the sums are local)
    torch.manual_seed(1)
    x = torch.randn(8, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    w, b = torch.rand(3, dtype=torch.float64) + 0.5, torch.randn(3, dtype=torch.float64)
    rm, rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    rm2, rv2 = rm.clone(), rv.clone()
    y = sync_batch_norm(x, rm, rv, w, b, 0.1, 1e-5)
    ref = nn.functional.batch_norm(x, rm2, rv2, w, b, training=True, momentum=0.1, eps=1e-5)
    assert torch.allclose(y, ref, atol=1e-12)
    assert torch.allclose(rm, rm2, atol=1e-12) and torch.allclose(rv, rv2, atol=1e-12)
    g1, = torch.autograd.grad(y.square().sum(), x)
    g2, = torch.autograd.grad(ref.square().sum(), x)
    assert torch.allclose(g1, g2, atol=1e-10)
    assert shard.current() == (0, 1)


def test_conditional_batch_norm_sync_changes_nothing_in_one_process():
    torch.manual_seed(2)
    a, b = ConditionalBatchNorm(4, num_classes=3), ConditionalBatchNorm(4, num_classes=3,
                                                                         sync=True)
    b.load_state_dict(a.state_dict())
    x, y = torch.randn(5, 4, 3, 3), torch.tensor([0, 1, 2, 1, 0])
    assert torch.equal(a(x, y), b(x, y))
    assert torch.equal(a.running_var, b.running_var)


def test_the_layer_emits_sync_batch_norm_with_the_same_parameters(tmp_path):
    spec = tmp_path / "bn.gan"
    spec.write_text(
        'gan bn\ndata d: image[1, 8, 8] = digits()\n'
        'network G(z: latent[4]) -> image[1, 8, 8] {\n'
        '  return z -> linear(64) -> batch_norm(sync=true, momentum=0.2) -> tanh '
        '-> reshape(1, 8, 8)\n}\n')
    loaded = gandsl.load(spec)
    assert "rt.SyncBatchNorm(64, momentum=0.2)" in loaded.source
    net = loaded.classes["G"]()
    assert sum(p.numel() for p in net.parameters()) == 4 * 64 + 64 + 2 * 64


def test_bf16_input_keeps_its_dtype_with_fp32_statistics():
    torch.manual_seed(3)
    x = torch.randn(6, 3, 4, 4).bfloat16()
    rm, rv = torch.zeros(3), torch.ones(3)
    y = sync_batch_norm(x, rm, rv, None, None, 0.1, 1e-5)
    ref = nn.functional.batch_norm(x.float(), torch.zeros(3), torch.ones(3), training=True,
                                   momentum=0.1, eps=1e-5)
    assert y.dtype == torch.bfloat16
    assert torch.allclose(y.float(), ref, atol=2e-2)
    assert rm.dtype == torch.float32 and torch.allclose(rm, 0.1 * x.float().mean((0, 2, 3)))

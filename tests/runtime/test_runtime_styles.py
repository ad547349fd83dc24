"""StyleGAN's style mixing and truncation, and StyleGAN2's path lengths: values against the
formulas of the references."""

from __future__ import annotations

import math

import torch

from gandsl import runtime as rt


def test_mix_styles_splits_at_one_layer_boundary_per_batch():
    a, b = torch.zeros(4, 6 * 3), torch.ones(4, 6 * 3)  # 6 layers of 3
    assert rt.mix_styles(a, b, layers=6, prob=0.0) is a
    torch.manual_seed(0)
    cuts = set()
    for _ in range(50):
        m = rt.mix_styles(a, b, layers=6, prob=1.0).view(4, 6, 3)
        cut = int((m[0, :, 0] == 0).sum())  # layers from a
        assert 1 <= cut <= 5 and torch.equal(m, m[:1].expand_as(m))  # one cutoff per batch
        assert torch.equal(m[:, :cut], torch.zeros(4, cut, 3)) and bool((m[:, cut:] == 1).all())
        cuts.add(cut)
    assert cuts == {1, 2, 3, 4, 5}


def test_truncation_tracks_the_mean_in_training_and_pulls_toward_it_in_eval():
    t = rt.Truncation(dim=2, layers=3, psi=0.5, cutoff=2, decay=0.9)
    w = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    ws = w.repeat(1, 3)
    assert torch.equal(t(ws), ws)  # training: unchanged
    torch.testing.assert_close(t.avg, 0.1 * torch.tensor([2.0, 3.0]))
    t.eval()
    out = t(ws).view(2, 3, 2)
    torch.testing.assert_close(out[:, :2], (t.avg + 0.5 * (w - t.avg))[:, None].expand(2, 2, 2))
    torch.testing.assert_close(out[:, 2], w)
    assert torch.equal(t.avg, 0.1 * torch.tensor([2.0, 3.0]))  # eval does not update


def test_path_lengths_of_a_linear_generator_and_the_penalty():
    # y = A·w as a 1×2×2 image: J_wᵀ(y·noise) = Aᵀ noise, so the length is ‖Aᵀ n‖ / √(H·W)
    a = torch.randn(4, 6, requires_grad=True)  # a weight: the lengths depend on it
    gen = torch.Generator().manual_seed(3)
    w = torch.randn(8, 6, requires_grad=True)
    lengths = rt.path_lengths(lambda v: (v @ a.T).view(-1, 1, 2, 2), w, layers=3, shrink=2,
                              generator=gen)
    noise = torch.randn((4, 1, 2, 2), generator=torch.Generator().manual_seed(3)) / 2
    expected = ((noise.view(4, 4) @ a.detach()).pow(2).sum(1) / 3).sqrt()  # the first 8 // 2
    torch.testing.assert_close(lengths, expected)
    assert lengths.requires_grad  # create_graph: the penalty trains the generator
    penalty = rt.path_length_penalty(lengths, 0.5, decay=0.01)
    target = 0.5 + 0.01 * (lengths.mean() - 0.5)
    torch.testing.assert_close(penalty, (lengths - target).pow(2).mean())
    assert math.isfinite(float(penalty.detach()))


def test_sample_grids_truncate_while_training_forwards_do_not():
    from torch import nn

    from gandsl.train.sampling import sampling

    t = rt.Truncation(dim=2, layers=3, psi=0.0, cutoff=3)
    t.avg.fill_(1.0)
    net = nn.Sequential(t)
    ws = torch.randn(4, 6)
    with sampling({"G": net}, torch.device("cpu"), seed=0):
        torch.testing.assert_close(net(ws), torch.ones(4, 6))  # ψ = 0: all at the mean
    assert t.training and torch.equal(t.avg, torch.ones(2))  # left as it was
    assert torch.equal(net(ws), ws)

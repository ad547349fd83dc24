"""Tests for gandsl.runtime.losses: every loss against an independent hand computation."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gandsl.runtime import losses as L


def _t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def _log_sigmoid(x: float) -> float:
    return math.log(1.0 / (1.0 + math.exp(-x)))


def _log_one_minus_sigmoid(x: float) -> float:
    return math.log(1.0 - 1.0 / (1.0 + math.exp(-x)))


def _close(actual: torch.Tensor, expected: float, tol: float = 1e-10) -> None:
    assert actual.dim() == 0
    value = float(actual.detach())
    assert abs(value - expected) <= tol * max(1.0, abs(expected)), (value, expected)


# --- logistic GAN -------------------------------------------------------------------------------


def test_gan_d_matches_explicit_log_sigmoid_sums() -> None:
    real, fake = [0.0, 2.0, -0.5], [-1.0, 1.0, 0.3]
    expected = (
        -sum(_log_sigmoid(x) for x in real) / 3 - sum(_log_one_minus_sigmoid(x) for x in fake) / 3
    )
    _close(L.gan_d(_t(*real), _t(*fake)), expected)


def test_gan_d_equals_bce_with_logits_halves() -> None:
    torch.manual_seed(0)
    real, fake = torch.randn(4, 1, 3, 3), torch.randn(4, 1, 3, 3)
    ref = F.binary_cross_entropy_with_logits(
        real, torch.ones_like(real)
    ) + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    torch.testing.assert_close(L.gan_d(real, fake), ref)


def test_gan_losses_stay_finite_for_large_logits() -> None:
    # softplus(100) = 100 (+ e^-100), where log(sigmoid(-100)) in float32 would be -inf.
    real, fake = torch.tensor([-100.0]), torch.tensor([100.0])
    torch.testing.assert_close(L.gan_d(real, fake), torch.tensor(200.0))
    torch.testing.assert_close(L.gan_g(real), torch.tensor(100.0))
    torch.testing.assert_close(L.gan_g_minimax(fake), torch.tensor(-100.0))


def test_gan_g_non_saturating_and_minimax() -> None:
    fake = [-2.0, 0.0, 1.5]
    _close(L.gan_g(_t(*fake)), -sum(_log_sigmoid(x) for x in fake) / 3)
    _close(L.gan_g_minimax(_t(*fake)), sum(_log_one_minus_sigmoid(x) for x in fake) / 3)


# --- LSGAN / WGAN / hinge / drift: worked numeric examples ---------------------------------------


def test_lsgan_worked_example() -> None:
    real, fake = _t(1.0, 3.0), _t(0.0, -2.0)
    # a=0, b=1: (real-1)^2 = [0, 4] -> mean 2 -> 1;  (fake-0)^2 = [0, 4] -> mean 2 -> 1;  total 2
    _close(L.lsgan_d(real, fake), 2.0)
    # a=-1, b=1: (fake+1)^2 = [1, 1] -> mean 1 -> 0.5;  total 1 + 0.5 = 1.5
    _close(L.lsgan_d(real, fake, a=-1.0, b=1.0), 1.5)
    # c=1: (fake-1)^2 = [1, 9] -> mean 5 -> 2.5;  c=0: [0, 4] -> mean 2 -> 1
    _close(L.lsgan_g(fake), 2.5)
    _close(L.lsgan_g(fake, c=0.0), 1.0)


def test_wgan_worked_example() -> None:
    real, fake = _t(1.0, 3.0), _t(0.0, -2.0)
    # mean(fake) - mean(real) = -1 - 2 = -3;  generator: -mean(fake) = 1
    _close(L.wgan_d(real, fake), -3.0)
    _close(L.wgan_g(fake), 1.0)


def test_hinge_worked_example() -> None:
    real, fake = _t(0.5, 2.0), _t(-2.0, 0.5)
    # relu(1 - real) = [0.5, 0] -> 0.25;  relu(1 + fake) = [0, 1.5] -> 0.75;  total 1.0
    _close(L.hinge_d(real, fake), 1.0)
    # -mean(fake) = -(-2 + 0.5)/2 = 0.75
    _close(L.hinge_g(fake), 0.75)


def test_hinge_d_averages_patch_maps() -> None:
    real = torch.full((2, 1, 2, 2), 0.0, dtype=torch.float64)  # every patch: relu(1) = 1
    fake = torch.full((2, 1, 2, 2), -3.0, dtype=torch.float64)  # every patch: relu(-2) = 0
    _close(L.hinge_d(real, fake), 1.0)


def test_drift() -> None:
    # (1 + 4 + 9) / 3
    _close(L.drift(_t(1.0, -2.0, 3.0)), 14.0 / 3.0)


def test_l1_l2() -> None:
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    b = torch.tensor([[0.0, 2.0], [5.0, 4.0]], dtype=torch.float64)
    _close(L.l1(a, b), (1 + 0 + 2 + 0) / 4)  # |a-b| = 1, 0, 2, 0
    _close(L.l2(a, b), (1 + 0 + 4 + 0) / 4)  # (a-b)^2 = 1, 0, 4, 0


# --- classification: bce, ce, shuffle -----------------------------------------------------------


def _hand_bce_sum(logits: list[float], target: list[float]) -> float:
    return -sum(
        t * _log_sigmoid(x) + (1 - t) * _log_one_minus_sigmoid(x)
        for x, t in zip(logits, target, strict=True)
    )


def _hand_ce(logits: list[float], cls: int) -> float:
    return -(logits[cls] - math.log(sum(math.exp(v) for v in logits)))


def test_bce_unmasked_sum_over_labels_mean_over_batch() -> None:
    torch.manual_seed(1)
    logits = torch.randn(3, 4, dtype=torch.float64)
    target = torch.tensor([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 0]], dtype=torch.float64)
    expected = sum(_hand_bce_sum(logits[i].tolist(), target[i].tolist()) for i in range(3)) / 3
    _close(L.bce(logits, target), expected)


PARTS = ((5, "attributes"), (8, "classes"))


def _celeba_target(attrs: torch.Tensor) -> torch.Tensor:
    b = attrs.shape[0]
    zeros, mask = torch.zeros(b, 8, dtype=attrs.dtype), torch.tensor([[1.0, 0.0]] * b)
    return torch.cat([attrs, zeros, mask.to(attrs.dtype)], dim=1)  # (B, 15)


def _rafd_target(classes: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    b = classes.shape[0]
    onehot = F.one_hot(classes, 8).to(dtype)
    zeros, mask = torch.zeros(b, 5, dtype=dtype), torch.tensor([[0.0, 1.0]] * b, dtype=dtype)
    return torch.cat([zeros, onehot, mask], dim=1)  # (B, 15)


def test_bce_masked_celeba_batch_equals_unmasked_first_slice() -> None:
    torch.manual_seed(2)
    logits = torch.randn(4, 13, dtype=torch.float64)
    attrs = (torch.rand(4, 5) > 0.5).double()
    got = L.bce(logits, _celeba_target(attrs), PARTS)
    torch.testing.assert_close(got, L.bce(logits[:, :5], attrs))
    ref = F.binary_cross_entropy_with_logits(logits[:, :5], attrs, reduction="sum") / 4
    torch.testing.assert_close(got, ref)


def test_bce_masked_rafd_batch_equals_cross_entropy_on_second_slice() -> None:
    torch.manual_seed(3)
    logits = torch.randn(4, 13, dtype=torch.float64)
    classes = torch.tensor([0, 7, 3, 3])
    got = L.bce(logits, _rafd_target(classes, torch.float64), PARTS)
    torch.testing.assert_close(got, F.cross_entropy(logits[:, 5:], classes))


def test_bce_masked_mixed_batch_explicit_loop() -> None:
    torch.manual_seed(4)
    logits = torch.randn(3, 13, dtype=torch.float64)
    attrs = torch.tensor([[1.0, 0, 0, 1, 1]], dtype=torch.float64)
    target = torch.cat(
        [
            _celeba_target(attrs),
            _rafd_target(torch.tensor([2]), torch.float64),
            _rafd_target(torch.tensor([6]), torch.float64),
        ]
    )
    row = logits.tolist()
    expected = (
        _hand_bce_sum(row[0][:5], attrs[0].tolist())
        + _hand_ce(row[1][5:], 2)
        + _hand_ce(row[2][5:], 6)
    ) / 3
    _close(L.bce(logits, target, PARTS), expected)


def test_bce_masked_ignores_other_datasets_slot() -> None:
    torch.manual_seed(5)
    logits = torch.randn(2, 13, dtype=torch.float64)
    target = _celeba_target(torch.ones(2, 5, dtype=torch.float64))
    changed = logits.clone()
    changed[:, 5:] = 1e6  # RaFD logits of CelebA samples must not matter
    torch.testing.assert_close(L.bce(changed, target, PARTS), L.bce(logits, target, PARTS))


def test_bce_masked_rejects_bad_shapes_and_kinds() -> None:
    logits, target = torch.zeros(2, 13), torch.zeros(2, 15)
    with pytest.raises(ValueError, match="logits of shape"):
        L.bce(torch.zeros(2, 12), target, PARTS)
    with pytest.raises(ValueError, match="masked target"):
        L.bce(logits, torch.zeros(2, 13), PARTS)
    with pytest.raises(ValueError, match="kind"):
        L.bce(logits, target, ((5, "attributes"), (8, "labels")))


def test_ce_hand() -> None:
    logits = torch.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], dtype=torch.float64)
    target = torch.tensor([1, 0])
    expected = (_hand_ce([1.0, 2.0, 0.5], 1) + _hand_ce([0.0, -1.0, 3.0], 0)) / 2
    _close(L.ce(logits, target), expected)


def test_shuffle_is_a_row_permutation_reproducible_with_generator() -> None:
    x = torch.arange(20.0).view(10, 2)
    out = L.shuffle(x, generator=torch.Generator().manual_seed(7))
    assert out.shape == x.shape
    # Rows move as a whole and every row appears exactly once.
    assert sorted(map(tuple, out.tolist())) == sorted(map(tuple, x.tolist()))
    torch.testing.assert_close(out[:, 1] - out[:, 0], torch.ones(10))
    again = L.shuffle(x, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(out, again)
    perm = torch.randperm(10, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(out, x[perm])
    assert sorted(L.shuffle(torch.arange(6)).tolist()) == list(range(6))


# --- SGAN ---------------------------------------------------------------------------------------


def test_sgan_losses_hand() -> None:
    rows = [[1.0, 0.0, -1.0, 0.5], [0.2, 2.0, 0.0, -0.3]]  # N = 3 real classes + fake (index 3)
    logits = torch.tensor(rows, dtype=torch.float64)
    expected_real = (_hand_ce(rows[0], 0) + _hand_ce(rows[1], 1)) / 2
    _close(L.sgan_d_real(logits, torch.tensor([0, 1])), expected_real)
    _close(L.sgan_d_fake(logits), (_hand_ce(rows[0], 3) + _hand_ce(rows[1], 3)) / 2)
    torch.testing.assert_close(L.sgan_d_fake(logits), F.cross_entropy(logits, torch.full((2,), 3)))
    # -log p(real) = -log(sum_{k<N} e^x_k / sum_k e^x_k)
    expected = (
        -sum(math.log(sum(math.exp(v) for v in r[:3]) / sum(math.exp(v) for v in r)) for r in rows)
        / 2
    )
    _close(L.sgan_g(logits), expected)


# --- InfoGAN ------------------------------------------------------------------------------------


def test_info_categorical_indices_and_one_hot() -> None:
    rows = [[0.1, 1.0, -0.4], [2.0, 0.0, 0.0]]
    logits = torch.tensor(rows, dtype=torch.float64)
    idx = torch.tensor([2, 0])
    expected = (_hand_ce(rows[0], 2) + _hand_ce(rows[1], 0)) / 2
    _close(L.info_categorical(logits, idx), expected)
    _close(L.info_categorical(logits, F.one_hot(idx, 3).double()), expected)


def test_info_continuous_fixed_std() -> None:
    mean, codes = _t(0.0, 1.0, -0.5, 0.5).view(2, 2), _t(1.0, 1.0, 0.5, -0.5).view(2, 2)
    # (c - mu) = [[1, 0], [1, -1]]: per sample 0.5 * (1 + 0) = 0.5 and 0.5 * (1 + 1) = 1.0,
    # summed over the codes as openai/InfoGAN does, then averaged over the batch: 0.75
    _close(L.info_continuous(mean, codes), 0.75)


def test_info_continuous_learned_std_is_gaussian_nll_without_constant() -> None:
    torch.manual_seed(6)
    mean, log_std, codes = (torch.randn(3, 2, dtype=torch.float64) for _ in range(3))
    normal = torch.distributions.Normal(mean, log_std.exp())
    expected = -(normal.log_prob(codes) + 0.5 * math.log(2 * math.pi)).sum(dim=1).mean()
    torch.testing.assert_close(L.info_continuous(mean, codes, log_std), expected)
    # log_std = 0 is the fixed-std case.
    torch.testing.assert_close(
        L.info_continuous(mean, codes, torch.zeros_like(mean)), L.info_continuous(mean, codes)
    )


# --- EBGAN / BEGAN ------------------------------------------------------------------------------


def test_ae_energies_per_sample() -> None:
    x = torch.zeros(2, 1, 2, 2, dtype=torch.float64)
    recon = torch.tensor([[1.0, -1.0, 2.0, 0.0], [3.0, 3.0, 3.0, 3.0]], dtype=torch.float64)
    recon = recon.view(2, 1, 2, 2)
    torch.testing.assert_close(L.ae_energy(x, recon), _t((1 + 1 + 4 + 0) / 4, 9.0))
    torch.testing.assert_close(L.ae_l1_energy(x, recon), _t((1 + 1 + 2 + 0) / 4, 3.0))


def test_ebgan_worked_example() -> None:
    real_e, fake_e = _t(0.5, 1.5), _t(0.2, 3.0)
    # mean(real) = 1.0;  relu(1 - fake) = [0.8, 0] -> 0.4;  total 1.4
    _close(L.ebgan_d(real_e, fake_e, margin=1.0), 1.4)
    _close(L.ebgan_g(fake_e), 1.6)


def test_pulling_away_explicit_loop() -> None:
    torch.manual_seed(8)
    codes = torch.randn(4, 2, 3, dtype=torch.float64)
    flat = codes.view(4, -1).tolist()

    def cos(u: list[float], v: list[float]) -> float:
        dot = sum(a * b for a, b in zip(u, v, strict=True))
        return dot / math.sqrt(sum(a * a for a in u) * sum(b * b for b in v))

    expected = sum(cos(flat[i], flat[j]) ** 2 for i in range(4) for j in range(4) if i != j)
    _close(L.pulling_away(codes), expected / (4 * 3))


def test_pulling_away_is_squared_cosine() -> None:
    orthogonal = torch.eye(3, dtype=torch.float64)
    _close(L.pulling_away(orthogonal), 0.0)
    opposite = _t(1.0, 2.0, -1.0, -2.0).view(2, 2)  # cosine -1: squared gives 1, not -1
    _close(L.pulling_away(opposite), 1.0)
    with pytest.raises(ValueError, match="at least 2"):
        L.pulling_away(torch.ones(1, 3))


# --- feature losses and regularisers -----------------------------------------------------------


def test_feature_matching_worked_example_real_detached() -> None:
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64, requires_grad=True)
    fake = torch.tensor([[0.0, 0.0], [2.0, 2.0]], dtype=torch.float64, requires_grad=True)
    # batch means [2, 3] and [1, 1]: ||[1, 2]||^2 = 5
    loss = L.feature_matching(real, fake)
    _close(loss, 5.0)
    loss.backward()
    assert real.grad is None
    # d/dfake_ij of ||m_r - mean_i fake_i||^2 = -2 (m_r - m_f)_j / B = -[1, 2]
    torch.testing.assert_close(fake.grad, _t(-1.0, -2.0, -1.0, -2.0).view(2, 2))


def test_feature_l1_mean_over_layers_real_detached() -> None:
    real = [torch.ones(2, 3, requires_grad=True), torch.zeros(2, 2, 2, 2, requires_grad=True)]
    fake = [torch.zeros(2, 3), torch.full((2, 2, 2, 2), 3.0, requires_grad=True)]
    loss = L.feature_l1(real, fake)  # layer L1s: 1.0 and 3.0 -> mean 2.0
    torch.testing.assert_close(loss, torch.tensor(2.0))
    loss.backward()
    assert real[0].grad is None and real[1].grad is None
    assert fake[1].grad is not None
    with pytest.raises(ValueError, match="real"):
        L.feature_l1(real, fake[:1])
    with pytest.raises(ValueError, match="at least one"):
        L.feature_l1([], [])


def test_content_through_feature_net() -> None:
    net = nn.Linear(2, 2, bias=False).double()
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[2.0, 0.0], [1.0, 1.0]]))
    a, b = _t(1.0, 2.0).view(1, 2), _t(0.0, 0.0).view(1, 2)
    # phi(a) = [2, 3], phi(b) = [0, 0]: mse = (4 + 9)/2 = 6.5
    _close(L.content(net, a, b), 6.5)
    _close(L.content(net, a, b, weight=0.5), 3.25)


def test_ortho_reg_worked_example() -> None:
    w1 = _t(1.0, 0.0, 1.0, 1.0).view(2, 2)  # gram off-diagonal: 1, 1 -> 2
    w2 = _t(1.0, 2.0, 3.0, 4.0).view(2, 1, 1, 2)  # rows [1,2],[3,4]: dot 11 -> 2*121 = 242
    bias = _t(1.0, 2.0)  # as (2,1): off-diagonal 2, 2 -> 8 (only if exclude_1d=False)
    scalar = torch.tensor(3.0, dtype=torch.float64)  # 0-d: always skipped
    params = [w1, w2, bias, scalar]
    _close(L.ortho_reg(params, beta=0.5), 0.5 * (2 + 242))
    _close(L.ortho_reg(params, beta=0.5, exclude_1d=False), 0.5 * (2 + 242 + 8))
    assert float(L.ortho_reg([bias])) == 0.0


def test_ortho_reg_gradient_matches_biggan_pytorch_update() -> None:
    torch.manual_seed(9)
    module = nn.Conv2d(2, 3, 3).double()
    strength = 1e-2
    L.ortho_reg(module, beta=strength / 2).backward()
    w = module.weight.detach().view(3, -1)
    # BigGAN-PyTorch utils.ortho adds strength * 2 * ((W W^T) * (1 - I)) W to .grad
    expected = strength * 2 * ((w @ w.T) * (1 - torch.eye(3, dtype=w.dtype))) @ w
    torch.testing.assert_close(module.weight.grad.view(3, -1), expected)
    assert module.bias.grad is None  # 1-D parameters are skipped

"""GAN losses called by generated training code.

Every loss returns a 0-d tensor. Unless a docstring says otherwise it is averaged over the
batch *and* over any other dimension of the score (a PatchGAN map counts every patch), as the
reference implementations do with `reduce_mean` / `torch.mean`. Weights (λ, ε, γ, ...) are
applied by the caller; no function here hides a factor that the docstring does not show.

Scores are logits or raw critic outputs: no function here applies a sigmoid to its input
before using it except through `softplus` / `*_with_logits`, which are the numerically
stable forms of `log σ(x)` and `log(1 − σ(x))`.
"""

from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gandsl import shard

__all__ = [
    "ae_energy",
    "ae_l1_energy",
    "bce",
    "ce",
    "content",
    "drift",
    "ebgan_d",
    "ebgan_g",
    "feature_l1",
    "feature_matching",
    "gan_d",
    "gan_g",
    "gan_g_minimax",
    "hinge_d",
    "hinge_g",
    "info_categorical",
    "info_continuous",
    "l1",
    "l2",
    "lsgan_d",
    "lsgan_g",
    "ortho_reg",
    "pulling_away",
    "sgan_d_fake",
    "sgan_d_real",
    "sgan_g",
    "shuffle",
    "wgan_d",
    "wgan_g",
]

# ---------------------------------------------------------------------------------------------
# Standard (logistic) GAN


def gan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Standard GAN discriminator loss on logits: `mean(softplus(−real)) + mean(softplus(fake))`.

    This is `BCE(σ(real), 1) + BCE(σ(fake), 0)` written with `softplus` so that it stays finite
    for large logits (`−log σ(x) = softplus(−x)`, `−log(1 − σ(x)) = softplus(x)`). It follows
    DCGAN's pytorch/examples (`errD_real + errD_fake`, no ½) and StyleGAN/StyleGAN2's
    `D_logistic`. The pylearn2 vanilla GAN and pix2pix halve it; write `0.5 * gan_d(...)`.
    """
    return F.softplus(-real).mean() + F.softplus(fake).mean()  # real: (B, ...), fake: (B, ...)


def gan_g(fake: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss on logits: `mean(softplus(−fake)) = −mean(log σ(fake))`.

    `BCE(σ(fake), 1)`, i.e. `−log D(G(z))`: the form every official code base on the reference
    sheet trains with (Goodfellow et al.'s pylearn2 default, DCGAN, InfoGAN, StyleGAN/2).
    """
    return F.softplus(-fake).mean()  # fake: (B, ...)


def gan_g_minimax(fake: torch.Tensor) -> torch.Tensor:
    """Minimax generator loss on logits: `−mean(softplus(fake)) = mean(log(1 − σ(fake)))`.

    The generator term of Goodfellow et al.'s value function, minimised by G. It saturates when
    D confidently rejects fakes, which is why the papers train with `gan_g` instead.
    """
    return -F.softplus(fake).mean()  # fake: (B, ...)


# ---------------------------------------------------------------------------------------------
# LSGAN, WGAN, hinge, PGGAN drift


def lsgan_d(real: torch.Tensor, fake: torch.Tensor, a: float = 0.0, b: float = 1.0) -> torch.Tensor:
    """LSGAN discriminator loss: `½·mean((real − b)²) + ½·mean((fake − a)²)`.

    Follows xudonmao/LSGAN `loss_l2` (the ½ comes from `tf.nn.l2_loss`), whose defaults are the
    0-1 coding a = 0, b = 1. The paper's Pearson-χ² coding is a = −1, b = 1 (with c = 0 in
    `lsgan_g`). CycleGAN's `0.5·[MSE(real, 1) + MSE(fake, 0)]` is exactly this with a=0, b=1.
    """
    return 0.5 * (real - b).pow(2).mean() + 0.5 * (fake - a).pow(2).mean()  # (B, ...) each


def lsgan_g(fake: torch.Tensor, c: float = 1.0) -> torch.Tensor:
    """LSGAN generator loss: `½·mean((fake − c)²)` (xudonmao/LSGAN `loss_l2`, c = 1).

    CycleGAN's generator uses `MSE(D(G(x)), 1)` without the ½; weight it by 2 to match it.
    """
    return 0.5 * (fake - c).pow(2).mean()  # fake: (B, ...)


def wgan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Wasserstein critic loss: `mean(fake) − mean(real)`.

    Arjovsky et al.'s critic objective negated so that it is minimised, as in
    martinarjovsky/WassersteinGAN, igul222's WGAN-GP and StarGAN (`−E[D(x)] + E[D(G(z))]`).
    """
    return fake.mean() - real.mean()  # real: (B, ...), fake: (B, ...)


def wgan_g(fake: torch.Tensor) -> torch.Tensor:
    """Wasserstein generator loss: `−mean(fake)` (same references as `wgan_d`)."""
    return -fake.mean()  # fake: (B, ...)


def hinge_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Hinge discriminator loss: `mean(relu(1 − real)) + mean(relu(1 + fake))`.

    SNGAN/projection (pfnet-research `loss_hinge_dis`), SAGAN and BigGAN-PyTorch `loss_hinge_dis`.
    SPADE writes it as `−mean(min(real − 1, 0)) − mean(min(−fake − 1, 0))`, which is identical.
    """
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()  # (B, ...) each


def hinge_g(fake: torch.Tensor) -> torch.Tensor:
    """Hinge generator loss: `−mean(fake)` (the same references as `hinge_d`)."""
    return -fake.mean()  # fake: (B, ...)


def drift(real: torch.Tensor) -> torch.Tensor:
    """PGGAN drift penalty: `mean(real²)`; the caller weights it with ε_drift = 0.001.

    tkarras/progressive_growing_of_gans `D_wgangp_acgan` (`epsilon_penalty = square(real_scores)`,
    averaged with the rest of the loss); it keeps the critic's output near zero.
    """
    return real.pow(2).mean()  # real: (B, ...)


# ---------------------------------------------------------------------------------------------
# Generic regression / classification helpers


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over all elements: `mean(|a − b|)`.

    pix2pix's `λ_L1·‖B − G(A)‖₁`, CycleGAN's cycle and identity terms, StarGAN's reconstruction
    term: all are `nn.L1Loss()` with the default mean reduction, i.e. this function.
    """
    return F.l1_loss(a, b)  # a, b: (B, ...)


def l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared error over all elements: `mean((a − b)²)` (`nn.MSELoss()`, SRResNet)."""
    return F.mse_loss(a, b)  # a, b: (B, ...)


def _attribute_bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample BCE-with-logits summed over labels: (B, L), (B, L) -> (B,)."""
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(dim=1)


def bce(
    logits: torch.Tensor,
    target: torch.Tensor,
    parts: Sequence[tuple[int, str]] | None = None,
) -> torch.Tensor:
    """StarGAN's domain-classification loss.

    Without `parts`: multi-label BCE-with-logits summed over labels and averaged over the batch,
    `Σ_{i,l} BCE(logits[i,l], target[i,l]) / B`, which is yunjey/stargan `classification_loss`
    for CelebA (`binary_cross_entropy_with_logits(..., size_average=False) / batch`).

    With `parts = ((size_1, kind_1), ..., (size_P, kind_P))` the labels are StarGAN's mask-vector
    layout: `target = [part_1 | ... | part_P | mask]` (B, Σsize + P), where `mask` is one-hot
    over the P datasets, and `logits = [part_1 | ... | part_P]` (B, Σsize) with no mask slot.
    Sample i contributes only the slice of its own dataset p (mask[i, p] = 1):

    - kind "attributes": `Σ_l BCE(logits[i, slice_p], target[i, slice_p])` (sum over labels);
    - kind "classes": `−log softmax(logits[i, slice_p])[argmax target[i, slice_p]]`.

    The loss is `Σ_i loss_i / B`. A batch drawn from one dataset, as StarGAN's `train_multi`
    alternates them, therefore gives exactly the reference loss for that dataset (`out_cls[:,
    :c_dim]` with BCE for CelebA, `out_cls[:, c_dim:]` with `F.cross_entropy` for RaFD); mixed
    batches are allowed and weight each sample equally.
    """
    batch = logits.shape[0]
    if parts is None:
        return F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / batch
    sizes = [int(size) for size, _ in parts]
    total = sum(sizes)
    if logits.dim() != 2 or logits.shape[1] != total:
        raise ValueError(
            f"bce with parts {tuple(parts)} expects logits of shape (B, {total}), "
            f"got {tuple(logits.shape)}"
        )
    if target.shape != (batch, total + len(sizes)):
        raise ValueError(
            f"bce with parts {tuple(parts)} expects a masked target of shape "
            f"(B, {total + len(sizes)}), got {tuple(target.shape)}"
        )
    mask = target[:, total:]  # (B, P), one-hot: each sample's dataset
    per_sample = logits.new_zeros(batch)  # (B,)
    start = 0
    for p, (size, kind) in enumerate(parts):
        stop = start + int(size)
        part_logits = logits[:, start:stop]  # (B, size)
        part_target = target[:, start:stop]  # (B, size)
        if kind == "attributes":
            loss = _attribute_bce(part_logits, part_target)  # (B,)
        elif kind == "classes":
            classes = part_target.argmax(dim=1)  # (B,)
            loss = F.cross_entropy(part_logits, classes, reduction="none")  # (B,)
        else:
            raise ValueError(f"bce part kind must be 'attributes' or 'classes', got {kind!r}")
        # `where`, not a product, so a non-finite loss on another dataset's slot cannot leak in.
        per_sample = per_sample + torch.where(mask[:, p] > 0, loss, torch.zeros_like(loss))
        start = stop
    return per_sample.sum() / batch


def ce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Softmax cross-entropy with class indices, averaged over the batch (`F.cross_entropy`).

    StarGAN's RaFD classification loss and ACGAN's auxiliary classifier `L_C` (Odena et al.),
    applied to raw logits. eriklindernoren's ACGAN puts a Softmax before `CrossEntropyLoss`
    (a double softmax); this function does not reproduce that quirk.
    """
    return F.cross_entropy(logits, target)  # logits: (B, K), target: (B,)


def shuffle(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """`x[randperm(B)]`: the same rows in a random order along the batch.

    StarGAN's target domains (`rand_idx = torch.randperm(label_org.size(0)); label_trg =
    label_org[rand_idx]`). The permutation is drawn from `generator` when one is given (on the
    generator's device), so a seeded generator reproduces it. In data-parallel training the
    permutation is of the global batch (`shard`): a row may come from another process.
    """
    device = generator.device if generator is not None else x.device
    whole = shard.gather(x)  # (B_global, ...); x itself in one process
    perm = torch.randperm(whole.shape[0], generator=generator, device=device)  # (B_global,)
    return shard.local(whole[perm.to(x.device)])  # (B, ...)


# ---------------------------------------------------------------------------------------------
# Semi-supervised GAN (Odena 2016)


def sgan_d_real(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """SGAN discriminator on labelled reals: `CE(logits, target)` over the N+1 classes.

    `logits` is (B, N+1), the last column being Odena's extra "fake" class; `target` holds the
    true class indices in [0, N). Averaged over the batch.
    """
    return F.cross_entropy(logits, target)  # logits: (B, N+1), target: (B,)


def sgan_d_fake(logits: torch.Tensor) -> torch.Tensor:
    """SGAN discriminator on fakes: `CE(logits, N)` = `mean(logsumexp(logits) − logits[:, N])`.

    Odena (2016): generated samples are labelled with the extra class N (the last index, class
    N+1 in the paper's 1-based numbering).
    """
    return (torch.logsumexp(logits, dim=1) - logits[:, -1]).mean()  # logits: (B, N+1)


def sgan_g(logits: torch.Tensor) -> torch.Tensor:
    """SGAN generator: `−mean(logsumexp(logits[:, :N]) − logsumexp(logits))`.

    That is `−mean(log p(y ≠ fake | G(z))) = −mean(log Σ_{k<N} softmax(logits)_k)`: G makes D
    assign its samples to *some* real class, the non-saturating reading of Odena's "G tries to
    make D not predict class N+1". (eriklindernoren's sgan uses a separate sigmoid head for
    this instead; Salimans et al. 2016 use N logits with an implicit fake logit of 0.)
    """
    real = torch.logsumexp(logits[:, :-1], dim=1)  # (B,)
    everything = torch.logsumexp(logits, dim=1)  # (B,)
    return -(real - everything).mean()


# ---------------------------------------------------------------------------------------------
# InfoGAN (Chen et al. 2016)


def info_categorical(logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """InfoGAN categorical code term: `CE(Q(c | G(z, c)), c)`, averaged over the batch.

    openai/InfoGAN estimates `MI = H(c) − CE` and adds `−λ·MI` to both losses; H(c) of the
    fixed prior is a constant, so it is omitted here and the loss to add is `λ·info_categorical`.
    `codes` are class indices (B,) or one-hot / probability rows (B, K); `F.cross_entropy`
    handles both, and a one-hot row gives the same value as its index. The official code's
    `log(p + 1e-8)` stabiliser is replaced by an exact log-softmax.
    """
    return F.cross_entropy(logits, codes)  # logits: (B, K), codes: (B,) or (B, K)


def info_continuous(
    mean: torch.Tensor, codes: torch.Tensor, log_std: torch.Tensor | None = None
) -> torch.Tensor:
    """InfoGAN continuous code term: factored-Gaussian NLL, summed over the code dimensions and
    averaged over the batch, as openai/InfoGAN's `Gaussian.logli` does.

    Per element: `log σ + ½·((c − μ)/σ)²` with `σ = exp(log_std)`. The constant `½·log(2π)` of
    each element is dropped (as H(c) is: constants do not change gradients). With
    `log_std=None` σ = 1, as the official MNIST launcher's `Uniform(1, fix_std=True)` codes.
    (The official learned σ is `sqrt(exp(x))`: its network emits log σ² = 2·log_std.)
    """
    if log_std is None:
        nll = 0.5 * (codes - mean).pow(2)  # (B, n_codes)
    else:
        nll = log_std + 0.5 * ((codes - mean) * torch.exp(-log_std)).pow(2)  # (B, n_codes)
    return nll.sum(dim=1).mean()


# ---------------------------------------------------------------------------------------------
# EBGAN (Zhao et al. 2017) and BEGAN (Berthelot et al. 2017)


def ae_energy(x: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
    """Per-sample auto-encoder energy: `mean over non-batch dims of (recon − x)²`, shape (B,).

    EBGAN's `D(x) = ‖Dec(Enc(x)) − x‖` taken, as implementations do, as a mean squared error.
    """
    return (recon - x).pow(2).reshape(x.shape[0], -1).mean(dim=1)  # (B,)


def ae_l1_energy(x: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
    """Per-sample L1 auto-encoder loss: `mean over non-batch dims of |recon − x|`, shape (B,).

    BEGAN's `L(v) = |v − D(v)|`; carpedm20 averages it over the batch too, so the scalar `L`
    BEGAN's spec takes is `mean(ae_l1_energy(x, D(x)))`.
    """
    return (recon - x).abs().reshape(x.shape[0], -1).mean(dim=1)  # (B,)


def ebgan_d(real_energy: torch.Tensor, fake_energy: torch.Tensor, margin: float) -> torch.Tensor:
    """EBGAN discriminator loss: `mean(real_energy) + mean(relu(margin − fake_energy))`.

    Zhao et al.'s `L_D = D(x) + [m − D(G(z))]⁺` with per-sample energies (B,). The margin is
    dataset-specific in the paper (eriklindernoren uses `max(1, batch/64)`).
    """
    return real_energy.mean() + F.relu(margin - fake_energy).mean()  # energies: (B,)


def ebgan_g(fake_energy: torch.Tensor) -> torch.Tensor:
    """EBGAN generator loss: `mean(fake_energy)` (Zhao et al.'s `L_G = D(G(z))`)."""
    return fake_energy.mean()  # (B,)


def pulling_away(codes: torch.Tensor) -> torch.Tensor:
    """EBGAN pulling-away term: `1/(N(N−1)) · Σ_{i≠j} cos(S_i, S_j)²`.

    `S_i` is sample i's encoder code flattened to a vector; cos is the cosine similarity. This
    is the paper's *squared* cosine (Zhao et al. 2017, eq. 5); eriklindernoren's ebgan sums the
    un-squared similarities, which is not the paper's term. Weighted 0.1 and added to L_G in
    the paper. Needs N ≥ 2; an all-zero code has cosine 0 with everything.
    """
    n = codes.shape[0]
    if n < 2:
        raise ValueError(f"pulling_away needs at least 2 samples, got {n}")
    unit = F.normalize(codes.reshape(n, -1), dim=1)  # (N, F), rows of norm 1 (or 0)
    cos2 = (unit @ unit.T).pow(2)  # (N, N)
    off_diagonal = cos2.sum() - cos2.diagonal().sum()
    return off_diagonal / (n * (n - 1))


def feature_matching(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """Salimans et al. (2016) feature matching: `‖mean_batch(f(x)) − mean_batch(f(G(z)))‖²₂`.

    Features are flattened per sample, averaged over the batch, and the squared Euclidean norm
    of the difference is returned (a sum over features, as in the paper). The real side is
    detached: it is the target statistic of a generator-only objective. openai/improved-gan's
    code takes the *mean* over features instead; divide by the feature count to match it.
    """
    real_mean = real_features.detach().reshape(real_features.shape[0], -1).mean(dim=0)  # (F,)
    fake_mean = fake_features.reshape(fake_features.shape[0], -1).mean(dim=0)  # (F,)
    return (real_mean - fake_mean).pow(2).sum()


def feature_l1(
    real_features_list: Sequence[torch.Tensor], fake_features_list: Sequence[torch.Tensor]
) -> torch.Tensor:
    """Discriminator feature matching with L1: `(1/J) · Σ_j mean(|f_j(fake) − f_j(real)|)`.

    One mean-absolute-error (`nn.L1Loss`) per intermediate discriminator layer j, with the real
    features detached, averaged over the J layers given. NVlabs/SPADE's `GAN_Feat_loss` *sums*
    the per-layer L1s over each discriminator's intermediate outputs (its final prediction
    excluded) and averages over the `num_D` discriminators: with J layers per discriminator,
    SPADE's `λ_feat·GAN_Feat` equals `λ_feat·J·feature_l1` averaged over discriminators.
    """
    if len(real_features_list) != len(fake_features_list):
        raise ValueError(
            f"feature_l1 got {len(real_features_list)} real and "
            f"{len(fake_features_list)} fake feature maps"
        )
    if not real_features_list:
        raise ValueError("feature_l1 needs at least one feature map")
    per_layer = [
        F.l1_loss(fake, real.detach())  # (B, C_j, H_j, W_j) each
        for real, fake in zip(real_features_list, fake_features_list, strict=True)
    ]
    return torch.stack(per_layer).mean()


def content(
    feature_net: Callable[[torch.Tensor], torch.Tensor],
    a: torch.Tensor,
    b: torch.Tensor,
    weight: float = 1.0,
) -> torch.Tensor:
    """Content (perceptual) loss: `weight · mean((φ(a) − φ(b))²)` for a user-given network φ.

    SRGAN's `l_X^{VGG/i,j}`: the MSE between feature maps of a fixed network (the paper uses
    VGG19 relu5_4 with features rescaled by 1/12.75, i.e. weight 1/12.75²). No weights are
    downloaded here: φ is whatever module the spec passes, frozen by the caller if wanted.
    """
    return weight * F.mse_loss(feature_net(a), feature_net(b))  # φ(a), φ(b): (B, ...)


def ortho_reg(
    parameters: Iterable[torch.Tensor] | nn.Module,
    beta: float = 1e-4,
    exclude_1d: bool = True,
) -> torch.Tensor:
    """BigGAN's orthogonal regularisation: `β · Σ_W ‖W Wᵀ ⊙ (1 − I)‖²_F`.

    Each parameter is reshaped to W of shape (out, −1) (one row per output filter) and the
    squared off-diagonal entries of its Gram matrix are summed (Brock et al. 2019, eq. 3,
    written for W with filters as rows). 0-d parameters are skipped; 1-D ones (biases, gains)
    are skipped unless `exclude_1d=False`, when they count as (n, 1) matrices.

    ajbrock/BigGAN-PyTorch `utils.ortho(model, strength)` never forms this loss: after
    `backward()` it adds `strength · 2·(W Wᵀ ⊙ (1 − I))·W` to each ≥2-D parameter's `.grad`.
    The gradient of the loss here is `4β·(W Wᵀ ⊙ (1 − I))·W`, so `ortho_reg(beta=s/2)` gives
    exactly the repo's update for `strength=s` (the paper's β = 1e-4 is this function's β).
    """
    params = parameters.parameters() if isinstance(parameters, nn.Module) else parameters
    total: torch.Tensor | None = None
    for param in params:
        if param.dim() == 0 or (param.dim() == 1 and exclude_1d):
            continue
        w = param.reshape(param.shape[0], -1)  # (out, fan)
        gram = w @ w.T  # (out, out)
        off = gram - torch.diag_embed(gram.diagonal())  # (out, out), zero diagonal
        term = off.pow(2).sum()
        total = term if total is None else total + term
    if total is None:
        return torch.zeros(())
    return beta * total

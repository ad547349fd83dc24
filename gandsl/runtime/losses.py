"""GAN losses called by generated training code.

Every loss returns a 0-d tensor. Unless a docstring says otherwise it is averaged over the
batch *and* over any other dimension of the score (a PatchGAN map counts every patch), as the
reference implementations do with `reduce_mean` / `torch.mean`. Weights (λ, ε, γ, ...) are
applied by the caller; no function here hides a factor that the docstring does not show.

Scores are logits or raw critic outputs: no function here applies a sigmoid to its input
before using it except through `softplus` / `*_with_logits`, which are the numerically
stable forms of `log σ(x)` and `log(1 − σ(x))`.

The adversarial losses (and the energies and terms of EBGAN/BEGAN) are here; the auxiliary
terms (reconstruction, classification, InfoGAN codes, feature matching, content, orthogonal
regularisation, `shuffle`) are in `gandsl.runtime.auxiliary` and importable from here too.
"""

import torch
import torch.nn.functional as F

from gandsl.runtime.auxiliary import (
    bce,
    ce,
    content,
    feature_l1,
    feature_matching,
    info_categorical,
    info_continuous,
    l1,
    l2,
    ortho_reg,
    shuffle,
)

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

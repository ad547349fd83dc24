"""Auxiliary loss terms called by generated training code: reconstruction (`l1`, `l2`),
classification (`bce`, `ce`), InfoGAN's code terms, feature matching, the content loss,
BigGAN's orthogonal regularisation, and `shuffle` (StarGAN's target domains).

The conventions of `gandsl.runtime.losses` hold here: every loss returns a 0-d tensor,
averaged as its docstring says, and weights are applied by the caller.
"""

from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gandsl import shard

__all__ = [
    "bce",
    "ce",
    "content",
    "feature_l1",
    "feature_matching",
    "info_categorical",
    "info_continuous",
    "l1",
    "l2",
    "ortho_reg",
    "shuffle",
]

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
# Feature matching, content, orthogonal regularisation


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

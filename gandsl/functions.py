"""Functions the objective may call: losses, penalties, and helpers, with their signatures.

The checker types every call against these signatures and the lints read the `tags`. Each name
here is implemented in `gandsl.runtime` (losses land with the training issue); formulas are
written next to each entry exactly as the papers give them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Argument kinds:
#   score  — a discriminator output: any float tensor per sample (scalar, map, logits, vector)
#   image  — a spatial tensor
#   same   — a tensor of the same type as the first argument
#   logits — per-label logits;  label — multi-hot labels;  class — class indices
#   critic — a network, or one output of it (`D.src`), taking one image
#   network — any network, as a module (`ortho_reg(G)`)
#   generator — a network of one input (or one output of it), differentiated with respect to
#            the next argument (StyleGAN2's path length: `path_lengths(G_synthesis, ws)`)
#   any    — any tensor
#   float  — a float tensor, a loss, a `state` or a number (tensor math)
#   loss   — one number per batch: a loss, or a `state`
#   num    — a compile-time number
#   number — a number known at compile time, or at run time (a `state`, a loss)
#   str    — a compile-time string, one of the argument's choices


@dataclass(frozen=True)
class FArg:
    name: str
    kind: str
    default: float | str | None = None  # for `num`, `number`, `str`; None means required
    choices: tuple[str, ...] | None = None  # for `str`


@dataclass(frozen=True)
class Fn:
    name: str
    args: tuple[FArg, ...]
    # "loss", "same" (the type of the first argument), "scalar" (per sample), or "reduce"
    # (one number per batch; per sample, channel or position by the `over` argument)
    returns: str
    doc: str
    # logits | wgan | penalty | math | training_only (sample grids and exports take its first
    # argument: it changes nothing outside training)
    tags: frozenset[str] = field(default_factory=frozenset)
    # the generated code of a math function: `.name()` on its argument, or a call of a
    # torch function; None: `rt.<name>(...)`
    torch: str | None = None


def _fn(name, args, doc, returns="loss", tags=(), torch=None):
    return Fn(name, tuple(FArg(*a) for a in args), returns, doc, frozenset(tags), torch)


# How a reduction's `over` reads: which dimensions go (the rest stay).
OVER = ("all", "sample", "channels", "space")


def _elementwise(name: str, doc: str, torch: str) -> Fn:
    return _fn(name, [("x", "float")], doc, returns="same", tags=["math"], torch=torch)


def _reduction(name: str, doc: str) -> Fn:
    return _fn(name, [("x", "float"), ("over", "str", "all", OVER)], doc, returns="reduce",
               tags=["math"], torch=f".{name}")


FUNCTIONS: dict[str, Fn] = {f.name: f for f in [
    _fn("gan_d", [("real", "score"), ("fake", "score")],
        "Standard GAN discriminator loss on logits: mean(softplus(-real)) + "
        "mean(softplus(fake)), i.e. BCE with targets 1 and 0.", tags=["logits"]),
    _fn("gan_g", [("fake", "score")],
        "Non-saturating generator loss on logits: mean(softplus(-fake)) = -log D(G(z)).",
        tags=["logits"]),
    _fn("gan_g_minimax", [("fake", "score")],
        "Minimax generator loss on logits: -mean(softplus(fake)) = log(1 - D(G(z))).",
        tags=["logits"]),
    _fn("lsgan_d", [("real", "score"), ("fake", "score"), ("a", "number", 0.0),
                    ("b", "number", 1.0)],
        "LSGAN discriminator: ½·mean((real − b)²) + ½·mean((fake − a)²)."),
    _fn("lsgan_g", [("fake", "score"), ("c", "number", 1.0)],
        "LSGAN generator: ½·mean((fake − c)²)."),
    _fn("wgan_d", [("real", "score"), ("fake", "score")],
        "Wasserstein critic loss: mean(fake) − mean(real).", tags=["wgan"]),
    _fn("wgan_g", [("fake", "score")], "Wasserstein generator loss: −mean(fake).",
        tags=["wgan"]),
    _fn("hinge_d", [("real", "score"), ("fake", "score")],
        "Hinge discriminator loss: mean(relu(1 − real)) + mean(relu(1 + fake))."),
    _fn("hinge_g", [("fake", "score")], "Hinge generator loss: −mean(fake)."),
    _fn("gradient_penalty", [("critic", "critic"), ("real", "image"), ("fake", "image"),
                             ("center", "number", 1.0)],
        "WGAN-GP: mean((‖∇ critic(x̂)‖₂ − center)²) with x̂ = real + α(fake − real), "
        "α ~ U[0, 1] per sample.", tags=["penalty"]),
    _fn("r1", [("critic", "critic"), ("real", "image")],
        "R1: ½·mean(‖∇ critic(real)‖²) (weight it with γ).", tags=["penalty"]),
    _fn("r2", [("critic", "critic"), ("fake", "image")],
        "R2: ½·mean(‖∇ critic(fake)‖²).", tags=["penalty"]),
    _fn("grad_norm", [("critic", "critic"), ("at", "image")],
        "‖∇_x critic(x)‖₂ per sample at `at` (a `scalar`), differentiable (double backprop): "
        "any gradient penalty, e.g. WGAN-div's `mean(grad_norm(D, x_hat)^6)`.",
        returns="scalar", tags=["penalty"]),
    _fn("drift", [("real", "score")], "PGGAN drift: mean(real²) (weight it with ε = 0.001)."),
    _fn("l1", [("a", "any"), ("b", "same")], "Mean absolute error."),
    _fn("l2", [("a", "any"), ("b", "same")], "Mean squared error."),
    _fn("bce", [("logits", "logits"), ("target", "label")],
        "Multi-label BCE with logits, summed over labels and averaged over the batch "
        "(StarGAN). With several datasets only the sample's own dataset's labels count.",
        tags=["logits"]),
    _fn("ce", [("logits", "logits"), ("target", "class")],
        "Softmax cross-entropy with class indices, averaged over the batch.", tags=["logits"]),
    # tensor math: plain torch in the generated code (`FArg` kind `float`)
    _elementwise("exp", "eˣ, elementwise.", ".exp"),
    _elementwise("log", "The natural logarithm, elementwise.", ".log"),
    _elementwise("sqrt", "The square root, elementwise.", ".sqrt"),
    _elementwise("abs", "The absolute value, elementwise (BEGAN's convergence measure).",
                 ".abs"),
    _elementwise("square", "x², elementwise.", ".square"),
    _elementwise("softplus", "log(1 + eˣ), elementwise: `softplus(-x)` is −log σ(x).",
                 "F.softplus"),
    _elementwise("sigmoid", "σ(x) = 1 / (1 + e⁻ˣ), elementwise.", "torch.sigmoid"),
    _elementwise("relu", "max(x, 0), elementwise.", "F.relu"),
    _elementwise("tanh", "The hyperbolic tangent, elementwise.", "torch.tanh"),
    _elementwise("cos", "The cosine (radians), elementwise: a cosine schedule of `step`.",
                 "torch.cos"),
    _elementwise("sin", "The sine (radians), elementwise.", "torch.sin"),
    _elementwise("sign", "−1, 0 or 1 by the sign of x, elementwise (ADA's overfitting "
                 "measure is `mean(sign(D(x)))`).", "torch.sign"),
    _fn("clip", [("x", "float"), ("low", "number"), ("high", "number")],
        "`x` limited to [low, high], elementwise (BEGAN's k_t stays in [0, 1]).",
        returns="same", tags=["math"], torch=".clamp"),
    _fn("clamp", [("x", "float"), ("low", "number"), ("high", "number")],
        "The same as `clip`.", returns="same", tags=["math"], torch=".clamp"),
    _reduction("mean", "The mean of every value (`over=\"sample\"`: of each sample's; "
               "`\"channels\"`: over channels; `\"space\"`: over positions)."),
    _reduction("sum", "The sum of every value (`over` as for `mean`)."),
    _reduction("min", "The smallest value (`over` as for `mean`)."),
    _reduction("max", "The largest value (`over` as for `mean`)."),
    _reduction("std", "The standard deviation of the values, dividing by their number (as "
               "numpy's and TensorFlow's; torch's default divides by one less); `over` as "
               "for `mean`."),
    _reduction("var", "The variance, dividing by the number of values; `over` as for "
               "`mean`."),
    _fn("shuffle", [("x", "any")], "The same values in a random order along the batch "
        "(StarGAN's random target labels).", returns="same"),
    # semi-supervised GAN (Odena 2016): D is an (N+1)-way classifier, the last class "fake"
    _fn("sgan_d_real", [("logits", "logits"), ("target", "class")],
        "SGAN: cross-entropy of real samples' N+1 logits with their class.", tags=["logits"]),
    _fn("sgan_d_fake", [("logits", "logits")],
        "SGAN: cross-entropy of generated samples' logits with the fake class N+1.",
        tags=["logits"]),
    _fn("sgan_g", [("logits", "logits")],
        "SGAN generator: −log p(some real class) of its samples.", tags=["logits"]),
    # InfoGAN (Chen et al. 2016): the mutual-information terms, through Q's outputs
    _fn("info_categorical", [("logits", "logits"), ("codes", "class")],
        "InfoGAN categorical code: cross-entropy of Q's logits with the sampled code (H(c) is "
        "constant and left out).", tags=["logits"]),
    _fn("info_continuous", [("mean", "any"), ("codes", "same")],
        "InfoGAN continuous codes: Gaussian negative log-likelihood with unit σ, summed over "
        "codes and averaged over the batch (openai/InfoGAN's fixed-σ codes)."),
    # EBGAN (Zhao et al. 2017) and BEGAN's auto-encoder energies
    _fn("ae_energy", [("x", "any"), ("recon", "same")],
        "Per-sample mean squared reconstruction error of an auto-encoder D (EBGAN's energy).",
        returns="scalar"),
    _fn("ae_l1_energy", [("x", "any"), ("recon", "same")],
        "Per-sample mean absolute reconstruction error (BEGAN's L).", returns="scalar"),
    _fn("ebgan_d", [("real", "score"), ("fake", "score"), ("margin", "number")],
        "EBGAN discriminator: mean(real) + mean(relu(margin − fake)) over energies."),
    _fn("ebgan_g", [("fake", "score")], "EBGAN generator: mean(fake) over energies."),
    _fn("pulling_away", [("codes", "any")],
        "EBGAN's pulling-away term: mean squared cosine similarity between different samples' "
        "codes (weight it with 0.1)."),
    _fn("feature_matching", [("real", "any"), ("fake", "same")],
        "Feature matching (Salimans et al. 2016): ‖mean(real) − mean(fake)‖² over the batch."),
    _fn("content", [("features", "critic"), ("a", "image"), ("b", "image")],
        "Content loss (SRGAN): mean squared error between the features a given (frozen) "
        "network computes for a and b. No weights are ever downloaded."),
    _fn("mix_styles", [("a", "any"), ("b", "same"), ("layers", "num", None),
                       ("prob", "num", 0.9)],
        "StyleGAN's style mixing on per-layer styles (B, layers·D): with probability `prob` a "
        "cutoff c is drawn for the batch, uniform in 1..layers−1, and layers from c on take "
        "`b`'s styles; otherwise `a`. Sample grids never mix.", returns="same",
        tags=["training_only"]),
    _fn("path_lengths", [("generator", "generator"), ("w", "any"), ("layers", "num", 1),
                         ("shrink", "num", 1)],
        "StyleGAN2's path lengths ‖J_wᵀ y‖₂ per sample, y = generator(w)·noise/√(H·W), over "
        "the first batch/`shrink` samples; with per-layer styles, the root of the mean over "
        "`layers` of each layer's squared norm.", returns="scalar"),
    _fn("path_length_penalty", [("lengths", "score"), ("pl_mean", "loss"),
                                ("decay", "number", 0.01)],
        "StyleGAN2's path length penalty: mean((lengths − a)²), a = pl_mean + decay·(mean("
        "lengths) − pl_mean), differentiated through mean(lengths) as the reference is; "
        "keep pl_mean as a `state` with the same update."),
    _fn("rotate90", [("x", "image"), ("k", "class")],
        "Sample i turned counterclockwise by k[i]·90° (square images; k: `class[4]`, as drawn "
        "by `categorical(4)`): SS-GAN's rotations, whose index D predicts.", returns="same"),
    _fn("ortho_reg", [("network", "network")],
        "BigGAN's orthogonal regularization: ‖W Wᵀ ⊙ (1 − I)‖²_F over the network's weight "
        "matrices (weight it with β = 1e-4)."),
]}

@dataclass(frozen=True)
class Distribution:
    """What `z ~ normal(128)` may draw from: the kind of its values (`latent[N]`), its
    settings with their defaults, and whether it may take a value's shape (`like=x`). The
    generated iteration draws it with `draw.<name>(...)` (`gandsl.runtime.Draw`)."""

    name: str
    kind: str
    defaults: tuple[tuple[str, float], ...] = ()
    shaped: bool = True

    @property
    def keywords(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.defaults)

    def default(self, keyword: str) -> float:
        return dict(self.defaults)[keyword]


DISTRIBUTIONS: dict[str, Distribution] = {d.name: d for d in [
    Distribution("normal", "latent", (("mean", 0), ("std", 1))),
    Distribution("uniform", "latent", (("low", 0), ("high", 1))),
    Distribution("categorical", "class", shaped=False),
    Distribution("bernoulli", "label", (("p", 0.5),)),
]}


# ADA's pipeline (NVlabs/stylegan2-ada-pytorch `training/augment.py` AugmentPipe, run by
# `gandsl.runtime.adaptive`): its operations in the order it applies them, its presets
# (`train.py --augpipe`, each operation at probability multiplier 1), and its settings with
# the reference's defaults. `ada(...)` takes any of them by keyword.
ADA_GROUPS: dict[str, tuple[str, ...]] = {
    "blit": ("xflip", "rotate90", "xint"),
    "geom": ("scale", "rotate", "aniso", "xfrac"),
    "color": ("brightness", "contrast", "lumaflip", "hue", "saturation"),
    "filter": ("imgfilter",),
    "noise": ("noise",),
    "cutout": ("cutout",),
}
ADA_OPERATIONS: tuple[str, ...] = tuple(op for ops in ADA_GROUPS.values() for op in ops)
ADA_PRESETS: dict[str, tuple[str, ...]] = ADA_GROUPS | {
    name: tuple(op for g in groups for op in ADA_GROUPS[g])
    for name, groups in [("bg", ("blit", "geom")), ("bgc", ("blit", "geom", "color")),
                         ("bgcf", ("blit", "geom", "color", "filter")),
                         ("bgcfn", ("blit", "geom", "color", "filter", "noise")),
                         ("bgcfnc", ("blit", "geom", "color", "filter", "noise", "cutout"))]}
# image-space filtering pads by half its 43-tap filter bank with reflection
ADA_FILTER_MIN = 22
ADA_SETTINGS: dict[str, float | tuple[float, ...]] = {
    "xint_max": 0.125,  # integer translation: the largest shift, of the image size
    "scale_std": 0.2,  # isotropic scaling: log2 standard deviation
    "rotate_max": 1.0,  # rotation: the largest angle, of a full turn
    "aniso_std": 0.2,  # anisotropic scaling: log2 standard deviation
    "xfrac_std": 0.125,  # fractional translation: standard deviation, of the image size
    "brightness_std": 0.2,  # brightness: standard deviation of the added value
    "contrast_std": 0.5,  # contrast: log2 standard deviation
    "hue_max": 1.0,  # hue rotation: the largest angle, of a full turn
    "saturation_std": 1.0,  # saturation: log2 standard deviation
    "imgfilter_bands": (1.0, 1.0, 1.0, 1.0),  # filtering: multipliers of the four bands
    "imgfilter_std": 1.0,  # filtering: log2 standard deviation of a band's gain
    "noise_std": 0.1,  # additive noise: scale of its standard deviation
    "cutout_size": 0.5,  # cutout: the rectangle's side, of the image size
}


def ada_strengths(preset: str, options: dict) -> dict[str, float]:
    """Each ADA operation's probability multiplier: 1 for the preset's, 0 for the others,
    then the ones `options` sets."""
    return ({op: 0.0 for op in ADA_OPERATIONS} | {op: 1.0 for op in ADA_PRESETS[preset]}
            | {k: float(v) for k, v in options.items() if k in ADA_OPERATIONS})


@dataclass(frozen=True)
class AugParam:
    name: str
    default: float | str | tuple[float, ...]
    choices: tuple[str, ...] | None = None  # for a string
    doc: str = ""
    # fraction: of the image size, in (0, 1]; choice: one of `choices`; number: ≥ 0;
    # numbers: a list of numbers ≥ 0 as long as the default
    kind: str = "fraction"
    keyword_only: bool = False


# Augmentations an `augment(...)` pipeline takes (`gandsl.runtime.augment`): name → its
# compile-time parameters. All are differentiable and draw per sample.
AUGMENTATIONS: dict[str, tuple[AugParam, ...]] = {
    "color": (),
    "brightness": (),
    "saturation": (),
    "contrast": (),
    "translation": (AugParam("ratio", 0.125, doc="the largest shift, of the image size"),),
    "cutout": (AugParam("ratio", 0.5, doc="the side of the square, of the image size"),),
    "flip": (),
    "rot90": (),
    "ada": (AugParam("preset", "bgc", tuple(ADA_PRESETS),
                     "ADA's groups: pixel blitting, general geometry, colour, filtering, "
                     "noise, cutout", kind="choice"),
            *(AugParam(op, 0.0, doc="probability multiplier", kind="number", keyword_only=True)
              for op in ADA_OPERATIONS),
            *(AugParam(k, v, kind="numbers" if isinstance(v, tuple) else "number",
                       keyword_only=True) for k, v in ADA_SETTINGS.items())),
}


# Functions that change nothing outside training (`training_only`): sample grids and exports
# take their first argument.
TRAINING_ONLY = frozenset(name for name, fn in FUNCTIONS.items() if "training_only" in fn.tags)

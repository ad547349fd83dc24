"""The catalog's words other than layers (`gandsl.layers`) and objective functions
(`gandsl.functions`): the data sources a `data` declaration may name, and the settings of the
train section (optimizers, schedules, options, initializations).

Plain tables, importing nothing: lowering checks a spec against them, the checker and `gandsl
fmt` read them, and the data package builds the sources they name.
"""

from __future__ import annotations

# Sources `data` may name; `gandsl.data` builds them. name: allowed keywords.
DATA_SOURCES: dict[str, tuple[str, ...]] = {
    "digits": ("split",),
    "shapes": ("domain", "labels", "seed", "size", "segmentation"),
    "image_folder": ("path", "labels"),
    "celeba": ("path", "attrs", "attr_file"),
    "segmentation_folder": ("path", "classes"),
    "aligned_folder": ("path",),  # pix2pix's A|B files: one image holding both halves
}
ALIGNED_SOURCES = ("aligned_folder", "shapes")  # aligned image pairs (pix2pix's A and B)
# Every source of a pair: the aligned ones, and (one-hot label map, photo) pairs for SPADE;
# `shapes` serves those too with `segmentation=true`.
PAIR_SOURCES = (*ALIGNED_SOURCES, "segmentation_folder")
# Sources that yield nothing but pairs, with the example a declaration without one is shown.
PAIR_ONLY = {
    "aligned_folder": "`data facades: image[3, S, S], image[3, S, S] = aligned_folder(...)`",
    "segmentation_folder": "`data ade: image[151, S, S], image[3, S, S] = "
                           "segmentation_folder(...)` (the label map first)",
}

OPTIMIZERS: dict[str, tuple[str, ...]] = {
    "adam": ("lr", "betas", "eps", "weight_decay", "amsgrad"),
    "adamw": ("lr", "betas", "eps", "weight_decay", "amsgrad"),
    "rmsprop": ("lr", "alpha", "eps", "weight_decay", "momentum", "centered"),
    "sgd": ("lr", "momentum", "dampening", "weight_decay", "nesterov"),
}
SCHEDULES: dict[str, tuple[str, ...]] = {
    "constant": (),
    "linear_decay": ("start", "end"),  # lr × 1 until `start`, then linearly to 0 at `end`
    "step_decay": ("every", "gamma", "min_lr"),
    "cosine": ("start", "end", "min_lr"),  # half a cosine from the base lr to `min_lr`
}
# The optimizer's momentum, from its own value to `to` linearly between `start` and `end`
MOMENTUM_SCHEDULES: dict[str, tuple[str, ...]] = {"ramp": ("to", "start", "end")}
# torch.optim's class of each, and the one a player gets when the train section names none
# (DCGAN's Adam)
OPTIMIZER_CLASSES = {"adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "sgd": "SGD"}
DEFAULT_OPTIMIZER = ("adam", {"lr": 2e-4, "betas": (0.5, 0.999)})
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")  # the optimizers with a `momentum` to schedule
OPTIONS: dict[str, tuple[str, ...]] = {
    "ema": ("decay", "start", "every"),
    "clip": ("value",),
    "load": ("path", "order", "prefix"),  # pretrained weights from a safetensors file
}
# Initializations (`gandsl.runtime.inits`), of a network (`init G normal(std=0.02)`) or of
# one layer (`conv(64, 3, init=msr(gain=0.5))`): name → keyword options.
INITS: dict[str, tuple[str, ...]] = {
    "normal": ("mean", "std"),
    "xavier": ("gain",),  # Glorot's uniform
    "xavier_normal": ("gain",),
    "kaiming": ("a",),
    "orthogonal": ("gain",),
    "uniform": ("range",),  # U(-range, range): pylearn2's `irange`
    "msr": ("gain",),  # N(0, gain² / fan_in): R3GAN's MSRInitializer
    "zeros": (),
    "ones": (),
}
GROW = ("stable", "fade", "first")  # `grow stages(stable=..., fade=..., first=...)`

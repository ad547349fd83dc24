"""The catalog's words other than layers (`gandsl.layers`) and objective functions and
distributions (`gandsl.functions`): the data sources a `data` declaration may name, and the
settings of the train section (optimizers, schedules, options, initializations), with the
defaults the trainer uses where a spec says nothing.

One entry per word, holding everything any part of gandsl needs to know about it: its keyword
arguments, what it is at run time (`torch.optim.Adam`), what the memory estimate counts, and
its line in docs/language.md's tables (`tests/test_docs.py` checks each table row against
its entry). Lowering checks a spec against the entries, the emitter writes their run-time
names, the checker, `gandsl fmt` and the size estimate read them, and the data package
builds the sources they name. Adding a word is one entry here, its run-time code and a test.
Plain data, importing nothing of gandsl.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Entry:
    name: str
    keywords: tuple[str, ...]  # its keyword arguments, in the order the docs list them
    doc: str  # what it is, one line


@dataclass(frozen=True)
class DataSource(Entry):
    # which `data` declarations it serves: single images (with labels) only, pairs of images
    # too, or nothing but pairs
    pairs: Literal["no", "also", "only"] = "no"
    aligned: bool = False  # its pairs are aligned images (pix2pix's A and B)
    example: str = ""  # for a pair-only source: the declaration it needs


@dataclass(frozen=True)
class Optimizer(Entry):
    torch_class: str = ""  # `torch.optim.<torch_class>` in the generated code
    state_copies: int = 0  # tensors of state it keeps per parameter (the memory estimate)
    momentum: bool = False  # has a `momentum` a `momentum ramp(...)` schedule may move


def _table(*entries: Entry) -> dict:
    return {e.name: e for e in entries}


DATA_SOURCES: dict[str, DataSource] = _table(
    DataSource("digits", ("split",), "scikit-learn's 8×8 digits, offline, with their classes"),
    DataSource("shapes", ("domain", "labels", "seed", "size", "segmentation"),
               "procedural shapes drawn on the fly: classes, attributes, two domains, aligned "
               "pairs and segmentation maps", pairs="also", aligned=True),
    DataSource("fashion_mnist", ("split",),
               "Zalando's Fashion-MNIST, 28×28 grey, 10 classes (60,000 train, 10,000 test), "
               "from Debian's `dataset-fashion-mnist`"),
    DataSource("idx", ("path", "split"),
               "a folder of IDX files (MNIST's format: `train-images-idx3-ubyte[.gz]` and its "
               "labels), grey, with their classes"),
    DataSource("image_folder", ("path", "labels"),
               "a folder of images, one subfolder per class (torchvision's `ImageFolder`)"),
    DataSource("celeba", ("path", "attrs", "attr_file"),
               "CelebA's aligned faces with chosen attributes as labels"),
    DataSource("segmentation_folder", ("path", "classes"),
               "ADE20K's layout: photos and their label maps", pairs="only",
               example="`data ade: image[151, S, S], image[3, S, S] = "
                       "segmentation_folder(...)` (the label map first)"),
    DataSource("aligned_folder", ("path",),
               "pix2pix's files: one image holding A on its left half and B on its right",
               pairs="only", aligned=True,
               example="`data facades: image[3, S, S], image[3, S, S] = aligned_folder(...)`"),
)
# as messages list them: the aligned ones first, by name
ALIGNED_SOURCES = tuple(sorted(s.name for s in DATA_SOURCES.values() if s.aligned))
PAIR_SOURCES = (*ALIGNED_SOURCES, *sorted(s.name for s in DATA_SOURCES.values()
                                          if s.pairs != "no" and not s.aligned))

OPTIMIZERS: dict[str, Optimizer] = _table(
    Optimizer("adam", ("lr", "betas", "eps", "weight_decay", "amsgrad"), "Adam",
              torch_class="Adam", state_copies=2),
    Optimizer("adamw", ("lr", "betas", "eps", "weight_decay", "amsgrad"),
              "Adam with decoupled weight decay", torch_class="AdamW", state_copies=2),
    Optimizer("rmsprop", ("lr", "alpha", "eps", "weight_decay", "momentum", "centered"),
              "RMSprop (WGAN)", torch_class="RMSprop", state_copies=1, momentum=True),
    Optimizer("sgd", ("lr", "momentum", "dampening", "weight_decay", "nesterov"),
              "stochastic gradient descent", torch_class="SGD", state_copies=1, momentum=True),
)
MOMENTUM_OPTIMIZERS = tuple(sorted(o.name for o in OPTIMIZERS.values() if o.momentum))

# Learning-rate schedules (`lr G linear_decay(...)`) and the optimizer's momentum's (from its
# own value to `to` linearly between `start` and `end`)
SCHEDULES: dict[str, Entry] = _table(
    Entry("constant", (), "the base learning rate throughout"),
    Entry("linear_decay", ("start", "end"), "× 1 until `start`, then linearly to 0 at `end`"),
    Entry("step_decay", ("every", "gamma", "min_lr"), "× `gamma` every `every` steps"),
    Entry("cosine", ("start", "end", "min_lr"),
          "half a cosine from the base learning rate to `min_lr`"),
)
MOMENTUM_SCHEDULES: dict[str, Entry] = _table(
    Entry("ramp", ("to", "start", "end"),
          "the optimizer's momentum, from its own value to `to` linearly between `start` and "
          "`end`"),
)
OPTIONS: dict[str, Entry] = _table(
    Entry("ema", ("decay", "start", "every"), "an exponential moving average of the weights"),
    Entry("clip", ("value",), "weights clipped to [-value, value] after each step (WGAN)"),
    Entry("load", ("path", "order", "prefix"),
          "pretrained weights from a safetensors file (`path` may also come first, by position)"),
)
# Initializations (`gandsl.runtime.inits`), of a network (`init G normal(std=0.02)`) or of
# one layer (`conv(64, 3, init=msr(gain=0.5))`)
INITS: dict[str, Entry] = _table(
    Entry("normal", ("mean", "std"), "weights ~ N(mean, std²)"),
    Entry("xavier", ("gain",), "Glorot's uniform"),
    Entry("xavier_normal", ("gain",), "Glorot's normal"),
    Entry("kaiming", ("a",), "He's normal, for a leaky ReLU of slope `a`"),
    Entry("orthogonal", ("gain",), "a (semi-)orthogonal matrix times `gain`"),
    Entry("uniform", ("range",), "weights ~ U(−range, range), pylearn2's `irange`"),
    Entry("msr", ("gain",), "weights ~ N(0, gain²/fan_in), fan_in = input channels × kernel area "
          "(R3GAN's `MSRInitializer`); `gain` 1 by default"),
    Entry("zeros", (), "all zero (a layer's last weight in a residual branch)"),
    Entry("ones", (), "all one"),
)
GROW = ("stable", "fade", "first")  # `grow stages(stable=..., fade=..., first=...)`

# What a player gets when the train section names no optimizer (DCGAN's Adam), and the batch
# when neither the spec nor `--batch` gives one.
DEFAULT_OPTIMIZER = ("adam", {"lr": 2e-4, "betas": (0.5, 0.999)})
DEFAULT_BATCH = 64

"""What a classifier of `gandsl eval` learns from: a `Ground` says which data declaration gives
its training images and which its held-out ones (or that every tenth training sample is set
aside), what it reads off each image (its heads), and how long it trains.

The datasets that ship (digits, Fashion-MNIST, shapes) and any data with classes (an IDX
folder, an image folder of class subfolders: `labelled.py`) are all Grounds, read, split and
trained one way (`examples`, `classifier._train`). Shapes is the one ground whose heads are
read off its scenes (kind, color, size, background) rather than from a `class` field.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data import build_dataset
from ..data.shapes_draw import KINDS
from ..data.shapes_scene import COLORS

HOLD_OUT_EVERY = 10  # without a held-out split, every tenth training sample is set aside
EPOCHS = 3  # a ground without its own step count trains for about three passes


@dataclass(frozen=True)
class Ground:
    name: str  # the classifier's cache name
    heads: dict[str, int]  # what it reads off an image → how many values
    train: str  # the data source (as a spec writes it) of the training images
    held_out: str | None  # of the held-out images; None: every tenth of `train` set aside
    steps: int | None = None  # None: about three epochs, 800 to 4,000 steps
    batch: int = 64
    scenes: bool = False  # the heads are the shapes scene's attributes, not a class field

    def training(self, n: int) -> tuple[int, int]:
        """(steps, batch) for `n` training images."""
        steps = self.steps or min(4000, max(800, EPOCHS * n // self.batch))
        return steps, self.batch


SHIPPED = {
    "digits": Ground("digits", {"class": 10}, 'digits(split="train")', 'digits(split="test")',
                     800),
    "shapes": Ground("shapes", {"kind": len(KINDS), "color": len(COLORS), "size": 2,
                                "dark": 2}, "shapes(seed=101, size=6000)",
                     "shapes(seed=102, size=1000)", 800, scenes=True),
    # Fashion-MNIST's 60,000 images take about three epochs of 128 to pass 90% held out
    "fashion_mnist": Ground("fashion_mnist", {"class": 10}, 'fashion_mnist(split="train")',
                            'fashion_mnist(split="test")', 4000, 128),
}


def examples(g: Ground, channels: int, size: int, held_out: bool
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """(images (N, C, S, S) in [−1, 1], {head: targets (N,)}) of one side of the split."""
    from ..pipeline import check_source

    source = g.held_out if held_out and g.held_out is not None else g.train
    field = "" if g.scenes else f", class[{g.heads['class']}]"
    spec = check_source(f"gan judge\ndata d: image[{channels}, {size}, {size}]{field} = "
                        f"{source}\n", "judge.gan").spec
    ds = build_dataset(spec, spec.datasets[0])
    indices = [i for i in range(len(ds)) if g.held_out is not None or
               (i % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1) == held_out]
    if not g.scenes:  # images and classes, collated by the dataset
        images, classes = ds.batch(indices)
        return images, {"class": classes}
    images = ds.batch(indices)[0]
    scenes = [ds.scene(i) for i in indices]
    colors = list(COLORS)
    return images, {"kind": torch.tensor([KINDS.index(s.kind) for s in scenes]),
                    "color": torch.tensor([colors.index(s.color) for s in scenes]),
                    "size": torch.tensor([int(s.large) for s in scenes]),
                    "dark": torch.tensor([int(s.dark) for s in scenes])}

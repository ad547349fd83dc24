"""`shapes(domain, labels, seed, size, segmentation)`: a procedural stand-in for any spec.

One shape per image, drawn on the fly at the declared resolution (see `shapes_scene`). Each
image has a kind (circle, square, triangle, diamond, cross), a color (red, green, blue,
magenta), a size (small/large), a jittered position and a background (light/dark).

What a declaration gets, by its fields:

- `image` only: every kind, or with `domain="a"` circles only and `domain="b"` squares only.
  The two domains have the same distributions of everything else (CycleGAN's unpaired
  domains). With the same `seed` (and `size`), sample i of domain a and sample i of domain b
  are the same scene drawn as a circle and as a square, and the loader shuffles both in the
  same order, so their batches are paired (pix2pix).
- `image, image` (an aligned pair): every scene drawn as a circle (the first image) and as a
  square (the second, at its own declared shape): pix2pix's A → B with exact pairs.
- `image[N, ...], image[C, ...]` with `segmentation=true` (what `--data shapes` gives a
  `segmentation_folder` declaration): SPADE's (label map, photo) pairs. The photo is the
  scene; the label map its one-hot float32 (N, H, W) segmentation: background class 0, the
  shape's pixels (those the photo covers at least half) class 1 + kind index mod (N - 1),
  the kinds indexed as in `KINDS` (N = 1: all class 0). Any N ≥ 1; `domain` still picks
  the kinds.
- `label[N]`, N ≤ 10: multi-hot attributes, by default the first N of `ATTRIBUTES`:
  red, green, blue (exclusive, none for magenta: CelebA's Black/Blond/Brown_Hair), large,
  dark (independent: Male, Young), then one per kind. `labels=["large", "red", ...]` picks
  other attributes, in that order.
- `class[N]`: the class is read off the scene along `CLASS_LAYOUTS`: N=2 size, 4 kind (the
  first four kinds only), 5 kind, 8 kind×size (first four kinds), 10 kind×size, 16
  kind×color (first four kinds), 20 kind×color; index = row-major over the factors
  (kind×size: 2·kind + large). Other N are an error naming these sizes.

`seed` (default 0) picks the scenes, `size` (default 10000) is the number of images.
`--data shapes` serves every declaration of a spec with shapes: see `factory`.
"""

from __future__ import annotations

from itertools import product

import torch

from .base import ImageDataset, Request
from .errors import DataError
from .shapes_draw import KINDS
from .shapes_scene import COLORS, Scene, label_map, render, scene

ATTRIBUTES = ("red", "green", "blue", "large", "dark", "circle", "square", "triangle",
              "diamond", "cross")
CLASS_LAYOUTS: dict[int, tuple[str, ...]] = {
    2: ("size",), 4: ("kind",), 5: ("kind",), 8: ("kind", "size"), 10: ("kind", "size"),
    16: ("kind", "color"), 20: ("kind", "color"),
}
DOMAINS = {"a": "circle", "b": "square"}
DEFAULT_SIZE = 10_000
_FACTORS: dict[str, tuple[str, ...]] = {"size": ("small", "large"), "color": tuple(COLORS)}


def attribute_vector(s: Scene, names: tuple[str, ...]) -> torch.Tensor:
    """Multi-hot float32 (len(names),): 1 where the scene has the attribute."""
    have = {s.color, s.kind, *(["large"] if s.large else []), *(["dark"] if s.dark else [])}
    return torch.tensor([1.0 if n in have else 0.0 for n in names], dtype=torch.float32)


def class_kinds(n: int) -> tuple[str, ...]:
    """The kinds drawn for `class[n]`: as many as the class layout distinguishes."""
    layout = CLASS_LAYOUTS[n]
    if "kind" not in layout:
        return KINDS
    rest = 1
    for f in layout:
        if f != "kind":
            rest *= len(_FACTORS[f])
    return KINDS[: n // rest]


def _factor_values(n: int) -> list[tuple[str, ...]]:
    return [class_kinds(n) if f == "kind" else _FACTORS[f] for f in CLASS_LAYOUTS[n]]


def class_index(s: Scene, n: int) -> int:
    """The class of a scene for `class[n]`, row-major over the layout's factors."""
    index = 0
    for f, values in zip(CLASS_LAYOUTS[n], _factor_values(n), strict=True):
        value = {"kind": s.kind, "size": "large" if s.large else "small", "color": s.color}[f]
        index = index * len(values) + values.index(value)
    return index


def class_names(n: int) -> list[str]:
    """Names of the classes of `class[n]` in index order, e.g. "circle small" for n = 8."""
    return [" ".join(combo) for combo in product(*_factor_values(n))]


class ShapesDataset(ImageDataset):
    def __init__(self, req: Request) -> None:
        kw = req.kwargs
        self.seed = _int(kw.get("seed", 0), "seed", req)
        self.size = _int(kw.get("size", DEFAULT_SIZE), "size", req)
        if self.size < 1:
            raise DataError(f"{req.what}: shapes(size={self.size}): expected a positive number "
                            "of images")
        # Paired domains (same seed and size) share the order key: the same shuffles.
        super().__init__(req, order_key=f"shapes:{self.seed}:{self.size}")
        self.domain = kw.get("domain")
        if self.domain is not None and self.domain not in DOMAINS:
            raise DataError(f"{req.what}: shapes(domain={self.domain!r}): expected \"a\" "
                            "(circles) or \"b\" (squares)")
        self.segmentation = _segmentation(req)
        _check_channels(req, self.segmentation)
        if req.pair is not None and self.domain is not None and not self.segmentation:
            raise DataError(f"{req.what}: shapes(domain={self.domain!r}) draws one kind, but "
                            "the declaration is an aligned pair: its images are the circle "
                            "(domain a) and the square (domain b) of each scene")
        labels = kw.get("labels", True)
        if labels is False and req.label is not None:
            raise DataError(f"{req.what}: shapes(labels=false) yields no labels, the spec "
                            f"declares {req.label}[{req.n_labels}]")
        self.kinds = KINDS if self.domain is None else (DOMAINS[self.domain],)
        self.attributes: tuple[str, ...] = ()
        if req.label == "label":
            self.attributes = _attributes(labels, req)
        elif req.label == "class":
            if not isinstance(labels, bool):
                raise DataError(f"{req.what}: shapes(labels=[...]) picks attributes for "
                                f"label[N]; class[{req.n_labels}] classes follow N (see "
                                "CLASS_LAYOUTS), so give no list")
            if req.n_labels not in CLASS_LAYOUTS:
                sizes = ", ".join(str(n) for n in CLASS_LAYOUTS)
                raise DataError(f"{req.what}: shapes has class[N] for N in {sizes}, the spec "
                                f"declares class[{req.n_labels}]")
            if self.domain is not None and "kind" in CLASS_LAYOUTS[req.n_labels]:
                raise DataError(f"{req.what}: shapes(domain={self.domain!r}) draws one kind, "
                                f"but class[{req.n_labels}] tells kinds apart")
            if self.domain is None:
                self.kinds = class_kinds(req.n_labels)

    def __len__(self) -> int:
        return self.size

    def scene(self, index: int) -> Scene:
        s = scene(self.seed, index, KINDS if self.domain else self.kinds)
        return s.with_kind(DOMAINS[self.domain]) if self.domain else s

    def __getitem__(self, index: int) -> tuple:
        if not 0 <= index < self.size:
            raise IndexError(index)
        s = self.scene(index)
        if self.segmentation:
            assert self.req.pair is not None
            return (label_map(s, self.req.channels, self.req.height, self.req.width),
                    render(s, *self.req.pair))
        if self.req.pair is not None:
            return (render(s.with_kind(DOMAINS["a"]), self.req.channels, self.req.height,
                           self.req.width), render(s.with_kind(DOMAINS["b"]), *self.req.pair))
        img = render(s, self.req.channels, self.req.height, self.req.width)
        if self.req.label == "label":
            return (img, attribute_vector(s, self.attributes))
        if self.req.label == "class":
            return (img, class_index(s, self.req.n_labels))
        return (img,)

    def describe(self) -> str:
        what = f"domain {self.domain} ({DOMAINS[self.domain]}s)" if self.domain else \
            "pairs circle → square" if self.req.pair else ", ".join(self.kinds)
        if self.segmentation:
            what = f"(label map of {self.req.channels} classes, scene) pairs, " + \
                (what if self.domain else ", ".join(self.kinds))
        if self.attributes:
            what += "; attributes " + ", ".join(self.attributes)
        elif self.req.label == "class":
            what += "; classes " + " × ".join(CLASS_LAYOUTS[self.req.n_labels])
        return f"{self.req.name}: shapes (seed {self.seed}), {self.size} images, {what}"


def _segmentation(req: Request) -> bool:
    """`segmentation=true`: the pair is (label map, scene), and needs a pair to fill."""
    value = req.kwargs.get("segmentation", False)
    if not isinstance(value, bool):
        raise DataError(f"{req.what}: shapes(segmentation={value!r}): expected true or false")
    if value and req.pair is None:
        raise DataError(f"{req.what}: shapes(segmentation=true) yields (label map, image) "
                        "pairs: declare image[N, H, W], image[C, H, W], the label map first")
    return value


def _check_channels(req: Request, segmentation: bool) -> None:
    """The images shapes draws are grey or RGB; a label map has any number of channels."""
    first = (req.channels, req.height, req.width)
    drawn = ([] if segmentation else [first]) + ([req.pair] if req.pair else [])
    for c, h, w in drawn:
        if c not in (1, 3):
            hint = ("; for a label map of N classes and its image, shapes(segmentation=true)"
                    if req.pair and (c, h, w) == first else "")
            raise DataError(f"{req.what}: shapes draws 1 (grey) or 3 (RGB) channels, the "
                            f"spec declares image[{c}, {h}, {w}]{hint}")


def _int(value: object, name: str, req: Request) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise DataError(f"{req.what}: shapes({name}={value!r}): expected an integer")
    return int(value)


def _attributes(labels: object, req: Request) -> tuple[str, ...]:
    if labels is True:
        if req.n_labels > len(ATTRIBUTES):
            raise DataError(f"{req.what}: shapes has {len(ATTRIBUTES)} attributes "
                            f"({', '.join(ATTRIBUTES)}), the spec declares label[{req.n_labels}]")
        return ATTRIBUTES[: req.n_labels]
    if not isinstance(labels, list | tuple) or not all(isinstance(x, str) for x in labels):
        raise DataError(f"{req.what}: shapes(labels=...): expected true, false or a list of "
                        f"attribute names from {', '.join(ATTRIBUTES)}")
    unknown = [x for x in labels if x not in ATTRIBUTES]
    if unknown:
        raise DataError(f"{req.what}: shapes has no attribute {unknown[0]!r}; attributes are "
                        f"{', '.join(ATTRIBUTES)}")
    if len(labels) != req.n_labels:
        raise DataError(f"{req.what}: shapes(labels=...) names {len(labels)} attributes, the "
                        f"spec declares label[{req.n_labels}]")
    return tuple(labels)

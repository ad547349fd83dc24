"""shapes(): procedural scenes whose labels agree with their pixels, served for any spec."""

from __future__ import annotations

import pytest
import torch

from gandsl.data import DataError, build_dataset, build_sources, class_names
from gandsl.data.shapes_scene import geometry
from gandsl.pipeline import check_source


def spec_of(*decls: str):
    return check_source("gan t\n" + "\n".join(decls) + "\n", "t.gan").spec


def dataset(decl: str):
    spec = spec_of(decl)
    return build_dataset(spec, spec.datasets[0])


def region(img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(shape mask, background color) read from the pixels: corners are always background."""
    bg = img[:, 0, 0]
    mask = (img - bg[:, None, None]).abs().amax(0) > 0.3
    return mask, bg


def test_deterministic_by_seed_and_index():
    a = dataset("data d: image[3, 32, 32], label[5] = shapes(seed=7)")
    b = dataset("data d: image[3, 32, 32], label[5] = shapes(seed=7)")
    later = [b[i] for i in (9, 3, 0)]  # order of access does not matter
    for (xa, ca), (xb, cb) in zip([a[i] for i in (9, 3, 0)], later, strict=True):
        assert torch.equal(xa, xb) and torch.equal(ca, cb)
    other = dataset("data d: image[3, 32, 32], label[5] = shapes(seed=8)")
    assert not torch.equal(a[0][0], other[0][0])
    assert not torch.equal(a[0][0], a[1][0])


def test_images_in_range_at_any_resolution():
    for h, w in [(16, 16), (32, 32), (48, 64)]:
        x, _ = dataset(f"data d: image[3, {h}, {w}], class[4] = shapes()")[0]
        assert x.shape == (3, h, w) and x.dtype == torch.float32
        assert -1 <= x.min() and x.max() <= 1


def test_color_attributes_match_pixels_and_are_exclusive():
    ds = dataset("data d: image[3, 64, 64], label[5] = shapes(seed=1)")
    none = 0
    for i in range(120):
        x, c = ds[i]
        mask, _ = region(x)
        mean = x[:, mask].mean(1)
        assert c[:3].sum() <= 1  # red, green, blue: at most one
        if c[:3].sum() == 0:  # the fourth color, magenta: red and blue over green
            none += 1
            assert mean[0] > mean[1] + 0.5 and mean[2] > mean[1] + 0.5
        else:
            k = int(c[:3].argmax())
            others = [mean[j] for j in range(3) if j != k]
            assert mean[k] > max(others) + 0.5  # clearly the dominant channel
    assert 15 <= none <= 45  # about a quarter


def test_large_and_dark_attributes_match_pixels():
    ds = dataset("data d: image[3, 64, 64], label[5] = shapes(seed=2)")
    small, large = [], []
    for i in range(150):
        x, c = ds[i]
        mask, bg = region(x)
        (large if c[3] == 1 else small).append(int(mask.sum()))
        assert (bg.mean() < 0) == bool(c[4] == 1)  # dark background
    assert small and large
    # Radii 0.16-0.20 vs 0.28-0.32 of the side: every large shape of any kind is bigger.
    assert min(large) > max(small)


def test_more_attributes_and_chosen_attributes():
    ds = dataset("data d: image[3, 32, 32], label[10] = shapes()")
    for i in range(30):
        s = ds.scene(i)
        _, c = ds[i]
        assert c[5:].sum() == 1 and c[5 + ["circle", "square", "triangle", "diamond",
                                           "cross"].index(s.kind)] == 1
    picked = dataset('data d: image[3, 32, 32], label[2] = shapes(labels=["large", "red"])')
    for i in range(30):
        s = picked.scene(i)
        assert picked[i][1].tolist() == [float(s.large), float(s.color == "red")]


def test_class_layouts():
    ds = dataset("data d: image[3, 32, 32], class[8] = shapes()")
    kinds = ["circle", "square", "triangle", "diamond"]
    seen = set()
    for i in range(200):
        s = ds.scene(i)
        _, y = ds[i]
        assert s.kind in kinds
        assert y == 2 * kinds.index(s.kind) + int(s.large)
        assert class_names(8)[y] == f"{s.kind} {'large' if s.large else 'small'}"
        seen.add(y)
    assert seen == set(range(8))
    ten = dataset("data d: image[3, 32, 32], class[10] = shapes()")
    assert {ten[i][1] for i in range(300)} == set(range(10))
    four = dataset("data d: image[1, 32, 32], class[4] = shapes()")
    assert all(four[i][1] == kinds.index(four.scene(i).kind) for i in range(50))


def test_domains_are_circles_and_squares_and_paired_by_seed():
    a = dataset('data a: image[3, 32, 32] = shapes(domain="a", seed=3)')
    b = dataset('data b: image[3, 32, 32] = shapes(domain="b", seed=3)')
    for i in range(40):
        sa, sb = a.scene(i), b.scene(i)
        assert (sa.kind, sb.kind) == ("circle", "square")
        assert sa.with_kind("square") == sb  # the same scene otherwise
        (xa,), (xb,) = a[i], b[i]
        ma, bga = region(xa)
        mb, bgb = region(xb)
        assert torch.equal(bga, bgb)
        # The pixels differ only inside the shapes' common box (plus the antialiased edge).
        cx, cy, r = geometry(sa, 32, 32)
        ys, xs = torch.nonzero((xa - xb).abs().amax(0) > 1e-6, as_tuple=True)
        assert len(xs) > 0
        assert ((xs + 0.5 - cx).abs() <= r + 1).all() and ((ys + 0.5 - cy).abs() <= r + 1).all()
        center = (slice(None), int(cy), int(cx))
        assert torch.equal(xa[center], xb[center])  # the same color
        ink_a = (xa - bga[:, None, None]).abs().sum()  # coverage-weighted area
        ink_b = (xb - bgb[:, None, None]).abs().sum()
        # a circle and a square of equal area
        assert ink_a.item() == pytest.approx(ink_b.item(), rel=0.05)
    assert a.order_key == b.order_key  # the loader shuffles paired domains alike


def test_grey_is_the_luminance_of_rgb():
    rgb = dataset("data d: image[3, 32, 32] = shapes()")[4][0]
    grey = dataset("data d: image[1, 32, 32] = shapes()")[4][0]
    luma = (torch.tensor([0.299, 0.587, 0.114])[:, None, None] * (rgb + 1) / 2).sum(0) * 2 - 1
    assert grey.shape == (1, 32, 32)
    assert torch.allclose(grey[0], luma, atol=1e-5)


def test_a_source_serves_256_images():
    spec = spec_of("data d: image[3, 32, 32], label[5] = shapes()")
    x, c = build_sources(spec, ["d"], 256, "cpu", seed=0)["d"].next()
    assert x.shape == (256, 3, 32, 32) and c.shape == (256, 5)


@pytest.mark.parametrize("decl, words", [
    ("data d: image[3, 32, 32], class[7] = shapes()",
     ["class[7]", "2, 4, 5, 8, 10, 16, 20"]),
    ("data d: image[3, 32, 32], label[11] = shapes()", ["label[11]", "10 attributes"]),
    ('data d: image[3, 32, 32] = shapes(domain="c")', ["'c'", '"a"', '"b"']),
    ('data d: image[3, 32, 32], class[8] = shapes(domain="a")', ["one kind", "class[8]"]),
    ('data d: image[3, 32, 32], label[2] = shapes(labels=["red", "bald"])', ["'bald'"]),
    ('data d: image[3, 32, 32], label[3] = shapes(labels=["red", "large"])',
     ["2 attributes", "label[3]"]),
    ('data d: image[3, 32, 32], class[8] = shapes(labels=["red"])', ["class[8]", "no list"]),
    ("data d: image[2, 32, 32] = shapes()", ["1 (grey) or 3 (RGB)", "image[2, 32, 32]"]),
])
def test_errors(decl, words):
    with pytest.raises(DataError) as e:
        dataset(decl)
    assert str(e.value).startswith("t.gan:2: data `d`")
    for w in words:
        assert w in str(e.value)

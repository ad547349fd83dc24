"""digits(): scikit-learn's 8×8 digits, resized, in [-1, 1], with a fixed train/test split."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from gandsl.data import DataError, build_sources
from gandsl.pipeline import check_source

ROOT = Path(__file__).resolve().parents[2]


def spec_of(decl: str):
    text = textwrap.dedent(f"""\
        gan t
        {decl}
        network D(x: image[1, 8, 8]) -> scalar {{ return x -> flatten -> linear(1) }}
        """)
    return check_source(text, "t.gan").spec


def cgan(**params):
    return check_source((ROOT / "specs/cgan.gan").read_text(), "specs/cgan.gan", params).spec


def test_cgan_batches_have_declared_types():
    src = build_sources(cgan(), ["digits"], 100, "cpu", seed=0)["digits"]
    x, y = src.next()
    assert x.shape == (100, 1, 28, 28) and x.dtype == torch.float32
    assert y.shape == (100,) and y.dtype == torch.int64
    assert x.min().item() == pytest.approx(-1.0) and x.max().item() == pytest.approx(1.0)
    assert 0 <= y.min() and y.max() <= 9


def test_train_split_is_first_1500_and_balanced():
    src = build_sources(cgan(), ["digits"], 1500, "cpu", seed=0)["digits"]
    ds = src.streams[0].dataset
    assert len(ds) == 1500
    counts = Counter(ds.targets)
    assert sorted(counts) == list(range(10))
    assert all(140 <= c <= 160 for c in counts.values()), counts
    _, y = src.next()  # one batch is the whole split, shuffled
    assert sorted(Counter(y.tolist()).items()) == sorted(counts.items())


def test_test_split_and_positional_split():
    spec = spec_of('data d: image[1, 8, 8], class[10] = digits("test")')
    ds = build_sources(spec, ["d"], 10, "cpu", seed=0)["d"].streams[0].dataset
    assert len(ds) == 297
    from sklearn.datasets import load_digits
    raw = load_digits()
    img, target = ds[0]
    assert target == raw.target[1500]
    # At the native size there is no resampling: values are exactly v / 8 - 1.
    assert torch.allclose(img[0], torch.tensor(raw.images[1500] / 8 - 1, dtype=torch.float32))


def test_deterministic_across_builds():
    a = build_sources(cgan(), ["digits"], 32, "cpu", seed=3)["digits"]
    b = build_sources(cgan(), ["digits"], 32, "cpu", seed=3)["digits"]
    for _ in range(3):
        (xa, ya), (xb, yb) = a.next(), b.next()
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    c = build_sources(cgan(), ["digits"], 32, "cpu", seed=4)["digits"]
    assert not torch.equal(c.next()[1], build_sources(cgan(), ["digits"], 32, "cpu",
                                                      seed=3)["digits"].next()[1])


def test_resize_is_bilinear_upsampling():
    ds = build_sources(cgan(S=16), ["digits"], 10, "cpu", seed=0)["digits"].streams[0].dataset
    small = build_sources(spec_of("data d: image[1, 8, 8], class[10] = digits()"), ["d"], 10,
                          "cpu", seed=0)["d"].streams[0].dataset
    big, _ = ds[5]
    native, _ = small[5]
    assert big.shape == (1, 16, 16)
    # Away from the border, bilinear with half-pixel centers is what PIL's BILINEAR does.
    from PIL import Image
    ref = Image.fromarray(native[0].numpy(), mode="F").resize((16, 16), Image.BILINEAR)
    ref = torch.from_numpy(np.array(ref))
    assert torch.allclose(big[0, 1:-1, 1:-1], ref[1:-1, 1:-1], atol=1e-5)
    assert -1 <= big.min() and big.max() <= 1


def test_one_hot_labels_for_label_field():
    spec = spec_of("data d: image[1, 8, 8], label[10] = digits()")
    x, c = build_sources(spec, ["d"], 8, "cpu", seed=0)["d"].next()
    assert c.shape == (8, 10) and c.dtype == torch.float32
    assert torch.equal(c.sum(1), torch.ones(8))


@pytest.mark.parametrize("decl, words", [
    ("data d: image[3, 8, 8], class[10] = digits()", ["data `d`", "1 channel", "image[3, 8, 8]"]),
    ("data d: image[1, 8, 8], class[7] = digits()", ["data `d`", "10 classes", "class[7]"]),
    ('data d: image[1, 8, 8] = digits(split="val")', ["data `d`", "'val'", '"train"', '"test"']),
])
def test_errors(decl, words):
    with pytest.raises(DataError) as e:
        build_sources(spec_of(decl), ["d"], 4, "cpu", seed=0)
    for w in words:
        assert w in str(e.value)
    assert str(e.value).startswith("t.gan:2: data `d`")

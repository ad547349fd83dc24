"""Translation metrics read their targets off the objective: the domain the judging
discriminator sees (CycleGAN, pix2pix), the labels asked for against the source's own
(StarGAN), and reconstructions against the first image's source."""

from __future__ import annotations

import pytest
import torch
from conftest import ROOT

import gandsl
from gandsl.data.shapes_draw import KINDS
from gandsl.eval.translation import translation_metrics


class Stub:
    """A classifier that reads every image as a `kind` shape with the given attributes."""

    source = "shapes"

    def __init__(self, kind: str, color: int = 0, size: int = 1, dark: int = 0) -> None:
        self.heads = {"kind": KINDS.index(kind), "color": color, "size": size, "dark": dark}

    def predict(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return {k: torch.full((len(images),), v) for k, v in self.heads.items()}


def _spec(name: str, **params):
    return gandsl.load(ROOT / "specs" / f"{name}.gan", **params).spec


def test_cyclegan_targets_are_the_judges_domains_and_cycles_return():
    spec = _spec("cyclegan", S=16, ngf=4, ndf=4, blocks=1, d_layers=2)
    a, b = torch.rand(6, 3, 16, 16), torch.rand(6, 3, 16, 16)
    rows = {"a": a, "b": b, "fake_b": b.clone(), "fake_a": a.clone(),
            "G_ba_fake_b": a.clone(), "G_ab_fake_a": b + 0.5}
    out = translation_metrics(spec, Stub("square"), rows, {}, "shapes")
    assert out["fake_b"] == {"from": "a", "target": "square", "target_accuracy": 1.0}
    assert out["fake_a"] == {"from": "b", "target": "circle", "target_accuracy": 0.0}
    assert out["G_ba_fake_b"]["reconstruction_l1"] == 0.0
    assert abs(out["G_ab_fake_a"]["reconstruction_l1"] - 0.5) < 1e-6


def test_pix2pix_target_is_the_pairs_second_image():
    spec = _spec("pix2pix", S=32, ngf=4, ndf=4)
    b = torch.rand(4, 3, 32, 32)
    rows = {"a": torch.rand(4, 3, 32, 32), "b": b, "fake": b + 0.125}
    out = translation_metrics(spec, Stub("square"), rows, {}, "shapes")
    assert out["fake"]["target"] == "square" and out["fake"]["target_accuracy"] == 1.0
    # the pair's other image is what the translation should have made
    assert out["fake"]["paired"] == "b"
    assert out["fake"]["paired_l1"] == pytest.approx(0.125)


def test_stargan_scores_changed_and_kept_labels_apart():
    spec = _spec("stargan", S=16, g_ch=4, d_ch=4, g_res=1, d_layers=3)
    # attributes: red, green, blue, large, dark; the stub reads red, large, light
    c_org = torch.tensor([[1.0, 0, 0, 1, 0], [0, 1, 0, 1, 0]])
    c_trg = torch.tensor([[1.0, 0, 0, 0, 0], [1, 0, 0, 1, 1]])
    images = torch.rand(2, 3, 16, 16)
    rows = {"x": images, "c_org": c_org, "c_trg": c_trg, "fake": images,
            "G_fake": images + 0.25}
    out = translation_metrics(spec, Stub("circle", color=0, size=1, dark=0), rows,
                              {"fake": "c_trg", "G_fake": "c_org"}, "shapes")
    # changed: (0, large→0) wrong; (1, red 0→1) right, (1, green 1→0) right, (1, dark) wrong
    assert out["fake"]["changed_accuracy"] == 0.5
    assert out["fake"]["kept_accuracy"] == 1.0  # the stub agrees with every kept label
    per = out["fake"]["per_label"]
    assert per["large"] == {"changed": 0.0, "kept": 1.0}
    assert per["red"] == {"changed": 1.0, "kept": 1.0} and per["dark"]["changed"] == 0.0
    assert per["blue"] == {"changed": None, "kept": 1.0}  # never asked to change
    assert abs(out["G_fake"]["reconstruction_l1"] - 0.25) < 1e-6

"""`load NET ("file.safetensors")`: pretrained weights by name or in order, every mismatch
named before training, and errors at the line of the train section that is wrong."""

from __future__ import annotations

import pytest
import torch
from conftest import ROOT, codes_at
from safetensors.torch import save_file

from gandsl.train.config import RunConfig, RunError
from gandsl.train.trainer import Trainer

SMALL = {"S": 16, "ngf": 8, "blocks": 2, "ndf": 8, "fc": 16, "vgg": 2}


def _trainer(tmp_path, weights: str, **kw) -> Trainer:
    spec = tmp_path / "specs" / "srgan.gan"
    spec.parent.mkdir(exist_ok=True)
    spec.write_text((ROOT / "specs" / "srgan.gan").read_text())
    cfg = dict(spec=str(spec), data="shapes", steps=1, batch=2, out=tmp_path / "run",
               progress=False, params={**SMALL, "vgg_weights": weights})
    cfg.update(kw)
    return Trainer(RunConfig(**cfg))


def _vgg_features(widths: list[int]) -> dict[str, torch.Tensor]:
    """torchvision's `vgg19().features` naming: conv i at `features.<index>`, relus and
    pools between (the indices skip them), then a classifier the spec does not use."""
    out, index, cin = {}, 0, 3
    for w in widths:
        out[f"features.{index}.weight"] = torch.randn(w, cin, 3, 3)
        out[f"features.{index}.bias"] = torch.randn(w)
        index, cin = index + 2, w
    out["classifier.0.weight"] = torch.randn(4, 4)
    return out


def test_order_loads_a_torchvision_style_file_into_the_frozen_vgg(tmp_path):
    widths = [2, 2, 4, 4, 8, 8, 8, 8, 16, 16, 16, 16, 16, 16, 16, 16]  # VGG19 at width 2
    tensors = _vgg_features(widths)
    (tmp_path / "weights").mkdir()
    save_file(tensors, str(tmp_path / "weights" / "vgg.safetensors"))
    t = _trainer(tmp_path, "weights/vgg.safetensors")  # from the project folder
    convs = [m for m in t.networks["VGG"].modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 16
    for k, conv in enumerate(convs):  # features.2 before features.10: natural order
        assert torch.equal(conv.weight, tensors[f"features.{2 * k}.weight"])
        assert torch.equal(conv.bias, tensors[f"features.{2 * k}.bias"])


def test_by_name_needs_every_key_and_shape(tmp_path):
    t = _trainer(tmp_path, "")
    state = {k: v.clone() for k, v in t.networks["VGG"].state_dict().items()}
    path = tmp_path / "vgg_named.safetensors"
    save_file(state, str(path))
    from gandsl.train.weights import load_weights

    fresh = _trainer(tmp_path, "", out=tmp_path / "run2").networks["VGG"]
    assert "tensors from" in load_weights(fresh, path, False, "t")
    for k, v in fresh.state_dict().items():
        assert torch.equal(v, state[k])
    first = next(iter(state))
    save_file({k: v for k, v in state.items() if k != first}, str(path))
    with pytest.raises(RunError, match=f"missing {first.replace('.', '[.]')}"):
        load_weights(fresh, path, False, "t")


@pytest.mark.parametrize("content, words", [
    (None, ["is not there", "nothing is downloaded"]),
    (b"not safetensors", ["cannot read"]),
])
def test_a_missing_or_broken_file_is_named(tmp_path, content, words):
    if content is not None:
        (tmp_path / "bad.safetensors").write_bytes(content)
    with pytest.raises(RunError) as e:
        _trainer(tmp_path, str(tmp_path / "bad.safetensors"))
    for w in words:
        assert w in str(e.value)
    assert "load VGG" in str(e.value)


def test_wrong_shapes_in_order_are_named(tmp_path):
    save_file(_vgg_features([3] * 16), str(tmp_path / "v.safetensors"))
    with pytest.raises(RunError, match=r"tensor 0\.weight \(3, 3, 3, 3\) would go into "
                                       r"main\.0\.weight \(2, 3, 3, 3\)"):
        _trainer(tmp_path, str(tmp_path / "v.safetensors"))


def test_load_statement_errors():
    text = (ROOT / "specs" / "srgan.gan").read_text()
    for bad, col in (("load VGGG (vgg_weights, order=true)", 8),
                     ("load VGG (1, order=true)", 13),
                     ("load VGG (vgg_weights, prefix=2)", 33),
                     ("load VGG (vgg_weights, order=1)", 32)):
        src = text.replace('load VGG (vgg_weights, order=true, prefix="features.")', bad)
        line = next(k for k, t in enumerate(src.splitlines(), 1) if t.strip().startswith(bad))
        assert ("E304", line, col) in codes_at(src), codes_at(src)

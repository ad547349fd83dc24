"""The compiled networks compute what the reference implementations compute.

Each reference module (benchmarks/reference_models.py) is written out by hand, as in the
reference repository, with the same hyperparameters; the compiled network's weights and
buffers are copied into it in registration order, and both must give identical outputs for
identical inputs, in training and in evaluation mode.
"""

from __future__ import annotations

import sys

import pytest
import torch
from conftest import ROOT
from torch import nn

import gandsl

sys.path.insert(0, str(ROOT / "benchmarks"))
from reference_models import (  # noqa: E402
    DCGANDiscriminator,
    DCGANGenerator,
    NLayerDiscriminator,
    ResnetGenerator,
    StarGANDiscriminator,
    StarGANGenerator,
)

# ---- the comparison -------------------------------------------------------------------------

def copy_into(reference: nn.Module, compiled: nn.Module) -> None:
    """Copy parameters and buffers in registration order, checking every shape."""
    src = list(compiled.state_dict().values())
    dst = reference.state_dict()
    assert len(src) == len(dst), (len(src), len(dst))
    for (key, value), new in zip(dst.items(), src, strict=True):
        assert value.shape == new.shape, key
        dst[key] = new.clone()
    reference.load_state_dict(dst)


def _randomize(module: nn.Module) -> None:
    """Non-default affine parameters, so that the comparison also covers norms."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn_like(p) * 0.1)


CASES = [
    ("dcgan", {"S": 64, "ngf": 4, "ndf": 4, "nz": 10}, "G",
     lambda: DCGANGenerator(10, 4, 3), lambda: (torch.randn(3, 10),)),
    ("dcgan", {"S": 64, "ngf": 4, "ndf": 4, "nz": 10}, "D",
     lambda: DCGANDiscriminator(4, 3), lambda: (torch.randn(3, 3, 64, 64),)),
    ("stargan", {"S": 32, "g_ch": 4, "d_ch": 4, "g_res": 2, "d_layers": 4}, "G",
     lambda: StarGANGenerator(4, 5, 2),
     lambda: (torch.randn(3, 3, 32, 32), torch.randint(0, 2, (3, 5)).float())),
    ("stargan", {"S": 32, "g_ch": 4, "d_ch": 4, "g_res": 2, "d_layers": 4}, "D",
     lambda: StarGANDiscriminator(32, 4, 5, 4), lambda: (torch.randn(3, 3, 32, 32),)),
    ("stargan", {"S": 32, "g_ch": 4, "d_ch": 4, "g_res": 1, "d_layers": 5, "both": True}, "G",
     lambda: StarGANGenerator(4, 15, 1),
     lambda: (torch.randn(3, 3, 32, 32), torch.randint(0, 2, (3, 15)).float())),
    ("stargan", {"S": 32, "g_ch": 4, "d_ch": 4, "g_res": 1, "d_layers": 5, "both": True}, "D",
     lambda: StarGANDiscriminator(32, 4, 13, 5), lambda: (torch.randn(3, 3, 32, 32),)),
    ("cyclegan", {"S": 32, "ngf": 4, "ndf": 4, "blocks": 3}, "G_ab",
     lambda: ResnetGenerator(4, 3), lambda: (torch.randn(2, 3, 32, 32),)),
    ("cyclegan", {"S": 32, "ngf": 4, "ndf": 4, "blocks": 3}, "D_b",
     lambda: NLayerDiscriminator(4), lambda: (torch.randn(2, 3, 32, 32),)),
]


@pytest.mark.parametrize(("spec", "params", "net", "make_ref", "make_inputs"), CASES,
                         ids=[f"{c[0]}-{c[2]}{'-both' if c[1].get('both') else ''}"
                              for c in CASES])
def test_compiled_equals_reference(spec, params, net, make_ref, make_inputs):
    torch.manual_seed(0)
    compiled = gandsl.load(ROOT / "specs" / f"{spec}.gan", **params).classes[net]()
    _randomize(compiled)
    reference = make_ref()
    copy_into(reference, compiled)
    for train in (True, False):
        compiled.train(train)
        reference.train(train)
        inputs = make_inputs()
        got, want = compiled(*inputs), reference(*inputs)
        got = tuple(got) if isinstance(got, tuple) else (got,)
        want = tuple(want) if isinstance(want, tuple) else (want,)
        for g, w in zip(got, want, strict=True):
            assert g.shape == w.shape
            torch.testing.assert_close(g, w, rtol=0, atol=0)
    # running statistics (batch norm, StarGAN's tracked instance norm) were updated alike
    for (k, a), b in zip(reference.state_dict().items(), compiled.state_dict().values(),
                         strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)

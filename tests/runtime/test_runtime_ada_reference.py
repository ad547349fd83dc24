"""gandsl's ADA pipeline equals the official one: NVlabs/stylegan2-ada-pytorch AugmentPipe's
outputs, input gradients and random draws on fixed inputs and seeds, kept in
reference/ada_reference.safetensors (written by reference/make_ada_reference.py from a
checkout of the official code, which is not part of this repository)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import gandsl.runtime as rt

HERE = Path(__file__).resolve().parent / "reference"
sys.path.insert(0, str(HERE))
from make_ada_reference import CASES, case_name  # noqa: E402

REF = load_file(str(HERE / "ada_reference.safetensors"))


def test_the_file_holds_every_case():
    assert {f"out/{case_name(*c)}" for c in CASES} <= set(REF)


@pytest.mark.parametrize("case", CASES, ids=[case_name(*c) for c in CASES])
def test_ada_equals_the_official_augment_pipe(case):
    _, preset, options, p, shape, seed = case
    name = case_name(*case)
    x = REF[f"x/{shape}"].clone().requires_grad_(True)
    torch.manual_seed(seed)
    out = rt.Augment(rt.ada(preset, **options))(x, p=p)
    after = torch.rand(8)
    # the same draws, in the same order: the generator ends where the reference's ended
    assert torch.equal(after, REF[f"after/{name}"])
    # geometry resamples through a different but equivalent sequence of float ops
    torch.testing.assert_close(out, REF[f"out/{name}"], atol=2e-5, rtol=0)
    (out * REF[f"up/{shape}"]).sum().backward()
    torch.testing.assert_close(x.grad, REF[f"grad/{name}"], atol=2e-5, rtol=0)
    if p == 1.0:
        # every transformation ran: the images really moved (the check is not vacuous)
        assert (out - x).abs().max() > 0.1

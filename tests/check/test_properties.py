"""Property-based tests: layer rules agree with torch for random configurations, and no
input text makes the compiler fail with anything but a diagnostic."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - evaluated constructor strings use this name
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from gandsl import runtime as rt
from gandsl.diagnostics import GandslError
from gandsl.layers import LAYERS, Ctx, LayerError
from gandsl.pipeline import UsageError, check_source
from gandsl.types import spatial

NAMESPACE = {"nn": nn, "rt": rt, "torch": torch, "F": F}


def _agree(layer_name: str, x_dims: tuple[int, int, int], args: dict) -> None:
    """The compiler's shape and count for one configuration against the real module."""
    layer = LAYERS[layer_name]
    full = {p.name: p.default for p in layer.all_params if not p.required}
    full.update(args)
    x = spatial(*x_dims)
    ctx = Ctx(x=x, args=full, names={"x": "x"}, attr="m")
    def run():
        # The emitted constructor and forward expression, evaluated as generated code is.
        module = eval(layer.module(ctx), NAMESPACE) if layer.module else nn.Identity()  # noqa: S307
        scope = {**NAMESPACE, "x": torch.zeros(2, *x_dims), "self": type("M", (), {"m": module})}
        return module, eval(layer.forward(ctx), scope)  # noqa: S307

    try:
        out = layer.infer(ctx)
    except LayerError:
        # The compiler refuses: torch must refuse too (or produce an empty tensor).
        with pytest.raises((RuntimeError, ValueError)):
            _, y = run()
            if y.numel() == 0:
                raise RuntimeError("empty output") from None
        return
    module, y = run()
    assert tuple(y.shape[1:]) == out.dims
    assert sum(p.numel() for p in module.parameters()) == layer.count(ctx)


small = st.integers(1, 9)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c=small, h=small, w=small, out=small, k=st.integers(1, 5), stride=st.integers(1, 3),
       pad=st.integers(0, 3), dilation=st.integers(1, 2), bias=st.booleans())
def test_conv_rules_match_torch(c, h, w, out, k, stride, pad, dilation, bias):
    _agree("conv", (c, h, w), dict(out=out, k=k, stride=stride, pad=pad, dilation=dilation,
                                   bias=bias))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(c=small, h=small, w=small, out=small, k=st.integers(1, 5), stride=st.integers(1, 3),
       pad=st.integers(0, 2), out_pad=st.integers(0, 2), bias=st.booleans())
def test_conv_t_rules_match_torch(c, h, w, out, k, stride, pad, out_pad, bias):
    _agree("conv_t", (c, h, w), dict(out=out, k=k, stride=stride, pad=pad, out_pad=out_pad,
                                     bias=bias))


@settings(max_examples=100, deadline=None)
@given(kind=st.sampled_from(["avg_pool", "max_pool"]), c=small, h=small, w=small,
       k=st.integers(1, 4), stride=st.integers(0, 3), pad=st.integers(0, 2))
def test_pool_rules_match_torch(kind, c, h, w, k, stride, pad):
    _agree(kind, (c, h, w), dict(k=k, stride=stride, pad=pad))


# ---- no input escapes as a Python exception ------------------------------------------------

TOKENS = ["gan", "param", "let", "data", "block", "network", "frozen", "objective", "train",
          "if", "else", "for", "in", "return", "minimizes", "every", "batch", "steps", "per",
          "step", "x", "h", "G", "D", "S", "conv", "relu", "concat", "tile", "repeat", "res",
          "image", "map", "label", "class", "latent", "scalar", "normal", "gan_d", "l1",
          "adam", "lr", "linear_decay", "1", "64", "0", "-1", "2.5", "200k", '"s"', "true",
          "(", ")", "[", "]", "{", "}", ",", ":", ";", "=", "~", "->", "+", "-", "*", "/",
          "//", "^", "|", ".", "..", "==", "<", "\n"]

SKELETON = """gan t
param S = 8
block res(ch) { in -> conv(ch, 3, pad=1) + in }
network G(z: latent[4]) -> image[1, S, S] {
  h = z -> linear(S * S) -> reshape(1, S, S)
  return h -> res(1) -> tanh
}
network D(x: image[1, S, S]) -> scalar { return x -> flatten -> linear(1) }
objective {
  z ~ normal(4)
  fake = G(z)
  D minimizes gan_d(D(fake), D(fake))
  G minimizes gan_g(D(fake))
}
"""


def _never_crashes(text: str) -> None:
    try:
        check_source(text, "fuzz.gan")
    except (GandslError, UsageError):
        pass


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_token_soup_never_crashes(tokens):
    _never_crashes(" ".join(tokens))


@settings(max_examples=300, deadline=None)
@given(pos=st.integers(0, len(SKELETON)), cut=st.integers(0, 12),
       insert=st.lists(st.sampled_from(TOKENS), max_size=4))
def test_edited_valid_spec_never_crashes(pos, cut, insert):
    _never_crashes(SKELETON[:pos] + " ".join(insert) + SKELETON[pos + cut:])


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text):
    _never_crashes(text)


def test_skeleton_is_valid():
    check_source(SKELETON, "fuzz.gan")

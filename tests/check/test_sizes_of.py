"""Sizes of tensors as compile-time values in network bodies (`in.channels`, `h.height`,
`h.width`, `z.size`): a block reads its input's channel count, the values are those of the
inferred types, and wrong uses fail at the attribute."""

from __future__ import annotations

import pytest
from conftest import codes_at, compile_text

SPEC = """\
data d: image[3, 16, 16] = shapes(size=16)
block res(c=in.channels) {
  h = in -> conv(c, 3, pad=1) -> relu -> conv(in.channels, 3, pad=1)
  return in + h
}
block down { in -> conv(in.channels * 2, 3, pad=1) -> avg_pool(2) }
network G(z: latent[8]) -> image[3, 16, 16] {
  h = z -> linear(64 * 4 * 4) -> reshape(64, 4, 4)
  h = h -> upsample(h.height // 2) -> res -> res(32)
  return h -> upsample(2) -> conv(3, 3, pad=1) -> tanh
}
network D(x: image[3, 16, 16]) -> scalar {
  h = x -> conv(32, 3, pad=1) -> down -> down
  n = h.size
  return h -> flatten -> linear(n // 4 + h.width) -> linear(1)
}
objective {
  x ~ d
  z ~ normal(8)
  D minimizes gan_d(D(x), D(G(z)))
  G minimizes gan_g(D(G(z)))
}
"""


def _layers(spec, net):
    return [(n.op, n.args.get("out"), n.params) for n in spec.network(net).nodes
            if n.op in ("conv", "linear")]


def test_sizes_are_those_of_the_inferred_types():
    spec = compile_text(SPEC).spec
    # res: c defaults to its input's 64 channels; res(32) narrows the middle only
    convs = [n for n in spec.network("G").nodes if n.op == "conv"]
    assert [n.params for n in convs] == [
        64 * 64 * 9 + 64, 64 * 64 * 9 + 64,  # res
        64 * 32 * 9 + 32, 32 * 64 * 9 + 64,  # res(32)
        64 * 3 * 9 + 3]
    up = next(n for n in spec.network("G").nodes if n.op == "upsample")
    assert up.args["scale"] == 2  # h.height // 2 with h 4×4
    d = spec.network("D")
    assert [n.params for n in d.nodes if n.op == "conv"] == [
        3 * 32 * 9 + 32, 32 * 64 * 9 + 64, 64 * 128 * 9 + 128]  # down doubles its input's
    # h is 128×4×4: size 2048, width 4 → linear(2048 // 4 + 4)
    first = next(n for n in d.nodes if n.op == "linear")
    assert first.params == 2048 * 516 + 516


@pytest.mark.parametrize("edit, error", [
    (("linear(64 * 4 * 4)", "linear(z.channels)"), ("E201", 8, 19)),
    (("n = h.size", "n = h.depth"), ("E301", 14, 7)),
    (("res(32)", "res(q.channels)"), ("E101", 9, 50)),
    (("res(32)", "res(d.channels)"), ("E201", 9, 50)),
])
def test_wrong_sizes_fail_at_the_attribute(edit, error):
    assert codes_at(SPEC.replace(*edit))[:1] == [error]


def test_a_size_after_a_failed_layer_is_reported_once():
    """The failure is the layer's; the size that depends on it says nothing more."""
    bad = SPEC.replace("-> down -> down", "-> conv(8, 40) -> down")
    assert codes_at(bad) == [("E202", 13, 42)]

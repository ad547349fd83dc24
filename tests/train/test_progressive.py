"""Progressive growing (PGGAN): `grow(old, new)` levels, what runs at each level of detail,
the fade, the schedule, and errors at the line that is wrong."""

from __future__ import annotations

import textwrap

import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT, codes_at

import gandsl
from gandsl.train.config import RunConfig
from gandsl.train.schedule import level
from gandsl.train.trainer import Trainer

NETS = """\
gan grow
network G(z: latent[8]) -> image[3, 16, 16] {
  h = z -> linear(8 * 16) -> reshape(8, 4, 4)
  rgb = h -> conv(3, 1)
  for k in 1..2 {
    h = h -> upsample -> conv(8, 3, pad=1)
    rgb = grow(rgb, h -> conv(3, 1))
  }
  return rgb
}
network D(x: image[3, 16, 16]) -> scalar {
  h = x -> conv(8, 1)
  for k in 2..1 by -1 {
    h = h -> conv(8, 3, pad=1) -> downsample
    h = grow(x -> downsample(2^(3 - k)) -> conv(8, 1), h)
  }
  return h -> flatten -> linear(1)
}
"""


@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    path = tmp_path_factory.mktemp("grow") / "grow.gan"
    path.write_text(NETS)
    loaded = gandsl.load(path)
    torch.manual_seed(0)
    return loaded.networks["G"], loaded.networks["D"], loaded.source


def _up(x, f):
    return F.interpolate(x, scale_factor=f, mode="nearest")


def test_g_at_every_level_is_the_upsampled_image_of_that_level(nets):
    g, _, _ = nets
    z = torch.randn(2, 8)
    h4 = g.linear_1(z).reshape(-1, 8, 4, 4)
    h8 = g.conv_2(_up(h4, 2))
    h16 = g.conv_4(_up(h8, 2))
    rgb4, rgb8, rgb16 = g.conv_1(h4), g.conv_3(h8), g.conv_5(h16)
    expected = {0.0: _up(rgb4, 4), 1.0: _up(rgb8, 2), 2.0: rgb16,
                0.25: _up(torch.lerp(_up(rgb4, 2), rgb8, 0.25), 2),
                1.5: torch.lerp(_up(rgb8, 2), rgb16, 0.5)}
    for lv, want in expected.items():
        g.level = lv
        torch.testing.assert_close(g(z), want)
    assert g.level == 1.5 and type(g)().level == 2.0  # a new network is fully grown


def test_d_enters_at_its_level_and_fades_the_lower_fromrgb_out(nets):
    _, d, _ = nets
    x = torch.randn(2, 3, 16, 16)
    top = F.avg_pool2d(d.conv_2(d.conv_1(x)), 2)  # 16×16 FromRGB and stage → 8×8
    low8 = d.conv_3(F.avg_pool2d(x, 2))
    low4 = d.conv_5(F.avg_pool2d(x, 4))

    def tail(h8):
        return d.linear_1(F.avg_pool2d(d.conv_4(h8), 2).flatten(1)).reshape(-1)

    def head(h4):
        return d.linear_1(h4.flatten(1)).reshape(-1)

    expected = {2.0: tail(top), 1.0: tail(low8), 0.0: head(low4),
                1.5: tail(torch.lerp(low8, top, 0.5)),
                0.5: head(torch.lerp(low4, F.avg_pool2d(d.conv_4(low8), 2), 0.5))}
    for lv, want in expected.items():
        d.level = lv
        torch.testing.assert_close(d(x), want)


def test_a_level_computes_only_what_it_needs(nets):
    g, d, source = nets
    ran: list[str] = []
    hooks = [m.register_forward_hook(lambda mod, i, o, n=n: ran.append(n))
             for net in (g, d) for n, m in net.named_children()]
    try:
        g.level, d.level = 2.0, 2.0
        g(torch.randn(1, 8))
        assert ran == ["linear_1", "conv_2", "conv_4", "conv_5"]  # no lower ToRGB
        ran.clear()
        d(torch.randn(1, 3, 16, 16))
        assert ran == ["conv_1", "conv_2", "conv_4", "linear_1"]  # no lower FromRGB
        ran.clear()
        g.level, d.level = 0.0, 0.0
        g(torch.randn(1, 8))
        assert ran == ["linear_1", "conv_1"]  # the 4×4 image, upsampled
        ran.clear()
        d(torch.randn(1, 3, 16, 16))
        assert ran == ["conv_5", "linear_1"]
    finally:
        for h in hooks:
            h.remove()
    assert "if 0 < self.level < 2:" in source and "rt.fade_in(rgb, rgb_1, self.level - 1)" \
        in source


def test_the_schedule_is_stable_then_fade_per_level():
    assert [level(s, 2, 4) for s in range(12)] == [0, 0, 0, 0.25, 0.5, 0.75, 1, 1, 1, 1.25,
                                                   1.5, 1.75]
    assert level(0, 2, 4, first=1) == 1


def test_pggan_trains_through_its_levels_and_samples_at_the_level_reached(tmp_path):
    spec = tmp_path / "pggan.gan"
    spec.write_text((ROOT / "specs" / "pggan.gan").read_text())
    cfg = RunConfig(spec=str(spec), data="shapes", steps=7, batch=4, out=tmp_path / "run",
                    progress=False, sample_every=100, checkpoint_every=100, log_every=1,
                    params={"S": 16, "nz": 16, "fbase": 64, "fmax": 16, "stage": 2})
    t = Trainer(cfg)
    t.run()
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    levels = [float(r.split(",")[-1]) for r in rows[1:]]
    assert levels == [0, 0, 0, 0.5, 1, 1, 1]
    assert t.networks["G"].level == 1 and t.ema["G"].averaged["G"].level == 1
    from gandsl.train.sample import sample

    out = sample(tmp_path / "run", n=2, out=tmp_path / "s.npz")
    import numpy as np

    assert np.load(out)["images"].shape == (2, 3, 16, 16)


@pytest.mark.parametrize("body, where", [
    ("rgb = grow(rgb, h -> conv(4, 1))", (6, 21)),                    # channels differ
    ("rgb = grow(rgb, h -> upsample -> conv(3, 1))", (6, 21)),        # 4× the size
])
def test_grow_shapes_are_checked(body, where):
    src = textwrap.dedent(f"""\
    gan t
    network G(z: latent[8]) -> image[3, 16, 16] {{
      h = z -> linear(8 * 16) -> reshape(8, 4, 4)
      rgb = h -> conv(3, 1)
      h = h -> upsample -> conv(8, 3, pad=1)
      {body}
      return rgb -> upsample
    }}
    """)
    assert codes_at(src)[0][0] == "E202"
    assert codes_at(src)[0][1] == where[0]


def test_grow_schedule_errors():
    plain = (ROOT / "specs" / "dcgan.gan").read_text()
    src = plain.replace("train {", "train {\n  grow stages(stable=10, fade=10)")
    line = src.splitlines().index("  grow stages(stable=10, fade=10)") + 1
    assert ("E304", line, 3) in codes_at(src)
    grown = (ROOT / "specs" / "pggan.gan").read_text()
    for bad, col in (("grow stages(stable=stage)", 3), ("grow linear(stable=1, fade=1)", 8)):
        src = grown.replace("grow stages(stable=stage, fade=stage)", bad)
        line = next(k for k, t in enumerate(src.splitlines(), 1) if t.strip() == bad)
        assert ("E304", line, col) in codes_at(src)


def test_a_grow_inside_a_block_follows_the_networks_level(tmp_path):
    """A block holding a `grow` is written inline, so the network's `level` drives it."""
    path = tmp_path / "blk.gan"
    path.write_text(textwrap.dedent("""\
        gan blk
        block dstage(img, ch, f) {
          h = in -> conv(ch, 3, pad=1) -> leaky_relu(0.2) -> downsample
          grow(img -> downsample(f) -> conv(ch, 1), h)
        }
        network D(x: image[3, 16, 16]) -> scalar {
          h = x -> conv(8, 1) -> dstage(x, 8, 2) -> dstage(x, 8, 4)
          return h -> flatten -> linear(1)
        }
        """))
    loaded = gandsl.load(path)
    d = loaded.networks["D"]
    assert "class Dstage" not in loaded.source and d.level == 2.0
    x = torch.randn(2, 3, 16, 16)
    full = d(x)
    d.level = 0.0
    assert not torch.allclose(d(x), full)

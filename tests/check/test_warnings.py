"""Warnings W501-W507: each triggered by a minimal spec, at the right line and column, and the
shipped specs free of them.

Each spec starts on the line after its opening `\"\"\"\\`, so line 1 is the first line of text.
"""

from __future__ import annotations

import pytest
from conftest import SPECS, codes_at, diagnostics

from gandsl.pipeline import check_source

# A clean GAN; tests below change one thing in it. Line numbers of the parts:
#   1 data · 3-5 G · 7-9 D · 11-17 objective (fake = G(z) on 14, D on 15, G on 16)
CLEAN = """\
data images: image[3, 32, 32] = image_folder("data/images")

network G(z: latent[64]) -> image[3, 32, 32] {
  return z -> linear(3 * 32 * 32) -> tanh -> reshape(3, 32, 32)
}

network D(x: image[3, 32, 32]) -> scalar {
  return x -> flatten -> linear(1)
}

objective {
  x ~ images
  z ~ normal(64)
  fake = G(z)
  D minimizes gan_d(D(x), D(fake))
  G minimizes gan_g(D(fake))
}
"""


def test_clean_spec_has_no_warnings():
    assert codes_at(CLEAN) == []


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_shipped_specs_have_no_warnings(path):
    result = check_source(path.read_text(encoding="utf-8"), str(path), {})
    assert result.warnings == []


def test_stargan_with_both_datasets_has_no_warnings(root):
    path = root / "specs" / "stargan.gan"
    result = check_source(path.read_text(encoding="utf-8"), str(path), {"both": True})
    assert result.warnings == []


def test_warnings_do_not_stop_compilation():
    src = CLEAN.replace("-> linear(1)\n", "-> linear(1) -> sigmoid\n")
    result = check_source(src, "t.gan", {})
    assert [d.code for d in result.warnings] == ["W504", "W504"]
    assert all(d.severity == "warning" for d in result.warnings)


# ---- W501: unused values ------------------------------------------------------------------


def test_w501_unused_network_input_and_value():
    src = """\
    data images: image[3, 32, 32] = image_folder("data/images")

    network G(z: latent[64], y: latent[8]) -> image[3, 32, 32] {
      extra = z -> linear(10)
      return z -> linear(3 * 32 * 32) -> tanh -> reshape(3, 32, 32)
    }

    network D(x: image[3, 32, 32]) -> scalar {
      return x -> flatten -> linear(1)
    }

    objective {
      x ~ images
      z ~ normal(64)
      y ~ normal(8)
      fake = G(z, y)
      D minimizes gan_d(D(x), D(fake))
      G minimizes gan_g(D(fake))
    }
    """
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("W501", 3, 26), ("W501", 4, 16)]
    assert ds[0].message == "input `y` of `G` is never used"
    assert ds[0].hint == "prefix it with `_` (`_y`) if this is intended"
    assert ds[1].message == "this value (`extra`) is never used: it reaches no output of `G`"


def test_w501_only_the_last_dead_value_of_a_chain_is_reported():
    src = """\
    network G(z: latent[64]) -> vector[10] {
      a = z -> linear(32)
      b = a -> relu
      return z -> linear(10)
    }
    """
    assert codes_at(src) == [("W501", 3, 12)]


def test_w501_unused_objective_value_and_dataset():
    src = CLEAN.replace('data images: image[3, 32, 32] = image_folder("data/images")',
                        'data images: image[3, 32, 32] = image_folder("data/images")\n'
                        'data other: image[3, 32, 32] = image_folder("data/other")')
    src = src.replace("  fake = G(z)\n", "  fake = G(z)\n  spare = G(z)\n")
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("W501", 2, 6), ("W501", 16, 11)]
    assert ds[0].message == "dataset `other` is never sampled"
    assert ds[1].message == "`spare` is never used by any loss"


def test_w501_a_value_the_grid_shows_is_used():
    src = CLEAN.replace("  fake = G(z)\n", "  fake = G(z)\n  spare = G(z)\n")
    assert [d.code for d in diagnostics(src)] == ["W501"]
    shown = src + "train {\n  grid fake, spare\n}\n"
    assert [d.code for d in diagnostics(shown)] == []


def test_w501_a_value_shaping_a_draw_is_used():
    src = CLEAN.replace("  fake = G(z)\n", "  fake = G(z)\n  t ~ uniform(like=D(x), low=0.7)\n")
    src = src.replace("D minimizes gan_d(D(x), D(fake))", "D minimizes mean((D(x) - t)^2)")
    assert [d.code for d in diagnostics(src)] == []


def test_w509_a_term_that_reaches_none_of_its_players_networks():
    src = CLEAN.replace("G minimizes gan_g(D(fake))",
                        "G minimizes gan_g(D(fake)) + ortho: 1e-4 * ortho_reg(D)")
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col, d.message) for d in ds] == [
        ("W509", 16, 32, "the term `ortho` of `G` never reaches `G`: it is a constant in this "
         "step")]


def test_w501_underscore_names_are_silent():
    src = """\
    data images: image[3, 32, 32] = image_folder("data/images")

    network G(z: latent[64], _y: latent[8]) -> image[3, 32, 32] {
      _extra = z -> linear(10)
      return z -> linear(3 * 32 * 32) -> tanh -> reshape(3, 32, 32)
    }

    network D(x: image[3, 32, 32]) -> scalar {
      return x -> flatten -> linear(1)
    }

    objective {
      x ~ images
      z ~ normal(64)
      y ~ normal(8)
      fake = G(z, y)
      _spare = G(z, y)
      D minimizes gan_d(D(x), D(fake))
      G minimizes gan_g(D(fake))
    }
    """
    assert codes_at(src) == []


# ---- W502: networks nobody trains -----------------------------------------------------------

WITH_FEATURES = """\
data images: image[3, 32, 32] = image_folder("data/images")

network G(z: latent[64]) -> image[3, 32, 32] {
  return z -> linear(3 * 32 * 32) -> tanh -> reshape(3, 32, 32)
}

network D(x: image[3, 32, 32]) -> scalar {
  return x -> flatten -> linear(1)
}

network F(x: image[3, 32, 32]) -> vector[16] {
  return x -> flatten -> linear(16)
}

objective {
  x ~ images
  z ~ normal(64)
  fake = G(z)
  D minimizes gan_d(D(x), D(fake))
  G minimizes gan_g(D(fake)) + l1(F(fake), F(x))
}
"""


def test_w502_network_no_player_trains():
    ds = diagnostics(WITH_FEATURES)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("W502", 11, 9)]
    assert ds[0].message == "network `F` is not trained by any player"
    assert "frozen network" in ds[0].hint


def test_w502_frozen_network_is_silent():
    src = WITH_FEATURES.replace("network F(", "frozen network F(")
    assert codes_at(src) == []


# ---- W503-W505: GAN lints ---------------------------------------------------------------


def test_w503_batch_norm_in_a_critic_with_gradient_penalty():
    src = """\
    data images: image[3, 32, 32] = image_folder("data/images")

    network G(z: latent[64]) -> image[3, 32, 32] {
      return z -> linear(3 * 32 * 32) -> tanh -> reshape(3, 32, 32)
    }

    network D(x: image[3, 32, 32]) -> scalar {
      h = x -> flatten -> linear(64) -> batch_norm -> leaky_relu(0.2)
      return h -> linear(1)
    }

    objective {
      x ~ images
      z ~ normal(64)
      fake = G(z)
      D minimizes wgan_d(D(x), D(fake)) + 10 * gradient_penalty(D, x, fake)
      G minimizes wgan_g(D(fake))
    }
    """
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("W503", 16, 44)]
    (text, span), = ds[0].notes
    assert text == "batch norm in the critic"
    assert (span.line, span.col) == (8, 37)
    assert "layer_norm" in ds[0].hint


def test_w503_batch_norm_inside_a_block_of_a_multi_output_critic():
    src = """\
    data images: image[3, 32, 32] = image_folder("data/images")

    block down(ch) { in -> conv(ch, 4, stride=2, pad=1) -> batch_norm -> leaky_relu(0.2) }

    network G(z: latent[64]) -> image[3, 32, 32] {
      return z -> linear(3 * 32 * 32) -> tanh -> reshape(3, 32, 32)
    }

    network D(x: image[3, 32, 32]) -> (src: scalar, cls: logits[3]) {
      h = x -> down(16) -> flatten
      return h -> linear(1), h -> linear(3)
    }

    objective {
      x ~ images
      z ~ normal(64)
      fake = G(z)
      D minimizes wgan_d(D(x).src, D(fake).src) + 10 * gradient_penalty(D.src, x, fake)
      G minimizes wgan_g(D(fake).src) + mean(D(fake).cls)
    }
    """
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("W503", 18, 52)]
    assert [(s.line, s.col) for _, s in ds[0].notes] == [(3, 56)]


def test_w503_not_without_penalty():
    src = CLEAN.replace("-> flatten -> linear(1)", "-> flatten -> linear(8) -> batch_norm "
                        "-> linear(1)")
    assert codes_at(src) == []


SIGMOID_D = CLEAN.replace("-> flatten -> linear(1)\n", "-> flatten -> linear(1) -> sigmoid\n")


def test_w504_sigmoid_before_gan_d():
    ds = diagnostics(SIGMOID_D)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("W504", 15, 15),
                                                                 ("W504", 16, 15)]
    assert ds[0].message == ("`gan_d` takes logits, but `D` ends in a sigmoid, which would be "
                             "applied twice")
    assert [(s.line, s.col) for _, s in ds[0].notes] == [(8, 39)]
    assert ds[0].hint == "remove the final `sigmoid` from `D`"


def test_w505_sigmoid_in_a_wgan_critic():
    src = SIGMOID_D.replace("gan_d(", "wgan_d(").replace("gan_g(", "wgan_g(")
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("W505", 15, 15),
                                                                 ("W505", 16, 15)]
    assert "WGAN critic `D` ends in a sigmoid" in ds[0].message
    assert [(s.line, s.col) for _, s in ds[0].notes] == [(8, 39)]


def test_sigmoid_before_a_loss_on_probabilities_is_fine():
    src = SIGMOID_D.replace("gan_d(", "lsgan_d(").replace("gan_g(", "lsgan_g(")
    assert codes_at(src) == []


# ---- W506, W507: who sees and who trains what ----------------------------------------------


def test_w506_generator_output_seen_by_no_other_player():
    src = CLEAN.replace("gan_d(D(x), D(fake))", "gan_d(D(x), D(x))").replace(
        "gan_g(D(fake))", "l1(fake, x)")
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("W506", 3, 9)]
    assert ds[0].message.startswith("the output of `G` is never seen by a network of another "
                                    "player")


def test_w507_group_loss_reaches_one_member_only():
    src = """\
    data a: image[3, 32, 32] = image_folder("data/a")
    data b: image[3, 32, 32] = image_folder("data/b")

    network G_ab(x: image[3, 32, 32]) -> image[3, 32, 32] {
      return x -> conv(3, 3, pad=1) -> tanh
    }

    network G_ba = G_ab

    network D_b(x: image[3, 32, 32]) -> scalar {
      return x -> flatten -> linear(1)
    }

    objective {
      xa ~ a
      xb ~ b
      fake_b = G_ab(xa)
      G = {G_ab, G_ba}
      G minimizes lsgan_g(D_b(fake_b))
      D_b minimizes lsgan_d(D_b(xb), D_b(fake_b))
    }
    """
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("W507", 19, 3)]
    assert ds[0].message == ("the loss of `G` never reaches `G_ba`; those networks will not "
                             "change")

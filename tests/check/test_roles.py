"""Generators, critics and the sample grid read off the objective (issue 15, item 6): an
encoder and a decoder trained as separate players (VAE-GAN) train, sample, evaluate and
resume; BicycleGAN's encoder reading G's images is a critic; the train section's `grid`
names the rows, with its errors at their places."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import codes_at, compile_text

import gandsl
from gandsl.cli import main

VAEGAN = """\
gan vaegan
data imgs: image[1, 8, 8] = digits()
network E(x: image[1, 8, 8]) -> (mu: latent[8], logvar: latent[8]) {
  h = x -> flatten -> linear(32) -> relu
  return h -> linear(8), h -> linear(8)
}
network G(z: latent[8]) -> image[1, 8, 8] {
  return z -> linear(64) -> reshape(1, 8, 8) -> tanh
}
network D(x: image[1, 8, 8]) -> scalar {
  return x -> flatten -> linear(16) -> leaky_relu(0.2) -> linear(1)
}
objective {
  x ~ imgs
  eps ~ normal(8)
  zp ~ normal(8)
  code = E(x)
  recon = G(code.mu + exp(0.5 * code.logvar) * eps)
  kl = mean(sum(-0.5 * (1 + code.logvar - code.mu^2 - exp(code.logvar)), over="sample"))
  E minimizes kl + l2(recon, x)
  G minimizes l2(recon, x) + gan_g(D(recon)) + gan_g(D(G(zp)))
  D minimizes gan_d(D(x), D(recon)) + gan_d(D(x), D(G(zp)))
}
train {
  adam E (lr=2e-4)
  adam G (lr=2e-4)
  adam D (lr=2e-4)
  batch 8
%s}
"""


def test_a_decoder_fed_an_encoders_code_is_the_generator():
    result = compile_text(VAEGAN % "")
    assert result.spec.objective.generators == ["G"]
    # the prior sample (no network before G) is what `sample` and `eval` use
    assert 'GENERATED = ["G_zp", "recon"]' in result.python
    assert 'return {"x": x, "recon": recon, "G_zp": G_zp}' in result.python


def test_vaegan_trains_samples_evaluates_and_resumes(tmp_path):
    spec = tmp_path / "vaegan.gan"
    spec.write_text(VAEGAN % "")
    run = tmp_path / "run"
    assert main(["train", str(spec), "--steps", "4", "--checkpoint-every", "2", "--out",
                 str(run), "--no-progress"]) == 0
    grid = sorted((run / "samples").glob("step_*.png"))
    assert grid and grid[-1].name == "step_0000004.png"
    assert main(["train", str(spec), "--steps", "6", "--resume", str(run),
                 "--no-progress"]) == 0
    out = tmp_path / "s.npz"
    assert main(["sample", str(run), "-n", "5", "-o", str(out)]) == 0
    import numpy as np
    images = np.load(out)["images"]
    assert images.shape == (5, 1, 8, 8) and np.abs(images).max() <= 1
    assert main(["eval", str(run), "--n", "40", "--metrics", "fd"]) == 0
    assert json.loads((run / "eval.json").read_text())["step"] == 6


def test_sampled_images_are_the_prior_samples_of_g(tmp_path):
    """`Objective.samples` computes G(zp) from the draw's noise, and its first generated
    image is that one: checked against G on the same noise."""
    spec = tmp_path / "vaegan.gan"
    spec.write_text(VAEGAN % "")
    loaded = gandsl.load(spec)
    torch.manual_seed(0)
    nets = {n: c() for n, c in loaded.classes.items()}

    class Draw:
        def __init__(self):
            g = torch.Generator().manual_seed(2)
            self.noise = [torch.randn(4, 8, generator=g) for _ in range(2)]
            self.x = torch.rand(4, 1, 8, 8, generator=g) * 2 - 1

        def data(self, name):
            return (self.x,)

        def normal(self, n):
            return self.noise.pop(0)

    draw = Draw()
    eps, zp = draw.noise
    rows = loaded.module.Objective(nets).samples(draw)
    first = loaded.module.GENERATED[0]
    with torch.no_grad():
        assert torch.equal(rows[first], nets["G"](zp))
        code = nets["E"](draw.x)
        want = nets["G"](code.mu + (0.5 * code.logvar).exp() * eps)
        assert torch.allclose(rows["recon"], want)


def test_an_encoder_reading_generated_images_is_a_critic():
    """BicycleGAN's cLR-GAN: E recovers the code from G(a, z). E is then no generator, G is,
    and D and E both see G's images (no W506)."""
    result = compile_text("""\
        data pairs: image[1, 8, 8], image[1, 8, 8] = aligned_folder("p")
        network E(x: image[1, 8, 8]) -> latent[4] { return x -> flatten -> linear(4) }
        network G(a: image[1, 8, 8], z: latent[4]) -> image[1, 8, 8] {
          return concat(a -> flatten, z) -> linear(64) -> reshape(1, 8, 8) -> tanh }
        network D(x: image[1, 8, 8]) -> scalar { return x -> flatten -> linear(1) }
        objective {
          a, b ~ pairs
          z ~ normal(4)
          fake = G(a, z)
          E minimizes l1(E(fake), z) + l1(E(b), E(b))
          G minimizes gan_g(D(fake)) + l1(E(fake), z) + l1(G(a, E(b)), b)
          D minimizes gan_d(D(b), D(fake))
        }
        """)
    assert result.spec.objective.generators == ["G"]
    assert result.warnings == []


def test_an_auto_encoding_discriminator_is_no_generator():
    result = compile_text("""\
        data d: image[1, 8, 8] = digits()
        network G(z: latent[4]) -> image[1, 8, 8] {
          return z -> linear(64) -> reshape(1, 8, 8) -> tanh }
        network D(x: image[1, 8, 8]) -> image[1, 8, 8] {
          return x -> flatten -> linear(4) -> linear(64) -> reshape(1, 8, 8) }
        objective {
          x ~ d
          z ~ normal(4)
          D minimizes l1(D(x), x) - 0.5 * l1(D(G(z)), G(z))
          G minimizes l1(D(G(z)), G(z))
        }
        """)
    assert result.spec.objective.generators == ["G"]
    assert 'GENERATED = ["G_z"]' in result.python


def test_grid_names_the_rows_in_order():
    spec = VAEGAN.replace("  zp ~ normal(8)\n", "  zp ~ normal(8)\n  fake = G(zp)\n")
    spec = spec.replace("D(G(zp))", "D(fake)")
    result = compile_text(spec % "  grid recon, x, fake\n")
    assert 'return {"recon": recon, "x": x, "fake": fake}' in result.python
    # the grid's first generated row is what `sample` and `eval` use
    assert 'GENERATED = ["recon", "fake"]' in result.python


# `grid ...` is line 29 of the spec; its first name at column 8.
@pytest.mark.parametrize("grid, error", [
    ("grid recon, kl", ("E201", 29, 15)),
    ("grid recon, code", ("E201", 29, 15)),
    ("grid recons", ("E101", 29, 8)),
    ("grid G", ("E101", 29, 8)),
    ("grid x", ("E304", 29, 8)),
    ("grid x, recon, x", ("E102", 29, 18)),
    ("grid x, recon\n  grid recon", ("E102", 30, 3)),
])
def test_grid_errors(grid, error):
    assert codes_at(VAEGAN % f"  {grid}\n")[:1] == [error]

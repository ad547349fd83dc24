"""Penalties of a critic given as an expression of the image (`r1(D(x, y), x)`,
`r1(D(aug(x)), x)`): the generated lambda holds the other values fixed, the values equal
autograd on the hand-written function, gradients reach only the critic's player, and the
wrong critics fail at their place."""

from __future__ import annotations

import textwrap

import pytest
import torch
from conftest import codes_at, run_iteration

import gandsl.runtime as rt

NETWORKS = """\
gan critics
data d: image[1, 8, 8], class[10] = digits()
network G(z: latent[8], y: class[10]) -> image[1, 8, 8] {
  return concat(z, y -> embedding(8)) -> linear(64) -> reshape(1, 8, 8) -> tanh
}
network D(x: image[1, 8, 8], y: class[10]) -> (src: scalar, cls: logits[10]) {
  h = x -> flatten -> linear(16) -> leaky_relu(0.2)
  return h -> linear(1) + h -> projection(y), h -> linear(10)
}
"""
LINE = NETWORKS.count("\n")


class Fixed:
    def __init__(self) -> None:
        g = torch.Generator().manual_seed(3)
        self.x = torch.rand(5, 1, 8, 8, generator=g) * 2 - 1
        self.y = torch.randint(0, 10, (5,), generator=g)
        self.z = torch.randn(5, 8, generator=g)

    def data(self, name):
        return self.x, self.y

    def normal(self, n, mean=0.0, std=1.0):
        return self.z


def run(tmp_path, objective: str, seed: int = 0):
    spec = tmp_path / "critics.gan"
    spec.write_text(NETWORKS + textwrap.dedent(objective))
    draws = Fixed()
    it = run_iteration(spec, draws, seed)
    return it.terms, it.reached, it.nets, draws, it.source


def half_squared_grad(f, at: torch.Tensor) -> torch.Tensor:
    """½·mean_i ‖∇ f(at)_i‖², by autograd on `f` itself."""
    v = at.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(f(v).sum(), v)
    return 0.5 * g.square().flatten(1).sum(1).mean()


def test_conditional_r1_and_r2_hold_the_class_fixed(tmp_path):
    terms, reached, nets, draws, source = run(tmp_path, """\
        objective {
          x, y ~ d
          z ~ normal(8)
          fake = G(z, y)
          D minimizes gan_d(D(x, y).src, D(fake, y).src) + r1(D(x, y).src, x)
                    + r2(D(fake, y).src, fake)
          G minimizes gan_g(D(fake, y).src)
        }
        """)
    assert "r1 = rt.r1(lambda v: D(v, y).src, x)" in source
    assert "r2 = rt.r2(lambda v: D(v, y).src, fake.detach())" in source
    d, y = nets["D"], draws.y
    with torch.no_grad():
        fake = nets["G"](draws.z, y)
    want_r1 = half_squared_grad(lambda v: d(v, y).src, draws.x)
    want_r2 = half_squared_grad(lambda v: d(v, y).src, fake)
    assert torch.allclose(terms["D"]["r1"], want_r1, rtol=1e-5)
    assert torch.allclose(terms["D"]["r2"], want_r2, rtol=1e-5)
    assert reached["D"] == ["D"]


def test_r1_through_an_augmentation_differentiates_the_unaugmented_image(tmp_path):
    """StyleGAN2-ADA's R1: the gradient of D(augment(x)) with respect to x, the augmentation
    drawn afresh inside the penalty."""
    terms, _, nets, draws, source = run(tmp_path, """\
        objective {
          x, y ~ d
          z ~ normal(8)
          aug = augment(translation(1 / 4), flip)
          D minimizes gan_d(D(x, y).src, D(G(z, y), y).src) + r1(D(aug(x), y).src, x)
          G minimizes gan_g(D(G(z, y), y).src)
        }
        """, seed=11)
    assert "r1 = rt.r1(lambda v: D(aug(v), y).src, x)" in source
    aug, d, y = rt.Augment(rt.translation(0.25), rt.flip), nets["D"], draws.y
    torch.manual_seed(11)  # the iteration's only draws before R1 are none: the penalty's
    want = half_squared_grad(lambda v: d(aug(v), y).src, draws.x)
    assert torch.allclose(terms["D"]["r1"], want, rtol=1e-5)


def test_a_conditional_gradient_penalty_interpolates_the_image_only(tmp_path):
    terms, _, nets, draws, _ = run(tmp_path, """\
        objective {
          x, y ~ d
          z ~ normal(8)
          fake = G(z, y)
          D minimizes wgan_d(D(x, y).src, D(fake, y).src)
                    + gp: gradient_penalty(D(x, y).src, x, fake)
          G minimizes wgan_g(D(fake, y).src)
        }
        """, seed=4)
    d, y = nets["D"], draws.y
    with torch.no_grad():
        fake = nets["G"](draws.z, y)
    torch.manual_seed(4)
    want = rt.gradient_penalty(lambda v: d(v, y).src, draws.x, fake)
    assert torch.allclose(terms["D"]["gp"], want, rtol=1e-5)
    # and by hand: α per sample, from the same draw
    torch.manual_seed(4)
    alpha = torch.rand(5, 1, 1, 1)
    xh = (draws.x + alpha * (fake - draws.x)).requires_grad_(True)
    (g,) = torch.autograd.grad(d(xh, y).src.sum(), xh)
    by_hand = (g.flatten(1).norm(dim=1) - 1).square().mean()
    assert torch.allclose(terms["D"]["gp"], by_hand, rtol=1e-4)


def _errors(objective: str):
    return [(c, line - LINE, col) for c, line, col in codes_at(NETWORKS + objective)]


@pytest.mark.parametrize("loss, error", [
    # the critic reads another image than the penalized one
    ("r1(D(x2, y).src, x)", ("E206", 6, 18)),
    # depends on both images of a gradient penalty
    ("gradient_penalty(D(x, y).src + D(x2, y).src, x, x2)", ("E206", 6, 32)),
    # no network in it
    ("r1(x * 2, x)", ("E206", 6, 18)),
    # a loss, not a score per sample
    ("r1(mean(D(x, y).src), x)", ("E201", 6, 18)),
    # content's features stay a network
    ("content(D(x, y).src, x, x2)", ("E201", 6, 23)),
])
def test_wrong_critics(loss, error):
    objective = ("objective {\n  x, y ~ d\n  x2, y2 ~ d\n  z ~ normal(8)\n  fake = G(z, y)\n"
                 f"  D minimizes {loss}\n  G minimizes gan_g(D(fake, y).src)\n}}\n")
    assert _errors(objective)[:1] == [error]


def test_grad_norm_makes_any_gradient_penalty(tmp_path):
    """`grad_norm(critic, at)`: ‖∇ critic(at)_i‖₂ per sample, kept differentiable, so any
    penalty of the norms is a term: WGAN-div's k·mean(‖∇D(x̂)‖^p) with p = 6 and WGAN-LP's
    one-sided λ·mean(max(0, ‖∇D(x̂)‖ − 1)²), on x̂ between reals and fakes; both train D
    (double backprop) and nothing else."""
    terms, reached, nets, draws, source = run(tmp_path, """\
        objective {
          x, y ~ d
          z ~ normal(8)
          fake = G(z, y)
          x_hat = (x + fake) / 2
          D minimizes wgan_d(D(x, y).src, D(fake, y).src)
                    + div: 2 * mean(grad_norm(D(x_hat, y).src, x_hat)^6)
                    + lp: mean(relu(grad_norm(D(x_hat, y).src, x_hat) - 1)^2)
          G minimizes wgan_g(D(fake, y).src)
        }
        """)
    assert "grad_norm = rt.grad_norm(lambda v: D(v, y).src, x_hat)" in source
    d, y = nets["D"], draws.y
    with torch.no_grad():
        x_hat = (draws.x + nets["G"](draws.z, y)) / 2
    v = x_hat.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(d(v, y).src.sum(), v)
    norms = g.flatten(1).norm(dim=1)
    assert norms.min() > 0
    torch.testing.assert_close(terms["D"]["div"], norms.pow(6).mean(), rtol=1e-5, atol=0)
    torch.testing.assert_close(terms["D"]["lp"], torch.relu(norms - 1).square().mean())
    assert reached["D"] == ["D"]


def test_grad_norm_is_one_number_per_sample():
    assert codes_at(NETWORKS + textwrap.dedent("""\
        objective {
          x, y ~ d
          D minimizes grad_norm(D(x, y).src, x)
        }
        """))[-1:] == [("E201", LINE + 3, 15)]

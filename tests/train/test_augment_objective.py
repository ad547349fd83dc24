"""Augmentation in the objective (issue 15, item 2): `aug = augment(...)` applied as
`aug(x)`, one draw moving several images alike, ADA's probability as a state, `rotate90` by
a drawn index; the values against the runtime's, the checks with their places."""

from __future__ import annotations

import textwrap

import pytest
import torch
from conftest import diagnostics, run_iteration

import gandsl.runtime as rt

NETWORKS = """\
gan aug
data imgs: image[3, 8, 8] = shapes(size=8)
network G(z: latent[8]) -> image[3, 8, 8] {
  return z -> linear(192) -> reshape(3, 8, 8) -> tanh }
network D(x: image[3, 8, 8]) -> (src: scalar, rot: logits[4]) {
  h = x -> flatten -> linear(16) -> leaky_relu(0.2)
  return h -> linear(1), h -> linear(4) }
"""
LINE = NETWORKS.count("\n")


class Fixed:
    def __init__(self) -> None:
        g = torch.Generator().manual_seed(1)
        self.x = torch.rand(4, 3, 8, 8, generator=g) * 2 - 1
        self.z = torch.randn(4, 8, generator=g)
        self.k = torch.tensor([0, 1, 2, 3])

    def data(self, name):
        return (self.x,)

    def normal(self, n, mean=0.0, std=1.0):
        return self.z

    def categorical(self, n):
        return self.k


def run(tmp_path, objective: str, seed: int = 0):
    spec = tmp_path / "aug.gan"
    spec.write_text(NETWORKS + textwrap.dedent(objective))
    draws = Fixed()
    it = run_iteration(spec, draws, seed)
    return it.terms, it.reached, it.nets, draws, it.objective, it.source


def test_an_augmented_real_is_the_runtimes_augmentation(tmp_path):
    """The only draw of the iteration is the augmentation's: replayed from the same seed."""
    terms, reached, nets, draws, _, source = run(tmp_path, """\
        objective {
          x ~ imgs
          z ~ normal(8)
          aug = augment(color, translation(1/8), cutout(1/2))
          D minimizes real: mean(D(aug(x)).src) + gan_d(D(x).src, D(G(z)).src)
          G minimizes gan_g(D(G(z)).src)
        }
        """, seed=3)
    torch.manual_seed(3)
    xa = rt.Augment(rt.color, rt.translation(0.125), rt.cutout(0.5))(draws.x)
    with torch.no_grad():
        want = nets["D"](xa).src.mean()
    assert torch.allclose(terms["D"]["real"], want, atol=1e-6)
    assert "self.aug = rt.Augment(rt.color, rt.translation(0.125), rt.cutout(0.5))" in source
    assert reached == {"D": ["D"], "G": ["D", "G"]}


def test_one_draw_moves_two_images_alike(tmp_path):
    """Consistency regularization: `x1, x2 = aug(x, x)` are the same image, so the penalty
    between D's outputs on them is 0; a second call draws anew."""
    terms, _, _, _, _, source = run(tmp_path, """\
        objective {
          x ~ imgs
          z ~ normal(8)
          aug = augment(translation(1/4), cutout(1/2), flip)
          x1, x2 = aug(x, x)
          D minimizes gan_d(D(x).src, D(G(z)).src) + same: mean((D(x1).src - D(x2).src)^2)
                    + other: mean((D(aug(x)).src - D(aug(x)).src)^2)
          G minimizes gan_g(D(G(z)).src)
        }
        """)
    assert terms["D"]["same"] == 0 and terms["D"]["other"] > 0
    assert "x1, x2 = aug(x, x)" in source


def test_ada_probability_is_a_state_moved_by_the_sign_of_d_on_reals(tmp_path):
    """ADA's heuristic r_t = E[sign(D(x))] against its target 0.6 moves p by one step of
    batch / (500k images) per iteration, p kept at least 0."""
    terms, _, nets, draws, objective, source = run(tmp_path, """\
        objective {
          x ~ imgs
          z ~ normal(8)
          p = state(0.5, next=relu(p + sign(mean(sign(D(xa).src)) - 0.6) * 4 / 500k))
          pipe = augment(ada("bgc"), p=p)
          xa = pipe(x)
          D minimizes gan_d(D(xa).src, D(pipe(G(z))).src)
          G minimizes gan_g(D(pipe(G(z))).src)
        }
        """, seed=5)
    torch.manual_seed(5)
    xa = rt.Augment(rt.ada("bgc"))(draws.x, p=0.5)
    with torch.no_grad():
        r = torch.sign(nets["D"](xa).src).mean()
    want = max(0.5 + float(torch.sign(r - 0.6)) * 4 / 500_000, 0.0)
    assert abs(float(objective.state["p"]) - want) < 1e-6  # a float32 state
    assert 'xa = pipe(x, p=self.state["p"])' in source


def test_ss_gan_rotation_with_a_drawn_index(tmp_path):
    """SS-GAN: each real turned by k·90° with k ~ categorical(4); D predicts k."""
    terms, _, nets, draws, _, _ = run(tmp_path, """\
        objective {
          x ~ imgs
          z ~ normal(8)
          k ~ categorical(4)
          D minimizes gan_d(D(x).src, D(G(z)).src) + rot: ce(D(rotate90(x, k)).rot, k)
          G minimizes gan_g(D(G(z)).src)
        }
        """)
    turned = torch.stack([torch.rot90(xi, int(ki), (1, 2)) for xi, ki in
                          zip(draws.x, draws.k, strict=True)])
    with torch.no_grad():
        want = torch.nn.functional.cross_entropy(nets["D"](turned).rot, draws.k)
    assert torch.allclose(terms["D"]["rot"], want, atol=1e-6)


def _errors(objective: str, networks: str = NETWORKS):
    ds = diagnostics(networks + textwrap.dedent(objective))
    return [(d.code, d.span.line - LINE, d.span.col, d.message) for d in ds
            if d.severity == "error"]


@pytest.mark.parametrize("statements, error", [
    ("aug = augment(color, shear)\n  D minimizes mean(D(aug(x)).src)",
     ("E103", 3, 24, "unknown augmentation `shear`")),
    ("aug = augment(cutout(2))\n  D minimizes mean(D(aug(x)).src)",
     ("E203", 3, 24, "`ratio` of `cutout` is a fraction of the image size, in (0, 1]; got `2`")),
    ("aug = augment(ada)\n  D minimizes mean(D(aug(x)).src)",
     ("E105", 3, 9, "`ada` augments each sample with a probability: give it as "
      "`augment(..., p=...)`, a number or a `state`")),
    ("aug = augment(color, p=0.5)\n  D minimizes mean(D(aug(x)).src)",
     ("E203", 3, 24, "`p` is ADA's probability, and this pipeline has no `ada`")),
    ("aug = augment(ada(\"bgcx\"), p=0.5)\n  D minimizes mean(D(aug(x)).src)",
     ("E203", 3, 21, "`preset` of `ada` is one of 'blit', 'geom', 'color', 'filter', 'noise', "
      "'cutout', 'bg', 'bgc', 'bgcf', 'bgcfn', 'bgcfnc'; got the string 'bgcx'")),
    ("aug = augment(ada(\"bgc\", cutout=-1), p=0.5)\n  D minimizes mean(D(aug(x)).src)",
     ("E203", 3, 35, "`cutout` of `ada` is a number ≥ 0; got `-1`")),
    ("aug = augment(ada(imgfilter_bands=[1, 1]), p=0.5)\n  D minimizes mean(D(aug(x)).src)",
     ("E203", 3, 37, "`imgfilter_bands` of `ada` is a list of 4 numbers ≥ 0; got a list of 2")),
    ("aug = augment(ada(shear=1), p=0.5)\n  D minimizes mean(D(aug(x)).src)",
     ("E104", 3, 21, "`ada` has no argument `shear`")),
    ("aug = augment(ada(\"bgc\", 0.5), p=0.5)\n  D minimizes mean(D(aug(x)).src)",
     ("E105", 3, 28, "`ada` takes at most 1 positional argument (preset), got 2")),
    ("aug = augment(ada(\"bgcf\"), p=0.5)\n  D minimizes mean(D(aug(x)).src)",
     ("E202", 4, 22, "ADA's image-space filtering (`imgfilter`) reflects its images by 21 "
      "pixels: they need at least 22 pixels a side, got 8×8")),
    ("aug = augment(color)\n  D minimizes mean(D(aug(x, x)).src)",
     ("E301", 4, 22, "`aug` of several images gives one image each: name them, e.g. "
      "`xa, ya = aug(x, y)`")),
    ("aug = augment(color)\n  D minimizes mean(D(aug).src)",
     ("E301", 4, 22, "`aug` is an augmentation pipeline; apply it: `aug(x)`")),
    ("D minimizes mean(D(augment(color)(x)).src)",
     ("E301", 3, 22, "`augment(...)` defines a pipeline of its own: `aug = augment(...)`, "
      "applied as `aug(x)`")),
    ("z ~ normal(8)\n  aug = augment(color)\n  D minimizes mean(D(G(aug(z))).src)",
     ("E201", 5, 24, "`aug` augments images and maps, got latent[8]")),
])
def test_augmentation_errors(statements, error):
    objective = "objective {\n  x ~ imgs\n  " + statements + "\n}\n"
    assert _errors(objective)[:1] == [error]


def test_shape_rules_of_augmentation():
    wide = NETWORKS.replace("image[3, 8, 8] = shapes(size=8)", "image[4, 8, 16] = "
                            "image_folder(\"x\")").replace("network D(x: image[3, 8, 8])",
                                                           "network D(x: image[4, 8, 16])")
    assert _errors("objective {\n  x ~ imgs\n  aug = augment(rot90)\n"
                   "  D minimizes mean(D(aug(x)).src)\n}\n", wide)[0][:2] == ("E202", 4)
    assert _errors("objective {\n  x ~ imgs\n  aug = augment(ada, p=0.2)\n"
                   "  D minimizes mean(D(aug(x)).src)\n}\n", wide)[0][0] == "E201"
    # geometry alone takes any channels; a colour operation's multiplier brings the rule back
    assert _errors("objective {\n  x ~ imgs\n  aug = augment(ada(\"bg\"), p=0.2)\n"
                   "  D minimizes mean(D(aug(x)).src)\n}\n", wide) == []
    assert _errors("objective {\n  x ~ imgs\n  aug = augment(ada(\"bg\", hue=1), p=0.2)\n"
                   "  D minimizes mean(D(aug(x)).src)\n}\n", wide)[0][0] == "E201"
    assert _errors("objective {\n  x ~ imgs\n  k ~ categorical(3)\n"
                   "  D minimizes ce(D(rotate90(x, k)).rot, k)\n}\n")[0][:2] == ("E202", 4)


def test_a_pipeline_never_applied_is_w501_at_its_definition():
    ds = diagnostics(NETWORKS + textwrap.dedent("""\
        objective {
          x ~ imgs
          z ~ normal(8)
          aug = augment(color)
          used = augment(flip)
          D minimizes gan_d(D(used(x)).src, D(G(z)).src)
          G minimizes gan_g(D(G(z)).src)
        }
        """))
    assert [(d.code, d.span.line - LINE, d.span.col, d.message) for d in ds] == [
        ("W501", 4, 9, "the augmentation `aug` is never applied")]

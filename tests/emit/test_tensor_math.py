"""Tensor math in the objective (issue 15, item 1): the values equal the hand-written
formulas on fixed draws, gradients reach what they should, the types are checked with carets,
and the generated code is the torch expression a person writes.

Each value test runs the generated `iteration` once with an `update` that records each
player's terms without stepping, so every term is computed from the same weights and draws
as the hand formula beside it.
"""

from __future__ import annotations

import textwrap

import pytest
import torch
import torch.nn.functional as F
from conftest import diagnostics, run_iteration

import gandsl

NETWORKS = """\
gan math
data imgs: image[1, 8, 8] = digits()
network G(z: latent[8]) -> image[1, 8, 8] {
  return z -> linear(64) -> reshape(1, 8, 8) -> tanh }
network D(x: image[1, 8, 8]) -> (src: scalar, feat: vector[4]) {
  h = x -> flatten -> linear(16) -> leaky_relu(0.2)
  return h -> linear(1), h -> linear(4) }
"""


class Fixed:
    """The same draws every call: real images and latents of a batch of 6."""

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(1)
        self.x = torch.rand(6, 1, 8, 8, generator=g) * 2 - 1
        self.z = torch.randn(6, 8, generator=g)

    def data(self, name):
        return (self.x,)

    def normal(self, n, mean=0.0, std=1.0):
        return self.z


def run(tmp_path, objective: str, networks: str = NETWORKS):
    """(terms of each player, networks reached, networks, draws, generated source) after one
    iteration."""
    spec = tmp_path / "math.gan"
    spec.write_text(networks + textwrap.dedent(objective))
    draws = Fixed()
    it = run_iteration(spec, draws)
    return it.terms, it.reached, it.nets, draws, it.source


def outputs(nets, draws):
    with torch.no_grad():
        fake = nets["G"](draws.z)
        return nets["D"](draws.x), nets["D"](fake), fake


def test_relativistic_average_gan_equals_its_formula(tmp_path):
    """RaSGAN (Jolicoeur-Martineau 2019, eq. 14-15) written as the paper does."""
    terms, reached, nets, draws, source = run(tmp_path, """\
        objective {
          x ~ imgs
          z ~ normal(8)
          fake = G(z)
          real_rel = D(x).src - mean(D(fake).src)
          fake_rel = D(fake).src - mean(D(x).src)
          D minimizes real: mean(softplus(-real_rel)) + fake: mean(softplus(fake_rel))
          G minimizes fake: mean(softplus(-fake_rel)) + real: mean(softplus(real_rel))
        }
        """)
    real, fake, _ = outputs(nets, draws)
    cr, cf = real.src, fake.src
    d = F.softplus(-(cr - cf.mean())).mean() + F.softplus(cf - cr.mean()).mean()
    g = F.softplus(-(cf - cr.mean())).mean() + F.softplus(cr - cf.mean()).mean()
    assert torch.allclose(terms["D"]["loss"], d, atol=1e-6)
    assert torch.allclose(terms["G"]["loss"], g, atol=1e-6)
    assert reached == {"D": ["D"], "G": ["D", "G"]}
    # the values the spec names keep their names in the code
    assert "real_rel = D_x.src - D_fake.src.mean()\n" in source
    assert "real = F.softplus(-real_rel).mean()\n" in source


def test_relativistic_least_squares_gan_equals_its_formula(tmp_path):
    """RaLSGAN: E[(C(x) − E C(G(z)) − 1)²] + E[(C(G(z)) − E C(x) + 1)²], squares written."""
    terms, _, nets, draws, source = run(tmp_path, """\
        objective {
          x ~ imgs
          z ~ normal(8)
          fake = G(z)
          D minimizes mean((D(x).src - mean(D(fake).src) - 1) ^ 2)
                    + mean((D(fake).src - mean(D(x).src) + 1) ^ 2)
          G minimizes mean((D(fake).src - mean(D(x).src) - 1) ^ 2)
                    + mean((D(x).src - mean(D(fake).src) + 1) ^ 2)
        }
        """)
    real, fake, _ = outputs(nets, draws)
    cr, cf = real.src, fake.src
    d = ((cr - cf.mean() - 1) ** 2).mean() + ((cf - cr.mean() + 1) ** 2).mean()
    g = ((cf - cr.mean() - 1) ** 2).mean() + ((cr - cf.mean() + 1) ** 2).mean()
    assert torch.allclose(terms["D"]["loss"], d, atol=1e-6)
    assert torch.allclose(terms["G"]["loss"], g, atol=1e-6)
    assert "** 2).mean()" in source


def test_pairwise_relativistic_loss_and_broadcasting(tmp_path):
    """RpGAN pairs each fake with a real: softplus(C(fake) − C(real)) per sample; a per-
    sample score scales a feature vector and an image (the generated code adds the missing
    dimensions after the batch)."""
    terms, _, nets, draws, source = run(tmp_path, """\
        objective {
          x ~ imgs
          z ~ normal(8)
          fake = G(z)
          D minimizes rp: mean(softplus(D(fake).src - D(x).src))
                    + feat: mean(D(x).feat * D(x).src)
                    + img: mean(sum(x * D(fake).src, over="sample"))
          G minimizes mean(softplus(D(x).src - D(fake).src))
        }
        """)
    real, fake, _ = outputs(nets, draws)
    assert torch.allclose(terms["D"]["rp"], F.softplus(fake.src - real.src).mean(), atol=1e-6)
    assert torch.allclose(terms["D"]["feat"], (real.feat * real.src[:, None]).mean(), atol=1e-6)
    img = (draws.x * fake.src[:, None, None, None]).flatten(1).sum(1).mean()
    assert torch.allclose(terms["D"]["img"], img, atol=1e-5)
    assert "D_x.feat * D_x.src[:, None]" in source
    assert "x * D_fake.src[:, None, None, None]" in source


def test_lecam_regularization_with_states(tmp_path):
    """LeCam (Tseng et al. 2021): ‖D(x) − α_F‖² + ‖D(G(z)) − α_R‖² with α the moving
    averages of D's outputs, kept as states; the states start at 0, so the first term is
    the mean square of the outputs."""
    terms, _, nets, draws, source = run(tmp_path, """\
        objective {
          x ~ imgs
          z ~ normal(8)
          fake = G(z)
          ema_real = state(0, next=0.99 * ema_real + 0.01 * mean(D(x).src))
          ema_fake = state(0, next=0.99 * ema_fake + 0.01 * mean(D(fake).src))
          D minimizes gan_d(D(x).src, D(fake).src)
                    + lecam: (mean(relu(D(x).src - ema_fake) ^ 2)
                              + mean(relu(ema_real - D(fake).src) ^ 2))
          G minimizes gan_g(D(fake).src)
        }
        """)
    real, fake, _ = outputs(nets, draws)
    lecam = (F.relu(real.src) ** 2).mean() + (F.relu(-fake.src) ** 2).mean()
    assert torch.allclose(terms["D"]["lecam"], lecam, atol=1e-6)
    assert 'self.state["ema_fake"]' in source


def test_states_and_values_are_numbers_for_loss_functions(tmp_path):
    """`lsgan_g(D(fake), c=alpha)` with a state: the number at run time."""
    terms, _, nets, draws, source = run(tmp_path, """\
        objective {
          x ~ imgs
          z ~ normal(8)
          fake = G(z)
          alpha = state(0.25, next=alpha)
          D minimizes lsgan_d(D(x).src, D(fake).src, a=alpha, b=1 - alpha)
          G minimizes lsgan_g(D(fake).src, c=alpha) + clip(alpha, 0, 1)
        }
        """)
    real, fake, _ = outputs(nets, draws)
    d = 0.5 * ((real.src - 0.75) ** 2).mean() + 0.5 * ((fake.src - 0.25) ** 2).mean()
    assert torch.allclose(terms["D"]["loss"], d, atol=1e-6)
    assert 'c=self.state["alpha"]' in source
    assert 'torch.as_tensor(self.state["alpha"]).clamp(0, 1)' in source


def test_elementwise_functions_and_reductions(tmp_path):
    terms, _, nets, draws, _ = run(tmp_path, """\
        objective {
          x ~ imgs
          z ~ normal(8)
          fake = G(z)
          D minimizes gan_d(D(x).src, D(fake).src)
          G minimizes e: mean(exp(-pi * abs(fake - x))) + s: mean(sqrt(square(fake) + 1))
                    + l: max(log(sigmoid(D(fake).src))) + t: min(tanh(fake), over="all")
                    + c: mean(mean(fake, over="channels") + max(fake, over="space"))
                    + w: mean(cos(fake) * sin(2 * x))
        }
        """)
    _, out, fake = outputs(nets, draws)
    x = draws.x
    t = terms["G"]
    assert torch.allclose(t["e"], torch.exp(-torch.pi * (fake - x).abs()).mean(), atol=1e-6)
    assert torch.allclose(t["s"], (fake ** 2 + 1).sqrt().mean(), atol=1e-6)
    assert torch.allclose(t["l"], torch.sigmoid(out.src).log().max(), atol=1e-6)
    assert torch.allclose(t["t"], torch.tanh(fake).min(), atol=1e-6)
    c = (fake.mean(1, keepdim=True) + fake.amax((2, 3))[:, :, None, None]).mean()
    assert torch.allclose(t["c"], c, atol=1e-6)
    assert torch.allclose(t["w"], (torch.cos(fake) * torch.sin(2 * x)).mean(), atol=1e-6)


def test_numbers_fold_at_compile_time(tmp_path):
    _, _, _, _, source = run(tmp_path, """\
        objective {
          x ~ imgs
          z ~ normal(8)
          fake = G(z)
          D minimizes gan_d(D(x).src, D(fake).src) / sqrt(4) * exp(0) * cos(0) / (1 + sin(0))
          G minimizes gan_g(D(fake).src) * 2 ^ 3
        }
        """)
    assert "loss = 0.5 * gan_d\n" in source and "loss = 8 * gan_g\n" in source


# ---- errors, with their places --------------------------------------------------------

def _spec(objective: str) -> str:
    return NETWORKS + textwrap.dedent(objective)


LINE = NETWORKS.count("\n")  # the objective's first line is LINE + 1


def test_a_term_that_is_not_one_number_says_reduce_it():
    ds = diagnostics(_spec("""\
        objective {
          x ~ imgs
          D minimizes softplus(-D(x).src)
        }
        """))
    d = next(d for d in ds if d.code == "E201")
    assert (d.span.line, d.span.col) == (LINE + 3, 15)
    assert d.message == "a loss term is one number per batch; this is scalar"
    assert d.hint.startswith("reduce it with mean")


@pytest.mark.parametrize("expr, code, message", [
    ("mean(D(x).feat * x)", "E202", "cannot combine vector[4] and image[1, 8, 8] with `*`: "
     "per-sample shapes (4,) and (1, 8, 8) do not broadcast"),
    ("mean(D(x).src, over=\"space\")", "E201",
     "`mean(..., over=\"space\")` needs a map or image, got scalar"),
    ("mean(gan_d(D(x).src, D(x).src), over=\"sample\")", "E201",
     "`mean(..., over=\"sample\")` reduces a tensor's dimensions; this is already one number "
     "per batch"),
    ("mean(x, over=\"rows\")", "E203",
     "`over` of `mean` is one of 'all', 'sample', 'channels', 'space'; got the string 'rows'"),
    ("lsgan_g(D(x).src, c=D(x).src)", "E201",
     "`c` of `lsgan_g` is a number (one per batch, such as a `state`), got scalar"),
    ("mean(D(x).src % 2)", "E201",
     "`%` is defined on numbers (`step`, states, losses), not on tensors (scalar)"),
    ("gan_d(D(x).src, D(x).src) / (2 - 2)", "E151", "division by zero"),
    ("mean(D(x).src) * (step // 0)", "E151", "division by zero"),
    ("mean(D(x -> flatten).src)", "E301", "`->` chains layers inside a network or block body; "
     "the objective calls networks: `N(x)`"),
])
def test_type_errors_of_tensor_math(expr, code, message):
    ds = diagnostics(_spec(f"""\
        objective {{
          x ~ imgs
          D minimizes {expr}
        }}
        """))
    assert [(d.code, d.message if message else None) for d in ds
            if d.severity == "error"][:1] == [(code, message)]


def test_class_indices_take_no_arithmetic():
    networks = NETWORKS.replace("data imgs: image[1, 8, 8] = digits()",
                                "data imgs: image[1, 8, 8], class[10] = digits()")
    ds = diagnostics(networks + textwrap.dedent("""\
        objective {
          x, c ~ imgs
          D minimizes mean(D(x).src * c)
        }
        """))
    assert [(d.code, d.span.line, d.span.col, d.message) for d in ds if d.code == "E201"] == [
        ("E201", LINE + 3, 20, "`*` takes float tensors, losses and numbers; class indices "
         "are integers (class[imgs])")]


def test_step_is_the_iteration_number(tmp_path):
    """`clip(step - 2, 0, 1)` is 0 until step 2 and 1 after: the term's value follows."""
    spec = tmp_path / "step.gan"
    spec.write_text(NETWORKS + textwrap.dedent("""\
        objective {
          x ~ imgs
          z ~ normal(8)
          on = clip(step - 2, 0, 1)
          D minimizes gan_d(D(x).src, D(G(z)).src) + reg: on * mean(D(x).src^2)
          G minimizes gan_g(D(G(z)).src)
        }
        """))
    loaded = gandsl.load(spec)
    torch.manual_seed(0)
    nets = {n: c() for n, c in loaded.classes.items()}
    obj = loaded.module.Objective(nets)
    seen = []

    def update(player, loss, values):
        if player == "D":
            seen.append(float(values["reg"].detach()))

    for s in range(4):
        obj.iteration(s, Fixed(), update)
    with torch.no_grad():
        want = float(nets["D"](Fixed().x).src.square().mean())
    assert seen[:3] == [0.0, 0.0, 0.0] and seen[3] == pytest.approx(want, rel=1e-6)
    assert "on = (step_t - 2).clamp(0, 1)" in loaded.source


def test_step_is_a_tensor_in_any_term(tmp_path):
    """`step` weighs a term directly (`0.5^(step / 2) * r1`, named after its loss), and math
    on it that would fail on a Python number gives inf instead (a non-finite loss, which the
    trainer skips), never a ZeroDivisionError; `//` and `%` take it."""
    spec = tmp_path / "step.gan"
    spec.write_text(NETWORKS + textwrap.dedent("""\
        objective {
          x ~ imgs
          z ~ normal(8)
          D minimizes gan_d(D(x).src, D(G(z)).src) + 0.5^(step / 2) * r1(D.src, x)
          G minimizes gan_g(D(G(z)).src) / step + every3: (step % 3) * mean(G(z))
        }
        """))
    loaded = gandsl.load(spec)
    torch.manual_seed(0)
    nets = {n: c() for n, c in loaded.classes.items()}
    obj = loaded.module.Objective(nets)
    seen = {}

    def update(player, loss, values):
        seen.setdefault(player, []).append({k: float(v.detach()) for k, v in values.items()})

    for s in range(5):
        obj.iteration(s, Fixed(), update)
    r1 = [t["r1"] for t in seen["D"]]
    assert r1[4] == pytest.approx(r1[0] * 0.25, rel=1e-5)  # the same D: only the weight moved
    assert seen["G"][0]["gan_g"] == float("inf") and seen["G"][1]["gan_g"] > 0
    assert [t["every3"] == 0 for t in seen["G"]] == [True, False, False, True, False]


def test_noise_shaped_like_a_value(tmp_path):
    """`n ~ normal(like=x)` draws noise of x's type (instance noise, DRAGAN's perturbation),
    from the run's generator: the draw's shape is the image's, and the values are
    torch's for that shape."""
    spec = tmp_path / "noise.gan"
    spec.write_text(NETWORKS + textwrap.dedent("""\
        objective {
          x ~ imgs
          z ~ normal(8)
          n ~ normal(like=x, std=0.5)
          u ~ uniform(like=x)
          noisy = x + n * u
          D minimizes gan_d(D(noisy).src, D(G(z)).src)
          G minimizes gan_g(D(G(z)).src)
        }
        """))
    loaded = gandsl.load(spec)
    assert "n = draw.normal((1, 8, 8), std=0.5)" in loaded.source
    assert "u = draw.uniform((1, 8, 8))" in loaded.source
    from gandsl.train.draw import TrainDraw
    draw = TrainDraw({}, 6, torch.device("cpu"))
    torch.manual_seed(3)
    n = draw.normal((1, 8, 8), std=0.5)
    torch.manual_seed(3)
    assert torch.equal(n, torch.randn(6, 1, 8, 8) * 0.5)
    ds = diagnostics(NETWORKS.replace("data imgs: image[1, 8, 8] = digits()",
                                      "data imgs: image[1, 8, 8], class[10] = digits()")
                     + textwrap.dedent("""\
        objective {
          x, c ~ imgs
          n ~ normal(like=c)
          m ~ normal(8, like=x)
          k ~ categorical(like=c)
          D minimizes mean(D(x + n).src)
        }
        """))
    assert [(d.code, d.span.line, d.message) for d in ds if d.severity == "error"] == [
        ("E201", LINE + 3, "`normal(like=...)` draws a float tensor of a sample's shape, like "
         "an image or a latent; got class[imgs]"),
        ("E105", LINE + 4, "`normal` takes one size, e.g. `normal(128)`, or the shape of a "
         "value: `normal(like=x)`"),
        ("E104", LINE + 5, "`categorical` has no argument `like`")]


def test_std_and_var_divide_by_the_count(tmp_path):
    """DRAGAN's std(x) without expanding it: population statistics, as numpy's and TF's, over
    every value or per sample, channel or position."""
    terms, _, nets, draws, source = run(tmp_path, """\
        objective {
          x ~ imgs
          z ~ normal(8)
          fake = G(z)
          D minimizes gan_d(D(x).src, D(fake).src)
          G minimizes gan_g(D(fake).src) + s: std(fake) + v: mean(var(fake, over="sample"))
                    + c: mean(std(fake, over="space"))
        }
        """)
    _, _, fake = outputs(nets, draws)
    f = fake.double()
    torch.testing.assert_close(terms["G"]["s"].double(), f.std(correction=0), rtol=1e-5,
                               atol=1e-7)
    torch.testing.assert_close(terms["G"]["v"].double(),
                               f.flatten(1).var(1, correction=0).mean(), rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(terms["G"]["c"].double(),
                               f.std((2, 3), correction=0).mean(), rtol=1e-5, atol=1e-7)
    assert "fake.std(correction=0)" in source

"""One training iteration of the compiled DCGAN, StarGAN and RaSGAN against hand-written
PyTorch (issue 3's speed target: compiled / hand-written ≤ 1.03), timed side by side in one
process.

The compiled side is exactly what `gandsl train` runs: the generated `Objective.iteration`
with the trainer's `update` (backward into the player's parameters, optimizer step, metric
accumulation, the non-finite check). The hand-written side is the reference training loop
written out plainly (pytorch/examples `dcgan/main.py`; yunjey/stargan `solver.py`;
AlexiaJM/RelativisticGAN's RaSGAN losses), with the same networks (weights copied), batch,
losses and optimizers. Both read the same batches from memory, so data loading is not part of
either. Iterations alternate between the two and the medians are compared.

The RaSGAN spec (`RASGAN` below) is DCGAN's networks with the relativistic average objective
written as tensor math, as docs/language.md's "Tensor math" writes it
(`real_rel = D(x) - mean(D(fake))`, `mean(softplus(-real_rel))`, ...): it times the code the
compiler writes for expressions. Before timing, one iteration of each side from the same
weights, batch and seed is checked to give the same losses (D's, then G's after D's step).

Usage: python benchmarks/train_step.py [--iters N] [--threads N] [--clock wall|cpu]
                                       [--case NAME] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compile_speed import machine, publish  # noqa: E402

from gandsl.train.config import RunConfig  # noqa: E402
from gandsl.train.trainer import Trainer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_THREADS = torch.get_num_threads()


class MemoryDraw:
    """The same batches and noise shapes for both sides; noise from the global generator."""

    def __init__(self, batches: dict[str, tuple[torch.Tensor, ...]], batch: int) -> None:
        self.batches, self.batch_size = batches, batch

    def data(self, name):
        return self.batches[name]

    def normal(self, n, mean=0.0, std=1.0):
        return torch.randn(self.batch_size, n)


def compiled_trainer(spec: str | Path, params: dict, batch: int, out: Path) -> Trainer:
    cfg = RunConfig(spec=str(ROOT / "specs" / spec), params=params, data="shapes", batch=batch,
                    steps=10 ** 6, out=out, progress=False)
    return Trainer(cfg)


# The relativistic average standard GAN (Jolicoeur-Martineau 2019) on DCGAN's networks
# (specs/dcgan.gan), its objective as tensor math (docs/language.md, "Tensor math").
RASGAN = """\
gan rasgan "RaSGAN on DCGAN's networks, the objective as tensor math"

param S = 64
param nc = 3
param nz = 100
param ngf = 64
param ndf = 64

let n = log2(S) - 3

data images: image[nc, S, S] = image_folder("data/images")

network G(z: latent[nz]) -> image[nc, S, S] {
  h = z -> reshape(nz, 1, 1) -> conv_t(ngf * 2^n, 4, bias=false) -> batch_norm -> relu
  for i in 1..n {
    h = h -> conv_t(ngf * 2^(n - i), 4, stride=2, pad=1, bias=false) -> batch_norm -> relu
  }
  return h -> conv_t(nc, 4, stride=2, pad=1, bias=false) -> tanh
}

network D(x: image[nc, S, S]) -> scalar {
  h = x -> conv(ndf, 4, stride=2, pad=1, bias=false) -> leaky_relu(0.2)
  for i in 1..n {
    h = h -> conv(ndf * 2^i, 4, stride=2, pad=1, bias=false) -> batch_norm -> leaky_relu(0.2)
  }
  return h -> conv(1, 4, bias=false)
}

objective {
  x ~ images
  z ~ normal(nz)
  fake = G(z)
  real_rel = D(x) - mean(D(fake))    # C(x) - E C(G(z))
  fake_rel = D(fake) - mean(D(x))
  D minimizes real: mean(softplus(-real_rel)) + fake: mean(softplus(fake_rel))
  G minimizes fake: mean(softplus(-fake_rel)) + real: mean(softplus(real_rel))
}

train {
  adam G (lr=2e-4, betas=(0.5, 0.999))
  adam D (lr=2e-4, betas=(0.5, 0.999))
  init G normal(std=0.02)
  init D normal(std=0.02)
}
"""
INLINE = {"rasgan.gan": RASGAN}  # specs that live here, not in specs/


# ---- DCGAN, as pytorch/examples dcgan/main.py trains it ----------------------------------

def dcgan_hand_step(G, D, opt_g, opt_d, x, nz):
    D.zero_grad()
    err_real = F.binary_cross_entropy_with_logits(D(x), torch.ones(x.shape[0]))
    err_real.backward()
    noise = torch.randn(x.shape[0], nz)
    fake = G(noise)
    err_fake = F.binary_cross_entropy_with_logits(D(fake.detach()), torch.zeros(x.shape[0]))
    err_fake.backward()
    opt_d.step()
    G.zero_grad()
    err_g = F.binary_cross_entropy_with_logits(D(fake), torch.ones(x.shape[0]))
    err_g.backward()
    opt_g.step()


# ---- StarGAN, as yunjey/stargan solver.py trains it ---------------------------------------

def stargan_hand_iteration(G, D, opt_g, opt_d, x, c_org, n_critic=5):
    def classification_loss(logit, target):
        return F.binary_cross_entropy_with_logits(logit, target, reduction="sum") / logit.size(0)

    for i in range(n_critic):
        c_trg = c_org[torch.randperm(c_org.size(0))]
        out = D(x)
        d_loss_real = -torch.mean(out.src)
        d_loss_cls = classification_loss(out.cls, c_org)
        x_fake = G(x, c_trg)
        d_loss_fake = torch.mean(D(x_fake.detach()).src)
        alpha = torch.rand(x.size(0), 1, 1, 1)
        x_hat = (alpha * x.data + (1 - alpha) * x_fake.data).requires_grad_(True)
        out_src = D(x_hat).src
        grad = torch.autograd.grad(out_src, x_hat, torch.ones_like(out_src), retain_graph=True,
                                   create_graph=True, only_inputs=True)[0]
        d_loss_gp = torch.mean((grad.view(grad.size(0), -1).norm(2, dim=1) - 1) ** 2)
        d_loss = d_loss_real + d_loss_fake + d_loss_cls + 10 * d_loss_gp
        opt_g.zero_grad()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        if (i + 1) % n_critic == 0:
            x_fake = G(x, c_trg)
            out = D(x_fake)
            g_loss = -torch.mean(out.src) + classification_loss(out.cls, c_trg) + \
                10 * torch.mean(torch.abs(x - G(x_fake, c_org)))
            opt_g.zero_grad()
            opt_d.zero_grad()
            g_loss.backward()
            opt_g.step()


# ---- RaSGAN, its losses as AlexiaJM/RelativisticGAN writes them ---------------------------

def rasgan_hand_step(G, D, opt_g, opt_d, x, nz):
    """BCE with logits of the relative scores (without the reference's ½, as the spec), D's
    parameters frozen for G's step as there; one `fake` for both steps, as pytorch/examples'
    DCGAN and the compiled objective."""
    ones, zeros = torch.ones(x.shape[0]), torch.zeros(x.shape[0])
    for p in D.parameters():
        p.requires_grad_(True)
    D.zero_grad()
    noise = torch.randn(x.shape[0], nz)
    fake = G(noise)
    y_pred = D(x)
    y_pred_fake = D(fake.detach())
    err_d = F.binary_cross_entropy_with_logits(y_pred - y_pred_fake.mean(), ones) + \
        F.binary_cross_entropy_with_logits(y_pred_fake - y_pred.mean(), zeros)
    err_d.backward()
    opt_d.step()
    for p in D.parameters():  # G's step: no gradients for D's parameters
        p.requires_grad_(False)
    G.zero_grad()
    y_pred = D(x)
    y_pred_fake = D(fake)
    err_g = F.binary_cross_entropy_with_logits(y_pred_fake - y_pred.mean(), ones) + \
        F.binary_cross_entropy_with_logits(y_pred - y_pred_fake.mean(), zeros)
    err_g.backward()
    opt_g.step()
    return {"D": err_d.detach(), "G": err_g.detach()}


def _twin(trainer: Trainer) -> tuple[dict[str, nn.Module], dict[str, torch.optim.Optimizer]]:
    """A second set of the same networks and optimizers for the hand-written loop."""
    nets = {n: cls() for n, cls in trainer.loaded.classes.items()}
    for n, m in nets.items():
        m.load_state_dict(trainer.networks[n].state_dict())
    opts = trainer.loaded.module.Objective(nets).optimizers()
    return nets, opts


def bench(name: str, spec: str, params: dict, batch: int, iters: int,
          clock=time.perf_counter) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        if spec in INLINE:
            spec = Path(tmp) / spec
            spec.write_text(INLINE[spec.name])
        trainer = compiled_trainer(spec, params, batch, Path(tmp) / "run")
        source = next(iter(trainer.sources.values()))
        data_name = next(iter(trainer.sources))
        batches = {data_name: tuple(t.clone() for t in source.next())}
        draw = MemoryDraw(batches, batch)
        nets, opts = _twin(trainer)
        step = 0

        def compiled(update=trainer.update):
            nonlocal step
            trainer.objective.iteration(step, draw, update)
            trainer.sums.clear()
            trainer.counts.clear()
            step += 1

        if name == "dcgan":
            x = batches[data_name][0]

            def hand():
                dcgan_hand_step(nets["G"], nets["D"], opts["G"], opts["D"], x, params["nz"])
        elif name == "rasgan":
            x = batches[data_name][0]

            def hand():
                return rasgan_hand_step(nets["G"], nets["D"], opts["G"], opts["D"], x,
                                        params["nz"])

            same = same_step(compiled, hand, trainer)
        else:
            x, c = batches[data_name]

            def hand():
                stargan_hand_iteration(nets["G"], nets["D"], opts["G"], opts["D"], x, c)

        for fn in (compiled, hand, compiled, hand):  # warm-up
            fn()
        times = {"compiled": [], "hand": []}
        for _ in range(iters):
            for key, fn in (("compiled", compiled), ("hand", hand)):
                t0 = clock()
                fn()
                times[key].append(clock() - t0)
        out = {k: statistics.median(v) for k, v in times.items()}
        if name == "rasgan":
            out["same"] = same
        return out


def same_step(compiled, hand, trainer: Trainer) -> float:
    """One iteration of each side from the same weights and seed: the largest relative
    difference of the players' losses (D's, then G's after D's step)."""
    ours = {}

    def update(player, loss, terms):
        ours[player] = loss.item()
        trainer.update(player, loss, terms)

    state = torch.get_rng_state()
    compiled(update)
    torch.set_rng_state(state)
    theirs = hand()
    return max(abs(ours[p] - float(theirs[p])) / abs(float(theirs[p])) for p in ("D", "G"))


CASES = [
    ("dcgan", "dcgan.gan", {"S": 64, "ngf": 32, "ndf": 32, "nz": 100}, 32,
     "DCGAN 64×64, ngf = ndf = 32, batch 32: one D step and one G step"),
    ("stargan", "stargan.gan", {"S": 64, "g_ch": 16, "d_ch": 16, "g_res": 6, "d_layers": 6},
     8, "StarGAN 64×64, conv_dim 16, 6 residual blocks, batch 8: five D steps (with the "
        "gradient penalty) and one G step"),
    ("rasgan", "rasgan.gan", {"S": 64, "ngf": 32, "ndf": 32, "nz": 100}, 32,
     "RaSGAN (tensor math) on DCGAN's networks, 64×64, ngf = ndf = 32, batch 32: one D step "
     "and one G step"),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=15)
    ap.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                    help="CPU threads (default: torch's, one per core); 1 is steadier where "
                         "other processes share the cores")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="wall time, or this process's CPU time (with --threads 1, the work "
                         "done, whoever else runs)")
    ap.add_argument("--write", type=Path)
    ap.add_argument("--case", action="append", choices=[c[0] for c in CASES],
                    help="only this case (repeatable; with --write, only a full run)")
    args = ap.parse_args()
    if args.case and args.write:
        ap.error("--write replaces the whole section: run every case")
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    load = f"{os.getloadavg()[0]:.1f}"  # other processes share the CPU: say how much
    rows = ["| iteration | compiled | hand-written | compiled / hand-written | target |",
            "|---|---:|---:|---:|---:|"]
    notes = []
    for name, spec, params, batch, what in CASES:
        if args.case and name not in args.case:
            continue
        t = bench(name, spec, params, batch, args.iters,
                  time.process_time if args.clock == "cpu" else time.perf_counter)
        if "same" in t:
            notes.append("one iteration of each side from the same weights and seed gives "
                         + ("the same D and G losses, bit for bit" if t["same"] == 0 else
                            f"D and G losses within {t['same']:.1e} of each other (relative)"))
            print(notes[-1], flush=True)
        ratio = t["compiled"] / t["hand"]
        rows.append(f"| {what} | {t['compiled'] * 1e3:.1f} ms | {t['hand'] * 1e3:.1f} ms | "
                    f"{ratio:.3f} | ≤ 1.03 |")
        print(rows[-1], flush=True)
    flags = (f" --threads {args.threads}" if args.threads != DEFAULT_THREADS else "") + (
        " --clock cpu" if args.clock == "cpu" else "")
    section = "\n".join([
        "## Training step",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine()} with "
        f"`python benchmarks/train_step.py{flags}` (median of {args.iters} alternating "
        f"iterations after warm-up; the same batches from memory for both sides; "
        f"{args.threads} CPU thread{'s' if args.threads > 1 else ''}"
        f"{'; process CPU time' if args.clock == 'cpu' else ''}; load average {load} "
        "when it started).",
        "",
        *rows,
        "",
        "The compiled side runs the generated `Objective.iteration` through the trainer's "
        "`update`; the hand-written side is the reference training loop (pytorch/examples, "
        "yunjey/stargan). The compiled DCGAN computes `G(z)` once per iteration, as the "
        "reference does; its backward passes reach only the stepping player's parameters.",
        "",
        "RaSGAN is DCGAN's networks with the relativistic average loss written in the spec as "
        "tensor math (`real_rel = D(x) - mean(D(fake))`, `mean(softplus(-real_rel))`; the spec "
        "is `RASGAN` in `benchmarks/train_step.py`); the hand-written side writes its losses "
        "as AlexiaJM/RelativisticGAN does (BCE with logits of the relative scores), freezes "
        "D's parameters for G's step as it does, and uses one `fake` for both steps, as the "
        "DCGAN reference does." + (" Checked first: " + "; ".join(notes) + "." if notes else ""),
        "",
    ])
    publish(section, "## Training step", args.write)


if __name__ == "__main__":
    main()

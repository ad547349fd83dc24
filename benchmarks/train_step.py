"""One training iteration of the compiled DCGAN and StarGAN against hand-written PyTorch
(issue 3's speed target: compiled / hand-written ≤ 1.03), timed side by side in one process.

The compiled side is exactly what `gandsl train` runs: the generated `Objective.iteration`
with the trainer's `update` (backward into the player's parameters, optimizer step, metric
accumulation, the non-finite check). The hand-written side is the reference training loop
written out plainly (pytorch/examples `dcgan/main.py`; yunjey/stargan `solver.py`), with the
same networks (weights copied), batch, losses and optimizers. Both read the same batches from
memory, so data loading is not part of either. Iterations alternate between the two and the
medians are compared.

Usage: python benchmarks/train_step.py [--iters N] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import datetime
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


class MemoryDraw:
    """The same batches and noise shapes for both sides; noise from the global generator."""

    def __init__(self, batches: dict[str, tuple[torch.Tensor, ...]], batch: int) -> None:
        self.batches, self.batch_size = batches, batch

    def data(self, name):
        return self.batches[name]

    def normal(self, n, mean=0.0, std=1.0):
        return torch.randn(self.batch_size, n)


def compiled_trainer(spec: str, params: dict, batch: int, out: Path) -> Trainer:
    cfg = RunConfig(spec=str(ROOT / "specs" / spec), params=params, data="shapes", batch=batch,
                    steps=10 ** 6, out=out, progress=False)
    return Trainer(cfg)


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


def _twin(trainer: Trainer) -> tuple[dict[str, nn.Module], dict[str, torch.optim.Optimizer]]:
    """A second set of the same networks and optimizers for the hand-written loop."""
    nets = {n: cls() for n, cls in trainer.loaded.classes.items()}
    for n, m in nets.items():
        m.load_state_dict(trainer.networks[n].state_dict())
    opts = trainer.loaded.module.Objective(nets).optimizers()
    return nets, opts


def bench(name: str, spec: str, params: dict, batch: int, iters: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        trainer = compiled_trainer(spec, params, batch, Path(tmp) / "run")
        source = next(iter(trainer.sources.values()))
        data_name = next(iter(trainer.sources))
        batches = {data_name: tuple(t.clone() for t in source.next())}
        draw = MemoryDraw(batches, batch)
        nets, opts = _twin(trainer)
        step = 0

        def compiled():
            nonlocal step
            trainer.objective.iteration(step, draw, trainer.update)
            trainer.sums.clear()
            trainer.counts.clear()
            step += 1

        if name == "dcgan":
            x = batches[data_name][0]

            def hand():
                dcgan_hand_step(nets["G"], nets["D"], opts["G"], opts["D"], x, params["nz"])
        else:
            x, c = batches[data_name]

            def hand():
                stargan_hand_iteration(nets["G"], nets["D"], opts["G"], opts["D"], x, c)

        for fn in (compiled, hand, compiled, hand):  # warm-up
            fn()
        times = {"compiled": [], "hand": []}
        for _ in range(iters):
            for key, fn in (("compiled", compiled), ("hand", hand)):
                t0 = time.perf_counter()
                fn()
                times[key].append(time.perf_counter() - t0)
        return {k: statistics.median(v) for k, v in times.items()}


CASES = [
    ("dcgan", "dcgan.gan", {"S": 64, "ngf": 32, "ndf": 32, "nz": 100}, 32,
     "DCGAN 64×64, ngf = ndf = 32, batch 32: one D step and one G step"),
    ("stargan", "stargan.gan", {"S": 64, "g_ch": 16, "d_ch": 16, "g_res": 6, "d_layers": 6},
     8, "StarGAN 64×64, conv_dim 16, 6 residual blocks, batch 8: five D steps (with the "
        "gradient penalty) and one G step"),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=15)
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(torch.get_num_threads())
    rows = ["| iteration | compiled | hand-written | compiled / hand-written | target |",
            "|---|---:|---:|---:|---:|"]
    for name, spec, params, batch, what in CASES:
        t = bench(name, spec, params, batch, args.iters)
        ratio = t["compiled"] / t["hand"]
        rows.append(f"| {what} | {t['compiled'] * 1e3:.1f} ms | {t['hand'] * 1e3:.1f} ms | "
                    f"{ratio:.3f} | ≤ 1.03 |")
        print(rows[-1], flush=True)
    section = "\n".join([
        "## Training step",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine()} with "
        f"`python benchmarks/train_step.py` (median of {args.iters} alternating iterations "
        "after warm-up; the same batches from memory for both sides).",
        "",
        *rows,
        "",
        "The compiled side runs the generated `Objective.iteration` through the trainer's "
        "`update`; the hand-written side is the reference training loop (pytorch/examples, "
        "yunjey/stargan). The compiled DCGAN computes `G(z)` once per iteration, as the "
        "reference does; its backward passes reach only the stepping player's parameters.",
        "",
    ])
    publish(section, "## Training step", args.write)


if __name__ == "__main__":
    main()

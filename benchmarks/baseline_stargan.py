"""StarGAN written plainly in PyTorch, as yunjey/stargan's solver.py trains it, on the shapes
of docs/results.md with the same budget: the baseline of the compiled specs/stargan.gan.

The networks are benchmarks/reference_models.py's (the reference's, conv_dim 32, 4 residual
blocks, 5 strided layers in D at 32×32), the loop is solver.py's: a fresh batch each
iteration, D every iteration (WGAN-GP with λ_gp 10, attribute BCE), G every 5th (adversarial,
attribute BCE, 10·L1 reconstruction), Adam 1e-4, β = (0.5, 0.999), batch 16; the target
attributes are the batch's own, shuffled. `800` iterations here are 800 G steps (4,000 D
steps), as `gandsl train --steps 800` counts them. The translations are then scored as
`gandsl eval` scores them: the shapes classifier's reading of the changed and kept
attributes, the reconstruction's L1, and the Fréchet distance against real scenes.

    python benchmarks/baseline_stargan.py --steps 800 [--compare runs/stargan-shapes]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_models import StarGANDiscriminator, StarGANGenerator  # noqa: E402

from gandsl.data import build_dataset  # noqa: E402
from gandsl.eval.classifier import judge  # noqa: E402
from gandsl.eval.labels import as_labels  # noqa: E402
from gandsl.eval.run import comparison, measure  # noqa: E402
from gandsl.pipeline import check_source  # noqa: E402

ATTRS = ("red", "green", "blue", "large", "dark")


def shapes(seed: int = 0):
    """The 10,000 shapes scenes with their 5 attributes, as `--data shapes` serves them."""
    spec = check_source(f"gan d\ndata d: image[3, 32, 32], label[5] = shapes(seed={seed})\n",
                        "d.gan").spec
    return build_dataset(spec, spec.datasets[0])


def cls_loss(logit, target):
    return F.binary_cross_entropy_with_logits(logit, target, reduction="sum") / logit.size(0)


def train(steps: int, seed: int = 0):
    torch.manual_seed(seed)
    G, D = StarGANGenerator(32, 5, 4), StarGANDiscriminator(32, 32, 5, 5)
    g_opt = torch.optim.Adam(G.parameters(), 1e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(D.parameters(), 1e-4, betas=(0.5, 0.999))
    loader = DataLoader(shapes(), batch_size=16, shuffle=True, drop_last=True)
    batches = iter(loader)
    start = time.perf_counter()
    for i in range(5 * steps):
        try:
            x, c_org = next(batches)
        except StopIteration:
            batches = iter(loader)
            x, c_org = next(batches)
        c_trg = c_org[torch.randperm(c_org.size(0))]
        src, cls = D(x)
        fake = G(x, c_trg)
        alpha = torch.rand(x.size(0), 1, 1, 1)
        x_hat = (alpha * x + (1 - alpha) * fake.detach()).requires_grad_(True)
        out, _ = D(x_hat)
        grad = torch.autograd.grad(out, x_hat, torch.ones_like(out), create_graph=True)[0]
        gp = ((grad.view(grad.size(0), -1).norm(2, dim=1) - 1) ** 2).mean()
        d_loss = -src.mean() + D(fake.detach())[0].mean() + cls_loss(cls, c_org) + 10 * gp
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        if (i + 1) % 5 == 0:
            fake = G(x, c_trg)
            src, cls = D(fake)
            g_loss = -src.mean() + cls_loss(cls, c_trg) + \
                10 * (x - G(fake, c_org)).abs().mean()
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
    return G, time.perf_counter() - start


@torch.no_grad()
def score(G, n: int = 500) -> dict:
    data = shapes()
    torch.manual_seed(1)
    idx = torch.randperm(len(data))[:n]
    x = torch.stack([data[int(i)][0] for i in idx])
    c_org = torch.stack([data[int(i)][1] for i in idx])
    c_trg = c_org[torch.randperm(n)]
    fakes = torch.cat([G(x[k:k + 100], c_trg[k:k + 100]) for k in range(0, n, 100)])
    back = torch.cat([G(fakes[k:k + 100], c_org[k:k + 100]) for k in range(0, n, 100)])
    j = judge("shapes", 3, 32)
    metrics, floor = measure(j, fakes)
    pred = as_labels("shapes", j.predict(fakes), "label", 5, ATTRS)
    changed = c_trg != c_org
    right = pred == c_trg
    return {"metrics": metrics, "floor": floor,
            "changed_accuracy": float(right[changed].float().mean()),
            "kept_accuracy": float(right[~changed].float().mean()),
            "reconstruction_l1": float((back - x).abs().mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--compare", type=Path, help="a gandsl run with its eval.json")
    args = parser.parse_args()
    G, seconds = train(args.steps)
    G.train()  # as the reference samples: instance norm with batch statistics
    result = {"steps": args.steps, "seconds": round(seconds, 1), **score(G)}
    print(json.dumps(result, indent=1))
    if args.compare:
        ours = json.loads((args.compare / "eval.json").read_text())
        moved = ours["translation"]
        rows = [("Fréchet distance", ours["metrics"]["fd"], result["metrics"]["fd"]),
                ("changed attributes", moved["fake"]["changed_accuracy"],
                 result["changed_accuracy"]),
                ("kept attributes", moved["fake"]["kept_accuracy"], result["kept_accuracy"]),
                ("reconstruction L1", moved["G_fake"]["reconstruction_l1"],
                 result["reconstruction_l1"])]
        print(comparison(rows, (ours.get("train_seconds"), result["seconds"])))


if __name__ == "__main__":
    main()

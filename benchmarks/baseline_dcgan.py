"""The DCGAN of specs/dcgan.gan written plainly in PyTorch, as pytorch/examples' dcgan/main.py
has it, at the size the Fashion-MNIST table trains (32×32 grey images, ngf = ndf = 32): the
baseline the compiled spec is compared with in docs/results.md.

Same networks (transposed convolutions with batch norm and ReLU up from 4×4; strided
convolutions with batch norm and leaky ReLU down to a 4×4 logit), initialization (weights
N(0, 0.02), batch-norm gains N(1, 0.02)), losses (BCE with logits, non-saturating G),
optimizers (Adam 2e-4, β = (0.5, 0.999)), batch (64), noise (N(0, 1)^100) and data
(Fashion-MNIST's 60,000 training images, bilinearly resized to 32×32 as gandsl's IDX source
resizes them, shuffled each epoch). D steps first, on G's fakes detached; G then steps on
the same fakes. The samples are scored by `gandsl eval`'s own measure (its 32×32
Fashion-MNIST classifier), from G in training mode as gandsl's sample grids and eval draw.

    python benchmarks/baseline_dcgan.py --steps 2000 [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from gandsl.eval.classifier import judge
from gandsl.eval.run import measure

NZ, NGF, NDF, SIZE, BATCH = 100, 32, 32, 32, 64


def generator() -> nn.Sequential:
    n = int(math.log2(SIZE)) - 3
    layers: list[nn.Module] = [nn.ConvTranspose2d(NZ, NGF * 2 ** n, 4, bias=False),
                               nn.BatchNorm2d(NGF * 2 ** n), nn.ReLU()]
    for i in range(1, n + 1):
        layers += [nn.ConvTranspose2d(NGF * 2 ** (n - i + 1), NGF * 2 ** (n - i), 4, 2, 1,
                                      bias=False), nn.BatchNorm2d(NGF * 2 ** (n - i)), nn.ReLU()]
    layers += [nn.ConvTranspose2d(NGF, 1, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(nn.Unflatten(1, (NZ, 1, 1)), *layers)


def discriminator() -> nn.Sequential:
    n = int(math.log2(SIZE)) - 3
    layers: list[nn.Module] = [nn.Conv2d(1, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
    for i in range(1, n + 1):
        layers += [nn.Conv2d(NDF * 2 ** (i - 1), NDF * 2 ** i, 4, 2, 1, bias=False),
                   nn.BatchNorm2d(NDF * 2 ** i), nn.LeakyReLU(0.2)]
    layers += [nn.Conv2d(NDF * 2 ** n, 1, 4, bias=False), nn.Flatten(0)]
    return nn.Sequential(*layers)


def weights_init(m: nn.Module) -> None:
    """pytorch/examples' `weights_init`."""
    if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def fashion_mnist() -> torch.Tensor:
    """Fashion-MNIST's training images as (N, 1, 32, 32) in [−1, 1]."""
    from gandsl.data.idx import fashion_mnist_folder, load_split

    images, _ = load_split(fashion_mnist_folder(), "train")
    x = images.unsqueeze(1).float() / 127.5 - 1
    return F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)


def train(steps: int, seed: int = 0) -> tuple[nn.Module, float]:
    torch.manual_seed(seed)
    x_all = fashion_mnist()
    G, D = generator(), discriminator()
    G.apply(weights_init)
    D.apply(weights_init)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    start = time.perf_counter()
    order, pos = torch.randperm(len(x_all)), 0
    for _ in range(steps):
        if pos + BATCH > len(order):  # a new epoch: reshuffle, drop the last partial batch
            order, pos = torch.randperm(len(x_all)), 0
        x = x_all[order[pos:pos + BATCH]]
        pos += BATCH
        fake = G(torch.randn(BATCH, NZ))
        opt_d.zero_grad()
        real_out, fake_out = D(x), D(fake.detach())
        loss_d = bce(real_out, torch.ones_like(real_out)) + \
            bce(fake_out, torch.zeros_like(fake_out))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        out = D(fake)
        bce(out, torch.ones_like(out)).backward()
        opt_g.step()
    return G, time.perf_counter() - start


@torch.no_grad()
def score(G: nn.Module, n: int = 2000) -> dict:
    """Fréchet distance, KID, precision and recall of `n` samples, drawn as one batch in
    training mode as `gandsl eval` draws them (batch norm on that batch's statistics)."""
    torch.manual_seed(1)
    fakes = G(torch.randn(n, NZ)).clamp(-1, 1)
    j = judge("fashion_mnist", 1, SIZE)
    metrics, floor = measure(j, fakes)
    return {"metrics": metrics, "floor": floor, "classifier_accuracy": j.accuracy["class"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    G, seconds = train(args.steps, args.seed)
    print(json.dumps({"steps": args.steps, "seconds": round(seconds, 1), **score(G)}, indent=1))


if __name__ == "__main__":
    main()

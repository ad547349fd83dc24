"""The CGAN of specs/cgan.gan written plainly in PyTorch, as a user would without gandsl, and
trained with the same budget: the baseline the compiled spec is compared with in
docs/results.md (issue: the compiled spec must reach the same quality in the same time).

Same networks (the paper's MNIST MLPs with maxout), losses (BCE with logits, non-saturating
G), optimizers (Adam 2e-4, β = (0.5, 0.999)), batch (100), noise (U(−1, 1)^100) and data
(scikit-learn's 1,500 training digits resized to 28×28, or with `--data fashion-mnist`
Fashion-MNIST's 60,000 training images, shuffled each epoch). D steps first,
on G's fakes detached; G then steps on the same fakes, as pytorch/examples' DCGAN loop does.
The samples are then scored by `gandsl eval`'s own measure: the dataset's classifier's
features and its reading of the labels.

    python benchmarks/baseline_cgan.py --steps 3000 [--data fashion-mnist] [--compare RUN]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812
from sklearn.datasets import load_digits
from torch import nn

from gandsl.eval.classifier import judge
from gandsl.eval.labels import accuracy
from gandsl.eval.run import comparison, measure, within_class


class Maxout(nn.Module):
    def __init__(self, n_in: int, units: int, pieces: int) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(n_in, units * pieces)

    def forward(self, x):
        return self.linear(x).view(-1, self.units, self.pieces).max(dim=2).values


class Generator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.z = nn.Sequential(nn.Linear(100, 200), nn.ReLU(), nn.Dropout(0.5))
        self.y = nn.Sequential(nn.Linear(10, 1000), nn.ReLU(), nn.Dropout(0.5))
        self.out = nn.Linear(1200, 28 * 28)

    def forward(self, z, y):
        h = torch.cat([self.z(z), self.y(F.one_hot(y, 10).float())], dim=1)
        return torch.tanh(self.out(h)).view(-1, 1, 28, 28)


class Discriminator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.x = nn.Sequential(Maxout(784, 240, 5), nn.Dropout(0.5))
        self.y = nn.Sequential(Maxout(10, 50, 5), nn.Dropout(0.5))
        self.out = nn.Sequential(Maxout(290, 240, 4), nn.Dropout(0.5), nn.Linear(240, 1))

    def forward(self, x, y):
        h = torch.cat([self.x(x.flatten(1)), self.y(F.one_hot(y, 10).float())], dim=1)
        return self.out(h).view(-1)


def digits() -> tuple[torch.Tensor, torch.Tensor]:
    """The 1,500 training digits as (N, 1, 28, 28) in [−1, 1], and their classes."""
    bunch = load_digits()
    x = torch.from_numpy(bunch.images[:1500]).float().unsqueeze(1) / 8 - 1
    x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)
    return x, torch.from_numpy(bunch.target[:1500]).long()


def fashion_mnist() -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST's 60,000 training images as (N, 1, 28, 28) in [−1, 1], and their classes."""
    from gandsl.data.idx import fashion_mnist_folder, load_split

    images, labels = load_split(fashion_mnist_folder(), "train")
    return images.unsqueeze(1).float() / 127.5 - 1, labels


DATA = {"digits": digits, "fashion-mnist": fashion_mnist}
SOURCE = {"digits": "digits", "fashion-mnist": "fashion_mnist"}  # the classifier of each


def train(steps: int, seed: int = 0, data: str = "digits") -> tuple[Generator, float]:
    torch.manual_seed(seed)
    x_all, y_all = DATA[data]()
    G, D = Generator(), Discriminator()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    start = time.perf_counter()
    order, pos = torch.randperm(len(x_all)), 0
    for _ in range(steps):
        if pos + 100 > len(order):  # a new epoch: reshuffle, drop the last partial batch
            order, pos = torch.randperm(len(x_all)), 0
        idx = order[pos:pos + 100]
        pos += 100
        x, y = x_all[idx], y_all[idx]
        z = torch.rand(100, 100) * 2 - 1
        fake = G(z, y)
        opt_d.zero_grad()
        real_out, fake_out = D(x, y), D(fake.detach(), y)
        loss_d = bce(real_out, torch.ones_like(real_out)) + \
            bce(fake_out, torch.zeros_like(fake_out))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        out = D(fake, y)
        bce(out, torch.ones_like(out)).backward()
        opt_g.step()
    return G, time.perf_counter() - start


@torch.no_grad()
def score(G: Generator, n: int = 1000, data: str = "digits") -> dict:
    G.eval()  # dropout off, as gandsl's sample grids and eval have it
    torch.manual_seed(1)
    y = torch.arange(n) % 10
    fakes = G(torch.rand(n, 100) * 2 - 1, y)
    j = judge(SOURCE[data], 1, 28)
    metrics, floor = measure(j, fakes)
    cond = accuracy(j.predict(fakes)["class"], y, "class")["overall"]
    return {"metrics": metrics, "floor": floor, "conditional_accuracy": cond,
            "within_class": within_class(j, fakes, y),
            "classifier_accuracy": j.accuracy["class"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--data", choices=sorted(DATA), default="digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare", type=Path, help="a gandsl run with its eval.json")
    args = parser.parse_args()
    G, seconds = train(args.steps, args.seed, args.data)
    result = {"steps": args.steps, "seconds": round(seconds, 1), **score(G, data=args.data)}
    print(json.dumps(result, indent=1))
    if args.compare:
        ours = json.loads((args.compare / "eval.json").read_text())
        rows = [("Fréchet distance", ours["metrics"]["fd"], result["metrics"]["fd"]),
                ("KID", ours["metrics"]["kid"], result["metrics"]["kid"]),
                ("precision", ours["metrics"]["precision"], result["metrics"]["precision"]),
                ("recall", ours["metrics"]["recall"], result["metrics"]["recall"]),
                ("conditional accuracy", ours["conditional"]["accuracy"]["overall"],
                 result["conditional_accuracy"])]
        print(comparison(rows, (ours.get("train_seconds"), result["seconds"])))


if __name__ == "__main__":
    main()

"""Hostile inputs too large to keep as files: each is built from a few lines, with the exit
status, diagnostic code and position `gandsl check` must answer (issue 14's acceptance list).
The small ones live in `corpus/` as files, each with its expectation in its first line."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from synthetic import of_size  # noqa: E402  (the benchmark's own specs, at its 100x size)

NET = "network D(x: image[1, 8, 8]) -> scalar { return x -> flatten -> linear(1) }\n"
GAN = """data d: image[1, 8, 8] = digits()
network G(z: latent[4]) -> image[1, 8, 8] { return z -> linear(64) -> reshape(1, 8, 8) }
""" + NET


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    exit: int
    code: str | None  # the first diagnostic's code; None: no diagnostic
    at: tuple[int, int] | None = None  # its line and column
    count: int | None = None  # how many diagnostics in all


def _loss(terms: int) -> str:
    loss = " + ".join(["l1(G(z), x)"] * terms)
    return GAN + f"objective {{\n  x ~ d\n  z ~ normal(4)\n  D minimizes gan_d(D(x), D(G(z)))\n" \
                 f"  G minimizes {loss}\n}}\n"


CASES = [
    Case("10k nested parentheses", "param a = " + "(" * 10_000 + "1" + ")" * 10_000 + "\n",
         1, "E004", (1, 111)),
    Case("10k nested brackets", "param a = " + "[" * 10_000 + "1" + "]" * 10_000 + "\n",
         1, "E004", (1, 111)),
    Case("10k nested negations", "param a = " + "-" * 10_000 + "1\n", 1, "E004", (1, 11)),
    Case("10k nested ifs", "network D(x: image[1, 8, 8]) -> scalar {\n" + "if true {\n" * 10_000
         + "}\n" * 10_000 + "return x -> flatten -> linear(1) }\n", 1, "E004", (101, 9)),
    Case("10k blocks applying each other",
         "".join(f"block b{i}() {{ in -> b{i + 1} }}\n" for i in range(10_000))
         + "block b10000() { in }\n"
         + "network D(x: image[1, 8, 8]) -> scalar { return x -> b0 -> flatten -> linear(1) }\n",
         1, "E152", (32, 21)),
    Case("a 5,000-term loss", _loss(5_000), 1, "E004", (8, 15)),
    Case("a 5,000-digit integer", "param a = " + "7" * 5_000 + "\n", 1, "E005", (1, 11)),
    Case("a 5,000-digit fraction", "param a = 1." + "7" * 5_000 + "\n", 1, "E005", (1, 11)),
    Case("exponential block recursion",
         "block b(n) {\n  if n > 0 { in -> b(n - 1) -> b(n - 1) } else { in }\n}\n"
         "network D(x: image[1, 8, 8]) -> scalar { return x -> b(30) -> flatten -> linear(1) }\n",
         1, "E152", (1, 7)),
    Case("a 20,000 x 20,000 for", "network D(x: image[1, 8, 8]) -> scalar {\n"
         "  for i in 1..20000 { for j in 1..20000 { let k = i * j } }\n"
         "  return x -> flatten -> linear(1)\n}\n", 1, "E152", (2, 23)),
    Case("10,000 undefined names", "network D(x: image[1, 8, 8]) -> scalar {\n"
         + "".join(f"  h{i} = x -> conv(u{i}, 3)\n" for i in range(10_000))
         + "  return x -> flatten -> linear(1)\n}\n", 1, "E101", (2, 18), count=10_000),
    Case("10,000 unknown layers", "network D(x: image[1, 8, 8]) -> scalar {\n"
         + "".join(f"  h{i} = x -> layer{i}\n" for i in range(10_000))
         + "  return x -> flatten -> linear(1)\n}\n", 1, "E103", (2, 13), count=10_000),
    Case("a 500 KB spec of networks", of_size("networks", 500_000), 0, None),
    Case("a 500 KB spec of one network's layers", of_size("layers", 500_000), 0, None),
    Case("a 500 KB spec of loss terms", of_size("terms", 500_000), 0, None),
    Case("a spec over 512 KiB", of_size("networks", 530_000), 1, "E004", (1, 1)),
]

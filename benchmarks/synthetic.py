"""Synthetic specs of a given size, for the compiler's scaling curve (compile_speed.py) and
the hostile corpus (tests/hostile): each kind grows one dimension of a spec.

- `networks`: many small networks, one player each (the issue's 500 KB case: ~100 bytes a
  network);
- `layers`: one generator with thousands of layers;
- `terms`: many players whose losses have many terms each.
"""

from __future__ import annotations

from collections.abc import Callable

HEAD = "data d: image[1, 8, 8] = digits()\n"
G = ("network G(z: latent[4]) -> image[1, 8, 8] { return z -> linear(64) -> reshape(1, 8, 8) "
     "-> tanh }\n")


def _players(n: int, network: Callable[[int], str], loss: Callable[[int], str],
             generator_loss: str) -> str:
    """`n` networks, each trained by its own player with `loss(i)`, beside one generator."""
    parts = [HEAD, G, *(network(i) for i in range(n))]
    parts.append("objective {\n  x ~ d\n  z ~ normal(4)\n  fake = G(z)\n")
    parts += [f"  {loss(i)}\n" for i in range(n)]
    parts.append(f"  G minimizes {generator_loss}\n}}\n")
    return "".join(parts)


def networks(n: int) -> str:
    return _players(
        n, lambda i: f"network D{i}(x: image[1, 8, 8]) -> scalar {{ return x -> flatten -> "
                     f"linear(1) }}\n",
        lambda i: f"D{i} minimizes gan_d(D{i}(x), D{i}(fake))", "gan_g(D0(fake))")


def layers(n: int) -> str:
    body = "  h = h -> conv(8, 3, stride=1, pad=1, bias=true) -> leaky_relu(0.2)\n" * n
    return (HEAD + "network G(z: latent[4]) -> image[1, 8, 8] {\n"
            "  h = z -> linear(512) -> reshape(8, 8, 8)\n" + body +
            "  return h -> conv(1, 3, pad=1) -> tanh\n}\n"
            "network D(x: image[1, 8, 8]) -> scalar { return x -> flatten -> linear(1) }\n"
            "objective {\n  x ~ d\n  z ~ normal(4)\n  D minimizes gan_d(D(x), D(G(z)))\n"
            "  G minimizes gan_g(D(G(z)))\n}\n")


def terms(n: int) -> str:
    """`n` players, each a network whose loss has 20 terms."""
    def loss(i: int) -> str:
        return f"E{i} minimizes " + " + ".join(
            f"{k + 1} * l1(E{i}(x), fake)" if k % 2 else f"l2(E{i}(fake), x)" for k in range(20))

    return _players(
        n, lambda i: f"network E{i}(x: image[1, 8, 8]) -> image[1, 8, 8] {{ return x -> "
                     f"conv(1, 3, pad=1) }}\n", loss, "l1(fake, x)")


KINDS: dict[str, Callable[[int], str]] = {"networks": networks, "layers": layers,
                                          "terms": terms}


def of_size(kind: str, size: int) -> str:
    """The largest spec of `kind` of at most `size` bytes."""
    make = KINDS[kind]
    lo, hi = 1, max(2, size // 20)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(make(mid).encode()) <= size:
            lo = mid
        else:
            hi = mid - 1
    return make(lo)

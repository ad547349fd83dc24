"""The table `gandsl compile` prints: networks with their shapes, parameter and layer counts,
and each player's loss terms. Plain text, so compiling needs no extra imports."""

from __future__ import annotations

from .ir import Network, Player, Spec
from .layers import LAYERS


def _fmt_weight(w: float) -> str:
    return f"{w:g}"


def layer_count(net: Network) -> int:
    return sum(1 for n in net.nodes if n.op in LAYERS)


def _terms(p: Player) -> str:
    parts = []
    for i, t in enumerate(p.terms):
        sign = "-" if t.weight < 0 else "+"
        mag = abs(t.weight)
        text = t.name if mag == 1 else f"{_fmt_weight(mag)}·{t.name}"
        if t.every:
            text += f" (every {t.every})"
        parts.append(text if i == 0 and sign == "+" else f"{sign} {text}" if i else f"-{text}")
    return " ".join(parts)


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(header), line(["─" * w for w in widths]), *map(line, rows)]


def summary(spec: Spec) -> str:
    rows: list[list[str]] = []
    for net in spec.networks:
        ins = [f"{p.name}: {p.type}" for p in net.inputs]
        outs = [f"{p.name}: {p.type}" if p.name else str(p.type) for p in net.outputs]
        total = sum(n.params for n in net.nodes)
        for i in range(max(len(ins), len(outs), 1)):
            first = i == 0
            rows.append([net.name if first else "", ins[i] if i < len(ins) else "",
                         outs[i] if i < len(outs) else "", f"{total:,}" if first else "",
                         str(layer_count(net)) if first else ""])
    lines = _table(["network", "inputs", "outputs", "parameters", "layers"], rows, {3, 4})
    if spec.objective is not None and spec.objective.players:
        prows = [[p.name, ", ".join(p.networks), _terms(p)] for p in spec.objective.players]
        lines += ["", *_table(["player", "trains", "minimizes"], prows, set())]
    return "\n".join(lines)

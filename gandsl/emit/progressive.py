"""Progressive growing in the generated `forward`: which statements run at which level of
detail, and the branches of each `grow` (see `gandsl.layers.progressive`).

A network with K grows has `self.level`, a float in [0, K] (K: fully grown, the default; the
trainer sets it every step from the train section's `grow` schedule). The level axis is cut
into regions: `level == j` and `j < level < j + 1`. Every statement gets the set of regions
in which something needs its value, found backwards from the outputs: a `grow` of level ℓ
needs `new` where level > ℓ − 1 and `old` where level < ℓ. A statement needed everywhere is
written as usual; the others sit under `if <condition on self.level>:`, so that neither a
stage not yet grown nor a faded-out head (PGGAN's lower ToRGB / FromRGB) is computed.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..ir import Network, Node

Regions = frozenset[int]


def grow_levels(net: Network) -> dict[int, int]:
    """Each `grow` node's level, 1..K: ranked by the size of its result, smallest first (G's
    grows come in source order, D's in reverse; the checker rejects two of one size)."""
    grows = [n for n in net.nodes if n.op == "grow"]
    ranked = sorted(grows, key=lambda n: (n.type.dims[1] * n.type.dims[2], n.id))
    return {n.id: k + 1 for k, n in enumerate(ranked)}


def every(k: int) -> Regions:
    return frozenset(range(2 * k + 1))


def new_needed(level: int, k: int) -> Regions:
    """Where a grow of `level` uses its new value: level > ℓ − 1."""
    return frozenset(range(2 * level - 1, 2 * k + 1))


def old_needed(level: int) -> Regions:
    """Where it uses its old value: level < ℓ."""
    return frozenset(range(2 * level))


def needs(net: Network, items: list[tuple[list[int], int, Node | None]],
          levels: dict[int, int]) -> list[Regions]:
    """Per item (inputs, output, node): the regions in which its value is needed."""
    k = len(levels)
    need: dict[int, Regions] = {r: every(k) for r in net.results}
    out: list[Regions] = []
    for inputs, output, node in reversed(items):
        regions = need.get(output) or every(k)  # an unused value: as the code always did
        out.append(regions)
        if node is not None and node.op == "grow":
            lv = levels[node.id]
            old, new = node.x, node.values["new"][0]
            need[old] = need.get(old, frozenset()) | (regions & old_needed(lv))
            need[new] = need.get(new, frozenset()) | (regions & new_needed(lv, k))
            continue
        for i in inputs:
            need[i] = need.get(i, frozenset()) | regions
    return out[::-1]


def condition(regions: Regions, k: int) -> str | None:
    """Python for "level is in these regions"; None when it is every region."""
    if regions == every(k):
        return None
    return " or ".join(_range_text(a, b, k) for a, b in _runs(sorted(regions)))


def _runs(indices: list[int]) -> Iterable[tuple[int, int]]:
    start = prev = indices[0]
    for i in indices[1:]:
        if i != prev + 1:
            yield start, prev
            start = i
        prev = i
    yield start, prev


def _range_text(a: int, b: int, k: int) -> str:
    """Regions a..b as a chained comparison on `self.level`."""
    lower = "" if a == 0 else (f"{a // 2} <= " if a % 2 == 0 else f"{a // 2} < ")
    upper = "" if b == 2 * k else (f" <= {b // 2}" if b % 2 == 0 else f" < {b // 2 + 1}")
    if a == b and a % 2 == 0:
        return f"self.level == {a // 2}"
    return f"{lower}self.level{upper}"


def grow_lines(target: str, old: str, new: str, level: int, k: int, regions: Regions,
               upsample: bool, shape: str) -> list[str]:
    """The branches of one grow, limited to the regions where its value is needed."""
    kept = old if not upsample else f'F.interpolate({old}, scale_factor=2, mode="nearest")'
    alpha = "self.level" if level == 1 else f"self.level - {level - 1}"
    branches = [
        (regions & frozenset(range(2 * level - 1)), f"{target} = {kept}",
         "not grown yet"),
        (regions & frozenset({2 * level - 1}),
         f"{target} = rt.fade_in({old}, {new}, {alpha})", "fading in"),
        (regions & frozenset(range(2 * level, 2 * k + 1)), f"{target} = {new}", "grown"),
    ]
    live = [b for b in branches if b[0]]
    if len(live) == 1:
        return [f"{live[0][1]}  # {shape}, level {level} {live[0][2]}"]
    # a branch that would assign a variable to itself is left out: `if`/`elif` skip it
    written = [b for b in live if b[1] != f"{target} = {target}"]
    lines = [f"# level {level}: {shape}"]
    for n, (where, code, why) in enumerate(written):
        if n == 0:
            lines.append(f"if {condition(where, k)}:  # {why}")
        elif n < len(written) - 1 or len(written) < len(live):
            lines.append(f"elif {condition(where, k)}:  # {why}")
        else:
            lines.append(f"else:  # {why}")
        lines.append(f"    {code}")
    return lines


def group(chunks: list[tuple[Regions, list[str]]], k: int) -> list[str]:
    """Consecutive statements with one condition under one `if`."""
    body: list[str] = []
    run: list[str] = []
    current: Regions | None = None
    for regions, lines in [*chunks, (None, [])]:
        if regions != current and run:
            cond = condition(current, k) if current is not None else None
            body += run if cond is None else [f"if {cond}:", *("    " + x for x in run)]
            run = []
        current = regions
        run += lines
    return body

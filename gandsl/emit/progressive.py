"""Progressive growing in the generated `forward`: which statements run at which level of
detail, and the branches of each `grow` (see `gandsl.layers.progressive`).

A network with K grows has `self.level`, a float in [0, K] (K: fully grown, the default; the
trainer sets it every step from the train section's `grow` schedule). The level axis is cut
into regions: `level == j` and `j < level < j + 1`. Every statement gets the set of regions
in which something needs its value, found backwards from the outputs: a `grow` of level ℓ
needs `new` where level > ℓ − 1 and `old` where level < ℓ. A statement needed everywhere is
written as usual; the others sit under `if <condition on self.level>:`, so that neither a
stage not yet grown nor a faded-out head (PGGAN's lower ToRGB / FromRGB) is computed.

The spec's loop over resolutions stays a loop (`loops.py`): each iteration is one level, so
the bounds of its conditions move by one level per iteration and are written in `i`
(`if i < self.level < i + 2:`); a bound at the end of the level axis says nothing and may be
left out in some iterations and not others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..ir import Network, Node
from .loops import affine
from .symbolic import NotLoopable

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


def condition(regions: list[Regions], k: int, step: int = 0) -> str | None:
    """Python for "level is in these regions"; None when it is every region. `regions` holds
    one set per iteration of a loop (one set outside loops): each bound of the condition is
    then written in the loop index `i`, moving `step` levels per iteration."""
    runs = [list(_runs(sorted(r))) for r in regions]
    if any(len(r) != len(runs[0]) for r in runs):
        raise NotLoopable("a condition on the level differs between iterations")
    parts = []
    for n in range(len(runs[0])):
        low = _fit([r[n][0] for r in runs], 2 * step, lambda v: v <= 0)
        high = _fit([r[n][1] for r in runs], 2 * step, lambda v: v >= 2 * k)
        parts.append(_range_text(low, high))
    parts = [p for p in parts if p]
    return " or ".join(parts) if parts else None


def _runs(indices: list[int]) -> Iterable[tuple[int, int]]:
    start = prev = indices[0]
    for i in indices[1:]:
        if i != prev + 1:
            yield start, prev
            start = i
        prev = i
    yield start, prev


Bound = tuple[int, int] | None  # a region index as `a + b * i`; None: no bound needed


def _fit(values: list[int], step: int, free: Callable[[int], bool]) -> Bound:
    """The region index `a + b * i` that a bound takes in iteration i. A bound at the end of
    the level axis (`free`) says nothing and may take any value past it; None when every
    iteration's is such."""
    fixed = [(i, v) for i, v in enumerate(values) if not free(v)]
    if not fixed:
        return None
    (i0, v0), rest = fixed[0], fixed[1:]
    b = (rest[0][1] - v0) // (rest[0][0] - i0) if rest else step
    a = v0 - b * i0
    if b % 2 or any(a + b * i != v if not free(v) else not free(a + b * i)
                    for i, v in enumerate(values)):
        raise NotLoopable("a bound on the level does not move evenly with the loop")
    return a, b


def _index_text(a: int, b: int) -> str:
    return affine([a, a + b], index_first=True)


def _range_text(low: Bound, high: Bound) -> str:
    """Regions low..high as a chained comparison on `self.level`: an even region index 2j is
    `level == j`, an odd one 2j + 1 is `j < level < j + 1`."""
    if low is not None and low == high and low[0] % 2 == 0:
        return f"self.level == {_index_text(low[0] // 2, low[1] // 2)}"
    lower = upper = ""
    if low is not None:
        a, b = low
        lower = f"{_index_text(a // 2, b // 2)} {'<=' if a % 2 == 0 else '<'} "
    if high is not None:
        a, b = high
        bound = _index_text(a // 2, b // 2) if a % 2 == 0 else _index_text(a // 2 + 1, b // 2)
        upper = f" {'<=' if a % 2 == 0 else '<'} {bound}"
    return f"{lower}self.level{upper}" if lower or upper else ""


def grow_lines(target: str, old: str, new: str, levels: list[int], k: int,
               regions: list[Regions], upsample: bool, shape: str) -> list[str]:
    """The branches of one grow, limited to the regions where its value is needed; `levels`
    and `regions` hold one entry per iteration of a loop (one outside loops)."""
    kept = old if not upsample else f'F.interpolate({old}, scale_factor=2, mode="nearest")'
    step = levels[1] - levels[0] if len(levels) > 1 else 0
    below = _index_text(levels[0] - 1, step)  # the level this grow fades in from
    alpha = "self.level" if below == "0" else \
        f"self.level - {below if ' ' not in below else f'({below})'}"
    branches = [
        ([r & frozenset(range(2 * lv - 1)) for lv, r in zip(levels, regions, strict=True)],
         f"{target} = {kept}", "not grown yet"),
        ([r & frozenset({2 * lv - 1}) for lv, r in zip(levels, regions, strict=True)],
         f"{target} = rt.fade_in({old}, {new}, {alpha})", "fading in"),
        ([r & frozenset(range(2 * lv, 2 * k + 1)) for lv, r in zip(levels, regions, strict=True)],
         f"{target} = {new}", "grown"),
    ]
    if any(len({bool(r) for r in where}) > 1 for where, _, _ in branches):
        raise NotLoopable("a grow's branches differ between iterations")
    live = [b for b in branches if b[0][0]]
    level = _index_text(levels[0], step)
    if len(live) == 1:
        return [f"{live[0][1]}  # {shape}, level {level} {live[0][2]}"]
    # a branch that would assign a variable to itself is left out: `if`/`elif` skip it
    written = [b for b in live if b[1] != f"{target} = {target}"]
    lines = [f"# level {level}: {shape}"]
    for n, (where, code, why) in enumerate(written):
        if n == 0:
            lines.append(f"if {condition(where, k, step)}:  # {why}")
        elif n < len(written) - 1 or len(written) < len(live):
            lines.append(f"elif {condition(where, k, step)}:  # {why}")
        else:
            lines.append(f"else:  # {why}")
        lines.append(f"    {code}")
    return lines


def group(chunks: list[tuple[str | None, list[str]]]) -> list[str]:
    """Consecutive statements with one condition (None: always run) under one `if`."""
    body: list[str] = []
    run: list[str] = []
    current: str | None = None
    for cond, lines in [*chunks, ("", [])]:
        if cond != current and run:
            body += run if current is None else [f"if {current}:", *("    " + x for x in run)]
            run = []
        current = cond
        run += lines
    return body

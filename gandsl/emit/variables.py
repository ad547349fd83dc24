"""Which Python variable holds each value of a generated `forward`: the spec's own names, and
when each value is last read (a name is reused only once the value it held is dead)."""

from __future__ import annotations

from typing import Protocol

from ..ir import Network


class Statement(Protocol):
    inputs: list[int]
    output: int


def last_uses(items: list[Statement], results: list[int]) -> dict[int, int]:
    """Each value → the index of the last statement that reads it (`len(items)`: returned)."""
    last: dict[int, int] = {}
    for idx, item in enumerate(items):
        for i in item.inputs:
            last[i] = idx
    for r in results:
        last[r] = len(items)
    return last


def preferred_names(net: Network, items: list[Statement],
                    last_use: dict[int, int]) -> dict[int, str]:
    """The spec's name for each value; a value that outlives its name (`skip = h` before `h` is
    rebound) takes its later name instead, so U-Net skips keep theirs."""
    prefer = {item.output: net.nodes[item.output].var for item in items}
    position = {item.output: k for k, item in enumerate(items)}
    for item in items:
        node = net.nodes[item.output]
        if not node.aliases:
            continue
        k = position[item.output]
        rebinds = [j for j in range(k + 1, len(items)) if prefer[items[j].output] == node.var]
        if rebinds and last_use.get(item.output, -1) > rebinds[0]:
            prefer[item.output] = node.aliases[-1]
    return prefer



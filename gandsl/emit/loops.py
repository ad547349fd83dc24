"""A `for` loop of the spec whose iterations have the same structure stays a loop in the
generated `forward` (StyleGAN2's synthesis: two style convs, a ToRGB and the skip per
resolution).

The spec's loops are expanded by lowering; here a run of statements that repeats with a period
is found again. Iteration i's statements must match iteration 0's one by one (the same layer
with the same words, or a use of the same block class), read the same values from outside the
loop, the same statements of their own iteration, and the same statements of the previous
iteration (the values a loop carries, such as `h` and `img`), and nothing the loop makes may be
read after it but the last iteration's values. What differs between iterations is a
constructor's arguments (one `nn.ModuleList` per statement with a module, built with each
iteration's) or a number that grows by the same step each iteration (`ws.narrow(1, 1536 + 1024
* i, 512)`); a loop whose statements differ in anything else is written out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..ir import Network, Node

MIN_ITERATIONS = 3
MAX_PERIOD = 16

Ref = tuple  # ("cur", j) | ("prev", j) | ("out", node)


class Item(Protocol):
    inputs: list[int]
    output: int
    node: Node | None
    blocks: list


@dataclass
class Loop:
    start: int  # the first item
    period: int  # items per iteration
    count: int  # iterations
    init: dict[int, int]  # position → the value iteration 0 reads as "the previous" one

    @property
    def end(self) -> int:
        return self.start + self.period * self.count - 1

    def item(self, i: int, j: int) -> int:
        return self.start + i * self.period + j


MAX_FAILED_CHECKS = 32  # candidate loops tried and refused per network: bounded work


def find_loops(net: Network, items: list[Item], last_use: dict[int, int]) -> list[Loop]:
    """The loops of a forward, left to right, none overlapping. Linear in the statements:
    for each period, how far statement k's shape repeats `period` statements later is found
    in one backward pass; only the longest candidate at a start is checked, and a network
    stops looking after `MAX_FAILED_CHECKS` refusals."""
    shapes = [_shape(net, it) for it in items]
    runs: dict[int, list[int]] = {}  # period → from k, how many shapes equal the one p later
    for p in range(2, MAX_PERIOD + 1):
        run = [0] * (len(items) + p)
        for k in range(len(items) - p - 1, -1, -1):
            same = shapes[k] is not None and shapes[k] == shapes[k + p]
            run[k] = run[k + 1] + 1 if same else 0
        runs[p] = run
    out: list[Loop] = []
    failed, s = 0, 0
    while s < len(items) and failed < MAX_FAILED_CHECKS:
        best = None
        for p in range(2, MAX_PERIOD + 1):
            n = 1 + runs[p][s] // p
            if n >= MIN_ITERATIONS and (best is None or n * p > best[0] * best[1]):
                best = (n, p)
        if best is None:
            s += 1
            continue
        n, p = best
        loop = _check(items, last_use, Loop(s, p, n, {}))
        if loop is None and n - 1 >= MIN_ITERATIONS:  # the last repetition read after it
            loop = _check(items, last_use, Loop(s, p, n - 1, {}))
        if loop is None:
            failed += 1
            s += 1
            continue
        out.append(loop)
        s = loop.end + 1
    return out


def _shape(net: Network, item: Item) -> tuple | None:
    """What must be equal between iterations: the statement's kind and words, not its
    numbers. None for a statement a loop cannot hold."""
    if item.node is None:
        return ("block", id(item.blocks[0][1])) if len(item.blocks) == 1 else None
    n = item.node
    if n.op in ("input", "extern"):
        return None
    words = tuple(sorted((k, v) for k, v in n.args.items() if not _numeric(v)))
    return (n.op, tuple(sorted(n.args)), words, tuple((k, len(v)) for k, v in n.values.items()),
            n.x is not None)


def _numeric(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, tuple) and all(_numeric(v) for v in value)


def positions(items: list[Item], loop: Loop) -> dict[int, tuple[int, int]]:
    """Each value the loop makes → (iteration, statement)."""
    return {items[loop.item(a, b)].output: (a, b) for a in range(loop.count)
            for b in range(loop.period)}


def refs(items: list[Item], loop: Loop, i: int, j: int,
         where: dict[int, tuple[int, int]] | None = None) -> list[Ref] | None:
    """How statement (i, j) reads each input: a statement of its own iteration, of the
    previous one, or a value from outside the loop."""
    where = positions(items, loop) if where is None else where
    out: list[Ref] = []
    for v in items[loop.item(i, j)].inputs:
        if v not in where:
            out.append(("out", v))
            continue
        a, b = where[v]
        if a == i and b < j:
            out.append(("cur", b))
        elif a == i - 1 and b >= j:  # read before this iteration writes it
            out.append(("prev", b))
        else:
            return None
    return out


def _check(items: list[Item], last_use: dict[int, int], loop: Loop) -> Loop | None:
    """The loop, with the values iteration 0 reads as its previous iteration's, when the
    iterations read alike and nothing but the last iteration is read after the loop."""
    where = positions(items, loop)
    for j in range(loop.period):
        first = refs(items, loop, 1, j, where)
        if first is None:
            return None
        for i in range(2, loop.count):
            if refs(items, loop, i, j, where) != first:
                return None
        zero = refs(items, loop, 0, j, where)
        if zero is None or len(zero) != len(first):
            return None
        for r0, r1 in zip(zero, first, strict=True):
            if r1[0] == "prev":
                if r0[0] != "out" or loop.init.get(r1[1], r0[1]) != r0[1]:
                    return None
                loop.init[r1[1]] = r0[1]
            elif r0 != r1:
                return None
    for i in range(loop.count - 1):  # only the last iteration's values outlive the loop
        for j in range(loop.period):
            if last_use.get(items[loop.item(i, j)].output, -1) > loop.end:
                return None
    return loop


def affine(values: list, index_first: bool = False) -> str | None:
    """`1536 + 1024 * i`: the expression of the loop index that gives these integers in turn,
    or `2 ** (i + 1)` for powers of two whose exponent grows so (a pooling factor per
    resolution); None when they do neither. `index_first`: `i + 2` rather than `2 + i`."""
    if not all(type(v) is int for v in values):
        return None
    a, b = values[0], values[1] - values[0]
    if any(v != a + b * i for i, v in enumerate(values)):
        if all(v > 0 and v & (v - 1) == 0 for v in values):
            exponent = affine([v.bit_length() - 1 for v in values], index_first=True)
            if exponent is not None:
                return f"2 ** {exponent if ' ' not in exponent else f'({exponent})'}"
        return None
    if b == 0:
        return repr(a)
    step = "i" if abs(b) == 1 else f"{abs(b)} * i"
    if a == 0:
        return step if b > 0 else f"-{step}"
    if b < 0:
        return f"{a} - {step}"
    return f"{a} + {step}" if not index_first else f"{step} {'+' if a > 0 else '-'} {abs(a)}"


def _leaves(value, path: tuple = ()):
    if isinstance(value, tuple):
        for k, v in enumerate(value):
            yield from _leaves(v, (*path, k))
    elif _numeric(value):
        yield path, value


def _at(value, path: tuple):
    for k in path:
        value = value[k]
    return value


def numbers(net: Network, items: list[Item], loop: Loop) -> dict[tuple, str | None]:
    """Renderer keys of iteration 0's numbers that differ between iterations → their
    expression in `i` (None: they do not grow by one step, and cannot be written in `forward`)."""
    out: dict[tuple, str | None] = {}
    for j in range(loop.period):
        first = items[loop.item(0, j)]
        if first.node is None:
            continue
        nodes = [items[loop.item(i, j)].node for i in range(loop.count)]
        for name, value in first.node.args.items():
            for path, _ in _leaves(value):
                vector = [_at(n.args[name], path) for n in nodes]
                if len(set(map(repr, vector))) > 1:
                    out[("arg", first.node.id, name, *path)] = affine(vector)
        # the sizes of the statement's type and of what it reads, as its code may print them
        for i0, ids in _typed(items, loop, j):
            types = [net.nodes[k].type for k in ids]
            if any(t is None for t in types):
                continue
            for axis in range(len(types[0].dims)):
                vector = [t.dims[axis] for t in types]
                if len(set(vector)) > 1:
                    out[("dim", i0, axis)] = affine(vector)
    return out


def _typed(items: list[Item], loop: Loop, j: int):
    """(iteration 0's node, that node in every iteration) for statement j and its inputs."""
    first = items[loop.item(0, j)]
    yield first.output, [items[loop.item(i, j)].output for i in range(loop.count)]
    where = positions(items, loop)
    per_iteration = [refs(items, loop, i, j, where) for i in range(loop.count)]
    for k, v in enumerate(first.inputs):
        per = []
        for i in range(loop.count):
            ref = per_iteration[i][k]
            if ref[0] == "out":
                per.append(ref[1])
            elif ref[0] == "cur":
                per.append(items[loop.item(i, ref[1])].output)
            else:
                per.append(items[loop.item(i - 1, ref[1])].output if i else loop.init[ref[1]])
        yield v, per

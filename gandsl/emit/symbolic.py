"""Numbers that know how they print: how one class body serves every use of a block.

A block used with different arguments (StyleGAN2's `style_conv(ch, up)` at nine resolutions)
becomes one `nn.Module` class whose constructor takes what differs. To find what differs
without teaching every layer about symbols, the emitter hands the layers' code functions
numbers that are ordinary `int`s and `float`s for every computation and comparison, but print
through a `Renderer`:

- probing, each prints as a placeholder naming where it came from (`⟨arg 3 out⟩`), so two
  uses of a block give the same text exactly when their code has the same structure, and the
  renderer records which number each placeholder stood for;
- finally, a number that differs between the uses prints as the constructor parameter that
  carries it (`out_ch` in `__init__`, `self.out_ch` in `forward`), any other as its literal,
  or as a module constant (`SQRT2`) where the module repeats it.

A number computed from these (`k // 2`) is a plain number and prints as its value: uses that
differ there get classes of their own, which is always correct.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from ..types import TensorType

Key = tuple  # where a number came from: ("arg", node, name, index) or ("dim", node, axis)


class Renderer:
    """How the symbolic numbers of one class print. `place` is set by the builder around the
    code it asks the layers for: "init", "forward" or "comment"."""

    def __init__(self, probe: bool = False, params: dict[Key, tuple[str, str]] | None = None,
                 comments: dict[Key, str] | None = None,
                 constants: dict[float, str] | None = None) -> None:
        self.probe = probe
        # key → (template, constructor parameter): `("{}", "ch")`, or `("{} // 2", "k")` for
        # a number the uses make from a parameter
        self.params = params or {}
        self.comments = comments or {}  # key → how a shape comment names it
        self.constants = constants or {}  # float → the module constant that holds it
        self.place = "forward"
        self.seen: dict[Key, Any] = {}  # probing: the keys printed in code, with their values
        self.floats: Counter[float] = Counter()  # float literals printed in code
        self.forward_params: list[str] = []  # parameters `forward` reads (`self.<name>`)
        # inside a re-rolled loop (`loops.py`): key → its expression in `i` (None: none)
        self.loop: dict[Key, str | None] = {}
        self.origin = ""  # the layer whose code is asking (`leaky_relu`): names constants
        self.origins: dict[float, str] = {}  # float literal → `layer_argument` of its first use

    def show(self, sym: SymInt | SymFloat) -> str:
        value = sym.plain
        if self.place == "comment":
            return "?" if self.probe else self.comments.get(sym.key, repr(value))
        if self.probe:
            self.seen[sym.key] = value
            return f"⟨{' '.join(map(str, sym.key))}⟩"
        if self.place == "forward" and sym.key in self.loop:
            if self.loop[sym.key] is None:
                raise NotLoopable(sym.key)
            return self.loop[sym.key]
        if sym.key in self.params:
            template, name = self.params[sym.key]
            if self.place == "init":
                return template.format(name)
            if name not in self.forward_params:
                self.forward_params.append(name)
            return template.format(f"self.{name}")
        if isinstance(value, float):  # `leaky_relu_slope`; an option by its name: `init_std`
            words = [k for k in sym.key[2:] if isinstance(k, str)]
            self.origins.setdefault(value, f"{words[0]}_{words[-1]}" if len(words) > 1
                                    else f"{self.origin}_{words[0]}")
        return self.literal(value)

    def literal(self, value: Any, count: bool = True) -> str:
        """A number as code: its module constant where it has one. `count`: it is written
        once in the module (a constructor argument of a loop is written once for all)."""
        if isinstance(value, float) and not isinstance(value, bool):
            self.floats[value] += count
            return self.constants.get(value, repr(value))
        return repr(value)

    def keeps(self, sym: SymInt | SymFloat, default: Any) -> bool:
        """Is a keyword argument with this value written? Probing, always (so the structure
        does not depend on the value); finally, when it is a parameter or not the default."""
        if self.probe or sym.key in self.params:
            return True
        return sym.plain != default or type(sym.plain) is not type(default)


class NotLoopable(Exception):
    """A number a loop's `forward` would print differs between iterations irregularly."""


class _Printed:
    """What SymInt and SymFloat share: a number that prints through its renderer."""

    key: Key
    renderer: Renderer

    def keeps(self, default: Any) -> bool:
        return self.renderer.keeps(self, default)

    def __repr__(self) -> str:
        return self.renderer.show(self)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(self.plain, spec) if spec else self.renderer.show(self)


class SymInt(_Printed, int):
    def __new__(cls, value: int, key: Key, renderer: Renderer) -> SymInt:
        self = int.__new__(cls, value)
        self.key, self.renderer = key, renderer
        return self

    @property
    def plain(self) -> int:
        return int(self)


class SymFloat(_Printed, float):
    def __new__(cls, value: float, key: Key, renderer: Renderer) -> SymFloat:
        self = float.__new__(cls, value)
        self.key, self.renderer = key, renderer
        return self

    @property
    def plain(self) -> float:
        return float(self)


def symbolic(value: Any, key: Key, renderer: Renderer) -> Any:
    """`value` with its numbers (in tuples too) made symbolic; bools, strings and anything
    else as they are."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return SymInt(value, key, renderer)
    if isinstance(value, float) and math.isfinite(value):
        return SymFloat(value, key, renderer)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return value[0], symbolic(value[1], (*key, value[0]), renderer)  # an option by name
    if isinstance(value, tuple | list):
        return type(value)(symbolic(v, (*key, i), renderer) for i, v in enumerate(value))
    return value


def symbolic_type(t: TensorType | None, key: Key, renderer: Renderer) -> TensorType | None:
    """A type whose dimensions print through the renderer (built without validation, which
    would turn them back into plain ints)."""
    if t is None:
        return None
    dims = tuple(SymInt(d, (*key, i), renderer) for i, d in enumerate(t.dims))
    return TensorType.model_construct(kind=t.kind, dims=dims, labels=t.labels)


def plain(value: Any) -> Any:
    """A compile-time value without its symbols (for a call site's arguments)."""
    if isinstance(value, SymInt | SymFloat):
        return value.plain
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


class SymbolicTypes(dict):
    """A network's node id → its type with symbolic sizes, made when first asked for."""

    def __init__(self, net, renderer: Renderer) -> None:
        super().__init__()
        self.net, self.renderer = net, renderer

    def __missing__(self, i: int) -> TensorType | None:
        self[i] = symbolic_type(self.net.nodes[i].type, ("dim", i), self.renderer)
        return self[i]

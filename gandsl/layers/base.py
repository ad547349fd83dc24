"""What the compiler knows about a layer: signature, shape rule, parameter count, emitted code.

A `Layer` is pure data plus small functions of a `Ctx` (the input type, the resolved compile-time
arguments and the types of any extra tensor arguments). Shape rules raise `LayerError`, which
the checker turns into a diagnostic at the argument or stage that is wrong. Parameter counts are
formulas here and are tested against the instantiated torch modules of every spec.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..naming import literal
from ..types import TensorType

REQUIRED = object()


class LayerError(Exception):
    """A layer cannot take this input or these arguments. `param` names the argument to blame."""

    def __init__(self, message: str, param: str | None = None, code: str = "E202") -> None:
        super().__init__(message)
        self.param = param
        self.code = code


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # int | num | nums (a tuple) | bool | str | value | values (variadic tensors) |
    #            ints (variadic)
    default: Any = REQUIRED
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    open_min: bool = False  # the minimum itself is not allowed (a multiplier of 0, say)
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def is_value(self) -> bool:
        return self.kind in ("value", "values")


@dataclass
class Ctx:
    """Everything a layer's rules may look at for one use of the layer."""

    x: TensorType | None  # the chained input (None for source layers such as `const`)
    args: dict[str, Any]  # compile-time arguments, defaults filled in
    values: dict[str, Any] = field(default_factory=dict)  # tensor args: TensorType or list
    names: dict[str, Any] = field(default_factory=dict)  # python expressions for x and values
    attr: str = ""  # the module attribute, `self.<attr>`
    batch: str = "x.shape[0]"  # python expression for the batch size

    @property
    def c(self) -> int:
        assert self.x is not None
        return self.x.dims[0]


def no_params(ctx: Ctx) -> int:
    return 0


def same_type(ctx: Ctx) -> TensorType:
    """The rule of layers that keep their input's type (norms, activations)."""
    return ctx.x


def module_call(ctx: Ctx) -> str:
    """The forward expression of a layer with one module: `self.<attr>(x)`."""
    return f"self.{ctx.attr}({ctx.names['x']})"


def ctx_for(layer: Layer, node, type_of, **extra) -> Ctx:
    """The `Ctx` of one use of a layer (an IR node), given the types of the nodes it reads."""
    values: dict[str, Any] = {}
    for name, ids in node.values.items():
        param = layer.param(name)
        if param is not None and param.kind == "values":
            values[name] = [type_of(i) for i in ids]
        elif ids:
            values[name] = type_of(ids[0])
    x = type_of(node.x) if node.x is not None else None
    return Ctx(x=x, args=node.args, values=values, **extra)


@dataclass(frozen=True)
class Layer:
    name: str
    doc: str
    params: tuple[Param, ...]
    accepts: frozenset[str]  # families of the chained input; empty: a source layer
    infer: Callable[[Ctx], TensorType]
    call: Callable[[Ctx], str] | None = None  # forward expression; default `self.<attr>(x)`
    module: Callable[[Ctx], str] | None = None  # constructor expression; None: functional
    # a functional layer as a module (`nn.ReLU()`), for a chain written as `nn.Sequential`
    as_module: Callable[[Ctx], str] | None = None
    count: Callable[[Ctx], int] = no_params
    weighted: bool = False  # accepts the `sn` / `eqlr` modifiers
    value_first: bool = False  # may be written `f(x, ...)` as well as `x -> f(...)`
    example: str = ""

    def forward(self, ctx: Ctx) -> str:
        """The forward expression of one use of this layer."""
        return self.call(ctx) if self.call is not None else module_call(ctx)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.all_params if p.name == name), None)

    @property
    def all_params(self) -> tuple[Param, ...]:
        return self.params + (MODIFIERS if self.weighted else ())


# Modifiers any weighted layer takes (spectral norm, equalized learning rate).
MODIFIERS = (
    Param("sn", "bool", False, doc="spectral normalization of the weight (Miyato et al. 2018)"),
    Param("eqlr", "bool", False, doc="equalized learning rate (Karras et al. 2018)"),
    Param("lr_mul", "num", 1.0, min=0, open_min=True,
          doc="learning-rate multiplier under `eqlr`"),
    Param("gain", "num", 2 ** 0.5, min=0, open_min=True, doc="He gain under `eqlr`"),
    Param("init", "init", None, doc="the layer's own initialization, e.g. `zeros` or "
          "`msr(gain=0.5)`; a network's `init` leaves it"),
)
MODIFIER_NAMES = frozenset(p.name for p in MODIFIERS)

# Families of values a layer accepts as its chained input.
SPATIAL = frozenset({"spatial"})
FLAT = frozenset({"flat"})
FEATURES = frozenset({"spatial", "flat"})


def wrap_modifiers(ctor: str, ctx: Ctx) -> str:
    """Apply the `init` / `sn` / `eqlr` modifiers to a weighted layer's constructor
    expression (the initialization first: spectral norm keeps the weight it is given)."""
    a = ctx.args
    if a.get("init"):
        method, options = a["init"]
        extra = "".join(f", {k}={py(v)}" for k, v in options)
        ctor = f"rt.initialized({ctor}, {py(method)}{extra})"
    if a.get("eqlr"):
        extra = ""
        if _keeps(a.get("lr_mul", 1.0), 1.0):
            extra += f", lr_mul={py(a['lr_mul'])}"
        if _keeps(a.get("gain", 2 ** 0.5), 2 ** 0.5):
            extra += f", gain={py(a['gain'])}"
        ctor = f"rt.equalized_lr({ctor}{extra})"
    if a.get("sn"):
        ctor = f"nn.utils.parametrizations.spectral_norm({ctor})"
    return ctor


def py(value: Any) -> str:
    """A Python literal for a compile-time value; `repr` keeps strings and floats exact."""
    if isinstance(value, float):
        assert math.isfinite(value), value  # compile-time values are checked to be finite
    if isinstance(value, str):
        return literal(value)
    return repr(value)


def call_args(positional: list[Any], keywords: dict[str, tuple[Any, Any]]) -> str:
    """`a, b, k=v` omitting keywords equal to their default: {name: (value, default)}."""
    parts = [py(v) for v in positional]
    parts += [f"{k}={py(v)}" for k, (v, d) in keywords.items() if _keeps(v, d)]
    return ", ".join(parts)


def _keeps(value: Any, default: Any) -> bool:
    """Is a keyword written? When it is not its default; a number the emitter made symbolic
    (`emit/symbolic.py`: one class for several uses of a block) decides for itself."""
    if hasattr(value, "keeps"):
        return value.keeps(default)
    return value != default or type(value) is not type(default)


def need(cond: bool, message: str, param: str | None = None, code: str = "E202") -> None:
    if not cond:
        raise LayerError(message, param, code)

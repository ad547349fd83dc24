"""The one namespace of a spec's top level (`Globals`): what is declared there, after params
are evaluated and ifs are taken, shared by blocks and networks; a name defined in it once, and
compile-time values evaluated against it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import syntax as S
from ..consteval import CONSTANTS, ConstError, DatasetRef, NotConst, Silent, evaluate
from ..diagnostics import Diagnostics, Span, did_you_mean
from ..ir import Dataset, Param
from ..layers import LAYERS
from .scope import POISON, Poison


@dataclass
class Globals:
    """Everything declared at the top level, after params are evaluated and ifs are taken."""

    consts: dict[str, Any] = field(default_factory=dict)  # params and lets
    const_spans: dict[str, Span] = field(default_factory=dict)
    params: list[Param] = field(default_factory=list)
    datasets: dict[str, Dataset] = field(default_factory=dict)
    blocks: dict[str, S.BlockDecl] = field(default_factory=dict)
    networks: dict[str, S.NetworkDecl] = field(default_factory=dict)
    externs: dict[str, Any] = field(default_factory=dict)  # name → `externs.ExternSig`
    objectives: list[S.ObjectiveDecl] = field(default_factory=list)
    trains: list[S.TrainDecl] = field(default_factory=list)
    spans: dict[str, Span] = field(default_factory=dict)  # every top-level name's definition
    poisoned: set[str] = field(default_factory=set)  # names whose definition failed
    declared: dict[str, str] = field(default_factory=dict)  # every top-level name → its kind

    def resolve(self, name: str, span: Span,
                visible: Callable[[], list[str]] | None = None) -> Any:
        """A resolver for `consteval.evaluate` over the global namespace. `visible` lists the
        names an undefined one may be a typo of (default: the globals)."""
        if name in self.poisoned or isinstance(self.consts.get(name), Poison):
            raise Silent
        if name in self.consts:
            return self.consts[name]
        if name in self.datasets:
            return DatasetRef((name,))
        if name in self.blocks or name in self.networks or name in self.externs:
            raise NotConst(name, span)
        kind = self.declared.get(name)
        if kind in ("data", "block", "network", "extern"):  # declared, not collected yet
            word = {"data": "dataset"}.get(kind, kind)
            raise ConstError("E153", f"`{name}` is a {word}, not a compile-time value", span)
        if kind == "let":
            raise ConstError("E153", f"`{name}` is a `let`, and params are evaluated before "
                             "lets: a param may only use other params", span)
        if name in CONSTANTS:
            return CONSTANTS[name]
        raise ConstError("E101", f"undefined name `{name}`", span,
                         lambda: did_you_mean(name, (visible or self.names)()))

    def names(self) -> list[str]:
        return [*self.consts, *self.datasets, *self.blocks, *self.networks, *CONSTANTS]


def define(g: Globals, name: str, span: Span, diags: Diagnostics, what: str) -> bool:
    if name in g.spans:
        diags.error("E102", f"{what} `{name}` is already defined", span,
                    notes=[("first defined here", g.spans[name])])
        return False
    if (name in LAYERS or name == "repeat") and what in ("block", "network"):
        diags.error("E109", f"{what} `{name}` has the name of a built-in layer", span,
                    hint="choose another name")
        return False
    g.spans[name] = span
    return True


def const_or_poison(expr: S.Expr, resolve, diags: Diagnostics) -> Any:
    try:
        value = evaluate(expr, resolve)
    except ConstError as e:
        diags.error(e.code, e.message, e.span, e.hint)
        return POISON
    except NotConst as e:
        diags.error("E153", f"`{e.name}` is not a compile-time value", e.span)
        return POISON
    except Silent:
        return POISON
    return POISON if _contains_poison(value) else value


def _contains_poison(value: Any) -> bool:
    if isinstance(value, Poison):
        return True
    return isinstance(value, tuple) and any(_contains_poison(v) for v in value)



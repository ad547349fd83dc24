"""The objective lowering's values: names, arithmetic on run-time values and on numbers
(`ConstBox`), calls (of networks, of functions, of an `extern function`, of an augmentation
pipeline) and the selection of a network's output (`G(x).src`). `Values` is the base of the
objective lowering's parts: it holds the state `ObjectiveLowering` sets up."""

from __future__ import annotations

from typing import Any

from .. import syntax as S
from ..consteval import ConstError, NotConst, Silent, describe, evaluate
from ..diagnostics import Diagnostics, Span, did_you_mean
from ..functions import DISTRIBUTIONS, FUNCTIONS
from ..ir import Network, ONode
from .augment import Pipeline
from .binding import Callee, Sig, bind
from .externs import call_extern
from .globals import Globals
from .scope import POISON, Poison


class ConstBox:
    """A compile-time number inside the objective (a weight, a `let`)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def is_state(e: S.Expr) -> bool:
    """`state(...)`: a value carried across iterations (see `State`)."""
    return is_call_of(e, "state")


def is_call_of(e: S.Expr, name: str) -> bool:
    return isinstance(e, S.Call) and isinstance(e.func, S.Name) and e.func.id == name


class Values:
    """A value of the objective: a node id, a `ConstBox`, or POISON."""

    decl: S.ObjectiveDecl
    g: Globals
    networks: dict[str, Network | None]
    diags: Diagnostics
    nodes: list[ONode]
    env: dict[str, Any]  # objective names → node id, or a compile-time value
    groups: dict[str, list[str]]

    def _add(self, op: str, span: Span, **kw) -> int:
        node = ONode(id=len(self.nodes), op=op, span=span, **kw)
        self.nodes.append(node)
        return node.id

    def _const(self, expr: S.Expr) -> Any:
        def resolve(name: str, span: Span) -> Any:
            if name in self.env:
                v = self.env[name]
                if isinstance(v, Poison):
                    raise Silent
                if isinstance(v, ConstBox):
                    return v.value
                raise NotConst(name, span)
            return self.g.resolve(name, span, visible=lambda: [
                *self.env, *self.g.names(), *self.groups])
        try:
            return evaluate(expr, resolve)
        except Silent:
            return POISON
        except ConstError as e:
            self.diags.error(e.code, e.message, e.span, e.hint)
        except NotConst as e:
            self.diags.error("E153", f"`{e.name}` is a value computed at run time; a "
                             "compile-time number is needed here", e.span)
        return POISON

    def _value(self, expr: S.Expr, var: str | None = None) -> Any:
        """A node id, a `ConstBox`, or POISON."""
        if isinstance(expr, S.Name):
            if expr.id in self.g.poisoned:
                return POISON
            if isinstance(self.env.get(expr.id), Pipeline):
                self.diags.error("E301", f"`{expr.id}` is an augmentation pipeline; apply it: "
                                 f"`{expr.id}(x)`", expr.span)
                return POISON
            if expr.id in self.env:
                return self.env[expr.id]
            if self._is_step(expr.id):  # the iteration, a number at run time
                return self._add("step", expr.span, var=var)
            if expr.id in self.g.networks:
                self.diags.error("E206", f"network `{expr.id}` must be called: "
                                 f"`{expr.id}(...)`", expr.span)
                return POISON
            if expr.id in self.g.datasets:
                self.diags.error("E301", f"sample the dataset first: `x ~ {expr.id}`",
                                 expr.span)
                return POISON
            if expr.id in self.groups:
                self.diags.error("E301", f"`{expr.id}` is a group of networks; call them one "
                                 "at a time", expr.span)
                return POISON
        if isinstance(expr, S.Call):
            return self._call(expr, var)
        if isinstance(expr, S.Attr):
            return self._select(expr, var)
        if isinstance(expr, S.Neg):
            v = self._value(expr.operand)
            if isinstance(v, Poison):
                return v
            if isinstance(v, ConstBox):
                return ConstBox(-v.value)
            return self._add("neg", expr.span, inputs=[v], var=var)
        if isinstance(expr, S.BinOp):
            acc = self._value(expr.first)
            for op, operand in expr.rest:
                rhs = self._value(operand)
                if isinstance(acc, Poison) or isinstance(rhs, Poison):
                    return POISON
                if op not in ("+", "-", "*", "/", "^", "//", "%"):
                    self.diags.error("E201", f"`{op}` is not defined on tensors: the objective "
                                     "has + - * / ^, and // % on numbers", expr.span)
                    return POISON
                if op in ("/", "//", "%") and isinstance(rhs, ConstBox) and \
                        not isinstance(rhs.value, bool) and rhs.value == 0:
                    self.diags.error("E151", "division by zero", operand.span)
                    return POISON
                if isinstance(acc, ConstBox) and isinstance(rhs, ConstBox):
                    acc = ConstBox(self._const(S.BinOp(expr.span, S.Lit(expr.span, acc.value),
                                                        [(op, S.Lit(expr.span, rhs.value))])))
                    continue
                ids = [self._box(acc, expr.first.span), self._box(rhs, operand.span)]
                acc = self._add("arith", expr.span, name=op, inputs=ids)
            if var is not None and isinstance(acc, int):
                self.nodes[acc].var = var
            return acc
        if isinstance(expr, S.Chain):
            self.diags.error("E301", "`->` chains layers inside a network or block body; the "
                             "objective calls networks: `N(x)`", expr.span,
                             hint="to reshape or draw a tensor of another type, write a "
                             "network, or draw it shaped like a value: `n ~ normal(like=x)`")
            return POISON
        if isinstance(expr, S.Every | S.Labeled):
            what = "`every`" if isinstance(expr, S.Every) else "a term name (`name: ...`)"
            self.diags.error("E301", f"{what} applies to a whole loss term of `minimizes`",
                             expr.span)
            return POISON
        value = self._const(expr)
        return POISON if isinstance(value, Poison) else ConstBox(value)

    def _box(self, v: Any, span: Span) -> int:
        if isinstance(v, ConstBox):
            return self._add("const", span, args=[v.value])
        return v

    def _call(self, expr: S.Call, var: str | None) -> Any:
        if is_call_of(expr.func, "augment"):
            self.diags.error("E301", "`augment(...)` defines a pipeline of its own: "
                             "`aug = augment(...)`, applied as `aug(x)`", expr.func.span)
            return POISON
        if not isinstance(expr.func, S.Name):
            self.diags.error("E103", "only networks and functions can be called",
                             expr.func.span)
            return POISON
        name = expr.func.id
        pipe = self._pipeline_of(expr)
        if pipe is not None:
            return self._apply(pipe, expr, var)
        if name in self.g.networks:
            return self._network_call(name, expr, var)
        if name in FUNCTIONS:
            return self._function(FUNCTIONS[name], expr, var)
        if name in self.g.externs and self.g.externs[name].decl.kind == "function":
            return call_extern(self, self.g.externs[name], expr, var)
        if name in self.g.poisoned:
            return POISON
        if name in DISTRIBUTIONS:
            self.diags.error("E301", f"distributions are sampled: `z ~ {name}(...)`", expr.span)
            return POISON
        if name == "state":
            self.diags.error("E301", "`state(...)` defines a named value of its own: "
                             "`k = state(0, next=...)`", expr.span)
            return POISON
        if name == "augment":
            self.diags.error("E301", "`augment(...)` defines a pipeline of its own: "
                             "`aug = augment(...)`, applied as `aug(x)`", expr.span)
            return POISON
        if isinstance(self.env.get(name), Poison):  # its definition failed, and said so
            return POISON
        self.diags.error("E103", f"unknown network or function `{name}`", expr.func.span,
                         lambda: did_you_mean(name, [*self.g.networks, *FUNCTIONS,
                                                     *self.g.externs]))
        return POISON

    def _network_call(self, name: str, expr: S.Call, var: str | None) -> Any:
        inputs = [a.name for a in self.g.networks[name].inputs]
        sig = [Sig(n, required=True) for n in inputs]
        bound = bind(Callee(name, "input", "E206"), sig, expr.args, expr.kwargs, expr.span,
                     self.diags)
        if bound is None:
            return POISON
        args = [bound[n] for n in inputs]
        ids = self._tensors(args, "E206", "network inputs are tensors")
        if isinstance(ids, Poison):
            return ids
        return self._add("call", expr.span, name=name, inputs=ids, var=var)

    def _tensors(self, exprs: list[S.Expr], code: str, what: str) -> list[int] | Poison:
        """The run-time values of `exprs`; a compile-time value among them is `code`,
        "`what`, got <it>", at its place."""
        out = []
        for a in exprs:
            v = self._value(a)
            if isinstance(v, Poison):
                return v
            if isinstance(v, ConstBox):
                self.diags.error(code, f"{what}, got {describe(v.value)}", a.span)
                return POISON
            out.append(v)
        return out

    def _select(self, expr: S.Attr, var: str | None) -> Any:
        if isinstance(expr.obj, S.Name) and expr.obj.id in self.g.networks:
            self.diags.error("E206", f"`{expr.obj.id}.{expr.name}` is the network as a "
                             f"function; call it: `{expr.obj.id}(x).{expr.name}`", expr.span)
            return POISON
        obj = self._value(expr.obj)
        if isinstance(obj, Poison):
            return obj
        if not isinstance(obj, int) or self.nodes[obj].op != "call":
            self.diags.error("E207", f"`.{expr.name}` selects an output of a network call",
                             expr.span)
            return POISON
        network = self.nodes[obj].name
        if not self._check_output(network, expr.name, expr.span):
            return POISON
        return self._add("select", expr.span, name=expr.name, inputs=[obj], var=var)

    def _check_output(self, network: str, output: str, span: Span) -> bool:
        outs = [o.name for o in self.g.networks[network].outputs]
        if outs == [""]:
            self.diags.error("E207", f"`{network}` has a single output; use the call itself",
                             span)
            return False
        if output not in outs:
            self.diags.error("E207", f"`{network}` has no output `{output}`", span,
                             did_you_mean(output, outs) or f"its outputs are {', '.join(outs)}")
            return False
        return True

    def _is_step(self, name: str) -> bool:
        """`step` names the iteration unless a value, param or network takes the name."""
        return name == "step" and name not in self.env and name not in self.g.consts and \
            name not in self.g.networks


"""The objective lowering's calls of functions (`gandsl.functions`): arguments bound and told
apart (compile-time numbers and strings, run-time values, tensors, networks given as functions),
math on numbers folded, and the critic of a penalty (`r1(D(x, y), x)`) as a function of the
one image it depends on."""

from __future__ import annotations

from typing import Any

from .. import syntax as S
from ..consteval import describe
from ..diagnostics import Span
from ..functions import FArg, Fn
from .binding import Callee, Sig, bind
from .objective_values import ConstBox, Values
from .scope import POISON, Poison


class Functions(Values):
    """Calls of the functions of the catalog."""

    def _function(self, fn: Fn, expr: S.Call, var: str | None) -> Any:
        sig = [Sig(a.name, required=not (a.kind in ("num", "number", "str") and
                                          a.default is not None)) for a in fn.args]
        bound = bind(Callee(fn.name), sig, expr.args, expr.kwargs, expr.span, self.diags)
        if bound is None:
            return POISON
        inputs: list[int] = []
        kwargs: dict[str, Any] = {}
        named: dict[str, int] = {}
        consts: list[Any] = []  # the values of `float` arguments that are numbers
        critic_at = None
        for a in fn.args:
            e = bound.get(a.name)
            if e is None:  # an optional number
                kwargs[a.name] = a.default
                continue
            if a.kind in ("num", "str"):
                value = self._const(e)
                if isinstance(value, Poison):
                    return value
                if not self._fits(fn, a, value, e.span):
                    return POISON
                kwargs[a.name] = value
            elif a.kind == "number":  # a number at compile time, or a value at run time
                value = self._value(e)
                if isinstance(value, Poison):
                    return value
                if isinstance(value, ConstBox):
                    if not self._fits(fn, a, value.value, e.span):
                        return POISON
                    kwargs[a.name] = value.value
                else:
                    named[a.name] = value
            elif a.kind == "float":
                value = self._value(e)
                if isinstance(value, Poison):
                    return value
                if isinstance(value, ConstBox):
                    if not self._fits(fn, FArg(a.name, "num"), value.value, e.span):
                        return POISON
                    consts.append(value.value)
                    value = self._box(value, e.span)
                inputs.append(value)
            elif a.kind == "critic" and "penalty" in fn.tags and not _names_network(e, self.g):
                # `r1(D(x, y), x)`: an expression of the penalized image, differentiated
                # with respect to it (the other values held fixed)
                body = self._value(e)
                if isinstance(body, Poison):
                    return body
                if isinstance(body, ConstBox):
                    self.diags.error("E201", f"`{a.name}` of `{fn.name}` is a network or an "
                                     f"expression of the image, got {describe(body.value)}",
                                     e.span)
                    return POISON
                critic_at = (len(inputs), body, e.span)
                inputs.append(body)  # replaced below, once the images are known
            elif a.kind in ("critic", "network", "generator"):
                node = self._critic(e, fn.name)
                if node is None:
                    return POISON
                inputs.append(node)
            else:
                v = self._value(e)
                if isinstance(v, Poison):
                    return v
                if isinstance(v, ConstBox):
                    self.diags.error("E201", f"`{a.name}` of `{fn.name}` is a tensor, got "
                                     f"{describe(v.value)}", e.span)
                    return POISON
                inputs.append(v)
        if critic_at is not None:
            k, body, span = critic_at
            node = self._critic_expression(fn, body, inputs[k + 1:], span)
            if node is None:
                return POISON
            inputs[k] = node
        if "math" in fn.tags and len(consts) == len(inputs) and not named:
            return self._fold(fn, consts, kwargs, expr)  # math on numbers: a number
        return self._add("fn", expr.span, name=fn.name, inputs=[*inputs, *named.values()],
                         kwargs=kwargs, named=named, var=var)

    def _fits(self, fn: Fn, a: FArg, value: Any, span: Span) -> bool:
        """A compile-time argument of the right kind; False after reporting."""
        if a.kind == "str":
            if value in (a.choices or ()):
                return True
            self.diags.error("E203", f"`{a.name}` of `{fn.name}` is one of "
                             f"{', '.join(repr(c) for c in a.choices or ())}; got "
                             f"{describe(value)}", span)
            return False
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.diags.error("E203", f"`{a.name}` of `{fn.name}` is a number, got "
                             f"{describe(value)}", span)
            return False
        return True

    def _fold(self, fn: Fn, values: list[Any], kwargs: dict[str, Any], expr: S.Call) -> Any:
        """Tensor math applied to numbers only: computed now (a reduction of one number is
        that number)."""
        if fn.returns == "reduce":
            return ConstBox(values[0])
        bounds = [kwargs[a.name] for a in fn.args if a.kind == "number"]
        literal = S.Call(expr.span, S.Name(expr.func.span, fn.name),
                         [S.Lit(expr.span, v) for v in [*values, *bounds]], [])
        value = self._const(literal)
        return POISON if isinstance(value, Poison) else ConstBox(value)

    def _critic_expression(self, fn: Fn, body: int, images: list[int],
                           span: Span) -> int | None:
        """A `critic` node: `body` as a function of the one image argument it depends on
        (`at`), the other values it uses held fixed. Its inputs are [body, at]."""
        seen: set[int] = set()
        todo = [body]
        while todo:  # everything `body` is computed from
            i = todo.pop()
            if i not in seen:
                seen.add(i)
                todo += self.nodes[i].inputs
        at = [i for i in dict.fromkeys(images) if i in seen]
        names = " or ".join(f"`{a.name}`" for a in fn.args if a.kind == "image")
        if not at:
            self.diags.error("E206", f"this critic of `{fn.name}` does not depend on {names}: "
                             "its gradient there would be zero", span,
                             hint=f"apply the critic to the image: `{fn.name}(D(x, y), x)`")
            return None
        if len(at) > 1:
            self.diags.error("E206", f"this critic of `{fn.name}` depends on both {names}; "
                             "it is differentiated with respect to one", span)
            return None
        if not any(self.nodes[i].op == "call" for i in seen):
            self.diags.error("E206", f"the critic of `{fn.name}` calls no network", span,
                             hint=f"e.g. `{fn.name}(D(x, y), x)`")
            return None
        return self._add("critic", span, inputs=[body, at[0]])

    def _critic(self, e: S.Expr, fn: str) -> int | None:
        """`D` or `D.src` as a function of one image (for penalties)."""
        if isinstance(e, S.Name) and e.id in self.g.networks:
            return self._add("netfn", e.span, name=e.id, kwargs={"output": ""})
        if isinstance(e, S.Attr) and isinstance(e.obj, S.Name) and e.obj.id in self.g.networks:
            if not self._check_output(e.obj.id, e.name, e.span):
                return None
            return self._add("netfn", e.span, name=e.obj.id, kwargs={"output": e.name})
        self.diags.error("E201", f"`{fn}` takes a network (`D`) or one of its outputs "
                         "(`D.src`)", e.span)
        return None


def _names_network(e: S.Expr, g) -> bool:
    """`D` or `D.src`: a network (or one output) given as a function."""
    if isinstance(e, S.Attr):
        e = e.obj
    return isinstance(e, S.Name) and e.id in g.networks

"""The objective lowering's definitions of their own kind: augmentation pipelines
(`aug = augment(...)`, applied as `aug(x)`, or `xa, ya = aug(x, y)` with one draw), states
carried across iterations (`k = state(0, next=...)`) and groups of networks (`{G, E}`)."""

from __future__ import annotations

from typing import Any

from .. import syntax as S
from ..consteval import describe
from ..diagnostics import did_you_mean
from ..ir import State
from .augment import Pipeline, read_pipeline
from .binding import Callee, Sig, bind
from .objective_values import ConstBox, Values
from .scope import POISON, Poison


class Definitions(Values):
    """Augmentations, states and groups."""

    states: list[tuple[State, S.Expr]]  # each state and its `next` expression

    def _augment(self, name: str, call: S.Call) -> None:
        def const(e: S.Expr) -> Any:
            v = self._const(e)
            return None if isinstance(v, Poison) else v

        def value(e: S.Expr) -> Any:
            v = self._value(e)
            if isinstance(v, ConstBox):
                if isinstance(v.value, bool) or not isinstance(v.value, int | float) or \
                        not 0 <= v.value <= 1:
                    self.diags.error("E203", f"`p` is a probability, in [0, 1]; got "
                                     f"{describe(v.value)}", e.span)
                    return None
                return float(v.value)
            return None if isinstance(v, Poison) else v

        pipe = read_pipeline(name, call, const, value, self.diags)
        self.env[name] = POISON if pipe is None else pipe

    def _pipeline_of(self, expr: S.Expr) -> Pipeline | None:
        """The pipeline `expr` applies (`aug(x)`), if it applies one."""
        if isinstance(expr, S.Call) and isinstance(expr.func, S.Name):
            pipe = self.env.get(expr.func.id)
            return pipe if isinstance(pipe, Pipeline) else None
        return None

    def _apply(self, pipe: Pipeline, call: S.Call, var: str | None, alike: bool = False) -> Any:
        """`aug(x)` (or, `alike`, the tuple of `aug(x, y)`): one node drawing once for all
        images."""
        if call.kwargs:
            self.diags.error("E104", f"`{pipe.name}(...)` takes the images to augment, and "
                             "nothing by name", call.kwargs[0].span)
            return POISON
        if not call.args:
            self.diags.error("E105", f"`{pipe.name}(...)` needs an image to augment",
                             call.span)
            return POISON
        if len(call.args) > 1 and not alike:
            self.diags.error("E301", f"`{pipe.name}` of several images gives one image each: "
                             f"name them, e.g. `xa, ya = {pipe.name}(x, y)`", call.span)
            return POISON
        inputs = self._tensors(call.args, "E201", f"`{pipe.name}` augments images")
        if isinstance(inputs, Poison):
            return inputs
        named = {"p": pipe.p} if isinstance(pipe.p, int) else {}
        kwargs: dict[str, Any] = {"ops": pipe.ops}
        if pipe.p is not None and not named:
            kwargs["p"] = pipe.p
        node = self._add("augment", call.span, name=pipe.name, inputs=[*inputs,
                         *named.values()], kwargs=kwargs, named=named, var=var)
        pipe.applied.append(node)
        return node

    def _apply_alike(self, pipe: Pipeline, stmt: S.Assign) -> None:
        """`xa, ya = aug(x, y)`: one draw, one name per image."""
        node = self._apply(pipe, stmt.value, None, alike=True)
        for k, t in enumerate(stmt.targets):
            self.env[t.id] = node if isinstance(node, Poison) else self._add(
                "item", t.span, inputs=[node], field=k, var=t.id)

    def _state(self, name: str, call: S.Call) -> None:
        """`k = state(0, next=...)`: a node reading the current value; `next` comes later."""
        bound = bind(Callee("state"), [Sig("init", required=True),
                     Sig("next", required=True), Sig("after", keyword_only=True)],
                     call.args, call.kwargs, call.span, self.diags)
        if bound is None:
            self.env[name] = POISON
            return
        after = bound.get("after")
        if after is not None and not isinstance(after, S.Name):
            self.diags.error("E203", "`after` names the player after whose every step the "
                             "state moves: `after=D`", after.span)
            self.env[name] = POISON
            return
        init = self._const(bound["init"])
        if isinstance(init, Poison):
            self.env[name] = POISON
            return
        if isinstance(init, bool) or not isinstance(init, int | float):
            self.diags.error("E201", f"a state starts at a number, got {describe(init)}",
                             bound["init"].span)
            self.env[name] = POISON
            return
        read = self._add("state", call.span, name=name, args=[float(init)], var=name)
        self.env[name] = read
        self.states.append((State(name=name, init=float(init), read=read, span=call.span,
                                  after=after.id if after else None,
                                  after_span=after.span if after else None), bound["next"]))

    def _group(self, name: str, group: S.GroupLit) -> None:
        members: list[str] = []
        for n in group.names:
            if n.id not in self.g.networks:
                self.diags.error("E101", f"`{n.id}` is not a network", n.span,
                                 lambda n=n: did_you_mean(n.id, self.g.networks))
            elif n.id in members:
                self.diags.error("E102", f"`{n.id}` is listed twice", n.span)
            else:
                members.append(n.id)
        self.groups[name] = members


"""The objective lowering's samples: `x, y ~ dataset` (one draw of the dataset's fields) and
`z ~ normal(128)` or `n ~ normal(like=x)` (noise, with its settings checked)."""

from __future__ import annotations

from typing import Any

from .. import syntax as S
from ..consteval import ConstError, as_int, describe
from ..diagnostics import did_you_mean
from ..functions import DISTRIBUTIONS
from .objective_values import ConstBox, Values
from .scope import POISON, Poison


class Draws(Values):
    """`~` statements."""

    draws: int

    def _sample(self, stmt: S.Sample) -> None:
        src = stmt.source
        names = [t.id for t in stmt.targets if isinstance(t, S.Name)]
        if isinstance(src, S.Name) and src.id in self.g.poisoned:
            for n in names:
                self.env[n] = POISON
            return
        if isinstance(src, S.Name) and src.id in self.g.datasets:
            ds = self.g.datasets[src.id]
            if len(names) != len(ds.fields):
                fields = ", ".join(str(f) for f in ds.fields)
                self.diags.error("E301", f"`{src.id}` yields {len(ds.fields)} value"
                                 f"{'s' if len(ds.fields) != 1 else ''} ({fields}) but "
                                 f"{len(names)} name{'s are' if len(names) != 1 else ' is'} "
                                 "given", stmt.span)
                for n in names:
                    self.env[n] = POISON
                return
            self.draws += 1
            for i, n in enumerate(names):
                self.env[n] = self._add("data", src.span, name=src.id, field=i, var=n,
                                        kwargs={"draw": self.draws})
            return
        if isinstance(src, S.Call) and isinstance(src.func, S.Name) and \
                src.func.id in DISTRIBUTIONS:
            dist = src.func.id
            keywords = DISTRIBUTIONS[dist].keywords
            if len(names) != 1:
                self.diags.error("E301", f"`{dist}(...)` gives one value", stmt.span)
                return
            self.env[names[0]] = self._draw(dist, src, keywords, names[0])
            return
        if isinstance(src, S.Name | S.Call):
            name = src.id if isinstance(src, S.Name) else getattr(src.func, "id", "")
            self.diags.error("E101", f"`{name}` is not a dataset or a distribution", src.span,
                             lambda: did_you_mean(name, [*self.g.datasets, *DISTRIBUTIONS]) or
                             f"distributions are {', '.join(DISTRIBUTIONS)}")
        else:
            self.diags.error("E301", "sample from a dataset (`x ~ images`) or a distribution "
                             "(`z ~ normal(128)`)", src.span)
        for n in names:
            self.env[n] = POISON

    def _draw(self, dist: str, src: S.Call, keywords: tuple[str, ...], var: str) -> Any:
        """`z ~ normal(128, std=0.5)`, or `n ~ normal(like=x)`: noise of a size, or shaped
        and typed as a value of the objective (its type, not its value, is used)."""
        shaped = DISTRIBUTIONS[dist].shaped
        allowed = (*keywords, "like") if shaped else keywords
        args = [self._const(a) for a in src.args]
        kwargs: dict[str, Any] = {}
        like = None
        unknown = [kw for kw in src.kwargs if kw.name not in allowed]
        for kw in unknown:
            self.diags.error("E104", f"`{dist}` has no argument `{kw.name}`", kw.span,
                             did_you_mean(kw.name, allowed) or
                             f"`{dist}` takes only a number of classes")
        if unknown:
            return POISON
        for kw in src.kwargs:
            if kw.name == "like":
                like = self._value(kw.value)
                if isinstance(like, ConstBox):
                    self.diags.error("E201", f"`like` of `{dist}` is a tensor of the objective "
                                     f"whose type the draw takes, got {describe(like.value)}",
                                     kw.value.span)
                    return POISON
            else:
                kwargs[kw.name] = self._const(kw.value)
        if len(args) != (like is None):
            self.diags.error("E105", f"`{dist}` takes one size, e.g. `{dist}(128)`"
                             + (f", or the shape of a value: `{dist}(like=x)`" if shaped
                                else ""), src.span)
            return POISON
        if any(isinstance(v, Poison) for v in [*args, *kwargs.values(), like]):
            return POISON
        if not self._dist_arguments(dist, kwargs, src):
            return POISON
        if like is not None:  # the size comes from the value's type, known after checking
            return self._add("dist", src.span, name=dist, kwargs={**kwargs, "like": like},
                             var=var)
        try:
            size = as_int(args[0], src.args[0].span, "a size")
        except ConstError as e:
            self.diags.error(e.code, e.message, e.span)
            return POISON
        return self._add("dist", src.span, name=dist, args=[size], kwargs=kwargs, var=var)

    def _dist_arguments(self, dist: str, kwargs: dict[str, Any], src: S.Call) -> bool:
        """A distribution's settings are numbers it can draw with (else the draw would fail
        at the first iteration of training); False after reporting."""
        spans = {kw.name: kw.value.span for kw in src.kwargs}
        for name, value in kwargs.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.diags.error("E203", f"`{name}` of `{dist}` is a number, got "
                                 f"{describe(value)}", spans[name])
                return False
        problem = None
        d = DISTRIBUTIONS[dist]
        setting = {**dict(d.defaults), **kwargs}.get
        if setting("std", 1) < 0:
            problem = "std", "`std` of `normal` is at least 0"
        elif not 0 <= setting("p", 0.5) <= 1:
            problem = "p", "`p` of `bernoulli` is a probability, in [0, 1]"
        elif setting("low", 0) >= setting("high", 1):
            problem = "high" if "high" in kwargs else "low", \
                "`low` of `uniform` must be below `high` (default: 0 and 1)"
        if problem is not None:
            name, message = problem
            self.diags.error("E203", f"{message}, got {kwargs[name]}", spans[name])
            return False
        return True

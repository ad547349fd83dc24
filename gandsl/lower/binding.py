"""Matching call arguments to parameters, for layers, blocks, objective functions and network
calls alike: positional then keyword, with "did you mean" for unknown keywords."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import syntax as S
from ..diagnostics import Diagnostics, Span, did_you_mean


@dataclass(frozen=True)
class Sig:
    """One parameter as binding sees it."""

    name: str
    required: bool = False
    variadic: bool = False  # takes the remaining positional arguments
    keyword_only: bool = False


@dataclass(frozen=True)
class Callee:
    """How messages name the callee and its parameters; network calls say "input" and report
    a wrong count as E206."""

    name: str
    noun: str = "argument"
    count_code: str = "E105"


def signature(callee: str, sig: list[Sig]) -> str:
    """`conv(out, k, stride=…, *, sn=…)`: keyword-only parameters after a `*`."""
    parts = []
    for p in sig:
        if not p.keyword_only:
            parts.append(f"{p.name}..." if p.variadic else p.name if p.required else
                         f"{p.name}=…")
    named = [f"{p.name}=…" for p in sig if p.keyword_only]
    return f"{callee}({', '.join(parts + (['*', *named] if named else []))})"


def bind(callee: Callee, sig: list[Sig], args: list[S.Expr], kwargs: list[S.Kwarg], span: Span,
         diags: Diagnostics) -> dict[str, Any] | None:
    """{param: expr, or a list of exprs for a variadic one}; None after reporting an error."""
    c = callee.name
    noun = callee.noun
    hint = f"signature: {signature(c, sig)}"
    bound: dict[str, Any] = {}
    positional = [p for p in sig if not p.keyword_only]
    i = 0
    for p in positional:
        if i >= len(args):
            break
        if p.variadic:
            bound[p.name] = list(args[i:])
            i = len(args)
            break
        bound[p.name] = args[i]
        i += 1
    if i < len(args):
        n = len(positional)
        names = ", ".join(p.name for p in positional)
        many = "" if all(p.required for p in positional) else "at most "
        kind = "" if not many else "positional "
        diags.error(callee.count_code, f"`{c}` takes {many}{n} {kind}{noun}"
                    f"{'s' if n != 1 else ''}{f' ({names})' if n else ''}, got {len(args)}",
                    args[i].span, hint=hint)
        return None
    names = [p.name for p in sig]
    for kw in kwargs:
        if kw.name not in names:
            diags.error("E104", f"`{c}` has no {noun} `{kw.name}`", kw.span,
                        did_you_mean(kw.name, names) or hint)
            return None
        if kw.name in bound:
            diags.error("E105", f"{noun} `{kw.name}` of `{c}` is given twice", kw.span)
            return None
        bound[kw.name] = kw.value
    missing = [p.name for p in sig if p.required and p.name not in bound]
    if missing:
        diags.error(callee.count_code, f"`{c}` is missing {noun}{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(f'`{m}`' for m in missing)}", span, hint=hint)
        return None
    return bound

"""Params: order-free (evaluated along a networkx dependency graph, a cycle reported with its
path), each set by its default or a `--param` override of the same kind, and checked against
its choices (`param loss: ["hinge", "ns"] = "hinge"`)."""

from __future__ import annotations

from typing import Any

import networkx as nx

from .. import syntax as S
from ..consteval import ConstError, DatasetRef, Silent, check_value, describe, evaluate, names_in
from ..diagnostics import Diagnostics, did_you_mean
from ..ir import Param
from .namespace import Globals, define
from .scope import POISON, Poison


def collect_params(module: S.Module, overrides: dict[str, Any], g: Globals,
                   diags: Diagnostics) -> None:
    """Params may refer to each other in any order; evaluate them along a dependency graph."""
    decls: dict[str, S.ParamDecl] = {}
    for item in module.items:
        if isinstance(item, S.ParamDecl) and define(g, item.name, item.name_span, diags, "param"):
            decls[item.name] = item
    graph = nx.DiGraph()
    graph.add_nodes_from(decls)
    for name, decl in decls.items():
        for ref, _ in names_in([decl.value, decl.choices]):
            if ref in decls:
                graph.add_edge(ref, name)
    in_cycle: set[str] = set()
    for cycle in nx.simple_cycles(graph):
        # Edges run from a param to the params that use it; the message reads "uses".
        ordered = _rotate(cycle[::-1], list(decls))
        first = decls[ordered[0]]
        path = " → ".join([*ordered, ordered[0]])
        diags.error("E106", f"params depend on each other in a cycle: {path}", first.name_span,
                    notes=[(f"`{n}` is defined here", decls[n].name_span) for n in ordered[1:]])
        in_cycle.update(cycle)
    order = list(nx.lexicographical_topological_sort(
        graph.subgraph(set(decls) - in_cycle), key=list(decls).index))
    for name in in_cycle:
        g.consts[name] = POISON
    for name in order:
        decl = decls[name]
        try:
            default = evaluate(decl.value, g.resolve)
        except ConstError as e:
            diags.error(e.code, e.message, e.span, e.hint)
            g.consts[name] = POISON
            continue
        except Silent:  # it uses a param that already failed
            g.consts[name] = POISON
            continue
        value = overrides.get(name, default)
        try:
            check_value(value, decl.name_span)
        except ConstError as e:  # the spec is checked on with the default: no echoes
            diags.error("E108", f"--param {name}: {e.message}", decl.name_span)
            value = default
        if name in overrides and not _same_kind(default, value):
            shown = str(value).lower() if isinstance(value, bool) else value
            hint = None
            if isinstance(default, int) and not isinstance(default, bool) and \
                    isinstance(value, float):  # the declaration's literal decides
                hint = f"an integer default makes `{name}` an integer; declare it " \
                       f"`param {name} = {float(default)!r}` to take any number"
            diags.error("E108", f"--param {name}={shown}: expected {_kind_word(default)}, like "
                        f"the default `{_literal(default)}`", decl.name_span, hint=hint)
            value = default  # checked on with the default, so only independent errors follow
        elif isinstance(default, int) and isinstance(value, float):
            value = int(value)  # `--param S=1.28e2` for an integer param is 128
        if isinstance(default, DatasetRef | tuple | Poison):
            diags.error("E150", f"a param must be a number, a bool or a string, got "
                        f"{describe(default)}", decl.value.span)
            value = POISON
        elif decl.choices is not None:
            value = _chosen(decl, default, value, name in overrides, g, diags)
        g.consts[name] = value
        if not isinstance(value, Poison):
            g.params.append(Param(name=name, value=value, default=default,
                                  overridden=name in overrides, span=decl.name_span))
        g.const_spans[name] = decl.name_span


def _chosen(decl: S.ParamDecl, default: Any, value: Any, overridden: bool, g: Globals,
            diags: Diagnostics) -> Any:
    """`param loss: ["hinge", "ns"] = "hinge"`: the value if it is one of the choices."""
    try:
        choices = evaluate(decl.choices, g.resolve)
    except ConstError as e:
        diags.error(e.code, e.message, e.span, e.hint)
        return POISON
    except Silent:
        return POISON
    if not isinstance(choices, tuple) or not choices:
        diags.error("E150", f"the choices of a param are a list, e.g. `[\"hinge\", \"ns\"]`; "
                    f"got {describe(choices)}", decl.choices.span)
        return POISON
    listed = ", ".join(_literal(c) for c in choices)
    if default not in choices or any(isinstance(c, bool) != isinstance(default, bool)
                                     for c in choices if c == default):
        diags.error("E150", f"the default `{_literal(default)}` of `{decl.name}` is not one of "
                    f"its choices: {listed}", decl.value.span)
        return POISON
    if isinstance(value, Poison):
        return value
    if value not in choices:
        diags.error("E108", f"--param {decl.name}={_literal(value)}: expected one of {listed}",
                    decl.name_span, hint=did_you_mean(str(value), [str(c) for c in choices]))
        return default  # checked on with the default, so only independent errors follow
    return value


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(default, float):
        return isinstance(value, int | float)
    return isinstance(value, type(default))


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f'"{value}"' if isinstance(value, str) else str(value)


def _kind_word(default: Any) -> str:
    if isinstance(default, bool):
        return "`true` or `false`"
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a number"
    return "a string"


def _rotate(cycle: list[str], order: list[str]) -> list[str]:
    """Start a cycle at its earliest-defined member, so messages are stable."""
    i = min(range(len(cycle)), key=lambda k: order.index(cycle[k]))
    return cycle[i:] + cycle[:i]


"""Top-level declarations: params (order-free, cycles found on a networkx graph), `let`s,
top-level `if`, data declarations, and the one namespace that blocks and networks share.

This module collects them (`collect`): every name declared and its kind, then the params
(`params`), then each item in order, an `if` by its taken branch. The namespace itself is
`namespace.Globals`; declared types are `declared_types`, data declarations `datasets`.
"""

from __future__ import annotations

from typing import Any

from .. import syntax as S
from ..consteval import ConstError, Silent, truth
from ..diagnostics import Diagnostics, Span, did_you_mean
from .datasets import dataset
from .declared_types import eval_type, label_set
from .namespace import Globals, const_or_poison, define
from .params import collect_params
from .scope import Poison


def collect(module: S.Module, overrides: dict[str, Any], diags: Diagnostics) -> Globals:
    g = Globals()
    _declare(module.items, g)
    collect_params(module, overrides, g, diags)
    _items(module.items, g, diags, top=True)
    return g


_KINDS = {S.ParamDecl: "param", S.Let: "let", S.DataDecl: "data", S.BlockDecl: "block",
          S.NetworkDecl: "network", S.NetworkCopy: "network", S.ExternDecl: "extern"}


def _declare(items: list, g: Globals) -> None:
    """Every top-level name and its kind, whatever the branches: for precise messages."""
    for item in items:
        if isinstance(item, S.If):
            _declare(item.then, g)
            _declare(item.orelse or [], g)
        elif type(item) in _KINDS:
            g.declared.setdefault(item.name, _KINDS[type(item)])


def _block_params_ok(block: S.BlockDecl, diags: Diagnostics) -> bool:
    seen: dict[str, Span] = {}
    for p in block.params:
        if p.name == "in":
            diags.error("E109", "`in` is the block's input and cannot be a parameter", p.span)
            return False
        if p.name in seen:
            diags.error("E102", f"parameter `{p.name}` of block `{block.name}` is declared twice",
                        p.span, notes=[("first declared here", seen[p.name])])
            return False
        seen[p.name] = p.span
    return True


def _items(items: list, g: Globals, diags: Diagnostics, top: bool) -> None:
    for item in items:
        if isinstance(item, S.ParamDecl):
            if not top:
                diags.error("E150", "a `param` cannot be declared inside `if`", item.span,
                            hint="declare it at the top level; use `let` for derived values")
        elif isinstance(item, S.Let):
            if define(g, item.name, item.name_span, diags, "let"):
                g.consts[item.name] = const_or_poison(item.value, g.resolve, diags)
                g.const_spans[item.name] = item.name_span
        elif isinstance(item, S.If):
            branch = _taken(item, g, diags)
            if branch:
                _items(branch, g, diags, top=False)
        elif isinstance(item, S.DataDecl):
            if define(g, item.name, item.name_span, diags, "data"):
                ds = dataset(item, g, diags)
                if ds is not None:
                    g.datasets[item.name] = ds
                else:
                    g.poisoned.add(item.name)
        elif isinstance(item, S.BlockDecl):
            if define(g, item.name, item.name_span, diags, "block") and \
                    _block_params_ok(item, diags):
                g.blocks[item.name] = item
        elif isinstance(item, S.NetworkDecl):
            if define(g, item.name, item.name_span, diags, "network"):
                g.networks[item.name] = item
        elif isinstance(item, S.ExternDecl):
            from .externs import declare

            if define(g, item.name, item.name_span, diags, "extern"):
                sig = declare(item, diags)
                if sig is None:
                    g.poisoned.add(item.name)
                else:
                    g.externs[item.name] = sig
        elif isinstance(item, S.NetworkCopy):
            source = g.networks.get(item.source)
            if source is None:
                diags.error("E101", f"`{item.source}` is not a network declared above",
                            item.source_span,
                            lambda item=item: did_you_mean(item.source, g.networks))
            elif define(g, item.name, item.name_span, diags, "network"):
                g.networks[item.name] = S.NetworkDecl(
                    item.span, item.name, item.name_span, source.inputs, source.outputs,
                    source.body, source.frozen, copy_of=source.copy_of or source.name)
        elif isinstance(item, S.ObjectiveDecl):
            if g.objectives:
                diags.error("E102", "a spec has one `objective` section", item.span,
                            notes=[("the first one", g.objectives[0].span)])
            else:
                g.objectives.append(item)
        elif isinstance(item, S.TrainDecl):
            if g.trains:
                diags.error("E102", "a spec has one `train` section", item.span,
                            notes=[("the first one", g.trains[0].span)])
            else:
                g.trains.append(item)


def _taken(item: S.If, g: Globals, diags: Diagnostics) -> list | None:
    """The branch of a compile-time `if` that is taken (an `else if` is a nested If). When the
    condition fails, whatever either branch declares is poisoned, so that uses stay quiet."""
    value = const_or_poison(item.cond, g.resolve, diags)
    try:
        if isinstance(value, Poison):
            raise Silent
        cond = truth(value, item.cond.span)
    except ConstError as e:
        diags.error(e.code, e.message, e.span, e.hint)
        cond = None
    except Silent:
        cond = None
    if cond is None:
        names: dict[str, str] = {}
        probe = Globals(declared=names)
        _declare([*item.then, *(item.orelse or [])], probe)
        g.poisoned.update(names)
        return None
    return item.then if cond else item.orelse


__all__ = ["Globals", "collect", "const_or_poison", "eval_type", "label_set"]

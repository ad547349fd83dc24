"""The train section → `TrainConfig`: batch, steps, D steps per G step, an optimizer per
player, learning-rate schedules, EMA, weight clipping and initialization."""

from __future__ import annotations

from typing import Any

from .. import syntax as S
from ..catalog import GROW, INITS, MOMENTUM_SCHEDULES, OPTIMIZERS, OPTIONS, SCHEDULES
from ..consteval import ConstError, as_int, describe
from ..diagnostics import Diagnostics, did_you_mean
from ..ir import GridRow, Grow, Optimizer, PlayerOption, Ratio, Schedule, TrainConfig
from .globals import Globals, const_or_poison
from .scope import Poison
from .step_condition import step_condition

KEYWORDS = [*OPTIMIZERS, *OPTIONS, "lr", "momentum", "grow", "init", "batch", "steps",
            "grid"]


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float) and \
        v.is_integer()


# What each option's value must be: (test, description for the message).
RULES: dict[str, tuple[Any, str]] = {
    "lr": (lambda v: _num(v) and v > 0, "a positive number"),
    "betas": (lambda v: isinstance(v, tuple) and len(v) == 2 and all(
        _num(b) and 0 <= b < 1 for b in v), "two numbers in [0, 1), e.g. (0.5, 0.999)"),
    "eps": (lambda v: _num(v) and v > 0, "a positive number"),
    "weight_decay": (lambda v: _num(v) and v >= 0, "a number ≥ 0"),
    "momentum": (lambda v: _num(v) and 0 <= v < 1, "a number in [0, 1)"),
    "dampening": (lambda v: _num(v) and 0 <= v <= 1, "a number in [0, 1]"),
    "alpha": (lambda v: _num(v) and 0 < v < 1, "a number in (0, 1)"),
    "amsgrad": (lambda v: isinstance(v, bool), "`true` or `false`"),
    "nesterov": (lambda v: isinstance(v, bool), "`true` or `false`"),
    "centered": (lambda v: isinstance(v, bool), "`true` or `false`"),
    "decay": (lambda v: _num(v) and 0 < v < 1, "a number in (0, 1), e.g. 0.999"),
    "start": (lambda v: _int(v) and v >= 0, "a whole step number ≥ 0"),
    # a position on the step axis: fractional where a reference counts images (20M / 512)
    "end": (lambda v: _num(v) and v >= 1, "a number of steps ≥ 1"),
    "every": (lambda v: _int(v) and v >= 1, "a number of steps ≥ 1"),
    "gamma": (lambda v: _num(v) and 0 < v <= 1, "a factor in (0, 1]"),
    "min_lr": (lambda v: _num(v) and v >= 0, "a number ≥ 0"),
    "value": (lambda v: _num(v) and v > 0, "a positive number"),
    "mean": (_num, "a number"),
    "std": (lambda v: _num(v) and v > 0, "a positive number"),
    "gain": (lambda v: _num(v) and v > 0, "a positive number"),
    "a": (lambda v: _num(v) and v >= 0, "a number ≥ 0"),
    "to": (lambda v: _num(v) and 0 <= v < 1, "a momentum in [0, 1)"),
    "range": (lambda v: _num(v) and v > 0, "a positive number"),
    "stable": (lambda v: _int(v) and v >= 1, "a number of steps ≥ 1"),
    "fade": (lambda v: _int(v) and v >= 1, "a number of steps ≥ 1"),
    "first": (lambda v: _int(v) and v >= 0, "a level ≥ 0"),
    "path": (lambda v: isinstance(v, str), "a string: a safetensors file, \"\" for none"),
    "order": (lambda v: isinstance(v, bool), "`true` or `false`"),
    "prefix": (lambda v: isinstance(v, str), "a string, e.g. \"features.\""),
}


def lower_train(decl: S.TrainDecl, g: Globals, diags: Diagnostics) -> TrainConfig:
    cfg = TrainConfig(span=decl.span)
    for st in decl.stmts:
        if st.kind in ("batch", "steps"):
            n = _positive_int(st.value, g, diags, st.kind)
            if n is not None:
                if getattr(cfg, st.kind) is not None:
                    diags.error("E102", f"`{st.kind}` is set twice", st.span)
                setattr(cfg, st.kind, n)
        elif st.kind == "grid":
            _grid(st, cfg, diags)
        elif st.kind == "ratio":
            _ratio(st, cfg, g, diags)
        elif st.kind == "option":
            _option(st, cfg, g, diags)
        else:
            _player_fn(st, cfg, g, diags)
    default_ratio_missing(cfg, diags)
    return cfg


def _grid(st: S.TrainStmt, cfg: TrainConfig, diags: Diagnostics) -> None:
    """`grid x, recon, fake`: the objective's values the sample grid shows, in order (the
    checker resolves the names)."""
    if cfg.grid:
        diags.error("E102", "`grid` is set twice", st.span,
                    notes=[("first set here", cfg.grid[0].span.to(cfg.grid[-1].span))])
        return
    rows: list[GridRow] = []
    for name, span in st.words:
        if any(r.name == name for r in rows):
            diags.error("E102", f"`{name}` is shown twice", span)
            return
        rows.append(GridRow(name=name, span=span))
    cfg.grid = rows


def _ratio(st: S.TrainStmt, cfg: TrainConfig, g: Globals, diags: Diagnostics) -> None:
    """`D steps 5 per G step`, and conditional counts `D steps 100 per G step if step < 25`:
    one count without a condition (the default), then any number with one, tried in order."""
    (a, a_span), (b, b_span) = st.words
    n = _positive_int(st.value, g, diags, "steps")
    condition = step_condition(st.condition, g, diags) if st.condition is not None else None
    if a == b:
        diags.error("E304", f"`{a}` cannot take steps per its own step", b_span,
                    hint="name the other player: `D steps 5 per G step`")
        return
    if n is None or (st.condition is not None and condition is None):
        return
    mine = [r for r in cfg.ratios if r.player == a]
    if condition is None and any(r.condition is None for r in mine):
        diags.error("E102", f"the steps of `{a}` are set twice", a_span)
        return
    if mine and mine[0].per != b:
        diags.error("E304", f"`{a}` steps per `{mine[0].per}` elsewhere, here per `{b}`", b_span)
        return
    cfg.ratios.append(Ratio(player=a, steps=n, per=b, span=st.span, player_span=a_span,
                            per_span=b_span, condition=condition))


def default_ratio_missing(cfg: TrainConfig, diags: Diagnostics) -> None:
    """A conditional count needs the count of the other iterations."""
    for r in cfg.ratios:
        if r.condition is not None and not any(
                o.player == r.player and o.condition is None for o in cfg.ratios):
            diags.error("E304", f"`{r.player}` steps {r.steps} times if {r.condition.text()}, "
                        "but how many times otherwise?", r.span,
                        hint=f"add e.g. `{r.player} steps 5 per {r.per} step`")


def _positive_int(expr: S.Expr, g: Globals, diags: Diagnostics, what: str) -> int | None:
    value = const_or_poison(expr, g.resolve, diags)
    if isinstance(value, Poison):
        return None
    try:
        n = as_int(value, expr.span, f"an integer for `{what}`")
    except ConstError as e:
        diags.error("E304", e.message, e.span)
        return None
    if n < 1:
        diags.error("E304", f"`{what}` must be at least 1, got {n}", expr.span)
        return None
    return n


def _kwargs(st: S.TrainStmt, allowed: tuple[str, ...], callee: str, g: Globals,
            diags: Diagnostics) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for kw in st.kwargs:
        if kw.name not in allowed:
            diags.error("E104", f"`{callee}` has no option `{kw.name}`", kw.span,
                        did_you_mean(kw.name, allowed) or
                        (f"options: {', '.join(allowed)}" if allowed else "it takes none"))
            return None
        value = const_or_poison(kw.value, g.resolve, diags)
        if isinstance(value, Poison):
            return None
        ok, wanted = RULES[kw.name]
        if not ok(value):
            diags.error("E304", f"`{kw.name}` of `{callee}` must be {wanted}, got "
                        f"{describe(value)}", kw.value.span)
            return None
        if kw.name == "betas":  # torch's Adam wants both floats (or both tensors): (0, 0.9)
            value = tuple(float(b) for b in value)
        out[kw.name] = int(value) if _int(value) and kw.name in ("start", "end", "every",
                                                                 "stable", "fade", "first") \
            else value
    if "start" in out and "end" in out and out["start"] >= out["end"]:
        diags.error("E304", f"`start` ({out['start']}) must come before `end` ({out['end']})",
                    st.span)
        return None
    return out


def _option(st: S.TrainStmt, cfg: TrainConfig, g: Globals, diags: Diagnostics) -> None:
    (word, word_span), (player, player_span) = st.words
    if word in OPTIMIZERS:
        if st.args:
            diags.error("E304", f"`{word}` takes keyword options, e.g. `{word} {player} "
                        "(lr=2e-4)`", st.args[0].span)
            return
        kwargs = _kwargs(st, OPTIMIZERS[word].keywords, word, g, diags)
        if kwargs is not None:
            if any(o.player == player for o in cfg.optimizers):
                diags.error("E102", f"player `{player}` already has an optimizer", st.span)
                return
            cfg.optimizers.append(Optimizer(kind=word, player=player, kwargs=kwargs,
                                            span=st.span, player_span=player_span))
    elif word == "grow":
        _grow(st, player, cfg, g, diags)
    elif word in ("lr", "momentum"):  # `lr linear_decay(...)`: a schedule for every player
        _schedule(st, player, None, cfg, g, diags, st.words[1][1], setting=word)
    elif word in OPTIONS:
        allowed = OPTIONS[word].keywords
        kwargs = _kwargs(st, allowed, word, g, diags)
        if kwargs is None:
            return
        args = [const_or_poison(a, g.resolve, diags) for a in st.args]
        if word == "clip":
            if len(args) + len(kwargs) != 1:
                diags.error("E304", "`clip` takes one value: `clip D (0.01)`", st.span)
                return
            if args:
                value = args[0]
                if isinstance(value, Poison):
                    return
                ok, wanted = RULES["value"]
                if not ok(value):
                    diags.error("E304", f"`clip` takes {wanted}, got {describe(value)}",
                                st.args[0].span)
                    return
                kwargs = {"value": value}
            args = []
        elif word == "load":  # `load VGG ("weights/vgg19.safetensors", order=true)`
            if len(args) > 1 or (args and "path" in kwargs) or not (args or "path" in kwargs):
                diags.error("E304", "`load` takes one file: `load VGG (\"weights/vgg19."
                            "safetensors\")`", st.span)
                return
            if args:
                ok, wanted = RULES["path"]
                if isinstance(args[0], Poison):
                    return
                if not ok(args[0]):
                    diags.error("E304", f"`load` takes {wanted}, got {describe(args[0])}",
                                st.args[0].span)
                    return
                kwargs["path"] = args[0]
            args = []
        elif args:
            diags.error("E304", f"`{word}` takes keyword options", st.args[0].span)
            return
        cfg.options.append(PlayerOption(kind=word, player=player, kwargs=kwargs, span=st.span,
                                        player_span=player_span))
    else:
        diags.error("E304", f"unknown train setting `{word}`", word_span,
                    did_you_mean(word, KEYWORDS) or f"settings: {', '.join(KEYWORDS)}")


def _grow(st: S.TrainStmt, kind: str, cfg: TrainConfig, g: Globals,
          diags: Diagnostics) -> None:
    """`grow stages(stable=600k, fade=600k)`: progressive growing's schedule."""
    example = "`grow stages(stable=600k, fade=600k)`"
    if kind != "stages":
        diags.error("E304", f"progressive growing is scheduled by stages: {example}",
                    st.words[1][1])
        return
    if st.args:
        diags.error("E304", f"`stages` takes keyword options: {example}", st.args[0].span)
        return
    kwargs = _kwargs(st, GROW, "stages", g, diags)
    if kwargs is None:
        return
    missing = [k for k in ("stable", "fade") if k not in kwargs]
    if missing:
        diags.error("E304", f"`stages` needs `{missing[0]}`: {example}", st.span)
        return
    if cfg.grow is not None:
        diags.error("E102", "progressive growing is scheduled twice", st.span)
        return
    cfg.grow = Grow(span=st.span, **kwargs)


def _player_fn(st: S.TrainStmt, cfg: TrainConfig, g: Globals, diags: Diagnostics) -> None:
    (word, word_span), (player, player_span), (fn, fn_span) = st.words
    if word in ("lr", "momentum"):
        _schedule(st, fn, player, cfg, g, diags, fn_span, player_span, setting=word)
    elif word == "init":
        if fn not in INITS:
            diags.error("E304", f"unknown initialization `{fn}`", fn_span,
                        did_you_mean(fn, INITS) or f"choices: {', '.join(INITS)}")
            return
        if st.args:
            diags.error("E304", f"`{fn}` takes keyword options, e.g. `init {player} "
                        f"{fn}({INITS[fn].keywords[-1]}=...)`", st.args[0].span)
            return
        kwargs = _kwargs(st, INITS[fn].keywords, fn, g, diags)
        if kwargs is not None:
            cfg.options.append(PlayerOption(kind="init", player=player, fn=fn, kwargs=kwargs,
                                            span=st.span, player_span=player_span))
    else:
        diags.error("E304", f"unknown train setting `{word}`", word_span,
                    did_you_mean(word, ["lr", "momentum", "init"]))


def _schedule(st, kind: str, player: str | None, cfg: TrainConfig, g: Globals,
              diags: Diagnostics, span, player_span=None, setting: str = "lr") -> None:
    table = SCHEDULES if setting == "lr" else MOMENTUM_SCHEDULES
    what = "learning-rate" if setting == "lr" else "momentum"
    example = ("`lr linear_decay(start=100k, end=200k)`" if setting == "lr" else
               "`momentum D ramp(to=0.7, end=125k)`")
    if kind not in table:
        diags.error("E304", f"unknown {what} schedule `{kind}`", span,
                    did_you_mean(kind, table) or f"schedules: {', '.join(table)}")
        return
    if st.args:
        diags.error("E304", f"schedules take keyword options, e.g. {example}", st.args[0].span)
        return
    kwargs = _kwargs(st, table[kind].keywords, kind, g, diags)
    if kwargs is None:
        return
    missing = [k for k in ("to", "end") if kind == "ramp" and k not in kwargs]
    if missing:
        diags.error("E304", f"`ramp` needs `{missing[0]}`: the momentum it reaches at step "
                    "`end`", st.span, hint=f"e.g. {example}")
        return
    if any(s.player == player and s.setting == setting for s in cfg.schedules):
        who = f"player `{player}`" if player else "every player"
        diags.error("E102", f"a {what} schedule for {who} is already set", st.span)
        return
    cfg.schedules.append(Schedule(kind=kind, setting=setting, player=player, kwargs=kwargs,
                                  span=st.span, player_span=player_span))

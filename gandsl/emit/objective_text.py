"""Text of the objective's pieces: the PLAYERS/TERMS/optimizer literals, weighted sums of loss
terms, `update(...)` calls, draws and augmentation steps, and the summaries of what each player
minimizes."""

from __future__ import annotations

from ..catalog import DEFAULT_OPTIMIZER, OPTIMIZERS
from ..ir import ONode, Player, Spec
from ..naming import (
    literal,
)
from .tensor_math import unwrap as _unwrap
from .wrap import split_sum


def term_weights(player: Player) -> str:
    """`"G": {"gan": 1.0, ...}` of TERMS, one term per line when long."""
    items = [f"{literal(t.name)}: {t.weight!r}" for t in player.terms]
    one = f"{literal(player.name)}: {{" + ", ".join(items) + "}"
    if len(one) <= 88:
        return one
    return f"{literal(player.name)}: {{\n" + "".join(f"        {i},\n" for i in items) + "    }"


def strings(names: list[str]) -> str:
    return "[" + ", ".join(literal(n) for n in names) + "]"


def optimizer_lines(spec: Spec, attr: dict[str, str]) -> list[str]:
    chosen = {o.player: (o.kind, o.kwargs) for o in spec.train.optimizers} if spec.train else {}
    lines = []
    for p in spec.objective.players:
        kind, kwargs = chosen.get(p.name, DEFAULT_OPTIMIZER)
        nets = [f"self.{attr[n]}.parameters()" for n in p.networks]
        params = nets[0] if len(nets) == 1 else "[" + ", ".join(f"*{n}" for n in nets) + "]"
        args = "".join(f", {k}={v!r}" for k, v in kwargs.items())
        optim = OPTIMIZERS[kind].torch_class
        lines.append(f"{literal(p.name)}: torch.optim.{optim}({params}{args}),")
    return lines


def wrap_literal(head: str, items: list[str], tail: str, width: int = 92) -> str:
    """`head item, item tail` on one line when it fits, else one item per line."""
    one = head + ", ".join(items) + tail
    if len(one) <= width:
        return one
    return head + "\n" + "".join(f"    {item},\n" for item in items) + tail


def wrap_call(line: str, width: int = 88) -> list[str]:
    """A long `update(..., {...})` or `return {...}` line, one dict entry per line."""
    if len(line) <= width or "{" not in line or not line.rstrip().endswith(("})", "}")):
        return [line]
    indent = line[:len(line) - len(line.lstrip())]
    head, _, rest = line.partition("{")
    body, _, close = rest.rpartition("}")
    items = [i.strip() for i in body.split(", ") if i.strip()]
    return [head + "{", *(f"{indent}    {i}," for i in items), indent + "}" + close]


def weighted(weight: float, expr: str) -> str:
    if weight in (1, -1) and len(split_sum(_unwrap(expr))) == 1:
        expr = _unwrap(expr)  # `a - k * b`: a product needs no parentheses in a sum
    if weight == 1:
        return expr
    if weight == -1:
        return f"-{expr}"
    return f"{number(weight)} * {expr}"


def number(x: float) -> str:
    """A weight as written: `10`, `0.5`, `1e-4` — exact, never rounded."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def loss_sum(terms: list[tuple[float, str, str]]) -> str:
    return " + ".join(weighted(w, v) for w, v, _ in terms).replace("+ -", "- ") or "0.0"


def update_lines(player: str, terms: list[tuple[float, str, str]]) -> list[str]:
    """`loss = ...` and `update("D", loss, {"name": value, ...})`; a lone unweighted term is
    its own loss."""
    entries = "{" + ", ".join(f"{literal(n)}: {_unwrap(v)}" for _, v, n in terms) + "}"
    if len(terms) == 1 and terms[0][0] == 1:
        return [f"update({literal(player)}, {terms[0][1]}, {entries})"]
    return [f"loss = {loss_sum(terms)}", f"update({literal(player)}, loss, {entries})"]


def augmentation(op: list) -> str:
    """One operation of a pipeline in the runtime's words: `rt.color`, `rt.cutout(0.5)`."""
    name, *args = op
    options = args.pop() if args and isinstance(args[-1], dict) else {}
    shown = [literal(a) if isinstance(a, str) else repr(a) for a in args]
    shown += [f"{k}={v!r}" for k, v in options.items()]  # keys: ADA's setting names
    return f"rt.{name}({', '.join(shown)})" if shown else f"rt.{name}"


def terms_text(terms) -> str:
    """`gan + 10·gp (every 16)`, `real_l − balanced`: a player's terms, signs in the text."""
    text = ""
    for k, t in enumerate(terms):
        sign = "-" if t.weight < 0 else "+"
        part = term_text(t.name, abs(t.weight), t.every)
        text += (f" {sign} " if k else ("-" if sign == "-" else "")) + part
    return text


def term_text(name: str, weight: float, every: int | None) -> str:
    text = name if weight == 1 else f"{number(weight)}·{name}"
    return text + (f" (every {every})" if every else "")


def draw_call(n: ONode) -> str:
    # `normal(like=x)`: the per-sample shape of x's type
    size = repr(tuple(n.type.dims)) if "like" in n.kwargs else n.args[0]
    kw = n.kwargs
    if n.name == "normal":
        extra = "".join(f", {k}={kw[k]!r}" for k in ("mean", "std") if k in kw)
    elif n.name == "uniform":
        extra = "".join(f", {k}={kw[k]!r}" for k in ("low", "high") if k in kw)
    elif n.name == "bernoulli":
        extra = f", p={kw['p']!r}" if "p" in kw else ""
    else:
        extra = ""
    return f"draw.{n.name}({size}{extra})"

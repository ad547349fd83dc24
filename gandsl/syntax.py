"""The syntax tree: what `parse.py` builds from the Lark parse tree, one class per construct.

Every node carries the `Span` of its source text so any later pass can point at it. Associative
operators (`->` chains, sums, products) are flat lists, so long chains do not make deep trees.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass

from .diagnostics import Span

# ---- expressions -----------------------------------------------------------------------


@dataclass(slots=True)
class Expr:
    span: Span


@dataclass(slots=True)
class Num(Expr):
    value: int | float
    text: str


@dataclass(slots=True)
class Str(Expr):
    value: str


@dataclass(slots=True)
class Bool(Expr):
    value: bool


@dataclass(slots=True)
class Lit(Expr):
    """An already evaluated compile-time value (made by lowering, never by the parser)."""

    value: object


@dataclass(slots=True)
class Name(Expr):
    id: str


@dataclass(slots=True)
class TupleLit(Expr):
    items: list[Expr]


@dataclass(slots=True)
class ListLit(Expr):
    items: list[Expr]


@dataclass(slots=True)
class GroupLit(Expr):
    """`{G_xy, G_yx}`: a named group of networks that forms one player."""

    names: list[Name]


@dataclass(slots=True)
class Kwarg:
    name: str
    value: Expr
    span: Span  # the `name=` part


@dataclass(slots=True)
class Call(Expr):
    func: Expr
    args: list[Expr]
    kwargs: list[Kwarg]


@dataclass(slots=True)
class Attr(Expr):
    obj: Expr
    name: str


@dataclass(slots=True)
class Index(Expr):
    obj: Expr
    index: Expr


@dataclass(slots=True)
class Neg(Expr):
    operand: Expr


@dataclass(slots=True)
class Not(Expr):
    operand: Expr


@dataclass(slots=True)
class BinOp(Expr):
    """A flat run of one precedence level: `first (op operand)*` with ops like + - * / // % ^."""

    first: Expr
    rest: list[tuple[str, Expr]]


@dataclass(slots=True)
class BoolOp(Expr):
    op: str  # "and" | "or"
    items: list[Expr]


@dataclass(slots=True)
class Compare(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass(slots=True)
class Union(Expr):
    """`celeba | rafd`: datasets whose label sets are joined with a mask vector."""

    items: list[Expr]


@dataclass(slots=True)
class Stage:
    """One `-> name` or `-> name(args)` step of a chain."""

    name: str
    args: list[Expr]
    kwargs: list[Kwarg]
    span: Span
    name_span: Span


@dataclass(slots=True)
class Chain(Expr):
    head: Expr
    stages: list[Stage]


@dataclass(slots=True)
class Labeled(Expr):
    """`name: term`: a loss term with a name for logs and metrics."""

    label: str
    label_span: Span
    expr: Expr


@dataclass(slots=True)
class Every(Expr):
    """`term every k`: a lazily applied loss term (StyleGAN2's lazy regularization)."""

    expr: Expr
    interval: Expr


# ---- types -----------------------------------------------------------------------------


@dataclass(slots=True)
class TypeExpr:
    kind: str
    dims: list[Expr]
    span: Span


@dataclass(slots=True)
class TypedName:
    name: str
    type: TypeExpr
    span: Span  # the name


# ---- statements ------------------------------------------------------------------------


@dataclass(slots=True)
class Stmt:
    span: Span


@dataclass(slots=True)
class Assign(Stmt):
    targets: list[Expr]  # Name or Index(Name, expr)
    value: Expr


@dataclass(slots=True)
class Sample(Stmt):
    targets: list[Expr]
    source: Expr


@dataclass(slots=True)
class Minimize(Stmt):
    player: str
    player_span: Span
    loss: Expr
    maximize: bool = False


@dataclass(slots=True)
class Range:
    start: Expr
    stop: Expr
    step: Expr | None
    span: Span


@dataclass(slots=True)
class For(Stmt):
    var: str
    var_span: Span
    iterable: Expr | Range
    body: list[Stmt]


@dataclass(slots=True)
class If(Stmt):
    cond: Expr
    then: list
    orelse: list | None  # statements or items; `else if` is a one-element list holding an If


@dataclass(slots=True)
class Return(Stmt):
    values: list[Expr]


@dataclass(slots=True)
class Let(Stmt):
    name: str
    name_span: Span
    value: Expr


@dataclass(slots=True)
class ExprStmt(Stmt):
    expr: Expr


# ---- declarations ----------------------------------------------------------------------


@dataclass(slots=True)
class Header:
    name: str
    title: str | None
    span: Span


@dataclass(slots=True)
class ParamDecl(Stmt):
    name: str
    name_span: Span
    value: Expr
    choices: Expr | None = None  # `param loss: ["hinge", "ns"] = "hinge"`


@dataclass(slots=True)
class DataDecl(Stmt):
    name: str
    name_span: Span
    types: list[TypeExpr]  # empty for an alias/union
    source: Expr


@dataclass(slots=True)
class BlockParam:
    name: str
    default: Expr | None
    span: Span


@dataclass(slots=True)
class BlockDecl(Stmt):
    name: str
    name_span: Span
    params: list[BlockParam]
    body: list[Stmt]


@dataclass(slots=True)
class NetworkDecl(Stmt):
    name: str
    name_span: Span
    inputs: list[TypedName]
    outputs: list[TypedName]  # a single unnamed output has name ""
    body: list[Stmt]
    frozen: bool = False
    copy_of: str | None = None  # set for `network B = A`


@dataclass(slots=True)
class NetworkCopy(Stmt):
    """`network G_ba = G_ab`: the same architecture with its own parameters."""

    name: str
    name_span: Span
    source: str
    source_span: Span


@dataclass(slots=True)
class ObjectiveDecl(Stmt):
    body: list[Stmt]


@dataclass(slots=True)
class TrainStmt:
    """One train statement. `kind` is batch | steps | grid | ratio | option | player_fn."""

    kind: str
    span: Span
    words: list[tuple[str, Span]] = field(default_factory=list)  # names in order
    value: Expr | None = None
    args: list[Expr] = field(default_factory=list)
    kwargs: list[Kwarg] = field(default_factory=list)
    condition: Expr | None = None  # `D steps 100 per G step if step < 25`


@dataclass(slots=True)
class TrainDecl(Stmt):
    stmts: list[TrainStmt]


@dataclass(slots=True)
class ImportDecl(Stmt):
    """`import "lib/resnet.gan" (ch=64)`: the file's params, lets, blocks and networks, its
    params set by the keyword arguments."""

    path: str
    path_span: Span
    kwargs: list[Kwarg]


@dataclass(slots=True)
class ExternParam:
    name: str
    type: str  # `int`, `float`, `bool`, `str`, or a tensor kind (`map`, `image`, `score`, ...)
    default: Expr | None
    span: Span
    type_span: Span


@dataclass(slots=True)
class ExternDecl(Stmt):
    """`extern layer blur(x: map, k: int = 3) -> map = "mypkg.layers:Blur"`: a module class
    applied in chains, or (`extern function`) a callable of the objective."""

    kind: str  # "layer" | "function"
    name: str
    name_span: Span
    params: list[ExternParam]
    result: str
    result_span: Span
    target: str  # "module.path:Name"
    target_span: Span


@dataclass(slots=True)
class Module:
    """A whole spec file."""

    header: Header | None
    items: list[Stmt]


def meaning(node: object) -> object:
    """A syntax tree without its spans, as nested tuples: what two layouts of one spec share
    (`gandsl fmt` checks its output with it; a run resumes from a spec whose comments or
    layout changed)."""
    if isinstance(node, Span):
        return None
    if is_dataclass(node):
        return (type(node).__name__, *(
            meaning(getattr(node, f.name)) for f in fields(node)
            if f.name != "span" and not f.name.endswith("_span")))
    if isinstance(node, list | tuple):
        return tuple(meaning(x) for x in node)
    return node

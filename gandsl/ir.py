"""The intermediate representation: what lowering produces, checking annotates, emit reads.

Everything a later pass needs is here, with the source span of each object, so no pass reaches
back into the syntax tree. Networks are flat lists of nodes in topological order (blocks and
loops are already expanded); node types are filled in by the checker.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .diagnostics import Span
from .types import TensorType

_CONFIG = ConfigDict(arbitrary_types_allowed=True)


class Param(BaseModel):
    model_config = _CONFIG
    name: str
    value: int | float | bool | str
    default: int | float | bool | str
    overridden: bool = False
    span: Span


class Dataset(BaseModel):
    """`data NAME: image[...], label[...] = source(...)`, or a union of datasets."""

    model_config = _CONFIG
    name: str
    fields: list[TensorType]  # what `x, c ~ NAME` yields, in order
    source: str | None = None  # e.g. "image_folder"; None for a union or alias
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    members: list[str] = Field(default_factory=list)  # datasets of a union, in order
    span: Span


class Node(BaseModel):
    """One operation of a network: an input, a layer, or `add` / `sub` / `scale`."""

    model_config = _CONFIG
    id: int
    op: str  # "input" | "add" | "sub" | "mul" | "scale" | a layer name from `gandsl.layers.LAYERS`
    x: int | None = None  # the chained input
    values: dict[str, list[int]] = Field(default_factory=dict)  # tensor-valued arguments
    args: dict[str, Any] = Field(default_factory=dict)  # compile-time arguments, defaults filled
    arg_spans: dict[str, Span] = Field(default_factory=dict)
    span: Span
    name: str  # unique within the network; the module attribute for layers with weights
    var: str  # the spec's variable this value is bound to (the emitted local variable)
    scope: tuple[str, ...] = ()  # block instances this node came from, outermost first
    type: TensorType | None = None  # filled by the checker
    params: int = 0  # learnable parameters of this layer, filled by the checker
    aliases: list[str] = Field(default_factory=list)  # later names of this value (`skip = h`)

    @property
    def inputs(self) -> list[int]:
        ids = [] if self.x is None else [self.x]
        for group in self.values.values():
            ids.extend(group)
        return ids


class BlockInstance(BaseModel):
    """One use of a block in a network: the contiguous nodes `first..last` it expanded to."""

    model_config = _CONFIG
    block: str
    name: str  # the instance, e.g. "res_3"; its nodes' names start with it
    args: dict[str, Any]  # compile-time arguments
    value_params: list[str]  # parameters bound to tensors (other than `in`), in order
    first: int
    last: int
    input: int  # the node bound to `in`
    values: list[int]  # the nodes bound to `value_params`
    result: int
    depth: int  # 0: used directly in the network body
    repeat: int | None = None  # instances made by one `repeat` share this number
    span: Span  # the block's declaration
    call: Span | None = None  # where the network (or the block around it) calls it


class Port(BaseModel):
    model_config = _CONFIG
    name: str
    type: TensorType
    span: Span


class Network(BaseModel):
    model_config = _CONFIG
    name: str
    inputs: list[Port]
    outputs: list[Port]  # a single unnamed output has name ""
    nodes: list[Node]
    results: list[int]  # node ids bound to the outputs, in order
    result_spans: list[Span]
    frozen: bool = False
    copy_of: str | None = None  # `network B = A`: the same class, separate weights
    blocks: list[BlockInstance] = Field(default_factory=list)
    span: Span
    # False when its body had errors: it has its signature and the nodes that lowered, for
    # the checks that do not depend on the rest, and is never emitted.
    complete: bool = True

    @property
    def single_output(self) -> bool:
        return len(self.outputs) == 1 and self.outputs[0].name == ""


ONodeOp = Literal["data", "dist", "call", "select", "netfn", "fn", "arith", "neg", "const",
                  "state", "augment", "item", "critic", "extern", "step"]


class ONode(BaseModel):
    """A value of the objective: a sample, a network call, an output selection, a function,
    an augmentation (`aug(x)`; of several images, `aug(x, y)`, a tuple whose `item`s are
    picked by `field`), or a critic given to a penalty as an expression (`r1(D(x, y), x)`:
    inputs [the expression, the image it is differentiated with respect to])."""

    model_config = _CONFIG
    id: int
    op: ONodeOp
    name: str = ""  # dataset, distribution, network, output or function name; arith operator
    inputs: list[int] = Field(default_factory=list)
    field: int = 0  # which field of a data sample
    args: list[Any] = Field(default_factory=list)  # compile-time positional arguments
    kwargs: dict[str, Any] = Field(default_factory=dict)
    # numbers known at run time given by keyword (`lsgan_g(D(x), c=alpha)` with a state): the
    # argument's name → its node, which is also the last of `inputs`
    named: dict[str, int] = Field(default_factory=dict)
    var: str | None = None  # the objective variable bound to this value
    span: Span
    type: TensorType | None = None  # filled by the checker


class Term(BaseModel):
    model_config = _CONFIG
    name: str  # unique within the player, e.g. "gradient_penalty"
    weight: float  # sign included
    node: int  # the objective node computing the (unweighted) term
    every: int | None = None  # lazy regularization interval
    span: Span


class Player(BaseModel):
    model_config = _CONFIG
    name: str
    networks: list[str]
    terms: list[Term]
    span: Span


class State(BaseModel):
    """`k = state(0, next=clip(k + 0.001 * (0.5 * real - fake), 0, 1))`: a number carried
    from one iteration to the next (BEGAN's k_t). Within an iteration it is a constant; after
    every player has stepped it becomes `next`, computed from that iteration's values."""

    model_config = _CONFIG
    name: str
    init: float
    read: int  # the "state" node: its current value
    next: int | None = None  # the node computing the next value (None after an error)
    span: Span
    # `after=D`: moved after each of that player's steps, from that step's values (Fisher
    # GAN's multiplier), rather than once an iteration after every player has stepped
    after: str | None = None
    after_span: Span | None = None


class Objective(BaseModel):
    model_config = _CONFIG
    nodes: list[ONode]
    players: list[Player]
    states: list[State] = Field(default_factory=list)
    groups: dict[str, list[str]] = Field(default_factory=dict)
    # `aug = augment(...)`: name → its operations, each `[name, *arguments]`
    pipelines: dict[str, list[list[Any]]] = Field(default_factory=dict)
    span: Span
    # False when a statement failed: its values' types are still checked, but not who
    # trains what (a player whose loss failed would look empty).
    complete: bool = True
    # Filled by the checker (`check/roles.py`): the networks whose images are samples, and
    # the nodes the train section's `grid` names (empty: the generators' images).
    generators: list[str] = Field(default_factory=list)
    grid: list[int] = Field(default_factory=list)


class Optimizer(BaseModel):
    model_config = _CONFIG
    kind: Literal["adam", "adamw", "rmsprop", "sgd"]
    player: str
    kwargs: dict[str, Any]
    span: Span
    player_span: Span


class StepExpr(BaseModel):
    """A condition on the iteration `step` (`step < 25 or step % 500 == 0`), everything in it
    that does not involve `step` folded to a number. The emitter prints it as Python."""

    model_config = _CONFIG
    kind: Literal["step", "number", "neg", "not", "arith", "compare", "bool"]
    value: int | float | None = None  # a number
    items: list[StepExpr] = Field(default_factory=list)  # operands, in order
    ops: list[str] = Field(default_factory=list)  # arith: + - * / // % ^ between the items;
    # compare: one of < <= > >= == !=; bool: `and` or `or`

    def text(self) -> str:
        """In the spec's own words, for messages."""
        if self.kind == "step":
            return "step"
        if self.kind == "number":
            return repr(self.value)
        if self.kind in ("neg", "not"):
            return ("-" if self.kind == "neg" else "not ") + self.items[0].nested()
        parts = [x.nested() if self.kind != "compare" else x.text() for x in self.items]
        ops = self.ops if self.kind == "arith" else self.ops * (len(parts) - 1)
        return parts[0] + "".join(f" {op} {x}" for op, x in zip(ops, parts[1:], strict=True))

    def nested(self) -> str:
        return f"({self.text()})" if self.kind in ("arith", "bool") else self.text()


class Ratio(BaseModel):
    """`D steps 5 per G step`, or with a condition on the iteration `step`:
    `D steps 100 per G step if step < 25 or step % 500 == 0` (WGAN's critic warm-up)."""

    model_config = _CONFIG
    player: str
    steps: int
    per: str
    span: Span
    player_span: Span
    per_span: Span
    condition: StepExpr | None = None  # None: the default count


class Schedule(BaseModel):
    """`lr G linear_decay(...)` scales a player's learning rate; `momentum D ramp(to=0.7,
    ...)` moves its optimizer's momentum (the vanilla GAN's 0.5 → 0.7)."""

    model_config = _CONFIG
    kind: Literal["constant", "linear_decay", "step_decay", "cosine", "ramp"]
    setting: Literal["lr", "momentum"] = "lr"
    player: str | None  # None: every player
    kwargs: dict[str, Any]
    span: Span
    player_span: Span | None = None


class PlayerOption(BaseModel):
    """`ema G (decay=0.999)`, `clip D (0.01)`, `init G normal(std=0.02)`,
    `load VGG ("weights/vgg19.safetensors", order=true)`."""

    model_config = _CONFIG
    kind: Literal["ema", "clip", "init", "load"]
    player: str
    fn: str | None = None
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    span: Span
    player_span: Span


class Grow(BaseModel):
    """`grow stages(stable=600k, fade=600k)`: progressive growing's schedule. Each level is
    trained `stable` steps, then the next fades in over `fade` steps."""

    model_config = _CONFIG
    stable: int
    fade: int
    first: int = 0  # the level training starts at (StyleGAN starts at 8×8: level 1)
    span: Span


class GridRow(BaseModel):
    """One value the train section's `grid x, recon, fake` shows."""

    model_config = _CONFIG
    name: str
    span: Span


class TrainConfig(BaseModel):
    model_config = _CONFIG
    grow: Grow | None = None
    grid: list[GridRow] = Field(default_factory=list)
    batch: int | None = None
    steps: int | None = None
    ratios: list[Ratio] = Field(default_factory=list)
    optimizers: list[Optimizer] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)
    options: list[PlayerOption] = Field(default_factory=list)
    span: Span
    complete: bool = True  # False when a statement failed: "missing optimizer" would echo it


class ExternRef(BaseModel):
    """An `extern` the generated module imports: `from {module} import {Name} as {alias}`."""

    model_config = _CONFIG
    name: str
    kind: Literal["layer", "function"]
    target: str  # "module.path:Name", checked to be dotted identifiers
    alias: str


class Spec(BaseModel):
    model_config = _CONFIG
    name: str
    title: str | None
    path: str
    sha256: str
    params: list[Param]
    datasets: list[Dataset]
    networks: list[Network]
    objective: Objective | None
    train: TrainConfig | None
    imports: list[str] = Field(default_factory=list)  # file k of a `Span` is imports[k - 1]
    externs: list[ExternRef] = Field(default_factory=list)

    def network(self, name: str) -> Network:
        return next(n for n in self.networks if n.name == name)

    def dataset(self, name: str) -> Dataset:
        return next(d for d in self.datasets if d.name == name)

    def where(self, span: Span) -> str:
        """`line 12 of the spec`, or of the imported file the place is in (named when its
        path is plain: this text goes into generated docstrings)."""
        if span.file and span.file <= len(self.imports):
            name = self.imports[span.file - 1]
            shown = name if re.fullmatch(r"[\w./-]+", name, re.ASCII) else "an imported file"
            return f"line {span.line} of {shown}"
        return f"line {span.line} of the spec"

"""Types of the objective's values, and who trains what.

Network calls are checked against the networks' declared inputs; loss functions against their
signatures (`gandsl.functions`); each term must be a loss (one number per batch). Then the
players: every network belongs to at most one player, a player's loss must reach its networks,
and the train section must name real players.
"""

from __future__ import annotations

import networkx as nx

from ..catalog import MOMENTUM_OPTIMIZERS
from ..diagnostics import Diagnostics, did_you_mean
from ..functions import DISTRIBUTIONS, FUNCTIONS
from ..ir import Network, ONode, Spec
from ..types import FLAT, LOSS, SCALAR, TensorType, assignable
from .externs import extern_function_type
from .tensor_math import arith_type, augment_type, describe, elementwise_type, reduction_type

_RECORD = "record"  # marker: a call of a network with several outputs


def check_objective(spec: Spec, diags: Diagnostics) -> None:
    """Fill the types of the objective's nodes; report what does not type-check."""
    obj = spec.objective
    nets = {n.name: n for n in spec.networks}
    types: dict[int, object] = {}
    for node in obj.nodes:
        t = _node_type(node, types, nets, spec, obj.nodes, diags)
        types[node.id] = t
        if isinstance(t, TensorType):
            node.type = t
    players = [p.name for p in obj.players]
    for st in obj.states:
        if st.after is not None and obj.complete and st.after not in players:
            diags.error("E304", f"`after` of state `{st.name}` names a player; `{st.after}` "
                        "is not one", st.after_span,
                        lambda st=st: did_you_mean(st.after, players) or
                        f"players: {', '.join(players)}")
    for st in obj.states:
        t = types.get(st.next) if st.next is not None else None
        if isinstance(t, TensorType) and t.kind != "loss" or t == "const":
            what = "a number" if t == "const" else str(t)
            diags.error("E201", f"the next value of state `{st.name}` must be one number per "
                        f"batch computed from the objective; this is {what}", st.span,
                        hint="e.g. `clip(k + 0.001 * (0.5 * real - fake), 0, 1)`")
    for player in obj.players:
        for term in player.terms:
            t = types.get(term.node)
            if isinstance(t, TensorType) and t.kind != "loss":
                diags.error("E201", f"a loss term is one number per batch; this is {t}",
                            term.span, hint="reduce it with mean, e.g. `mean(...)`, or use a "
                            "loss function such as `gan_g(...)`")


def _node_type(node: ONode, types, nets: dict[str, Network], spec: Spec, nodes: list[ONode],
               diags: Diagnostics) -> object:
    ins = [types.get(i) for i in node.inputs]
    if any(t is None for t in ins):
        return None
    if node.op == "data":
        return spec.dataset(node.name).fields[node.field]
    if node.op == "dist":
        if "like" in node.kwargs:  # `normal(like=x)`: x's type, drawn anew
            t = types.get(node.kwargs["like"])
            if t is None:
                return None
            if not isinstance(t, TensorType) or t.kind in ("class", "loss"):
                diags.error("E201", f"`{node.name}(like=...)` draws a float tensor of a "
                            f"sample's shape, like an image or a latent; got {describe(t)}",
                            node.span)
                return None
            return t
        kind = DISTRIBUTIONS[node.name].kind
        return TensorType(kind=kind, dims=(node.args[0],))
    if node.op == "const":
        return "const"
    if node.op in ("state", "step"):
        return LOSS  # a number carried across iterations; the iteration number
    if node.op == "netfn":
        net = nets.get(node.name)
        return None if net is None else ("netfn", net, node.kwargs.get("output", ""))
    if node.op == "critic":
        return _critic_type(node, ins[0], ins[1], diags)
    if node.op == "extern":
        return extern_function_type(node, ins, diags)
    if node.op == "select":
        net = nets.get(nodes[node.inputs[0]].name)
        if net is None:
            return None
        return next(o.type for o in net.outputs if o.name == node.name)
    if any(t == _RECORD for t in ins):
        diags.error("E207", "this network call has several outputs; select one, e.g. "
                    "`D(x).src`", node.span)
        return None
    if node.op == "call":
        return _call_type(node, ins, nets, diags)
    if node.op == "augment":
        return augment_type(node, ins, diags)
    if node.op == "item":
        return ins[0][1][node.field]
    if node.op == "neg":
        return elementwise_type("-", ins[0], node.span, diags)
    if node.op == "arith":
        return arith_type(node.name, ins[0], ins[1], node.span, diags)
    if node.op == "fn":
        return _fn_type(node, ins, diags)
    return None  # pragma: no cover


def _critic_type(node: ONode, body, at, diags: Diagnostics) -> object:
    """`r1(D(x, y), x)`: one score per sample (a scalar, a map or logits), as a function of
    an image."""
    if not isinstance(at, TensorType) or at.family != "spatial":
        diags.error("E201", f"a penalty differentiates with respect to an image, got "
                    f"{describe(at)}", node.span)
        return None
    if not isinstance(body, TensorType) or body.kind in ("loss", "class"):
        diags.error("E201", f"the critic of a penalty is a score per sample (a network output "
                    f"such as `D(x, y)`), got {describe(body)}", node.span,
                    hint="a loss is one number per batch: give the critic before it is reduced")
        return None
    return ("critic", body, at)


def _call_type(node: ONode, ins, nets: dict[str, Network], diags: Diagnostics) -> object:
    net = nets.get(node.name)
    if net is None:
        return None
    for i, (port, t) in enumerate(zip(net.inputs, ins, strict=True), 1):
        if not isinstance(t, TensorType) or not assignable(t, port.type):
            got = t.sized() if isinstance(t, TensorType) else "a loss"
            diags.error("E206", f"input {i} (`{port.name}`) of `{net.name}` is "
                        f"{port.type.sized()}, got {got}", node.span,
                        notes=[(f"`{port.name}` is declared here", port.span)])
            return None
    return net.outputs[0].type if net.single_output else _RECORD


def _fn_type(node: ONode, ins, diags: Diagnostics) -> object:
    fn = FUNCTIONS[node.name]
    named = dict(zip(node.named, ins[len(ins) - len(node.named):], strict=True))
    ins = ins[:len(ins) - len(node.named)]
    for name, t in named.items():  # numbers known at run time: one per batch
        if t != LOSS:
            diags.error("E201", f"`{name}` of `{fn.name}` is a number (one per batch, such as a "
                        f"`state`), got {describe(t)}", node.span,
                        hint="a number per sample (noisy labels) goes into tensor math "
                        "instead: `0.5 * mean((D(x) - t)^2)`; or reduce it, `mean(...)`")
            return None
    if "math" in fn.tags:
        if fn.returns == "reduce":
            return reduction_type(fn.name, ins[0], node.kwargs["over"], node.span, diags)
        return elementwise_type(fn.name, ins[0], node.span, diags)
    tensor_args = [a for a in fn.args if a.kind not in ("num", "number", "str")]
    first: TensorType | None = None
    critic: Network | None = None
    for a, t in zip(tensor_args, ins, strict=True):
        if a.kind == "network":
            continue  # any network, as a module
        if a.kind == "generator":
            _, critic, _ = t
            if len(critic.inputs) != 1:
                diags.error("E206", f"`{fn.name}` differentiates `{critic.name}` with respect "
                            f"to its one input; it takes {len(critic.inputs)}", node.span)
                return None
            continue
        if a.kind == "critic" and t[0] == "critic":
            continue  # an expression of the image: checked as a value (`_critic_type`)
        if a.kind == "critic":
            _, critic, _ = t
            if len(critic.inputs) != 1 or critic.inputs[0].type.family != "spatial":
                diags.error("E206", f"`{fn.name}` differentiates the critic with respect to "
                            f"one image; `{critic.name}` takes {len(critic.inputs)} inputs",
                            node.span)
                return None
            continue
        if fn.args[0].kind == "generator" and a is tensor_args[1] and \
                isinstance(t, TensorType) and not assignable(t, critic.inputs[0].type):
            diags.error("E206", f"`{a.name}` of `{fn.name}` is {t}, but `{critic.name}` takes "
                        f"{critic.inputs[0].type}", node.span)
            return None
        if a.kind == "image" and critic is not None and isinstance(t, TensorType) and \
                not assignable(t, critic.inputs[0].type):
            diags.error("E206", f"`{a.name}` of `{fn.name}` is {t}, but the critic "
                        f"`{critic.name}` takes {critic.inputs[0].type}", node.span)
            return None
        if isinstance(t, tuple) or t == "const":
            diags.error("E201", f"`{a.name}` of `{fn.name}` is a tensor", node.span)
            return None
        problem = _arg_problem(a.kind, t, first)
        if problem:
            diags.error("E201" if "shape" not in problem else "E202",
                        f"`{a.name}` of `{fn.name}` {problem}", node.span)
            return None
        if first is None:
            first = t
    if fn.name == "bce" and len(ins) == 2:
        logits, target = ins
        if not _labels_match(logits, target):
            diags.error("E202", f"`bce` compares logits {logits.sized()} with labels "
                        f"{target.sized()}: the label counts differ", node.span)
            return None
    if fn.name == "ce" and len(ins) == 2 and ins[0].dims != ins[1].dims:
        diags.error("E202", f"`ce` takes logits over N classes and class[N]; got "
                    f"{ins[0].sized()} and {ins[1].sized()}", node.span)
        return None
    if fn.name == "rotate90":
        image, index = ins
        if index.dims != (4,):
            diags.error("E202", f"`rotate90` turns by k·90°, k a `class[4]`; got "
                        f"{index.sized()}", node.span)
            return None
        if image.dims[1] != image.dims[2]:
            diags.error("E202", f"`rotate90` turns square images; got {image}", node.span)
            return None
    if fn.returns == "scalar":
        return SCALAR
    return first if fn.returns == "same" else LOSS


def _arg_problem(kind: str, t: TensorType, first: TensorType | None) -> str | None:
    if kind == "loss":
        return None if t.kind == "loss" else f"is one number per batch, got {t}"
    if t.kind == "loss":
        return "is a tensor, got a loss"
    if kind == "score" and t.kind == "class":
        return "is a float tensor, got class indices"
    if kind == "image" and t.family != "spatial":
        return f"is an image, got {t}"
    if kind == "logits" and t.kind not in FLAT:
        return f"is logits (a vector), got {t}"
    if kind == "label" and t.kind != "label":
        return f"is a multi-hot label, got {t}"
    if kind == "class" and t.kind != "class":
        return f"is a class index, got {t}"
    if kind == "same" and first is not None and (t.family != first.family or t.dims != first.dims):
        return f"must have the shape of the first argument: {first} vs {t} (shape mismatch)"
    return None


def _labels_match(logits: TensorType, target: TensorType) -> bool:
    if logits.dims == target.dims:
        return True
    # Several datasets: the label carries a mask; logits cover the labels only.
    return target.labels is not None and target.labels.masked and \
        logits.dims[0] == target.labels.n_labels


def check_players(spec: Spec, g: nx.DiGraph, diags: Diagnostics) -> None:
    obj = spec.objective
    owner: dict[str, str] = {}
    frozen = {n.name for n in spec.networks if n.frozen}
    for player in obj.players:
        for net in player.networks:
            if net in frozen:
                diags.error("E306", f"network `{net}` is frozen, but player `{player.name}` "
                            "would train it", player.span,
                            hint=f"remove `frozen` from `{net}`, or leave it out of the player")
            if net in owner and owner[net] != player.name:
                diags.error("E303", f"network `{net}` is trained by `{owner[net]}` and by "
                            f"`{player.name}`", player.span)
            owner.setdefault(net, player.name)
    seen_players: dict[str, object] = {}
    for player in obj.players:
        if player.name in seen_players:
            diags.error("E102", f"player `{player.name}` already has a `minimizes`",
                        player.span, notes=[("the first one", seen_players[player.name])])
            continue
        seen_players[player.name] = player.span
        reached: set[str] = set()
        constant: list = []  # terms that reach none of the player's networks
        for term in player.terms:
            nets = {obj.nodes[i].name for i in nx.ancestors(g, term.node) | {term.node}
                    if obj.nodes[i].op in ("call", "netfn")}
            reached |= nets
            if not nets & set(player.networks):
                constant.append(term)
        mine = [n for n in player.networks if n in reached]
        for term in constant if mine else ():  # (none reached at all is E302 below)
            diags.warn("W509", f"the term `{term.name}` of `{player.name}` never reaches "
                       f"{_names(player.networks)}: it is a constant in this step",
                       term.span, hint="a typo in a network's name, or a term of another "
                       "player")
        if player.terms and not mine:
            diags.error("E302", f"the loss of `{player.name}` never reaches "
                        f"{_names(player.networks)}, so its step would change nothing",
                        player.span)
        elif len(mine) < len(player.networks):
            missing = [n for n in player.networks if n not in reached]
            diags.warn("W507", f"the loss of `{player.name}` never reaches "
                       f"{_names(missing)}; those networks will not change", player.span)
    for net in spec.networks:
        if net.name not in owner and not net.frozen:
            diags.warn("W502", f"network `{net.name}` is not trained by any player", net.span,
                       hint=f"add `{net.name} minimizes ...` to the objective, or declare it "
                       "`frozen network` if it is fixed (e.g. a feature extractor)")
    _check_train(spec, owner, diags)


def _names(nets: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in nets)


def _check_train(spec: Spec, owner: dict[str, str], diags: Diagnostics) -> None:
    train = spec.train
    if train is None:
        return
    players = [p.name for p in spec.objective.players]
    known = set(players)
    for opt in train.optimizers:
        if opt.player not in known:
            diags.error("E304", f"`{opt.player}` is not a player", opt.player_span,
                        lambda opt=opt: did_you_mean(opt.player, players) or
                        f"players: {', '.join(players)}")
    # A train section that names no optimizer leaves every player the default one; once it
    # names some, a player left out is a mistake.
    for p in spec.objective.players if train.complete and train.optimizers else ():
        if not any(o.player == p.name for o in train.optimizers):
            diags.error("E304", f"player `{p.name}` has no optimizer", train.span,
                        hint=f"add e.g. `adam {p.name} (lr=2e-4, betas=(0.5, 0.999))`")
    for r in train.ratios:
        for who, span in ((r.player, r.player_span), (r.per, r.per_span)):
            if who not in known:
                diags.error("E304", f"`{who}` is not a player", span,
                            lambda who=who: did_you_mean(who, players))
    varying = {r.player: r for r in train.ratios if r.condition is not None}
    for p in spec.objective.players:
        for t in p.terms if p.name in varying else ():
            if t.every:
                diags.error("E304", f"`every {t.every}` counts `{p.name}`'s steps, and their "
                            "number varies", t.span,
                            notes=[("the varying count", varying[p.name].span)])
    levels = max((sum(n.op == "grow" for n in net.nodes) for net in spec.networks),
                 default=0)
    if train.grow is not None and levels and train.grow.first > levels:
        diags.error("E304", f"`first={train.grow.first}` starts past the last level: the "
                    f"networks grow through {levels}", train.grow.span)
    if train.grow is not None and not levels:
        diags.error("E304", "`grow stages` schedules progressive growing, but no network "
                    "has a `grow` level", train.grow.span,
                    hint="fade each new resolution in with `grow(old, new)` in the networks")
    for sched in train.schedules:  # a schedule scales an optimizer: one per player
        who = sched.player
        if who is not None and who not in known:
            hint = (f"`{who}` is trained by `{owner[who]}`: schedule `{owner[who]}`"
                    if who in owner else lambda who=who: did_you_mean(who, players))
            what = "learning-rate" if sched.setting == "lr" else "momentum"
            diags.error("E304", f"`{who}` is not a player: a {what} schedule belongs "
                        "to a player's optimizer", sched.player_span or sched.span, hint)
            continue
        for opt in train.optimizers if sched.setting == "momentum" else ():
            if (who is None or opt.player == who) and opt.kind not in MOMENTUM_OPTIMIZERS:
                diags.error("E304", f"a momentum schedule moves the momentum of "
                            f"{' or '.join(MOMENTUM_OPTIMIZERS)}; `{opt.player}` uses "
                            f"`{opt.kind}`", sched.span,
                            hint=f"e.g. `sgd {opt.player} (lr=0.1, momentum=0.5)`",
                            notes=[(f"`{opt.player}`'s optimizer", opt.span)])
    networks = [n.name for n in spec.networks]
    for opt in train.options:  # ema, clip and init may also name one network of a player
        who = opt.player
        if opt.kind == "load":  # any network, frozen ones first of all
            if who not in networks:
                diags.error("E304", f"`{who}` is not a network", opt.player_span or opt.span,
                            lambda who=who: did_you_mean(who, networks))
            continue
        if who is not None and who not in known and who not in owner:
            diags.error("E304", f"`{who}` is not a player or a trained network",
                        opt.player_span or opt.span,
                        lambda who=who: did_you_mean(who, [*players, *owner]))

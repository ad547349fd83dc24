"""GAN lints from the literature, as warnings that give the reason.

- W503: batch norm in a critic trained with a gradient penalty. The penalty constrains the
  gradient per sample; batch norm makes each output depend on the whole batch, so the penalized
  quantity is not the critic's per-sample gradient (Gulrajani et al. 2017, §4).
- W504: a sigmoid before a loss that takes logits (the sigmoid is applied twice).
- W505: a WGAN critic ending in a sigmoid: the critic must be an unbounded real function.
- W506: a generator whose output no network of another player ever sees.
- W508: a network too large to train on most machines: more than `limits.PARAMETERS`
  parameters, or more saved activation values than that for one sample. `gandsl train`
  refuses a spec whose least memory exceeds the machine's before allocating anything.
"""

from __future__ import annotations

import networkx as nx

from .. import limits, sizes
from ..diagnostics import Diagnostics
from ..functions import FUNCTIONS
from ..ir import Network, ONode, Spec
from .roles import critics


def lint(spec: Spec, g: nx.DiGraph, diags: Diagnostics) -> None:
    obj = spec.objective
    nets = {n.name: n for n in spec.networks}
    for node in obj.nodes:
        if node.op != "fn":
            continue
        fn = FUNCTIONS[node.name]
        if "penalty" in fn.tags:
            _bn_in_critic(node, obj.nodes, nets, g, diags)
        if "logits" in fn.tags or "wgan" in fn.tags:
            code = "W505" if "wgan" in fn.tags else "W504"
            for i in node.inputs:
                sig = _final_sigmoid(obj.nodes[i], obj.nodes, nets)
                if sig is None:
                    continue
                net, span = sig
                if code == "W505":
                    msg = (f"the WGAN critic `{net}` ends in a sigmoid; a critic is an "
                           "unbounded function, and a sigmoid saturates its gradient")
                else:
                    msg = (f"`{fn.name}` takes logits, but `{net}` ends in a sigmoid, which "
                           "would be applied twice")
                diags.warn(code, msg, node.span, hint=f"remove the final `sigmoid` from `{net}`",
                           notes=[("the sigmoid", span)])
                break
    _unseen_generators(spec, g, diags)


def large_networks(spec: Spec, diags: Diagnostics) -> None:
    """W508 for each network past the size limit, with its numbers."""
    limit = limits.PARAMETERS.value
    for net in spec.networks:
        if not net.complete or any(n.type is None for n in net.nodes):
            continue
        params, values = sizes.parameters(net), sizes.activations(net)
        if params > limit:
            diags.warn("W508", f"network `{net.name}` has {params:,} parameters "
                       f"({sizes.gigabytes(params * sizes.FLOAT_BYTES)} in float32), more than "
                       f"2^31", net.span, hint="`gandsl train` needs about four times that "
                       "(weights, gradients, Adam's two moments)")
        elif values > limit:
            diags.warn("W508", f"training `{net.name}` keeps {values:,} activation values per "
                       f"sample ({sizes.gigabytes(values * sizes.FLOAT_BYTES)} in float32), "
                       "more than 2^31", net.span,
                       hint="lower the sizes of its largest layers")


def _bn_in_critic(node: ONode, nodes: list[ONode], nets: dict[str, Network],
                  g: nx.DiGraph, diags: Diagnostics) -> None:
    critic = nodes[node.inputs[0]]
    names = [critic.name]
    if critic.op == "critic":  # an expression: the networks between its image and it
        body, at = critic.inputs
        between = (nx.ancestors(g, body) | {body}) & nx.descendants(g, at)
        names = [nodes[i].name for i in sorted(between) if nodes[i].op == "call"]
    for name in dict.fromkeys(names):
        _bn_in_network(node, nets.get(name), diags)


def _bn_in_network(node: ONode, net: Network | None, diags: Diagnostics) -> None:
    if net is None or not net.complete:
        return
    bn = next((n for n in net.nodes if n.op == "batch_norm"), None)
    if bn is not None:
        diags.warn("W503", f"`{node.name}` penalizes the per-sample gradient of `{net.name}`, "
                   "but its batch norm mixes samples, so the penalty is not the one the "
                   "theory needs (Gulrajani et al. 2017)", node.span,
                   hint="use `layer_norm`, `instance_norm` or no normalization in the critic",
                   notes=[("batch norm in the critic", bn.span)])


def _final_sigmoid(node: ONode, nodes: list[ONode], nets: dict[str, Network]):
    """(network, span) when `node` is a network output whose last operation is a sigmoid."""
    output = ""
    if node.op == "select":
        output, node = node.name, nodes[node.inputs[0]]
    if node.op != "call":
        return None
    net = nets.get(node.name)
    if net is None or not net.complete:
        return None
    index = next((i for i, o in enumerate(net.outputs) if o.name == output), 0)
    last = net.nodes[net.results[index]]
    return (net.name, last.span) if last.op == "sigmoid" else None


def _unseen_generators(spec: Spec, g: nx.DiGraph, diags: Diagnostics) -> None:
    obj = spec.objective
    owner = {n: p.name for p in obj.players for n in p.networks}
    calls_of: dict[str, list] = {}
    for n in obj.nodes:
        if n.op == "call":
            calls_of.setdefault(n.name, []).append(n)
    judges = critics(spec, g)  # EBGAN's auto-encoding D outputs images, and is a critic
    for net in spec.networks:
        if net.name not in owner or not any(o.type.kind == "image" for o in net.outputs):
            continue
        calls = calls_of.get(net.name, [])
        if not calls or net.name in judges:
            continue

        def foreign(name: str, me: str = owner[net.name]) -> bool:
            return owner.get(name) not in (None, me)

        seen = any(
            (other.op == "call" and foreign(other.name)) or (other.op == "fn" and any(
                obj.nodes[i].op == "netfn" and foreign(obj.nodes[i].name) for i in other.inputs))
            for call in calls for other in (obj.nodes[d] for d in nx.descendants(g, call.id)))
        if not seen:
            diags.warn("W506", f"the output of `{net.name}` is never seen by a network of "
                       "another player, so nothing pushes it toward the data", net.span)

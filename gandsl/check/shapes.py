"""Type and shape inference through every node of a network, in order.

Each layer's rule (`gandsl.layers`) computes its output type from the input type and its
arguments; a mismatch is reported at the argument or stage that is wrong, with both shapes.
"""

from __future__ import annotations

from ..diagnostics import Diagnostics
from ..infer import infer_node
from ..ir import Network, Node
from ..types import TensorType, conversion


def infer_network(net: Network, diags: Diagnostics) -> None:
    types: dict[int, TensorType | None] = {}
    for node in net.nodes:
        if node.op == "input":
            types[node.id] = node.type
            continue
        node.type = infer_node(node, types, diags)
        types[node.id] = node.type
    sizes: dict[tuple[int, int], Node] = {}
    for node in net.nodes:  # progressive growing: one level per resolution
        if node.op == "grow" and node.type is not None:
            first = sizes.setdefault(node.type.dims[1:], node)
            if first is not node:
                diags.error("E202", f"two `grow` levels of `{net.name}` give {node.type}: each "
                            "level is one resolution", node.span,
                            notes=[("the other", first.span)])
    if not net.complete:  # the body failed before its return: nothing to compare
        return
    for port, rid, span in zip(net.outputs, net.results, net.result_spans, strict=True):
        value = types.get(rid)
        if value is None:
            continue
        if conversion(value, port.type) is None:
            what = f"output `{port.name}`" if port.name else "its output"
            diags.error("E205", f"network `{net.name}` declares {what} as {port.type} but "
                        f"returns {value}", span, notes=[("declared here", port.span)])

"""`gandsl graph`: draw the checked networks as Graphviz DOT, Mermaid, or SVG (via Graphviz).

The drawing is made from the same networkx graphs the checker uses.
"""

from __future__ import annotations

import shutil
import subprocess

from .check.graph import network_graph
from .ir import Network, Node, Spec


def _label(node: Node) -> str:
    t = f"\\n{node.type}" if node.type is not None else ""
    if node.op == "input":
        return f"{node.name}{t}"
    return f"{node.op}{t}"


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\\\\n", "\\n")


def to_dot(spec: Spec) -> str:
    lines = [f'digraph "{_dot_escape(spec.name)}" {{', "  rankdir=TB;",
             '  node [shape=box, fontname="Helvetica", fontsize=10];']
    for k, net in enumerate(spec.networks):
        g = network_graph(net)
        lines.append(f'  subgraph cluster_{k} {{\n    label="{_dot_escape(net.name)}";')
        for i in g.nodes:
            node = g.nodes[i]["node"]
            shape = ", shape=ellipse" if node.op == "input" else ""
            lines.append(f'    n{k}_{i} [label="{_dot_escape(_label(node))}"{shape}];')
        for j, port in enumerate(net.outputs):
            name = port.name or "out"
            lines.append(f'    n{k}_out{j} [label="{_dot_escape(name)}\\n{port.type}", '
                         'shape=ellipse];')
            lines.append(f"    n{k}_{net.results[j]} -> n{k}_out{j};")
        for a, b in g.edges:
            lines.append(f"    n{k}_{a} -> n{k}_{b};")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(spec: Spec) -> str:
    lines = ["flowchart TD"]
    for k, net in enumerate(spec.networks):
        g = network_graph(net)
        lines.append(f"  subgraph {_mm_id(net)}[\"{net.name}\"]")
        for i in g.nodes:
            label = _label(g.nodes[i]["node"]).replace("\\n", "<br/>").replace('"', "'")
            lines.append(f'    n{k}_{i}["{label}"]')
        for a, b in g.edges:
            lines.append(f"    n{k}_{a} --> n{k}_{b}")
        lines.append("  end")
    return "\n".join(lines) + "\n"


def _mm_id(net: Network) -> str:
    return "net_" + net.name


class GraphvizMissing(Exception):
    pass


def to_svg(spec: Spec) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing("`--format svg` needs Graphviz's `dot` program, which is not "
                              "installed. Install Graphviz (e.g. `apt install graphviz`), or "
                              "use `--format dot` and render the file elsewhere.")
    out = subprocess.run([dot, "-Tsvg"], input=to_dot(spec), capture_output=True, text=True,
                         check=True, timeout=60)
    return out.stdout


FORMATS = {"dot": to_dot, "mermaid": to_mermaid, "svg": to_svg}

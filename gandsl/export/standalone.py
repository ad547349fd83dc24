"""`gandsl export --format python`: one file that needs only torch.

The file holds the generated classes of the exported networks, copied from the generated module
(the program `gandsl train` ran, shape comments and all), the runtime classes and functions
they use, copied from `gandsl.runtime` (`closure.py`), and a `Model` that calls the networks
as the objective does, loads the exported `.safetensors` with torch alone and takes the noise
and truncation ψ of StyleGAN-like generators as arguments.
"""

from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from ..naming import docstring, literal
from . import model_support
from .closure import Closure, Index, module_index
from .units import Unit


@dataclass
class Layout:
    """What the `Model` class holds beside its unit's calls."""

    stem: str  # the file's name, and the module's
    attrs: dict[str, str]  # network → its attribute on `Model`
    classes: dict[str, str]  # network → its class in the generated module
    levels: dict[str, float] = field(default_factory=dict)  # network → level of detail
    noise: dict[str, tuple[int, ...]] = field(default_factory=dict)  # layer path → (1, H, W)
    truncations: list[str] = field(default_factory=list)  # truncation layer paths
    psi: float | None = None  # the spec's ψ (of the first truncation layer)


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=False,  # Python source: spec text reaches it only as identifiers and comments
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined)
    return env.get_template("standalone.py.j2")


def python_module(generated_source: str, unit: Unit, layout: Layout, header: list[str],
                  spec_name: str, types_doc: str) -> str:
    """The text of the standalone module. `header`: comment lines (made safe by the caller);
    `types_doc`: `(z: latent[8]) -> image[3, 16, 16]`, from identifiers and types only."""
    generated = Index.of(generated_source)
    closure = Closure()
    for name in dict.fromkeys(layout.classes[n] for n in unit.networks):
        closure.add(generated, name)
    support = module_index(model_support.__name__)
    closure.add(support, "read_safetensors")
    if layout.noise or layout.truncations:
        closure.add(support, "given")
    closure.resolve(support, "nn")
    closure.resolve(support, "Tensor")
    # the runtime's definitions first: the generated classes read them as `rt.<name>`
    texts = [text for module, _, text in closure.definitions if module] + \
        [text for module, _, text in closure.definitions if not module]
    namespace = _call("rt = SimpleNamespace(", [f"{n}={n}" for names in
                                                 closure.namespaces.values() for n in names])
    if namespace:
        closure.imports["SimpleNamespace"] = ("types", "SimpleNamespace")
    imports = ["from __future__ import annotations", "", *closure.import_lines()]
    doc = []
    if layout.truncations:
        doc.append(f"`psi`: the truncation ψ of every layer in TRUNCATIONS (None: the spec's "
                   f"{layout.psi!r}).")
    if layout.noise:
        doc.append("`noise`: one tensor per layer in NOISE, (B or 1, 1, H, W) as listed "
                   "there (None: fresh noise).")
    args = ", ".join(f"{name}: Tensor" for name, _ in unit.inputs)
    extra = []
    if layout.truncations:
        extra.append("psi: float | Tensor | None = None")
    if layout.noise:
        extra.append("noise: list[Tensor] | None = None")
    first = ", ".join(f"torch.randn(16, {', '.join(map(str, t.dims))})" if t.kind != "class"
                      else f"torch.randint(0, {t.dims[0]}, (16,))" for _, t in unit.inputs)
    return _template().render(
        header=[part for line in header for part in textwrap.wrap(line, 98)],
        doc=docstring(f"{_names(unit.networks)} of `{spec_name}` as one module."),
        stem=layout.stem,
        example=f"images = model({first})  # {types_doc}",
        imports=imports,
        definitions="\n\n\n".join(texts),
        namespace=namespace,
        noise=_literal(layout.noise),
        truncations=f"[{', '.join(map(literal, layout.truncations))}]",
        model_doc=docstring(f"{_names(unit.networks)}: {types_doc}."),
        networks=[(layout.attrs[n], layout.classes[n]) for n in dict.fromkeys(unit.networks)],
        levels=[(layout.attrs[n], repr(v)) for n, v in layout.levels.items()],
        signature=_call("    def forward(", ["self", args, *extra], ") -> Tensor:"),
        forward_doc=[line for part in doc for line in textwrap.wrap(
            docstring(part), 88, subsequent_indent="    " if part.startswith("`") else "")],
        given=bool(layout.truncations or layout.noise),
        body=[f"{c.target} = self.{layout.attrs[c.network]}({', '.join(c.args)})"
              for c in unit.calls],
        result=unit.result,
    )


def _names(networks: list[str]) -> str:
    quoted = [f"`{n}`" for n in dict.fromkeys(networks)]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} then {quoted[-1]}"


def _literal(noise: dict[str, tuple[int, ...]]) -> str:
    if not noise:
        return "{}"
    return "{\n" + "".join(f"    {literal(k)}: {v!r},\n" for k, v in noise.items()) + "}"


def _call(head: str, items: list[str], tail: str = ")") -> str:
    """`head` + items + `tail` on one line when it fits in 100 columns, else an item a line."""
    if not items:
        return ""
    one = head + ", ".join(items) + tail
    if len(one) <= 100:
        return one
    indent = " " * (len(head) - len(head.lstrip()) + 4)
    return head + "\n" + "".join(f"{indent}{item},\n" for item in items) + \
        head[:len(head) - len(head.lstrip())] + tail


__all__ = ["Layout", "python_module"]

"""The one naming authority for everything a spec puts into generated Python.

A spec is untrusted input, and the generated module is imported by `gandsl train`,
`gandsl.load` and whoever reads it. So spec text reaches the module in three forms only:

- identifiers (classes, attributes, locals, NamedTuple fields) through `Namespace.create`
  (as `torch.fx`'s `_Namespace`): sanitized to `[A-Za-z0-9_]`, never private or dunder, kept
  off Python keywords and soft keywords, builtins, the names the module binds itself
  (`torch`, `nn`, `F`, `rt`, `PARAMS`, `Objective`, ...), and made unique with `_1`, `_2`.
  `output_fields` is the one mapping from a network's output names to its NamedTuple fields,
  used by the network class and every `.field` the objective writes;
- strings (dataset, player, term and param names, param values) as `literal()`: a quoted
  literal that Python reads back as exactly that string;
- comments (`comment()`): one printable line after a `#`, which nothing can end early.

Docstrings are built only from identifiers, numbers and types; `docstring()` refuses any
text that could end one (a `"` or a `\\`) instead of escaping it, so a spec's title and file
name go into comments, never into a docstring.
"""

from __future__ import annotations

import builtins
import keyword
import re

# Names the generated module binds itself; nothing from a spec may take them.
MODULE_NAMES = frozenset({"torch", "nn", "F", "rt", "Tensor", "NamedTuple", "NETWORKS",
                          "PARAMS", "SPEC_SHA256", "PLAYERS", "TERMS", "GENERATED",
                          "CONDITIONS", "Objective", "annotations"})
RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(
    dir(builtins)) | MODULE_NAMES | {"self", "super"}
# Methods and attributes of the generated `Objective` class: a network stored on it as
# `self.<name>` must not hide them.
OBJECTIVE_ATTRS = frozenset({"optimizers", "iteration", "samples", "state"})


# Public attributes of `torch.nn.Module` (torch 2.11–2.13); a module attribute named like one
# of these would shadow it. Kept as data so emitting needs no torch import; a test checks the
# list against the installed torch.
NN_MODULE_ATTRS = frozenset("""
T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda double
dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
get_submodule half ipu load_state_dict modules mtia named_buffers named_children named_modules
named_parameters parameters register_backward_hook register_buffer register_forward_hook
register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook
register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_
set_extra_state set_submodule share_memory state_dict to to_empty train training type xpu
zero_grad
""".split())

# Public attributes of a NamedTuple (its `_`-prefixed ones are out of reach: `sanitize`
# never makes a private name); a field named like one would be shadowed by it.
TUPLE_ATTRS = frozenset(name for name in dir(tuple) if not name.startswith("_"))

_INVALID = re.compile(r"[^0-9A-Za-z_]")


def sanitize(candidate: str, reserved: frozenset[str] = RESERVED) -> str:
    """A valid identifier: never private or dunder, never starting with a digit, never
    reserved (a trailing `_` is added)."""
    name = _INVALID.sub("_", candidate).strip("_") or "v"
    if name[0].isdigit():
        name = "v" + name
    return name + "_" if name in reserved else name


class Namespace:
    def __init__(self, reserved: frozenset[str] | set[str] = RESERVED) -> None:
        self._reserved = reserved if isinstance(reserved, frozenset) else frozenset(reserved)
        self._used: set[str] = set()
        self._next: dict[str, int] = {}  # base → the next suffix to try: n names stay linear

    def create(self, candidate: str) -> str:
        name = sanitize(candidate, self._reserved)
        base, i = name, self._next.get(name, 1)
        while name in self._used or name in self._reserved:
            name = f"{base}_{i}"
            i += 1
        self._next[base] = i
        self._used.add(name)
        return name

    @property
    def used(self) -> frozenset[str]:
        return frozenset(self._used)


_ATTRIBUTE_RESERVED = RESERVED | NN_MODULE_ATTRS


def attribute_namespace() -> Namespace:
    """Names of module attributes: also off everything `nn.Module` defines (`forward`,
    `training`, `parameters`, ...)."""
    return Namespace(_ATTRIBUTE_RESERVED)


def output_fields(outputs: list[str]) -> dict[str, str]:
    """A network's output names → the fields of its NamedTuple, in order. The class and
    every selection (`D(x).src` → `D_x.src`) take their names from here."""
    fields = Namespace(RESERVED | TUPLE_ATTRS)
    return {name: fields.create(name) for name in outputs}


_PLAIN = re.compile(r'[ !#-\[\]-~]*')  # printable ASCII without `"` and `\`


def literal(text: str) -> str:
    """A Python string literal that reads back as exactly `text`: in double quotes, as the
    rest of the generated file, when nothing in it needs escaping, else `repr` with every
    `"` written `\\x22`. So a `"` is only ever a literal's delimiter, and `\"\"\"` in a
    generated module only ever opens or closes a docstring."""
    if _PLAIN.fullmatch(text):
        return f'"{text}"'
    quoted = repr(text)
    return quoted if quoted[0] == '"' else quoted.replace('"', "\\x22")


def docstring(text: str) -> str:
    """Text for a docstring, which the compiler builds from identifiers, numbers and types
    only. Anything that could end the docstring or start an escape is a compiler bug."""
    if '"' in text or "\\" in text or not all(ch.isprintable() or ch == "\n" for ch in text):
        raise AssertionError(f"unsafe docstring text: {text!r}")
    return text


def comment(text: str) -> str:
    """Text that is safe in a `#` comment: one line, printable."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def camel(name: str) -> str:
    """`patch_gan` → `PatchGan`: a class name from a spec name."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or "Block"

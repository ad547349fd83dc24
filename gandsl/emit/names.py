"""The one naming authority for emitted identifiers (as `torch.fx`'s `_Namespace`).

Every identifier the generated code defines goes through `Namespace.create`: it is sanitized to
a valid identifier, kept off Python keywords, builtins and the names the generated code itself
uses (`torch`, `nn`, `F`, `rt`, `self`, ...), and made unique with `_1`, `_2` suffixes. So a spec
cannot inject code or shadow anything the file needs.
"""

from __future__ import annotations

import builtins
import keyword
import re

# Names the generated module binds itself; nothing from a spec may take them.
MODULE_NAMES = frozenset({"torch", "nn", "F", "rt", "Tensor", "NamedTuple", "NETWORKS",
                          "PARAMS", "SPEC_SHA256", "annotations"})
RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(
    dir(builtins)) | MODULE_NAMES | {"self", "super"}


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
        self._reserved = frozenset(reserved)
        self._used: set[str] = set()

    def create(self, candidate: str) -> str:
        name = sanitize(candidate, self._reserved)
        base, i = name, 1
        while name in self._used or name in self._reserved:
            name = f"{base}_{i}"
            i += 1
        self._used.add(name)
        return name

    @property
    def used(self) -> frozenset[str]:
        return frozenset(self._used)


def attribute_namespace() -> Namespace:
    """Names of module attributes: also off everything `nn.Module` defines (`forward`,
    `training`, `parameters`, ...)."""
    return Namespace(RESERVED | NN_MODULE_ATTRS)


def docstring(text: str) -> str:
    """Text that is safe inside a triple-quoted docstring."""
    text = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in text)
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def comment(text: str) -> str:
    """Text that is safe in a `#` comment: one line, printable."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


# Fields a NamedTuple may not take, besides reserved words: its own methods.
TUPLE_ATTRS = frozenset({"count", "index"})


def camel(name: str) -> str:
    """`patch_gan` → `PatchGan`: a class name from a spec name."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or "Block"

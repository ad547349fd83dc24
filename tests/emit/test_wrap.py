"""Generated lines stay within 100 columns, broken as a person breaks them, and a broken line
is the same Python as the long one."""

from __future__ import annotations

import ast
import textwrap

import pytest

from gandsl.emit.wrap import wrap_code, wrap_module

LONG = [
    "        self.block_1_conv_1 = nn.utils.parametrizations.spectral_norm("
    "nn.Conv2d(3, 128, 3, padding=1))",
    "        return DOutput(f0_1=o1, f0_2=o2, f0_3=o3, f0_4=o4, out0=o5, f1_1=o6, f1_2=o7, "
    "f1_3=o8, f1_4=f, out1=o10)",
    "        loss = 0.5 * gan0 + 0.5 * gan1 + 5 * (l1 + l1_1 + l1_2 + l1_3 + l1_4 + l1_5 + l1_6"
    " + l1_7) + 10 * (l1_8 / 32 + l1_9 / 16 + l1_10 / 8 + l1_11 / 4 + l1_12) - x[\"a, b\"]",
    "            \"G\": torch.optim.Adam([*self.G_mapping.parameters(), "
    "*self.G_synthesis.parameters()], lr=0.003, betas=(0.0, 0.99), eps=1e-08),",
    "        out = F.interpolate(x, scale_factor=3, mode=\"bilinear\", align_corners=False)"
    "  # (B, 4, 15, 15)",
]


def _tree(code: str) -> str:
    """The AST of a statement, however it is indented or broken (a dict entry is wrapped
    in a dict literal to parse)."""
    code = textwrap.dedent(code).strip()
    if code.startswith('"G"'):
        code = "{" + code + "}"
    return ast.dump(ast.parse(code))


@pytest.mark.parametrize("line", LONG, ids=range(len(LONG)))
def test_long_lines_break_into_the_same_python(line):
    lines = wrap_code(line)
    assert len(lines) > 1 and all(len(x) <= 100 for x in lines), lines
    assert _tree("\n".join(lines)) == _tree(line)
    indent = len(line) - len(line.lstrip())
    assert all(len(x) - len(x.lstrip()) >= indent for x in lines)


def test_how_lines_break():
    call, sum_ = wrap_code(LONG[1]), wrap_code(LONG[2])
    assert call == ["        return DOutput(",
                    "            f0_1=o1, f0_2=o2, f0_3=o3, f0_4=o4, out0=o5, f1_1=o6, f1_2=o7, "
                    "f1_3=o8, f1_4=f,",
                    "            out1=o10)"]
    assert sum_[0].startswith("        loss = (0.5 * gan0 + 0.5 * gan1 + 5 * (")
    assert sum_[1].lstrip().startswith("+ 10 * (") and sum_[-1].endswith('x["a, b"])')
    commented = wrap_code(LONG[4])
    assert commented[0] == "        # (B, 4, 15, 15)"
    assert commented[1].startswith("        out = F.interpolate(")


def test_module_docstrings_refill_and_short_lines_stay():
    text = ('class N:\n    """' + "word " * 30 + '\n\n    ' + "(x: image[3, 8, 8]) " * 6 +
            '\n    """\n\n    x = 1  # ' + "a comment " * 12 + "\n")
    out = wrap_module(text).split("\n")
    assert all(len(x) <= 100 for x in out if "# a comment" not in x)
    assert out[1].startswith('    """word word') and out[2].startswith("    word word")
    assert out[-3].startswith("    # a comment") and out[-2] == "    x = 1"  # comment above
    ast.parse(wrap_module(text))


def _random_statement(rng) -> str:
    """A long statement of the shapes the emitters write: calls, sums, dicts, keywords."""
    names = ["a", "fake_l", 'self.state["k"]', "D_fake_1", "real_l.detach()", "0.001", "lengths"]

    def expr(depth: int = 0) -> str:
        r = rng.random()
        if depth > 3 or r < 0.3:
            return rng.choice(names)
        if r < 0.55:
            return f"{expr(depth + 1)} {rng.choice('+-*/')} {expr(depth + 1)}"
        if r < 0.7:
            return f"({expr(depth + 1)} {rng.choice('+-')} {expr(depth + 1)})"
        if r < 0.85:
            args = [expr(depth + 1) for _ in range(rng.randint(1, 4))]
            args += [f"k{i}={expr(depth + 1)}" for i in range(rng.randint(0, 2))]
            return f"rt.{rng.choice(['clip', 'l1', 'a_long_function'])}({', '.join(args)})"
        if r < 0.93:
            return "{" + ", ".join(f'"t{i}": {expr(depth + 1)}'
                                   for i in range(rng.randint(1, 3))) + "}"
        return "[" + ", ".join(expr(depth + 1) for _ in range(rng.randint(1, 3))) + "]"

    shape = rng.choice(["v = {}", 'update("D", {}, {})', "return {}", "v = {}  # note, (x"])
    return " " * rng.choice([4, 8, 12]) + shape.format(*(expr() for _ in range(2)))


@pytest.mark.parametrize("width", [100, 60])
def test_random_long_statements_keep_their_meaning(width):
    import random

    rng = random.Random(7)
    tested = 0
    while tested < 400:
        line = _random_statement(rng)
        if len(line) <= width:
            continue
        tested += 1
        lines = wrap_code(line, width)
        assert _tree("\n".join(lines)) == _tree(line), "\n".join(lines)


def test_known_hard_lines():
    long = "a_long_name_for_a_value_number_one + a_long_name_for_a_value_number_two"
    for line in (f"        out = fn({long} + {long}, [0])",            # a sum, then more args
                 f'        return {{"t0": rt.clip(x, k0=y) + {long} - fake_l}}',  # dict entry
                 f'        v = fn("a\\\\", {long}, {long})'):            # an escaped backslash
        lines = wrap_code(line)
        assert all(len(x) <= 100 for x in lines) and _tree("\n".join(lines)) == _tree(line)


def test_a_module_never_changes_meaning_to_fit():
    """A line the wrapper cannot break safely stays long: the module's tree is the same."""
    text = "x = 1\n" + "y = " + " + ".join(["name"] * 40) + "\n"
    out = wrap_module(text)
    assert ast.dump(ast.parse(out)) == ast.dump(ast.parse(text))


def test_a_comment_quoting_triple_quotes_opens_no_docstring():
    """A spec's title is a comment at the top and may hold `\"\"\"`: the code after it is still
    code, broken as code (a comment moved above its statement), never refilled as text."""
    long_call = "    D = ArithmeticError_(ConnectionResetError_, ConnectionRefusedError_)" \
        "  # kept with its graph for a later step"
    text = '# """\n"""Docstring."""\n\n\ndef f():\n' + long_call + "\n"
    out = wrap_module(text)
    assert "    # kept with its graph for a later step\n    D = ArithmeticError_(" in out
    ast.parse(out)

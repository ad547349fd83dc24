"""The generated files read as a careful person would write them: one class per block, not one
per set of numbers; no float literal written over and over; the big models within a size."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATED = sorted((ROOT / "generated").glob("*.py"))


class _BlankNumbers(ast.NodeTransformer):
    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        if isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return ast.copy_location(ast.Constant(0), node)
        return node


def _classes(tree: ast.Module) -> dict[str, ast.ClassDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}


@pytest.mark.parametrize("path", GENERATED, ids=[p.stem for p in GENERATED])
def test_no_two_classes_differ_only_in_numbers(path):
    tree = ast.parse(path.read_text())
    shapes: dict[str, str] = {}
    for name, cls in _classes(tree).items():
        body = ast.Module(body=cls.body, type_ignores=[])
        for node in ast.walk(body):  # docstrings name the block and its counts
            if isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None),
                                                         ast.Constant):
                node.value = ast.Constant("")
        shape = ast.dump(_BlankNumbers().visit(body))
        assert shape not in shapes, f"{name} and {shapes.get(shape)} differ only in numbers"
        shapes[shape] = name


@pytest.mark.parametrize("path", GENERATED, ids=[p.stem for p in GENERATED])
def test_networks_repeat_no_float_literal_more_than_twice(path):
    """The networks' classes name a number they repeat (`SQRT2`, `LEAKY_RELU_SLOPE`)."""
    tree = ast.parse(path.read_text())
    networks = [c for c in _classes(tree).values() if c.name != "Objective"]
    floats = Counter(n.value for c in networks for n in ast.walk(c)
                     if isinstance(n, ast.Constant) and type(n.value) is float)
    assert not [v for v, k in floats.items() if k > 2], floats.most_common(3)


@pytest.mark.parametrize(("name", "most"), [("stylegan2", 450), ("stylegan", 400)])
def test_big_models_are_short(name, most):
    assert len((ROOT / "generated" / f"{name}.py").read_text().splitlines()) <= most


def test_a_block_used_with_different_numbers_is_one_class_taking_them():
    from gandsl.pipeline import compile_source

    python = compile_source('''\
gan b
block down(ch, k=3) { in -> conv(ch, k, stride=2, pad=k // 2) -> leaky_relu(0.2) }
network D(x: image[3, 32, 32]) -> vector[64] {
  return x -> down(16) -> down(32) -> down(64, k=5) -> global_pool
}
''', "b.gan").python
    tree = ast.parse(python)
    classes = _classes(tree)
    assert [n for n in classes if n.startswith("Down")] == ["Down"]
    init = next(f for f in classes["Down"].body if isinstance(f, ast.FunctionDef)
                and f.name == "__init__")
    # `pad=k // 2` differs with k: written from it, not a parameter of its own
    assert [a.arg for a in init.args.args] == ["self", "in_ch", "ch", "k"]
    assert "nn.Conv2d(in_ch, ch, k, stride=2, padding=k // 2)" in python
    # the uses chain: one loop over the three, each built with its own numbers
    assert "Down(3, 16, k=3)," in python
    assert "Down(32, 64, k=5)," in python
    assert "(B, ch, H/2, W/2)" in python
    assert "for block in self.downs:" in python


def test_stargan_reads_like_the_authors_model():
    """yunjey/stargan's model.py: one ResidualBlock class, G and D a `self.main`
    `nn.Sequential` (the residual blocks inside G's), D's two heads apart."""
    python = (ROOT / "generated" / "stargan.py").read_text()
    classes = _classes(ast.parse(python))
    assert [n for n in classes if n.startswith("Res")] == ["Res"]
    g_init = ast.get_source_segment(python, classes["G"]).split("def forward")[0]
    assert g_init.count("nn.Sequential(") == 1 and g_init.count("Res(),") == 6
    assert "out = self.main(h)" in python
    d = ast.get_source_segment(python, classes["D"])
    assert "h = self.main(x)" in d and "src = self.conv_7(h)" in d and "cls = self.conv_8(h)" in d


def test_shape_comments_of_a_block_class_hold_for_every_use():
    """BicycleGAN's PatchGAN is used at two widths and two image sizes: its class's comments
    write channels as the code does and sizes from the input's, true of both uses."""
    python = (ROOT / "generated" / "bicyclegan.py").read_text()
    assert "nn.Conv2d(nf, 2 * nf, 4, stride=2, padding=1),  # (B, 2 * nf, H/4, W/4)" in python
    assert "# (B, conv_4_out, H/8-1, W/8-1)" in python
    stylegan = (ROOT / "generated" / "stylegan.py").read_text()
    assert "nn.ZeroPad2d(1),  # (B, ch, 2H+2, 2W+2)" in stylegan


def test_a_repeating_run_of_the_spec_stays_a_loop():
    """StyleGAN2's synthesis `for r in 3..log_s`: one loop, the narrow offsets written from i,
    each iteration's modules in one ModuleDict (their parameters in the spec's order)."""
    python = (ROOT / "generated" / "stylegan2.py").read_text()
    forward = python[python.index("class G_synthesis"):python.index("class D(")]
    assert forward.count("for i in range(8):") == 1
    assert "h_1 = ws.narrow(1, 512 + 1024 * i, 512)  # (B, 512)" in forward
    assert "h = self.blocks[i].style_conv1(h, h_1)  # (B, 512, 8, 8) … (B, 32, 1024, 1024)" \
        in forward
    assert forward.count('"to_rgb": ToRgb(') == 8


def test_a_loop_is_written_from_i_only_where_numbers_grow_evenly():
    from gandsl.emit.loops import affine

    assert affine([1536, 2560, 3584]) == "1536 + 1024 * i"
    assert affine([0, 1, 2]) == "i"
    assert affine([5, 3, 1]) == "5 - 2 * i"
    assert affine([4, 8, 16]) == "2 ** (i + 2)"  # a pooling factor per resolution
    assert affine([3, 6, 12]) is None  # neither: the iterations are written out
    assert affine([1.0, 2.0, 3.0]) is None


def test_a_progressive_loop_moves_its_level_bounds_with_i():
    """Each iteration of StyleGAN's loops is one level of detail: the conditions on
    `self.level` are written in `i`, a bound past the end of the level axis left out."""
    from gandsl.emit.progressive import condition

    grown_from = [frozenset(range(2 * i + 1, 17)) for i in range(8)]  # level > i
    assert condition(grown_from, 8, 1) == "i < self.level"
    # a ToRGB needed from level i up to i + 2; the last one up to the top (16 = 2K)
    heads = [frozenset(range(2 * i + 1, min(2 * i + 4, 17))) for i in range(8)]
    assert condition(heads, 8, 1) == "i < self.level < i + 2"
    assert condition([frozenset(range(0, 17))], 8) is None
    assert condition([frozenset({4})], 8) == "self.level == 2"
    d_heads = [frozenset(range(13 - 2 * i, 16 - 2 * i)) & frozenset(range(17))
               for i in range(8)]  # D: from the top down
    assert condition(d_heads, 8, -1) == "6 - i < self.level < 8 - i"
    text = (ROOT / "generated" / "stylegan.py").read_text()
    synthesis = text[text.index("class G_synthesis"):text.index("class D(")]
    assert "for i in range(8):" in synthesis
    assert "rgb = rt.fade_in(rgb, rgb_1, self.level - i)" in synthesis
    assert "low = F.avg_pool2d(x, 2 ** (i + 1))" in text

"""Every layer of the catalog: the compiler's output type and parameter formula against the
module the generated code builds and the tensor its forward pass returns."""

from __future__ import annotations

import textwrap

import pytest
import torch

import gandsl
from gandsl.layers import LAYERS

# (inputs of the test network, the returned expression, declared output, parameters)
CASES = [
    ("x: map[4, 9, 9]", "x -> conv(6, 3)", "map[6, 7, 7]", 6 * 4 * 9 + 6),
    ("x: map[4, 9, 9]", "x -> conv(6, 4, stride=2, pad=1, bias=false)", "map[6, 4, 4]", 384),
    ("x: map[4, 9, 9]", "x -> conv(8, 3, groups=2, dilation=2, pad=2)", "map[8, 9, 9]",
     8 * 2 * 9 + 8),
    ("x: map[4, 9, 9]", "x -> conv(6, 3, pad=1, pad_mode=\"reflect\")", "map[6, 9, 9]", 222),
    ("x: map[4, 9, 9]", "x -> conv(6, 3, sn=true)", "map[6, 7, 7]", 222),
    ("x: map[4, 9, 9]", "x -> conv(6, 3, eqlr=true, lr_mul=0.5)", "map[6, 7, 7]", 222),
    ("x: map[4, 5, 5]", "x -> conv_t(3, 4, stride=2, pad=1)", "map[3, 10, 10]", 4 * 3 * 16 + 3),
    ("x: map[4, 5, 5]", "x -> conv_t(3, 3, stride=2, pad=1, out_pad=1, bias=false)",
     "map[3, 10, 10]", 108),
    ("x: map[4, 5, 5]", "x -> pad(2)", "map[4, 9, 9]", 0),
    ("x: map[4, 5, 5]", "x -> pad(1, mode=\"zeros\")", "map[4, 7, 7]", 0),
    ("x: vector[7]", "x -> linear(5)", "vector[5]", 40),
    ("x: latent[7]", "x -> linear(5, bias=false, sn=true)", "vector[5]", 35),
    ("x: latent[7]", "x -> linear(5, eqlr=true, lr_mul=0.01)", "vector[5]", 40),
    ("y: class[10]", "y -> embedding(6)", "vector[6]", 60),
    ("y: class[10]", "y -> one_hot", "label[10]", 0),
    ("x: vector[12]", "x -> maxout(4, 3)", "vector[4]", 12 * 12 + 12),
    ("x: vector[6], y: class[5]", "x -> projection(y)", "vector[1]", 30),
    ("x: map[4, 5, 5]", "x -> batch_norm", "map[4, 5, 5]", 8),
    ("x: vector[6]", "x -> batch_norm(affine=false)", "vector[6]", 0),
    ("x: map[4, 5, 5]", "x -> instance_norm(affine=true, track=true)", "map[4, 5, 5]", 8),
    ("x: map[4, 5, 5]", "x -> instance_norm", "map[4, 5, 5]", 0),
    ("x: map[4, 5, 5]", "x -> layer_norm", "map[4, 5, 5]", 200),
    ("x: vector[6]", "x -> layer_norm", "vector[6]", 12),
    ("x: map[4, 5, 5]", "x -> group_norm(2)", "map[4, 5, 5]", 8),
    ("x: map[4, 5, 5]", "x -> pixel_norm", "map[4, 5, 5]", 0),
    ("x: map[4, 5, 5], y: class[3]", "x -> cond_batch_norm(y)", "map[4, 5, 5]", 24),
    ("x: map[4, 5, 5], e: vector[7]", "x -> cond_batch_norm(e)", "map[4, 5, 5]", 56),
    ("x: map[4, 5, 5], w: latent[7]", "x -> adain(w)", "map[4, 5, 5]", 7 * 8 + 8),
    ("x: map[4, 6, 6], s: map[3, 12, 12]", "x -> spade(s, hidden=5)", "map[4, 6, 6]",
     3 * 5 * 9 + 5 + 2 * (5 * 4 * 9 + 4)),
    ("x: map[4, 6, 6], s: map[3, 3, 3]", "x -> spade(s, hidden=5, kernel=1, norm=\"instance\")",
     "map[4, 6, 6]", 3 * 5 + 5 + 2 * (5 * 4 + 4)),
    ("x: map[4, 5, 5]", "x -> relu", "map[4, 5, 5]", 0),
    ("x: map[4, 5, 5]", "x -> leaky_relu(0.2)", "map[4, 5, 5]", 0),
    ("x: vector[4]", "x -> tanh", "vector[4]", 0),
    ("x: vector[4]", "x -> sigmoid", "vector[4]", 0),
    ("x: vector[4]", "x -> softplus(beta=2)", "vector[4]", 0),
    ("x: vector[4]", "x -> elu", "vector[4]", 0),
    ("x: vector[4]", "x -> gelu", "vector[4]", 0),
    ("x: map[4, 5, 5]", "x -> prelu", "map[4, 5, 5]", 1),
    ("x: map[4, 5, 5]", "x -> prelu(per_channel=true)", "map[4, 5, 5]", 4),
    ("x: map[4, 5, 5]", "x -> dropout(0.3, channels=true)", "map[4, 5, 5]", 0),
    ("x: map[4, 5, 5]", "x -> upsample", "map[4, 10, 10]", 0),
    ("x: map[4, 5, 5]", "x -> upsample(3, mode=\"bilinear\")", "map[4, 15, 15]", 0),
    ("x: map[4, 6, 6]", "x -> downsample", "map[4, 3, 3]", 0),
    ("x: map[4, 6, 6]", "x -> downsample(3, mode=\"nearest\")", "map[4, 2, 2]", 0),
    ("x: map[4, 7, 7]", "x -> avg_pool(3, stride=2, pad=1)", "map[4, 4, 4]", 0),
    ("x: map[4, 7, 7]", "x -> max_pool(2)", "map[4, 3, 3]", 0),
    ("x: map[8, 3, 3]", "x -> pixel_shuffle(2)", "map[2, 6, 6]", 0),
    ("x: map[4, 3, 3]", "x -> global_pool(\"sum\")", "vector[4]", 0),
    ("x: map[4, 3, 3]", "x -> flatten", "vector[36]", 0),
    ("x: vector[36]", "x -> reshape(4, 3, 3)", "map[4, 3, 3]", 0),
    ("x: map[4, 3, 3]", "x -> reshape(36)", "vector[36]", 0),
    ("x: map[4, 3, 3], y: map[2, 3, 3]", "concat(x, y, y)", "map[8, 3, 3]", 0),
    ("x: vector[4], y: label[3]", "x -> concat(y)", "vector[7]", 0),
    ("c: label[3], x: map[4, 5, 6]", "concat(x, tile(c, like=x))", "map[7, 5, 6]", 0),
    ("c: vector[3]", "c -> tile(height=2, width=4)", "map[3, 2, 4]", 0),
    ("z: latent[12]", "z -> slice(4, 6)", "latent[6]", 0),
    ("x: image[3, 4, 4]", "x -> normalize(mean=(0.5, 0.4, 0.3), std=(0.2, 0.2, 0.25))",
     "map[3, 4, 4]", 0),
    ("x: map[4, 3, 3]", "x -> bias", "map[4, 3, 3]", 4),
    ("w: latent[4]", "w -> broadcast(3)", "latent[12]", 0),
    ("w: latent[12]", "w -> truncation(layers=3, cutoff=2)", "latent[12]", 0),
    ("x: map[3, 4, 4], y: map[3, 8, 8]", "grow(x, y)", "map[3, 8, 8]", 0),
    ("x: map[3, 4, 4], y: map[3, 4, 4]", "grow(x, y)", "map[3, 4, 4]", 0),
    ("x: map[4, 3, 3]", "x -> slice(1, 2)", "map[2, 3, 3]", 0),
    ("x: map[4, 5, 5], e: vector[7]", "x -> cond_batch_norm(e, sn=true)", "map[4, 5, 5]", 56),
    ("x: map[16, 4, 4]", "x -> self_attention(kind=\"biggan\", sn=true)", "map[16, 4, 4]",
     2 * 16 * 2 + 2 * 16 * 8 + 1),
    ("h: vector[8], y: class[5]", "h -> projection(y, sn=true)", "vector[1]", 40),
    ("x: map[4, 4, 4]", "x -> minibatch_stddev(group=2)", "map[5, 4, 4]", 0),
    ("x: map[4, 4, 4]", "x -> noise", "map[4, 4, 4]", 4),
    ("x: map[4, 4, 4]", "x -> noise(per_channel=false)", "map[4, 4, 4]", 1),
    ("x: map[4, 5, 5], w: latent[7]", "x -> modulated_conv(w, 6, 3, up=2)", "map[6, 10, 10]",
     7 * 4 + 4 + 6 * 4 * 9 + 6),
    ("x: vector[4]", "const(6, 4, 4)", "map[6, 4, 4]", 96),
    ("x: map[16, 4, 4]", "x -> self_attention", "map[16, 4, 4]", 2 * (16 * 2 + 2) + 272 + 1),
    ("x: map[16, 4, 4]", "x -> self_attention(kind=\"biggan\")", "map[16, 4, 4]",
     2 * 16 * 2 + 2 * 16 * 8 + 1),
    ("x: map[4, 5, 5], y: map[4, 5, 5]", "x + 0.5 * y - y / 4", "map[4, 5, 5]", 0),
    ("x: map[4, 5, 5]", "-x -> relu", "map[4, 5, 5]", 0),
]


def _spec(inputs: str, expr: str, out: str) -> str:
    used = [a.split(":")[0].strip() for a in inputs.split(",")]
    unused = [n for n in used if n not in expr.replace("like=", " ")]
    # Unused inputs are named with `_` so the checker does not warn about them.
    for n in unused:
        inputs = inputs.replace(f"{n}:", f"_{n}:")
    return textwrap.dedent(f"""\
        gan layer_case
        network N({inputs}) -> {out} {{
          return {expr}
        }}
        """)


def _input(t, batch: int = 4):
    if t.kind == "class":
        return torch.randint(0, t.dims[0], (batch,))
    return torch.randn(batch, *t.dims)


@pytest.mark.parametrize(("inputs", "expr", "out", "params"), CASES,
                         ids=[c[1] for c in CASES])
def test_layer(tmp_path, inputs, expr, out, params):
    path = tmp_path / "case.gan"
    path.write_text(_spec(inputs, expr, out))
    loaded = gandsl.load(path)
    net = loaded.spec.networks[0]
    assert sum(n.params for n in net.nodes) == params  # the compiler's formula
    torch.manual_seed(0)
    module = loaded.networks["N"]
    assert sum(p.numel() for p in module.parameters()) == params  # the real module
    y = module(*[_input(p.type) for p in net.inputs])
    assert tuple(y.shape) == (4, *net.outputs[0].type.dims)
    assert torch.isfinite(y).all()
    if y.requires_grad:  # gradients flow through every generated op
        y.float().sum().backward()


def test_every_layer_has_a_case():
    covered = {name for _, expr, _, _ in CASES for name in LAYERS if f"{name}(" in expr
               or expr.endswith(f"-> {name}") or f"-> {name} " in expr}
    assert covered == set(LAYERS)


def test_avg_pool_may_leave_its_padding_out_of_the_average():
    import torch.nn.functional as F
    from conftest import compile_text

    result = compile_text("""\
        network N(x: image[1, 4, 4]) -> map[1, 2, 2] {
          return x -> avg_pool(3, stride=2, pad=1, count_pad=false)
        }
        """)
    assert "F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)" in result.python
    x = torch.ones(1, 1, 4, 4)
    # a corner window holds 4 pixels of 9: 4/9 with the zeros counted, 1 without
    assert F.avg_pool2d(x, 3, stride=2, padding=1)[0, 0, 0, 0].item() == pytest.approx(4 / 9)
    assert F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)[0, 0, 0, 0].item() == 1.0

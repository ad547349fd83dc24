"""The specs compile to the reference implementations' networks: exact parameter counts (from
the compiler's formulas and from the instantiated generated modules), the declared output
shapes at small params, and `generated/` is what the specs compile to now."""

from __future__ import annotations

import pytest
import torch
from conftest import ROOT, SPECS

import gandsl
from gandsl.emit import classes
from gandsl.pipeline import compile_source, read_spec

# Reference parameter counts (../shared/reference/seed_models.md), per network.
REFERENCE = [
    ("gan", {}, {"G": 2_503_984, "D": 1_231_441}),  # goodfeli/adversarial mnist.yaml
    ("began", {}, {"G": 1_716_611, "D": 13_405_379}),  # carpedm20/BEGAN-tensorflow, 64×64
    # tkarras/progressive_growing_of_gans at 1024, every level's ToRGB / FromRGB included
    ("pggan", {}, {"G": 23_079_115, "D": 23_087_249}),
    # NVlabs/stylegan FFHQ 1024, all 9 ToRGB / FromRGB: G = mapping + synthesis = 26,219,627
    ("stylegan", {}, {"G_mapping": 2_101_248, "G_synthesis": 24_118_379, "D": 23_087_249}),
    # NVlabs/stylegan2-ada-pytorch config-f 1024: G = mapping + synthesis = 30,370,060
    ("stylegan2", {}, {"G_mapping": 2_101_248, "G_synthesis": 28_268_812, "D": 29_012_513}),
    # stylegan2-ada-pytorch --cfg=paper256: G = mapping + synthesis = 24,767,458
    ("stylegan2_ada", {}, {"G_mapping": 2_101_248, "G_synthesis": 22_666_210, "D": 24_001_089}),
    ("dcgan", {}, {"G": 3_576_704, "D": 2_765_568}),  # pytorch/examples dcgan
    ("stargan", {}, {"G": 8_430_528, "D": 44_762_048}),  # yunjey/stargan, CelebA c=5
    ("stargan", {"both": True}, {"G": 8_461_888, "D": 44_827_584}),  # CelebA+RaFD, mask
    ("cyclegan", {}, {"G_ab": 11_378_179, "G_ba": 11_378_179, "D_a": 2_764_737,
                      "D_b": 2_764_737}),  # resnet_9blocks + 70×70 PatchGAN
    ("cyclegan", {"blocks": 6, "S": 128}, {"G_ab": 7_837_699, "D_a": 2_764_737}),
    ("cgan", {}, {"G": 972_784, "D": 1_224_351}),  # the paper's MNIST networks
    ("wgan_gp", {}, {"G": 5_179_907, "D": 4_114_689}),  # igul222 gan_cifar.py, DIM 128
    ("wgan", {}, {"G": 3_576_704, "D": 2_765_568}),  # martinarjovsky DCGAN_G/DCGAN_D
    ("lsgan", {}, {"G": 15_591_427, "D": 4_333_441}),  # xudonmao/LSGAN (TF), LSUN 112
    ("acgan", {}, {"G": 1_050_985, "D": 103_243}),  # eriklindernoren acgan.py
    # eriklindernoren sgan.py: D exact; its G (1,050,985) holds an embedding it never uses
    ("sgan", {}, {"G": 1_049_985, "D": 103_756}),
    ("infogan", {}, {"G": 6_652_481, "D": 6_559_169, "Q": 133_262}),  # openai/InfoGAN MNIST
    ("ebgan", {}, {"G": 738_433, "D": 1_099_041}),  # eriklindernoren ebgan.py
    ("pix2pix", {}, {"G": 54_413_955, "D": 2_768_705}),  # junyanz unet_256 + PatchGAN
    # pfnet-research/sngan_projection, official layout (3×3 final conv, block6 not pooled)
    ("projection", {}, {"G": 41_996_931, "D": 30_041_857}),
    ("sngan", {}, {"G": 4_276_739, "D": 1_053_824}),  # snresnet_32 / resnet_32, CIFAR-10
    ("sngan", {"conditional": True}, {"G": 4_304_387, "D": 1_055_104}),  # + CBN, projection
    ("sagan", {}, {"G": 42_017_412, "D": 39_448_258}),  # BigGAN-PyTorch SAGAN launcher
    ("biggan", {}, {"G": 70_433_988, "D": 87_982_370}),  # BigGAN-PyTorch bs256x8, ch 96
    ("srgan", {}, {"G": 1_549_462, "D": 23_565_505}),  # the paper's layout, D at 96×96
    ("spade", {}, {"G": 96_492_483, "D": 5_836_930}),  # NVlabs/SPADE ADE20K 256
    ("spade", {"label_nc": 184}, {"G": 97_480_899, "D": 5_904_514}),  # COCO-Stuff 256
    # junyanz/BicycleGAN facades 256: unet_256 (where_add all), basic_256_multi ×2, resnet_256
    ("bicyclegan", {}, {"G": 54_794_627, "D": 3_458_978, "D2": 3_458_978, "E": 2_590_032}),
    ("ragan", {}, {"G": 3_812_355, "D": 2_935_873}),  # AlexiaJM --arch 1, CIFAR-10, spectral D
    ("ssgan", {}, {"G": 5_849_603, "D": 1_483_653}),  # compare_gan resnet_cifar + rotation head
    ("r3gan", {}, {"G": 20_781_952, "D": 21_280_512}),  # brownvc/R3GAN CIFAR10, --cond=1
    ("r3gan", {"cond": False}, {"G": 20_732_160, "D": 20_683_776}),  # --cond=0
    ("biggan_diffaug", {}, {"G": 4_304_387, "D": 4_207_361}),  # DiffAugment-biggan-cifar C10
    ("lecam", {}, {"G": 4_304_387, "D": 4_207_361}),  # lecam-gan lc-DiffAugment-biggan-cifar10
]


def _compile(name: str, params: dict):
    path = ROOT / "specs" / f"{name}.gan"
    return compile_source(read_spec(path), str(path), params)


def _instantiate(name: str, params: dict):
    """The generated classes, built on the meta device (no memory, no init cost)."""
    loaded = gandsl.load(ROOT / "specs" / f"{name}.gan", **params)
    with torch.device("meta"):
        return {n: cls() for n, cls in loaded.classes.items()}


@pytest.mark.parametrize(("name", "params", "expected"), REFERENCE,
                         ids=[f"{n}-{p}" for n, p, _ in REFERENCE])
def test_parameter_counts_equal_reference(name, params, expected):
    spec = _compile(name, params).spec
    analytic = {n.name: sum(x.params for x in n.nodes) for n in spec.networks}
    modules = _instantiate(name, params)
    counted = {n: sum(p.numel() for p in m.parameters()) for n, m in modules.items()}
    for net, count in expected.items():
        assert analytic[net] == count, f"{net}: compiler formula"
        assert counted[net] == count, f"{net}: instantiated module"


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_every_layer_count_matches_its_module(path):
    """The compiler's per-layer formula equals the module the generated code builds for it,
    wherever it lives (`conv_1`, or `res.3.conv_1` inside a block class)."""
    spec = _compile(path.stem, {}).spec
    modules = _instantiate(path.stem, {})
    sources, class_of, _ = classes(spec)
    paths = {c.name: c.paths for c in sources}
    checked = 0
    for net in spec.networks:
        module, where = modules[net.name], paths[class_of[net.name]]
        for node in net.nodes:
            if node.params or node.name in where:
                sub = module.get_submodule(where[node.name])
                assert sum(p.numel() for p in sub.parameters()) == node.params, node.name
                checked += 1
    assert checked >= 8


# Small configurations for running forward passes on the CPU.
SMALL = {
    "began": [{"S": 16, "n": 8, "nz": 8}],
    "pggan": [{"S": 16, "nz": 16, "fbase": 64, "fmax": 16}],
    "stylegan": [{"S": 16, "fbase": 32, "fmax": 8, "z_dim": 8, "w_dim": 8, "map_layers": 2}],
    "stylegan2": [{"S": 16, "cbase": 128, "cmax": 8, "z_dim": 8, "w_dim": 8, "map_layers": 2}],
    "stylegan2_ada": [{"S": 16, "cbase": 128, "cmax": 8, "z_dim": 8, "w_dim": 8,
                       "map_layers": 2, "mbstd": 4}],
    "gan": [{"S": 8, "nz": 8, "g_units": 32, "d_units": 8}],
    "dcgan": [{"S": 32, "ngf": 8, "ndf": 8, "nz": 16}],
    "stargan": [{"S": 32, "g_ch": 8, "d_ch": 8, "g_res": 2, "d_layers": 4},
                {"S": 32, "g_ch": 8, "d_ch": 8, "g_res": 1, "d_layers": 5, "both": True}],
    "cyclegan": [{"S": 32, "ngf": 8, "ndf": 8, "blocks": 2}],
    "cgan": [{"S": 12, "nz": 8}],
    "wgan_gp": [{"dim": 8, "nz": 16}],
    "wgan": [{"S": 16, "ngf": 4, "ndf": 4, "nz": 8}],
    "lsgan": [{"S": 32, "nz": 16, "gf": 8, "df": 8}],
    "acgan": [{"S": 16, "nz": 8, "ngf": 8, "ndf": 4}],
    "sgan": [{"S": 16, "nz": 8, "g_ch": 16, "d_ch": 4}],
    "infogan": [{"S": 8, "nz": 8, "ch": 8, "g_fc": 32, "d_fc": 32, "q_fc": 16}],
    "ebgan": [{"S": 16, "nz": 8, "ngf": 8, "ndf": 8, "code": 8}],
    "pix2pix": [{"S": 64, "ngf": 8, "ndf": 8}],
    "bicyclegan": [{"S": 64, "ngf": 4, "ndf": 4, "nef": 4}],
    "projection": [{"S": 16, "ch": 4, "nz": 16, "classes": 10}],
    "sngan": [{"S": 16, "gch": 8, "dch": 8, "nz": 16},
              {"S": 16, "gch": 8, "dch": 8, "nz": 16, "conditional": True}],
    "sagan": [{"S": 32, "ch": 8, "K": 10, "nz": 16, "attn": 16}],
    "biggan": [{"S": 32, "ch": 8, "K": 10, "nz": 24, "shared_dim": 8, "attn": 16}],
    "biggan_diffaug": [{"S": 16, "ch": 4, "nz": 16}],
    "lecam": [{"S": 16, "ch": 4, "nz": 16}, {"S": 16, "ch": 4, "nz": 16, "diffaug": False}],
    "srgan": [{"S": 16, "ngf": 8, "blocks": 2, "ndf": 8, "fc": 16, "vgg": 8,
               "vgg_weights": ""}],
    "spade": [{"S": 32, "label_nc": 3, "ngf": 4, "hidden": 8, "ndf": 4, "vgg": 4,
               "vgg_weights": ""}],
    "ragan": [{"ch": 4, "nz": 8}, {"ch": 4, "nz": 8, "sn": False, "loss": "ralsgan"}],
    "ssgan": [{"gch": 8, "dch": 8, "nz": 8}],
    "r3gan": [{"S": 8, "nz": 8, "ch": 8, "groups": 2, "blocks": 1},
              {"S": 8, "nz": 8, "ch": 8, "groups": 2, "blocks": 1, "cond": False}],
}


def _example(t, batch: int):
    if t.kind == "class":
        return torch.randint(0, t.dims[0], (batch,))
    if t.kind == "label":
        return torch.randint(0, 2, (batch, *t.dims)).float()
    return torch.randn(batch, *t.dims)


def _shape(t, batch: int) -> tuple[int, ...]:
    return (batch,) if t.kind in ("scalar", "class") else (batch, *t.dims)


@pytest.mark.parametrize(("name", "params"), [(n, p) for n, ps in SMALL.items() for p in ps],
                         ids=[f"{n}-{i}" for n, ps in SMALL.items() for i in range(len(ps))])
def test_forward_returns_declared_shapes(name, params):
    assert set(SMALL) == {p.stem for p in SPECS}, "every spec has a small configuration"
    torch.manual_seed(0)
    loaded = gandsl.load(ROOT / "specs" / f"{name}.gan", **params)
    for net in loaded.spec.networks:
        module = loaded.networks[net.name]
        out = module(*[_example(p.type, 4) for p in net.inputs])
        outs = out if not net.single_output else (out,)
        assert len(outs) == len(net.outputs)
        for port, value in zip(net.outputs, outs, strict=True):
            assert tuple(value.shape) == _shape(port.type, 4), f"{net.name}.{port.name}"
            assert torch.isfinite(value).all()
        if not net.single_output:
            assert out._fields == tuple(p.name for p in net.outputs)  # D(x).src works


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_generated_is_current(path):
    """`generated/<spec>.py` is exactly what `gandsl compile <spec>` emits now."""
    rel = path.relative_to(ROOT)
    expected = compile_source(read_spec(path), str(rel), {}, display_path=rel.as_posix()).python
    current = (ROOT / "generated" / f"{path.stem}.py").read_text(encoding="utf-8")
    assert current == expected, f"run `gandsl compile {rel}` to update generated/"


def test_stargan_mask_vector_types():
    """With both datasets, G's label has 5 + 8 + 2 (mask) entries and D classifies 13."""
    spec = _compile("stargan", {"both": True}).spec
    g, d = spec.network("G"), spec.network("D")
    label = g.inputs[1].type
    assert label.dims == (15,) and label.labels.masked
    assert [(p.dataset, p.size, p.kind) for p in label.labels.parts] == [
        ("celeba", 5, "attributes"), ("rafd", 8, "classes")]
    assert d.outputs[1].type.dims == (13,)
    terms = {p.name: [(t.name, t.weight) for t in p.terms] for p in spec.objective.players}
    assert terms == {"D": [("wgan_d", 1.0), ("bce", 1.0), ("gradient_penalty", 10.0)],
                     "G": [("wgan_g", 1.0), ("bce", 1.0), ("l1", 10.0)]}
    assert [(r.player, r.steps, r.per) for r in spec.train.ratios] == [("D", 5, "G")]
    assert [(o.player, o.kwargs) for o in spec.train.optimizers] == [
        ("G", {"lr": 1e-4, "betas": (0.5, 0.999)}), ("D", {"lr": 1e-4, "betas": (0.5, 0.999)})]

"""Sources: batches with the declared types, unions with the mask vector, `--data shapes` for
the real specs, per-epoch shuffles, and exact resume from a JSON state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from gandsl.data import DataError, build_sources
from gandsl.data.sampler import EpochBatchSampler
from gandsl.pipeline import check_source

ROOT = Path(__file__).resolve().parents[2]
SMALL_STARGAN = {"both": True, "S": 32, "d_layers": 4, "g_res": 1, "g_ch": 8, "d_ch": 8}


def spec_file(name: str, **params):
    path = ROOT / "specs" / f"{name}.gan"
    return check_source(path.read_text(), f"specs/{name}.gan", params).spec


def spec_of(*decls: str):
    return check_source("gan t\n" + "\n".join(decls) + "\n", "t.gan").spec


def take(src, n: int) -> list[tuple[torch.Tensor, ...]]:
    return [src.next() for _ in range(n)]


def same(a: list, b: list) -> bool:
    return all(torch.equal(x, y) for ba, bb in zip(a, b, strict=True)
               for x, y in zip(ba, bb, strict=True))


# ---- unions and the mask vector ----------------------------------------------------------

def check_stargan_union(src, rafd_classes=None) -> None:
    """Batch k comes from member k mod 2; labels are [celeba 5 | rafd 8 | mask 2]."""
    for k, (x, c) in enumerate(take(src, 6)):
        assert x.shape == (4, 3, 32, 32) and c.shape == (4, 15) and c.dtype == torch.float32
        if k % 2 == 0:  # CelebA: its attributes, zeros in RaFD's slot, mask [1, 0]
            assert torch.equal(c[:, 13:], torch.tensor([[1.0, 0.0]] * 4))
            assert torch.equal(c[:, 5:13], torch.zeros(4, 8))
            assert (c[:, :3].sum(1) <= 1).all()  # exclusive colors (hair)
        else:  # RaFD: zeros in CelebA's slot, a one-hot class, mask [0, 1]
            assert torch.equal(c[:, 13:], torch.tensor([[0.0, 1.0]] * 4))
            assert torch.equal(c[:, :5], torch.zeros(4, 5))
            assert torch.equal(c[:, 5:13].sum(1), torch.ones(4))
            if rafd_classes is not None:
                assert set(c[:, 5:13].argmax(1).tolist()) <= rafd_classes


def test_stargan_both_with_shapes():
    spec = spec_file("stargan", **SMALL_STARGAN)
    src = build_sources(spec, ["faces"], 4, "cpu", seed=0, override="shapes")["faces"]
    assert [s.dataset.req.name for s in src.streams] == ["celeba", "rafd"]
    check_stargan_union(src)


def test_stargan_both_with_files(tmp_path):
    """The real spec's paths, relative to the root: data/celeba and data/RaFD/train."""
    names = "5_o_Clock_Shadow Black_Hair Blond_Hair Brown_Hair Male Young"
    rows = ["000001.jpg -1 1 -1 -1 1 1", "000002.jpg -1 -1 1 -1 -1 1",
            "000003.jpg 1 -1 -1 1 1 -1", "000004.jpg -1 -1 -1 -1 -1 -1"]
    celeba = tmp_path / "data" / "celeba"
    (celeba / "images").mkdir(parents=True)
    (celeba / "list_attr_celeba.txt").write_text("\n".join(["4", names, *rows]) + "\n")
    for r in rows:
        Image.new("RGB", (40, 48), (200, 30, 30)).save(celeba / "images" / r.split()[0])
    expressions = ["angry", "contemptuous", "disgusted", "fearful", "happy", "neutral",
                   "sad", "surprised"]
    for i, e in enumerate(expressions[:8]):
        (tmp_path / "data" / "RaFD" / "train" / e).mkdir(parents=True)
        Image.new("RGB", (32, 32), (i * 30, 0, 0)).save(
            tmp_path / "data" / "RaFD" / "train" / e / "a.png")
    spec = spec_file("stargan", **SMALL_STARGAN)
    src = build_sources(spec, ["faces"], 4, "cpu", seed=0, root=tmp_path)["faces"]
    check_stargan_union(src, rafd_classes=set(range(8)))
    x, c = src.next()  # CelebA again: the whole file, shuffled
    want = {(1, 0, 0, 1, 1), (0, 1, 0, 0, 1), (0, 0, 1, 1, 0), (0, 0, 0, 0, 0)}
    assert {tuple(int(v) for v in row[:5]) for row in c} == want


def test_stargan_single_dataset_is_plain_labels():
    spec = spec_file("stargan", S=32, d_layers=4, g_res=1)
    x, c = build_sources(spec, ["faces"], 4, "cpu", seed=0, override="shapes")["faces"].next()
    assert c.shape == (4, 5)  # an alias of celeba: no mask


def test_union_of_unlabelled_domains_alternates():
    spec = spec_of('data a: image[3, 16, 16] = shapes(domain="a")',
                   'data b: image[3, 16, 16] = shapes(domain="b")', "data ab = a | b")
    src = build_sources(spec, ["ab"], 2, "cpu", seed=0)["ab"]
    da, db = (s.dataset for s in src.streams)
    order = iter(EpochBatchSampler(len(da), 2, seed=0, key=da.order_key))
    for _ in range(2):
        idx = next(order)  # paired domains: both members take the same indices in turn
        (xa,), (xb,) = src.next(), src.next()
        assert torch.equal(xa, torch.stack([da[i][0] for i in idx]))
        assert torch.equal(xb, torch.stack([db[i][0] for i in idx]))
    assert [m["position"] for m in src.state_dict()["members"]] == [2, 2]


# ---- --data shapes on the specs ----------------------------------------------------------

def test_cyclegan_domains_are_unpaired_circles_and_squares():
    spec = spec_file("cyclegan", S=32)
    s = build_sources(spec, ["domain_a", "domain_b"], 2, "cpu", seed=0, override="shapes")
    a, b = s["domain_a"].streams[0].dataset, s["domain_b"].streams[0].dataset
    assert (a.domain, b.domain) == ("a", "b") and a.seed != b.seed
    assert a.order_key != b.order_key
    assert {a.scene(i).kind for i in range(20)} == {"circle"}
    assert {b.scene(i).kind for i in range(20)} == {"square"}
    (xa,), (xb,) = s["domain_a"].next(), s["domain_b"].next()
    assert xa.shape == xb.shape == (2, 3, 32, 32)


def test_paired_shapes_domains_are_served_in_the_same_order():
    spec = spec_of('data a: image[3, 16, 16] = shapes(domain="a", seed=5, size=40)',
                   'data b: image[3, 16, 16] = shapes(domain="b", seed=5, size=40)')
    s = build_sources(spec, ["a", "b"], 4, "cpu", seed=1)
    da, db = s["a"].streams[0].dataset, s["b"].streams[0].dataset
    order = iter(EpochBatchSampler(40, 4, seed=1, key=da.order_key))
    for _ in range(12):  # across an epoch boundary (10 batches each)
        idx = next(order)
        (xa,), (xb,) = s["a"].next(), s["b"].next()
        assert torch.equal(xa, torch.stack([da[i][0] for i in idx]))
        assert torch.equal(xb, torch.stack([db[i][0] for i in idx]))


@pytest.mark.parametrize("name, params, want", [
    ("cgan", {}, [(100, 1, 28, 28), (100,)]),
    ("dcgan", {"S": 32}, [(64, 3, 32, 32)]),
    ("wgan_gp", {}, [(64, 3, 32, 32)]),
])
def test_specs_run_on_shapes(name, params, want):
    spec = spec_file(name, **params)
    names = sorted({n.name for n in spec.objective.nodes if n.op == "data"})
    batch = spec.train.batch
    src = build_sources(spec, names, batch, "cpu", seed=0, override="shapes")[names[0]]
    out = src.next()
    assert [tuple(t.shape) for t in out] == want
    if len(out) == 2:
        assert out[1].dtype == torch.int64 and out[1].max() < 10


def test_unknown_override_and_name():
    spec = spec_file("cgan")
    with pytest.raises(DataError, match=r"--data mnist: unknown dataset; expected one of "
                                        r"shapes, digits"):
        build_sources(spec, ["digits"], 4, "cpu", seed=0, override="mnist")
    with pytest.raises(DataError, match="no data declaration named `faces`"):
        build_sources(spec, ["faces"], 4, "cpu", seed=0)


def test_override_keeps_the_declaration_in_messages():
    spec = spec_of("data d: image[3, 16, 16], class[7] = digits()")
    with pytest.raises(DataError) as e:
        build_sources(spec, ["d"], 4, "cpu", seed=0, override="shapes")
    assert str(e.value).startswith("t.gan:2: data `d` (--data shapes): shapes has class[N]")


# ---- shuffling and resume ----------------------------------------------------------------

def test_sampler_permutes_each_epoch_and_drops_the_last_partial_batch():
    sampler = iter(EpochBatchSampler(10, 3, seed=0, key="k"))
    epochs = [[next(sampler) for _ in range(3)] for _ in range(3)]
    for e in epochs:
        flat = [i for b in e for i in b]
        assert len(flat) == 9 and len(set(flat)) == 9  # 3 full batches, no repeats
    assert epochs[0] != epochs[1] != epochs[2]
    again = iter(EpochBatchSampler(10, 3, seed=0, key="k", epoch=1, position=2))
    assert next(again) == epochs[1][2] and next(again) == epochs[2][0]
    assert next(iter(EpochBatchSampler(10, 3, seed=1, key="k"))) != epochs[0][0]


@pytest.mark.parametrize("workers", [0, 2])
def test_resume_gives_the_same_batches_across_epochs(workers):
    spec = spec_of("data d: image[3, 8, 8], label[5] = shapes(size=26)")  # 6 batches/epoch
    first = build_sources(spec, ["d"], 4, "cpu", seed=3, workers=workers)["d"]
    take(first, 5)
    state = json.loads(json.dumps(first.state_dict()))
    assert state["members"][0]["epoch"] == 0 and state["members"][0]["position"] == 5
    second = build_sources(spec, ["d"], 4, "cpu", seed=3, workers=workers)["d"]
    second.load_state_dict(state)
    assert same(take(first, 10), take(second, 10))  # epochs 0→1→2
    assert first.state_dict() == second.state_dict()
    assert first.state_dict()["members"][0] == {"dataset": "d", "epoch": 2, "position": 3,
                                                "size": 26, "batch": 4}
    first.close()
    second.close()


def test_resume_a_union():
    spec = spec_file("stargan", **SMALL_STARGAN)
    kw = dict(batch_size=8, device="cpu", seed=0, override="shapes")
    first = build_sources(spec, ["faces"], **kw)["faces"]
    take(first, 5)
    second = build_sources(spec, ["faces"], **kw)["faces"]
    second.load_state_dict(json.loads(json.dumps(first.state_dict())))
    assert same(take(first, 10), take(second, 10))


def test_resume_rejects_a_state_of_other_data():
    a = spec_of("data d: image[3, 8, 8] = shapes(size=26)")
    b = spec_of("data d: image[3, 8, 8] = shapes(size=30)")
    state = build_sources(a, ["d"], 4, "cpu", seed=0)["d"].state_dict()
    with pytest.raises(DataError, match="cannot resume data `d`: .*size 26.*now it is 30"):
        build_sources(b, ["d"], 4, "cpu", seed=0)["d"].load_state_dict(state)


def test_seed_changes_the_order():
    spec = spec_of("data d: image[1, 8, 8], class[10] = digits()")
    y0 = build_sources(spec, ["d"], 16, "cpu", seed=0)["d"].next()[1]
    y1 = build_sources(spec, ["d"], 16, "cpu", seed=1)["d"].next()[1]
    assert not torch.equal(y0, y1)


def test_data_errors_are_user_errors():
    from gandsl.errors import UserError

    assert issubclass(DataError, UserError)  # the command line prints them, no traceback

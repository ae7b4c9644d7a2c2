"""Workloads, the pytext corpus rule, FP32 references (cache and reuse), PTQ, QAT and the sweep's contract."""
import hashlib
import math

import numpy as np
import pytest
import torch

import formats
from sim.qat import corpus, finetune, ptq, reference, workloads

SHIPPED = reference.SHIPPED_DIR


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread, as the sweep's workers run (two spinning threads on a loaded 2-core machine are slow)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def fresh_refs(tmp_path, monkeypatch):
    """An empty reference cache, no shipped checkpoints and no in-process memo; counts trainings."""
    monkeypatch.setenv("NUMFMT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(reference, "SHIPPED_DIR", tmp_path / "shipped")
    monkeypatch.setattr(reference, "_MEMO", {})
    calls = []
    real = reference.train_reference

    def counting(w, seed, **kw):
        calls.append((w.name, seed))
        return real(w, seed, **kw)

    monkeypatch.setattr(reference, "train_reference", counting)
    return calls


# -- pytext corpus -------------------------------------------------------------------------------
def _tree(root, files):
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def test_corpus_file_list_split_and_checksum(tmp_path):
    files = {f"pkg{i % 7}/mod{i}.py": f"x{i} = {i}\n" * 400 for i in range(120)}
    files.update({"test/test_a.py": "no\n", "lib2to3/tests/t.py": "no\n", "idlelib/idle_test/t.py": "no\n",
                  "site-packages/foo/bar.py": "no\n", "data.txt": "no\n", "top.py": "y = 1\n" * 400})
    _tree(tmp_path, files)
    names = corpus.file_list(tmp_path)
    assert names == sorted(names) and "top.py" in names and len(names) == 121
    assert not any(n.startswith(("test/", "site-packages/")) or "tests/" in n or "idle_test" in n for n in names)
    c = corpus.load(tmp_path)
    for rel in names:  # the split of a file is a function of its path alone
        bucket = int.from_bytes(hashlib.sha256(rel.encode()).digest()[:4], "big") % 100
        assert c.split[rel] == ("train" if bucket < 85 else "calib" if bucket < 90 else "val")
    total = sum(len((tmp_path / n).read_bytes()) + 1 for n in names)
    assert sum(len(s) for s in c.splits.values()) == total
    assert c.identity()["corpus_files"] == 121 and len(c.checksum) == 64
    (tmp_path / "top.py").write_text("y = 2\n" * 400)
    corpus._CACHE.clear()
    assert corpus.load(tmp_path).checksum != c.checksum


def test_stdlib_corpus_is_the_running_interpreters():
    c = corpus.load()
    assert c.root == str(corpus.stdlib_root()) and c.n_files > 100
    assert "os.py" in c.files and not any(f.startswith("test/") for f in c.files)
    assert len(c.splits["train"]) > 5 * len(c.splits["val"]) > 0
    w = workloads.get("pytext", "tinylm")
    assert w.identity()["corpus_sha256"] == c.checksum and not w.higher_is_better


# -- unsigned activation formats -------------------------------------------------------------------
@pytest.mark.parametrize("signed,unsigned", [("int4", "uint4"), ("int8", "uint8"), ("fp4_e2m1", "ufp4_e2m2"),
                                             ("fp8_e4m3", "ufp8_e4m4fn"), ("fp8_e5m2", "ufp8_e5m3"),
                                             ("fp6_e2m3", "ufp6_e2m4")])
def test_unsigned_variant_is_the_nonnegative_half_with_one_more_bit(signed, unsigned):
    s, u = formats.get(signed), ptq.unsigned_variant(signed)
    assert u.name == unsigned and formats.get(unsigned) == u and u.bits == s.bits and not u.signed
    codes = np.arange(2 ** u.bits)
    if isinstance(s, formats.Minifloat):  # = the non-negative codes of the signed format one bit wider
        wider = formats.minifloat(s.ebits, s.mbits + 1, bias=s.bias, special=s.special)
        np.testing.assert_array_equal(u.decode(codes), wider.decode(codes))
    else:
        np.testing.assert_array_equal(u.decode(codes), codes)
    x = torch.linspace(-3, 3, 101)
    assert (formats.torch.quantize(x, u, rounding="rne") >= 0).all()


@pytest.mark.parametrize("name", ["posit8_0", "nf4", "mxfp4", "nvfp4", "uint4", "fp8_e4m3fnuz"])
def test_formats_without_unsigned_variant(name):
    assert ptq.unsigned_variant(name) is None


# -- references ----------------------------------------------------------------------------------
def test_reference_trained_once_then_reused(fresh_refs):
    w = workloads.get("digits", "mlp")
    a = reference.get(w, 0)
    assert a.source == "trained" and fresh_refs == [("digits/mlp", 0)]
    assert reference.get(w, 0).source == "memory"
    reference._MEMO.clear()
    b = reference.get(w, 0)
    assert b.source == "cache" and len(fresh_refs) == 1
    assert all(torch.equal(a.state[k], b.state[k]) for k in a.state) and a.metric == b.metric > 0.9
    assert b.info["key"] == reference.key(w, 0) != reference.key(w, 1)
    assert b.info["code_version"] == reference.code_version() and b.info["stored"] == "float16"


def test_two_points_of_one_seed_train_one_reference(fresh_refs):
    from dse.evaluate import evaluate

    run = dict(method="ptq", dataset="digits", model="mlp", acts="same", rounding="rne", granularity="per-channel",
               quantize_first_last=True, seed=3, schedule="lr-cosine", tr0=0.02)
    a = evaluate(dict(run, weights="int8", acts="int8"))
    b = evaluate(dict(run, weights="int4", acts="int4"))
    assert fresh_refs == [("digits/mlp", 3)] and a["reference_metric"] == b["reference_metric"]


def test_shipped_reference_is_found_first(fresh_refs):
    w = workloads.get("digits", "mlp")
    reference.ship(reference.get(w, 1), w)
    reference._MEMO.clear()
    assert reference.get(w, 1).source == "shipped" and len(fresh_refs) == 1


def test_a_retrained_reference_reproduces_the_shipped_metric(fresh_refs):
    """Retraining the smoke workload's seed 0 lands within the shipped seeds' spread of its shipped
    metric (at least one test sample): the CI-run variant of the shipped-reference check."""
    w = workloads.get("digits", "mlp")
    shipped = [reference._load(SHIPPED / f"digits-mlp-seed{s}.pt", reference.key(w, s))[1]["metric"]
               for s in reference.DEFAULTS[("digits", "mlp")]]
    again = reference.get(w, 0)
    assert again.source == "trained"
    assert abs(again.metric - shipped[0]) <= max(max(shipped) - min(shipped), 1 / 450)


def test_project_ships_the_default_references():
    """The shipped checkpoints match the current workloads (else the sweep would retrain them).
    On an interpreter whose stdlib differs from the one pytext's were made from, the mismatch
    must be detected instead (the reference is then trained, not silently reused)."""
    import json

    assert set(reference.DEFAULTS) >= {("digits", "mlp"), ("mnist1d", "cnn"), ("pytext", "tinylm")}
    for (d, m), seeds in reference.DEFAULTS.items():
        w = workloads.get(d, m)
        for seed in seeds:
            path = SHIPPED / f"{d}-{m}-seed{seed}.pt"
            assert path.exists(), f"missing shipped reference {path}"
            got = reference._load(path, reference.key(w, seed))
            made_on = json.loads(torch.load(path, weights_only=True)["info"])["identity"]
            if made_on != w.identity():
                assert d == "pytext" and got is None
                continue
            assert got is not None, f"{path} does not match the current workload (rebuild it with --ship --rebuild)"


# -- PTQ and QAT -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits_ref():
    w = workloads.get("digits", "mlp")
    return w, reference.get(w, 0)


def test_ptq_is_deterministic_and_records_unsigned_acts(digits_ref):
    w, ref = digits_ref
    a = ptq.ptq(w, ref, weights="int4", acts="int4", rounding="stochastic", seed=5)
    b = ptq.ptq(w, ref, weights="int4", acts="int4", rounding="stochastic", seed=5)
    assert a["metric"] == b["metric"]
    sa, sb = a["model"].state_dict(), b["model"].state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert a["record"]["act_formats"] == {"net.1": "uint4", "net.3": "uint4", "net.5": "uint4"}
    off = ptq.prepare(w, ref, weights="int4", acts="int4", unsigned_acts="off")
    assert set(off.record["act_formats"].values()) == {"int4"}
    edge = ptq.prepare(w, ref, weights="int4", acts="int4", quantize_first_last=False)
    assert edge.record["fp32_layers"] == ["net.1", "net.5"] and edge.record["weight_layers"] == ["net.3"]


@pytest.mark.parametrize("fmt", ["int8", "fp8_e4m3", "fp8_e5m2", "posit8_0", "mxfp8_e4m3", "mxint8"])
def test_every_8bit_format_within_one_point_of_fp32_under_ptq(digits_ref, fmt):
    w, ref = digits_ref
    gran = "per-block" if fmt.startswith("mx") else "per-channel"
    got = ptq.ptq(w, ref, weights=fmt, acts=fmt, granularity=gran)["metric"]
    assert got >= ref.metric - 0.01, f"{fmt}: {got:.4f} vs FP32 {ref.metric:.4f}"


@pytest.mark.parametrize("schedule", ["lr-cosine", "tr-cosine"])
def test_qat_fine_tunes_from_the_reference_with_a_curve(digits_ref, schedule):
    w, ref = digits_ref
    res = finetune.qat(w, ref, "int4", "int4", schedule=schedule, tr0=0.02, budget=0.05, seed=0)
    again = finetune.qat(w, ref, "int4", "int4", schedule=schedule, tr0=0.02, budget=0.05, seed=0)
    assert res["metric"] == again["metric"] and res["steps"] == 60
    c = res["curve"]
    assert c["eval_step"] == [0, 15, 30, 45, 60] and len(c["calib_metric"]) == 5 and len(c["train_loss"]) == 20
    assert all(0 <= t <= 1 for t in c["tr_mean"]) and any(t > 0 for t in c["tr_mean"])
    assert res["metric"] > 0.9


def test_layer_costs_of_tinylm_count_every_linear():
    w = workloads.get("pytext", "tinylm")
    macs, sizes = ptq.layer_costs(w)
    d, L, T = w.d, w.n_layer, w.ctx
    assert macs == T * (L * (d * 3 * d + d * d + d * 4 * d + 4 * d * d) + d * 256)
    assert sizes == [T * d, T * d, T * d, T * 4 * d] * L + [T * d]


def test_workload_errors_name_the_choices():
    with pytest.raises(ValueError, match="digits/mlp"):
        workloads.get("cifar", "mlp")
    with pytest.raises(ValueError, match="unsigned_acts"):
        ptq.prepare(workloads.get("digits", "mlp"), None, unsigned_acts="yes")
    assert math.isclose(workloads.get("pytext", "tinylm").recipe.finetune_fraction, 0.05)  # QAT: 150 of 3000 steps


def test_workload_report_writes_its_table(tmp_path):
    from sim.qat import workload_report

    out = tmp_path / "w.md"
    assert workload_report.main(["--workloads", "digits/mlp", "--seeds", "0", "--formats", "int8", "--qat", "",
                                 "--out", str(out)]) == 0
    text = out.read_text()
    assert "python -m sim.qat.workload_report --workloads digits/mlp" in text and "| PTQ int8 |" in text
    assert workload_report.main(["--workloads", "digits/nope"]) == 2


def test_calibration_sample_sees_every_channel_and_the_largest_value():
    """The scale search's sample of a large input is not strided: a stride of 5 over 160
    channels saw every 5th channel only and missed outlier channels (tinylm's first qkv)."""
    x = torch.randn(16, 128, 160, generator=torch.Generator().manual_seed(1))
    x[..., 3] *= 40.0                               # an outlier channel that a stride of 5 never visits
    assert x.numel() > ptq.CALIB_SAMPLE and (x.numel() + ptq.CALIB_SAMPLE - 1) // ptq.CALIB_SAMPLE == 5
    s = ptq._sample(x)
    assert s.numel() == ptq.CALIB_SAMPLE and float(s.abs().max()) == float(x.abs().max())
    assert torch.equal(s, ptq._sample(x))          # deterministic
    ch = torch.arange(x.numel()).reshape(x.shape) % 160
    g = torch.Generator().manual_seed(0x5EED)
    seen = ch.reshape(-1)[torch.randint(x.numel(), (ptq.CALIB_SAMPLE - 1,), generator=g)]
    assert len(set(seen.tolist())) == 160
    small = torch.randn(100, 10)
    assert torch.equal(ptq._sample(small), small.reshape(-1))

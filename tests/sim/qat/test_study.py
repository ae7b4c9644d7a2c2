"""The TR study (sim.qat.study, sim.qat.study_report) and the post-scale option (sim.qat.postscale)."""
import math

import pytest
import torch
from torch import nn

from sim.qat import study, study_report
from sim.qat.postscale import add_post_scales, post_scaled_layers


def test_post_scale_keeps_the_reference_output_at_init():
    from sim.qat import reference, workloads
    from sim.qat.ptq import prepare
    from sim.qat.tr import tr_layers

    w = workloads.get("digits", "mlp")
    p = prepare(w, reference.get(w, 0), "int4", "int4", quantize_first_last=False)
    x = w.data()[2][:64]
    with torch.no_grad():
        before = p.model(x)
    names = add_post_scales(tr_layers(p.model))
    assert names == ["net.3"] and post_scaled_layers(p.model) == ["net.3"]
    with torch.no_grad():
        assert torch.equal(p.model(x), before)
    # a learnable parameter of the model, and it acts: doubling the gain changes the logits
    layer = dict(p.model.named_modules())["net.3"]
    assert any(q is layer.post_scale for q in p.model.parameters())
    with torch.no_grad():
        layer.post_scale.mul_(2.0)
        assert not torch.allclose(p.model(x), before)


def test_post_scale_per_channel_on_conv_and_linear():
    conv, lin = nn.Conv2d(3, 4, 3, padding=1), nn.Linear(5, 6)
    add_post_scales([("c", conv), ("l", lin)])
    with torch.no_grad():
        conv.post_scale.copy_(torch.tensor([1.0, 2.0, 3.0, 4.0]))
        lin.post_scale.fill_(0.5)
    x = torch.randn(2, 3, 5, 5)
    ref = nn.functional.conv2d(x, conv.weight, conv.bias, padding=1)
    assert torch.allclose(conv(x), ref * torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 4, 1, 1))
    y = torch.randn(7, 5)
    assert torch.allclose(lin(y), 0.5 * nn.functional.linear(y, lin.weight, lin.bias))
    with pytest.raises(ValueError, match="already has a post_scale"):
        add_post_scales([("c", conv)])


def _run(cfg, seed, val, test, tracked=None):
    r = {"cfg": cfg, "seed": seed, "val": val, "test": test}
    if tracked is not None:
        r["tracked"] = tracked
    return r


def test_selection_uses_validation_not_test():
    a, b = {"lr": 0.01}, {"lr": 0.1}
    runs = [_run(a, 0, 0.90, 0.50), _run(a, 1, 0.92, 0.50),   # best on validation, worst on test
            _run(b, 0, 0.80, 0.99), _run(b, 1, 0.81, 0.99)]
    cfg, score = study.select(runs, "lr")
    assert cfg == a
    assert score[study._cfg_id(a)] == pytest.approx(0.91)


def test_selection_skips_untracked_tr_configurations():
    a, b = {"tr0": 0.01, "lr": 0.03}, {"tr0": 0.03, "lr": 0.03}
    runs = [_run(a, 0, 0.95, 0.9, tracked=True), _run(a, 1, 0.99, 0.9, tracked=False),
            _run(b, 0, 0.90, 0.9, tracked=True), _run(b, 1, 0.90, 0.9, tracked=True)]
    cfg, score = study.select(runs, "tr")
    assert cfg == b and score[study._cfg_id(a)] is None
    cfg, _ = study.select([r for r in runs if r["cfg"] == a], "tr")
    assert cfg is None


def test_equal_tuning_counts():
    for opt in study.GRIDS:
        n = {arm: len(study.configs(arm, opt)) for arm in study.ARMS}
        assert len(set(n.values())) == 1, n


def test_paired_difference_arithmetic():
    tr = {s: {"test": t, "tracked": s != 3} for s, t in enumerate([0.92, 0.94, 0.93, 0.10])}
    lr = {s: {"test": t} for s, t in enumerate([0.90, 0.90, 0.90, 0.90])}
    p, dropped = study_report.paired_diff(tr, lr, lambda r: r["tracked"])
    assert dropped == 1 and p.n == 3
    d = [2.0, 4.0, 3.0]                       # points
    assert p.mean == pytest.approx(3.0)
    half = 4.302652729911275 * 1.0 / math.sqrt(3)   # t(0.975, 2) * sd / sqrt(n), sd = 1
    assert (p.ci_low, p.ci_high) == (pytest.approx(3.0 - half), pytest.approx(3.0 + half))
    assert p.resolved and sum(d) / 3 == pytest.approx(p.mean)
    p2, _ = study_report.paired_diff({0: {"test": 0.5}, 1: {"test": 0.7}}, {0: {"test": 0.6}, 1: {"test": 0.6}})
    assert not p2.resolved and "not resolved" in study_report._fmt_diff(p2)
    assert study_report.paired_diff(tr, lr, lambda r: False) == (None, 4)


def test_quick_study_end_to_end(tmp_path):
    out = tmp_path / "qat_study.md"
    assert study.main(["--quick", "--seeds", "2", "--out", str(out)]) == 0
    text = out.read_text()
    for section in ("## Setup", "## Results", "## Tracking", "## Verdict", "Paper (CIFAR-10", "Wall time",
                    "Code version: `qat_study@", "validation", "| mxfp4 |", "not resolved"):
        assert section in text, section
    assert (tmp_path / "qat_study.json").is_file()
    assert not (tmp_path / "qat_study.runs.jsonl").exists()   # the journal goes once the report is written
    pngs = sorted(p.name for p in tmp_path.glob("qat_study_tracking_*.png"))
    assert pngs == ["qat_study_tracking_digits_mlp_sgd.png", "qat_study_tracking_mnist1d_cnn_adam.png"]
    # re-rendering from the raw results gives the same tables
    again = tmp_path / "again.md"
    assert study.main(["--render", str(tmp_path / "qat_study.json"), "--out", str(again)]) == 0
    table = lambda t: t.split("## Results")[1].split("## Tracking")[0]  # noqa: E731
    assert table(again.read_text()) == table(text)


def test_bad_seed_counts_are_refused():
    with pytest.raises(SystemExit, match="--seeds 1 must be >= 2"):
        study.main(["--quick", "--seeds", "1"])


def test_tr_gain_is_relative_and_block_formats_share_the_lr_runs():
    for opt in study.GRIDS:
        for c in study.configs("tr", opt):
            assert c["eta"] == pytest.approx(study.TR_GAIN * c["lr"] / c["tr0"])
    mx = {"workload": "digits/mlp", "optimizer": "sgd", "format": "mxfp4", "qfl": False, "steps": 5}
    i2 = dict(mx, format="int2")
    assert study._copied(mx, "lr-frozen") and not study._copied(mx, "lr") and not study._copied(i2, "lr-frozen")
    runs = [{"block": study.block_key(b), "arm": "lr", "cfg": {"lr": 0.1}, "seed": 0, "test": 0.9} for b in (mx, i2)]
    out = study._with_copies(runs, [mx, i2])
    copies = [r for r in out if r["arm"] == "lr-frozen"]
    assert len(out) == 3 and len(copies) == 1
    assert copies[0]["block"] == study.block_key(mx) and copies[0]["copied_from"] == "lr" and copies[0]["test"] == 0.9


def test_an_interrupted_study_resumes_from_its_journal(tmp_path):
    journal = tmp_path / "s.runs.jsonl"
    jobs = [{"block": "b", "arm": "lr", "cfg": {"lr": 0.1}, "seed": s, "steps": 5} for s in range(4)]
    calls = []

    def dies_at_seed_2(j):
        if j["seed"] == 2:
            raise KeyboardInterrupt
        calls.append(j["seed"])
        return {"seed": j["seed"], "test": 0.5 + j["seed"]}

    with pytest.raises(KeyboardInterrupt):
        study._pool_map(dies_at_seed_2, jobs, 1, "tune", journal)
    assert calls == [0, 1] and len(journal.read_text().splitlines()) == 2
    with journal.open("a") as fh:
        fh.write('{"job_id": "cut sh')           # a line cut short by the kill: ignored
    calls.clear()
    out = study._pool_map(lambda j: (calls.append(j["seed"]), {"seed": j["seed"], "test": 9.0})[1], jobs, 1, "tune",
                          journal)
    assert calls == [2, 3]                       # only the runs the interruption lost
    assert sorted((r["seed"], r["test"]) for r in out) == [(0, 0.5), (1, 1.5), (2, 9.0), (3, 9.0)]
    # a journal of other code is not reused
    study._VERSION = "Code version: `qat_study@000000000000`"
    try:
        calls.clear()
        study._pool_map(lambda j: (calls.append(j["seed"]), {"seed": j["seed"]})[1], jobs, 1, "tune", journal)
        assert calls == [0, 1, 2, 3]
    finally:
        study._VERSION = None


def test_a_diverged_run_is_recorded_as_failed_and_never_selected():
    b = {"workload": "digits/mlp", "optimizer": "sgd", "format": "int4", "qfl": False, "steps": 30}
    bad = study.run_job(study.job(b, "lr", {"lr": 1e8}, 0))   # SGD at lr 1e8 sends the loss to NaN
    assert "diverged" in bad["diverged"] and bad["val"] == -math.inf and math.isnan(bad["test"])
    tr = study.run_job(study.job(b, "tr", {"tr0": 0.01, "lr": 1e8, "eta": 1e8 / 3 / 0.01}, 0))
    assert tr["diverged"] and tr["tracked"] is False
    good = dict(_run({"lr": 0.1}, 0, 0.5, 0.5))
    runs = [dict(bad, block="x"), dict(bad, block="x", seed=1), good]
    cfg, score = study.select(runs, "lr")
    assert cfg == {"lr": 0.1} and score[study._cfg_id({"lr": 1e8})] is None
    assert study.select(runs[:2], "lr")[0] is None
    res = {"selected": {"x|lr": {"cfg": {"lr": 1e8}}}, "runs": runs[:2]}
    assert study_report.arm_runs(res, "x", "lr") == {}          # never averaged
    assert "2 run(s) diverged: x lr lr 1e+08 (seeds [0, 1])" in study_report._diverged(res)

"""The training harness: config validation, reproducibility, result fields, the command line."""
import subprocess
import sys

import pytest
import torch

from sim.qat.train import TrainConfig, main, train

TINY = dict(dataset="digits", model="mlp", epochs=1, max_steps=4, batch_size=32)


@pytest.mark.parametrize("field,value,allowed", [
    ("dataset", "cifar", "digits, mnist1d"), ("model", "resnet", "mlp, cnn"),
    ("rounding", "nearest", "rne"), ("granularity", "per-row", "per-tensor"),
    ("schedule", "lr-step", "tr-cosine"), ("optimizer", "lion", "adamw"), ("lr", -1.0, "number"),
    ("tr0", 2.0, "number"), ("epochs", 0, "integer"), ("batch_size", 1.5, "integer"), ("seed", -1, "integer"),
    ("device", "tpu", "cpu"), ("quantize_first_last", "yes", "True or False"), ("max_steps", 0, "integer"),
])
def test_config_validation(field, value, allowed):
    with pytest.raises(ValueError) as err:
        TrainConfig(**{field: value})
    assert repr(value) in str(err.value) and allowed in str(err.value) and field in str(err.value)


def test_config_formats_and_tr_rules():
    with pytest.raises(KeyError, match="posit4_9x"):
        TrainConfig(weights="posit4_9x")
    with pytest.raises(ValueError, match="TR scheduling needs quantized weights"):
        TrainConfig(schedule="tr-cosine")
    with pytest.raises(ValueError, match="per-block"):
        TrainConfig(weights="int4", granularity="per-block")


def test_train_is_reproducible_and_complete():
    cfg = TrainConfig(weights="int4", acts="int4", schedule="tr-cosine", **TINY)
    a, b = train(cfg), train(cfg)
    assert a.test_accuracy == b.test_accuracy and a.loss == b.loss
    assert 0.0 <= a.test_accuracy <= 1.0 and len(a.loss) == 4 and a.steps == 4
    assert set(a.traces) >= {"lr", "tr", "K", "U"} and len(a.traces["U"]) == 3
    assert all(len(v) == 4 for v in a.traces["U"].values())
    assert a.n_params == 64 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10
    assert a.macs_per_inference == 64 * 128 + 128 * 128 + 128 * 10
    # 4-bit codes + one FP32 scale per output channel + FP32 biases
    assert a.weight_bits == 4 * (64 * 128 + 128 * 128 + 1280) + 32 * (128 + 128 + 10) * 2
    fp = train(TrainConfig(**TINY))
    assert fp.weight_bits == 32 * fp.n_params and fp.traces["U"] == {}


def test_lr_schedule_with_cnn_and_first_last_fp32():
    res = train(TrainConfig(weights="fp4_e2m1", acts="fp4_e2m1", schedule="lr-constant",
                            quantize_first_last=False, **{**TINY, "model": "cnn", "max_steps": 2}))
    assert list(res.traces["tr"]) == ["features.2", "features.5"]
    assert res.traces["lr"] == [0.05, 0.05]


def test_cli(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["--weights", "int4", "--acts", "int4", "--schedule", "tr-cosine", "--max-steps", "3",
                 "--epochs", "1", "--quiet", "--json", str(out)]) == 0
    assert "test accuracy" in capsys.readouterr().out and out.exists()
    assert main(["--weights", "int4", "--lr", "-1", "--quiet"]) == 2
    assert "TrainConfig.lr = -1.0" in capsys.readouterr().err


def test_cli_help():
    r = subprocess.run([sys.executable, "-m", "sim.qat.train", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--schedule" in r.stdout and "tr-cosine" in r.stdout


@pytest.mark.slow
def test_mnist1d_generated_and_cached(tmp_path, monkeypatch):
    from sim.qat import data
    monkeypatch.setenv("NUMFMT_CACHE_DIR", str(tmp_path))
    data._CACHE.clear()
    ds = data.load("mnist1d")
    assert ds.x_train.shape == (4000, 1, 1, 40) and ds.x_test.shape == (1000, 1, 1, 40)
    assert list(tmp_path.glob("mnist1d_*.npz"))
    data._CACHE.clear()
    assert data.load("mnist1d").x_train.equal(ds.x_train)


@pytest.mark.parametrize("schedule", ["lr-cosine", "tr-constant"])
def test_tr_traces_compare_the_codes_of_consecutive_steps(schedule, monkeypatch):
    """Under either schedule, k_t is the fraction of codes that differ between the weights the
    forward passes of steps t and t-1 used (k_0 = 0), read independently through a hook."""
    from sim.qat import train as tmod

    seen = {}
    real = tmod.quantize_model

    def quantize_and_watch(*a, **kw):
        net = real(*a, **kw)
        for name, m in tmod.tr_layers(net):
            def hook(mod, args, name=name):
                if mod.training and torch.is_grad_enabled():   # training steps only
                    seen.setdefault(name, []).append(mod.weight_codes().clone())
            m.register_forward_pre_hook(hook)
        return net

    monkeypatch.setattr(tmod, "quantize_model", quantize_and_watch)
    res = train(TrainConfig(weights="int4", acts="int4", schedule=schedule, lr=0.5, tr0=0.2,
                            **{**TINY, "max_steps": 5}))
    assert set(seen) == set(res.traces["tr"])
    moved = 0.0
    for name, codes in seen.items():
        assert len(codes) == 5
        want = [0.0] + [float((b != a).sum()) / b.numel() for a, b in zip(codes, codes[1:])]
        assert res.traces["tr"][name] == pytest.approx(want, abs=1e-12)
        moved += sum(want)
    assert moved > 0

"""Workloads of your own, named by import path in a sweep config (sim.qat.userload, dse.config)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dse import config, space
from sim.qat import userload, workloads

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "own_workload"


@pytest.fixture(autouse=True)
def fresh_loads():
    userload._LOADED.clear()
    yield
    userload._LOADED.clear()


def _config(tmp_path, workload, extra=""):
    p = tmp_path / "sweep.toml"
    p.write_text(f'[sweep]\noutput = "{tmp_path / "out"}"\nseeds = [0]\n\n[space]\nworkload = "{workload}"\n'
                 'method = "ptq"\nweights = ["int8"]\n' + extra)
    return p


def test_the_example_is_found_relative_to_its_config(tmp_path):
    cfg = config.load(EXAMPLE / "sweep.toml")
    (spec,) = cfg["space"]["workload"]
    assert spec == f"{EXAMPLE / 'chirp.py'}:make"
    pts = space.expand(cfg["space"])
    w = workloads.get(pts[0]["dataset"], pts[0]["model"])
    assert pts[0]["dataset"] == userload.spec_id(w) and pts[0]["model"] == "cnn1d"
    assert w.metric_name == "accuracy" and workloads.identity(w)["workload_spec"] == spec
    assert pts[0]["weights"] == "fp32" and len(pts) == 5


def _write(tmp_path, name, body):
    f = tmp_path / name
    f.write_text("from sim.qat.workloads import Recipe, Workload\n" + body)
    return f


@pytest.mark.parametrize("body, attr, message", [
    ("", "make", "has no attribute 'make'"),
    ("def make():\n    return 42\n", "make", "missing dataset, model"),
    ("def make():\n    raise RuntimeError('no data here')\n", "make", "calling make() failed: RuntimeError: no data here"),
    ("import nonexistent_pkg_xyz\n", "make", "cannot import"),
    ("class W:\n    dataset, model, metric_name, higher_is_better, eval_split = 'd', 'm', 'acc', True, 'test'\n"
     "    recipe = Recipe('sgd', 0.1, 10, 8)\n    def build(self): pass\n", "W", "missing arch, example"),
    ("class W(Workload):\n    dataset, model, metric_name, higher_is_better, eval_split = 'd/x', 'm', 'a', True, 't'\n"
     "    recipe = Recipe('sgd', 0.1, 10, 8)\nw = W()\n", "w", "dataset = 'd/x' must be a plain name"),
    ("class W(Workload):\n    dataset, model, metric_name, higher_is_better, eval_split = 'd', 'm', 'a', 1, 't'\n"
     "    recipe = Recipe('sgd', 0.1, 10, 8)\nw = W()\n", "w", "higher_is_better (must be a bool"),
])
def test_bad_workloads_are_refused_before_any_work(tmp_path, body, attr, message):
    f = _write(tmp_path, "mine.py", body)
    with pytest.raises(config.ConfigError, match="space.workload: workload") as err:
        config.load(_config(tmp_path, f"mine.py:{attr}"))
    assert message in str(err.value), str(err.value)


def test_bad_names(tmp_path):
    for value, message in (("nofile.py:make", "no file"), ("mine.py:", "must look like package.module:name"),
                           ("a/b/c", "must look like DATASET/MODEL")):
        with pytest.raises(config.ConfigError, match=message):
            config.load(_config(tmp_path, value))


def test_sweep_exits_2_on_a_bad_workload(tmp_path):
    cfg = _config(tmp_path, "missing.py:make")
    proc = subprocess.run([sys.executable, "-m", "dse.sweep", "--config", str(cfg)], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 2 and "no file" in proc.stderr


def test_editing_the_file_makes_a_new_identity(tmp_path):
    f = tmp_path / "chirp_copy.py"
    shutil.copy(EXAMPLE / "chirp.py", f)
    spec = f"{f}:make"
    first = userload.spec_id(userload.load(spec))
    f.write_text(f.read_text() + "\n# edited\n")
    userload._LOADED.clear()
    sys.modules.pop("numfmt_user_" + __import__("hashlib").sha256(str(f).encode()).hexdigest()[:12], None)
    second = userload.spec_id(userload.load(spec))
    assert first != second and first.split("@")[0] == second.split("@")[0] == spec
    # a worker that finds the file changed since the sweep checked it refuses to run
    with pytest.raises(userload.WorkloadError, match="changed since the sweep checked it"):
        userload.load(first)
    # the FP32 reference's cache key follows the source too
    from sim.qat import reference

    assert reference.key(userload.load(second), 0) != "" and workloads.identity(userload.load(second))[
        "source_sha256"] != ""


def test_pretrained_weights_replace_training(tmp_path):
    import torch

    sys.path.insert(0, str(EXAMPLE))
    try:
        import chirp
    finally:
        sys.path.remove(str(EXAMPLE))
    torch.manual_seed(0)
    torch.save(chirp.Net().state_dict(), tmp_path / "w.pt")
    f = tmp_path / "pre.py"
    f.write_text(f"import sys\nsys.path.insert(0, {str(EXAMPLE)!r})\nimport chirp\n\n"
                 f"class Pre(chirp.Chirps):\n    pretrained = {str(tmp_path / 'w.pt')!r}\n\n"
                 "def make():\n    return Pre()\n")
    from sim.qat import reference

    w = userload.load(f"{f}:make")
    assert "pretrained_sha256" in workloads.identity(w)
    ref = reference.get(w, 0)
    assert ref.source == "pretrained" and ref.info["curve"] == []
    assert 0.0 <= ref.metric <= 0.5          # untrained weights: about chance (5 classes)
    (tmp_path / "w.pt").write_bytes(b"not a state dict")
    userload._LOADED.clear()
    with pytest.raises(ValueError, match="cannot read pretrained weights"):
        reference.get(userload.load(f"{f}:make"), 1)


@pytest.mark.slow
def test_the_example_runs_end_to_end(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "dse.sweep", "--config", str(EXAMPLE / "sweep.toml"),
                           "--set", f"sweep.output={tmp_path / 'out'}", "--no-progress"],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = pd.read_csv(tmp_path / "out" / "results.csv")
    assert len(res) == 5 and (res["status"] == "ok").all()
    assert set(res["weights"]) == {"fp32", "int8", "int4", "fp4_e2m1"} and set(res["model"]) == {"cnn1d"}
    assert res["dataset"].str.contains("chirp.py:make@").all()
    assert res["workload_id"].str.contains("source sha256").all()
    ref = res[res["weights"] == "fp32"]["metric_mean"].iloc[0]
    assert ref > 0.9                         # the FP32 reference learns the task
    int8 = res[(res["weights"] == "int8")]["metric_mean"].iloc[0]
    assert abs(int8 - ref) < 0.02

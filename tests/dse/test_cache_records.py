"""Cache records are checked when read (issue 20, item 3): a damaged record is moved aside with
a one-line warning naming it and computed again, never a traceback and never trusted."""
from __future__ import annotations

import json
import math

import cloudpickle
import pytest

import dse_fakes
from dse import config as C
from dse import sweep
from dse.cache import Cache, check_record, run_key
from dse.executors import Inline
from dse.space import expand, runs_for

cloudpickle.register_pickle_by_value(dse_fakes)
CV = "test-code-version"


def setup(tmp_path):
    cfg = C.load(overrides=["workload=digits/mlp", "method=qat", "qat_weights=all", "weights=int4,posit8_0",
                            "rounding=rne", "schedule=lr-cosine", f"output={tmp_path / 'out'}", "seeds=0,1",
                            "workers=1"])  # the FP32 reference and 2 points, 2 seeds: 6 runs
    fake = dse_fakes.FakeEvaluate(tmp_path / "calls")
    first = sweep.run(cfg, executor=Inline(), evaluate_fn=fake, code_version=CV, progress=False)
    cache = Cache(tmp_path / "out" / "cache")
    keys = [run_key(r, CV) for p in expand(cfg["space"]) for r in runs_for(p, [0, 1])]
    return cfg, fake, first, cache, keys


def rerun(cfg, fake):
    return sweep.run(cfg, executor=Inline(), evaluate_fn=fake, code_version=CV, progress=False)


def tamper_accuracy(path):
    rec = json.loads(path.read_text())
    rec["metrics"]["accuracy"] = rec["metrics"]["metric"] = 1.5
    path.write_text(json.dumps(rec))


def drop_metrics(path):
    rec = json.loads(path.read_text())
    del rec["metrics"]
    path.write_text(json.dumps(rec))


def make_directory(path):
    path.unlink()
    path.mkdir()
    (path / "inside").write_text("x")


DAMAGE = {
    "non-utf8": (lambda p: p.write_bytes(b'{"status": "ok", "m\xff\xfe"}'), "codec"),
    "no-metrics": (drop_metrics, "status ok without metrics"),
    "directory": (make_directory, "directory"),
    "accuracy-1.5": (tamper_accuracy, "accuracy = 1.5 is outside [0.0, 1.0]"),
    "a-list": (lambda p: p.write_text("[1, 2]"), "not a table"),
    "other-key": (lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "key": "0" * 32})),
                  "record of key"),
}


def test_damaged_records_are_recomputed_with_a_warning(tmp_path, capsys):
    """Six runs, each record damaged another way: six one-line warnings naming the file and the
    fault, six runs computed again, the same table as before, good records in place."""
    cfg, fake, first, cache, keys = setup(tmp_path)
    assert len(keys) == len(DAMAGE) == 6
    for key, (spoil, _) in zip(keys, DAMAGE.values()):
        spoil(cache.path(key))
    capsys.readouterr()
    res = rerun(cfg, fake)
    lines = [line for line in capsys.readouterr().err.splitlines() if "damaged record" in line]
    assert len(lines) == 6
    for key, (name, (_, why)) in zip(keys, DAMAGE.items()):
        (line,) = [line for line in lines if str(cache.path(key)) in line]
        assert why in line, name
        check_record(json.loads(cache.path(key).read_text()), key)        # a good record again
        assert cache.path(key).with_name(cache.path(key).name + ".damaged").exists()
    assert (res.computed, res.cached) == (6, 0) and fake.calls() == 12
    assert res.table.equals(first.table.assign(train_seconds=res.table["train_seconds"]))
    assert (res.table["accuracy_mean"] <= 1).all()


def test_an_evaluate_returning_nonsense_is_a_failed_run(tmp_path):
    cfg = C.load(overrides=["workload=digits/mlp", "method=qat", "qat_weights=all", "weights=int4", "rounding=rne",
                            "schedule=lr-cosine", f"output={tmp_path / 'out'}", "seeds=0", "workers=1"])

    def liar(run):
        return {**dse_fakes.FakeEvaluate(tmp_path / "calls")(run), "accuracy": 1.5, "metric": 1.5}

    res = sweep.run(cfg, executor=Inline(), evaluate_fn=liar, code_version=CV, progress=False)
    assert res.failed == 2 and all("accuracy = 1.5" in e for e in res.table["error"])  # FP32 row and int4


GOOD = {"accuracy": 0.9, "loss": 0.1, "n_params": 3, "macs_per_inference": 3, "model_bits": 96,
        "act_elements": [2, 1], "train_seconds": 0.5}
NEW = {"metric": 1.7, "metric_name": "bits_per_byte", "higher_is_better": False, "bits_per_byte": 1.7,
       "reference_metric": 1.6, "loss": math.nan, "n_params": 3, "macs_per_inference": 3, "model_bits": 96,
       "act_elements": [2, 1], "workload": "pytext"}


@pytest.mark.parametrize("metrics", [GOOD, NEW, {**NEW, "metric_name": "accuracy", "metric": 0.5,
                                                 "reference_metric": 0.6, "accuracy": 0.5}])
def test_good_records_pass(metrics):
    check_record({"status": "ok", "metrics": metrics, "seconds": 1.0})
    check_record({"status": "error", "error": "RuntimeError: diverged", "seconds": 1.0})


@pytest.mark.parametrize("change, why", [
    ({"accuracy": -0.1}, "accuracy"), ({"accuracy": math.nan}, "not finite"), ({"accuracy": "0.9"}, "not a number"),
    ({"n_params": True}, "n_params"), ({"model_bits": 1.5}, "model_bits"), ({"act_elements": [1, -2]}, "act_elements"),
    ({"metric": 0.5}, "differs"), ({"bits_per_byte": -1.0, "metric": -1.0}, "bits_per_byte"),
    ({"reference_metric": math.inf}, "reference_metric"), ({"higher_is_better": "no"}, "higher_is_better"),
    ({"metric_name": 3}, "metric_name"),
])
def test_bad_metrics_fail(change, why):
    with pytest.raises(ValueError, match=why):
        check_record({"status": "ok", "metrics": {**NEW, **change}})


@pytest.mark.parametrize("rec, why", [
    ({"status": "ok", "metrics": {k: v for k, v in GOOD.items() if k != "model_bits"}}, "lack model_bits"),
    ({"status": "ok", "metrics": {k: v for k, v in GOOD.items() if k != "accuracy"}}, "lack a metric"),
    ({"status": "done"}, "status"), ({"status": "error"}, "error message"),
    ({"status": "error", "error": "x", "seconds": -1}, "seconds"),
])
def test_bad_records_fail(rec, why):
    with pytest.raises(ValueError, match=why):
        check_record(rec)

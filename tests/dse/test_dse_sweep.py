"""The sweep driver on a fake QAT path: outputs, resume, failures, executors, NSGA-II.

The fake (dse_fakes.FakeEvaluate) is a deterministic function of the run, so every
executor must produce the same table; it counts its calls in files, so the tests
see exactly how many runs were computed, also across processes.
"""
import json
import math
import os
import statistics

import cloudpickle
import pandas as pd
import pytest

import dse_fakes
from dse import config as C
from dse import sweep
from dse.cache import Cache, run_key
from dse.executors import DaskExecutor, Inline, LocalPool
from dse.report import PLOTS
from dse.space import expand, runs_for

cloudpickle.register_pickle_by_value(dse_fakes)
CV = "test-code-version"


def tiny(tmp_path, *extra, name="out"):
    """1 FP32 reference + 3 formats x 2 roundings of QAT = 7 points, x 2 seeds = 14 runs."""
    return C.load(overrides=[
        "workload=digits/mlp", "method=qat", "qat_weights=all",
        "weights=int4,posit8_0,fp8_e4m3", "rounding=rne,stochastic", "schedule=lr-cosine",
        f"output={tmp_path / name}", "seeds=0,1", "workers=1", *extra,
    ])


def go(cfg, fake, executor=None, **kw):
    return sweep.run(cfg, executor=executor or Inline(), evaluate_fn=fake, code_version=CV, progress=False, **kw)


def comparable(df):
    return df.drop(columns=["train_seconds"]).sort_values("point_id").reset_index(drop=True)


def test_grid_sweep_writes_table_and_report(tmp_path):
    fake = dse_fakes.FakeEvaluate(tmp_path / "calls")
    cfg = tiny(tmp_path)
    res = go(cfg, fake)
    assert (res.runs, res.computed, res.cached, res.failed) == (14, 14, 0, 0)
    assert fake.calls() == 14
    out = tmp_path / "out"
    parquet = pd.read_parquet(out / "results.parquet")
    csv = pd.read_csv(out / "results.csv", keep_default_na=False, na_values=[""])
    assert len(parquet) == len(csv) == 7
    assert list(parquet["point_id"]) == list(csv["point_id"])
    assert (parquet["status"] == "ok").all()
    ref = parquet.iloc[0]  # the FP32 reference row comes first
    assert (ref.weights, ref.acts, ref.verdict, ref.method) == ("fp32", "fp32", "reference", "ptq")
    assert pd.isna(ref.rounding) and pd.isna(ref.schedule)  # keys that do not apply to FP32
    refs = [dse_fakes.reference({"dataset": "digits", "model": "mlp", "seed": s}) for s in (0, 1)]
    assert ref.metric_mean == pytest.approx(statistics.fmean(refs))
    for point, row in zip(expand(cfg["space"])[1:], parquet.iloc[1:].itertuples()):
        vals = [fake(r)["metric"] for r in runs_for(point, [0, 1])]
        assert row.metric_mean == pytest.approx(statistics.fmean(vals))
        assert row.metric_std == pytest.approx(statistics.stdev(vals))
        assert row.accuracy_mean == row.metric_mean and row.metric_name == "accuracy"
        d = [v - r for v, r in zip(vals, refs)]  # paired: each seed against its own reference
        half = 12.7062047 * statistics.stdev(d) / math.sqrt(2)  # t(0.975, 1 df)
        assert row.delta_mean == pytest.approx(statistics.fmean(d))
        assert (row.delta_ci_low, row.delta_ci_high) == (pytest.approx(row.delta_mean - half),
                                                         pytest.approx(row.delta_mean + half))
        assert row.verdict == ("not resolved" if row.delta_ci_low <= 0 <= row.delta_ci_high else "worse")
        assert row.gain_mean == row.delta_mean  # accuracy: higher is better
    # costs: MAC costs are dse.costs.lookup's (measured table or lane model; NaN where unmeasured),
    # memory traffic is defined now
    from dse import costs
    for row in parquet.itertuples():
        want = costs.lookup(costs.engine_mode(None if row.weights == "fp32" else row.weights),
                            row.lanes, row.accumulator, pipe=row.pipe)
        assert row.cost_source == want["source"]
        for k in ("area_um2", "fmax_mhz", "pj_per_mac"):
            got = getattr(row, k)
            assert (math.isnan(got) and math.isnan(want[k])) or got == pytest.approx(want[k])
    bits = dict(zip(parquet["weights"], parquet["act_bits"]))
    n = sum(dse_fakes.ACT_ELEMENTS)
    assert bits == {"fp32": 32 * n, "int4": 4 * n, "posit8_0": 8 * n, "fp8_e4m3": 8 * n}
    row = parquet.iloc[1]  # int4, weights from a 1 MB SRAM, activations from a 32 KB SRAM
    assert row.memory_energy_pj == pytest.approx((row.model_bits * 100 + row.act_bits * 20) / 64)
    report = out / "report"
    assert res.summary == report / "summary.md"
    for name in PLOTS:
        assert (report / name).stat().st_size > 1000
    text = res.summary.read_text()
    assert "Pareto-optimal points" in text and "FP32 reference: " in text and "Sanity checks" in text
    assert "Student's t" in text and "not resolved" in text
    ranked = pd.read_csv(report / "ranked.csv")
    assert len(ranked) == 7 and math.isnan(ranked.set_index("weights").loc["fp32", "pareto_rank"])


def test_rerun_recomputes_nothing(tmp_path):
    fake = dse_fakes.FakeEvaluate(tmp_path / "calls")
    first = go(tiny(tmp_path), fake)
    again = go(tiny(tmp_path), fake)
    assert (again.computed, again.cached) == (0, 14)
    assert fake.calls() == 14
    pd.testing.assert_frame_equal(comparable(first.table), comparable(again.table))


def test_resume_after_interrupt_loses_nothing_finished(tmp_path):
    calls = tmp_path / "calls"
    with pytest.raises(KeyboardInterrupt):
        go(tiny(tmp_path), dse_fakes.FakeEvaluate(calls, interrupt_at=5))
    assert len(Cache(tmp_path / "out" / "cache").keys()) == 5
    fake = dse_fakes.FakeEvaluate(calls)
    res = go(tiny(tmp_path), fake)
    assert (res.computed, res.cached) == (9, 5)
    assert fake.calls() == 14  # every run computed exactly once over both attempts
    clean = go(tiny(tmp_path, name="clean"), dse_fakes.FakeEvaluate(tmp_path / "calls2"))
    pd.testing.assert_frame_equal(comparable(res.table), comparable(clean.table))


def test_resume_from_a_prepopulated_cache(tmp_path):
    """A sweep killed after its seed-0 runs: the same cache holds them, seed 1 is all that runs."""
    fake = dse_fakes.FakeEvaluate(tmp_path / "calls")
    go(tiny(tmp_path, "seeds=0"), fake)
    assert fake.calls() == 7
    res = go(tiny(tmp_path), fake)
    assert (res.computed, res.cached) == (7, 7)
    assert fake.calls() == 14


def test_torn_and_temporary_files_do_not_count(tmp_path):
    fake = dse_fakes.FakeEvaluate(tmp_path / "calls")
    cfg = tiny(tmp_path)
    go(cfg, fake)
    cache = Cache(tmp_path / "out" / "cache")
    key = run_key(runs_for(expand(cfg["space"])[0], [0])[0], CV)
    cache.path(key).write_text('{"status": "ok", "metr')  # a torn record (not possible via put)
    (cache.folder / f".{key}.abc.tmp").write_text("{")       # a temp file left by a kill
    res = go(cfg, fake)
    assert (res.computed, res.cached) == (1, 13)
    assert json.loads(cache.path(key).read_text())["status"] == "ok"


def test_cache_put_is_atomic_and_keyed_by_code_version(tmp_path):
    cache = Cache(tmp_path)
    run = {"weights": "int4", "seed": 0}
    assert run_key(run, "a") != run_key(run, "b") != run_key({**run, "seed": 1}, "b")
    cache.put("k", {"status": "error", "error": "x"})
    assert cache.get("k") == {"status": "error", "error": "x"} and cache.writes == 1
    assert [p.name for p in tmp_path.iterdir()] == ["k.json"]  # no temp file left
    fake = dse_fakes.FakeEvaluate(tmp_path / "calls")
    cfg = tiny(tmp_path, "weights=int4", "rounding=rne")
    go(cfg, fake)
    res = sweep.run(cfg, executor=Inline(), evaluate_fn=fake, code_version="other", progress=False)
    assert res.computed == 4  # new code version: new keys (FP32 reference and int4, 2 seeds)


def test_failed_points_are_recorded_and_the_sweep_goes_on(tmp_path):
    fake = dse_fakes.FakeEvaluate(tmp_path / "calls", fail=("posit8_0",))
    res = go(tiny(tmp_path), fake)
    assert (res.computed, res.failed) == (14, 4)
    t = res.table.set_index("weights")
    assert set(t.loc["posit8_0", "status"]) == {"failed"}
    assert all("diverged" in e for e in t.loc["posit8_0", "error"])
    assert (t.drop(index="posit8_0")["status"] == "ok").all()
    assert set(t.loc["posit8_0", "verdict"]) == {""} and t.loc["posit8_0", "delta_mean"].isna().all()
    assert "Failed runs" in res.summary.read_text()
    again = go(tiny(tmp_path), fake)
    assert again.computed == 0  # a recorded failure is not repeated ...
    retry = go(tiny(tmp_path), dse_fakes.FakeEvaluate(tmp_path / "calls"), retry_failed=True)
    assert (retry.computed, retry.failed) == (4, 0)  # ... unless asked
    assert (retry.table["status"] == "ok").all()


def test_local_pool_gives_the_same_table(tmp_path):
    ref = go(tiny(tmp_path, name="inline"), dse_fakes.FakeEvaluate(tmp_path / "c1"))
    fake = dse_fakes.FakeEvaluate(tmp_path / "c2")
    pool = go(tiny(tmp_path, name="pool"), fake, executor=LocalPool(2))
    assert pool.computed == 14 and fake.calls() == 14
    pd.testing.assert_frame_equal(comparable(ref.table), comparable(pool.table))


def test_dask_local_cluster_gives_the_same_table_and_shares_the_cache(tmp_path):
    ref = go(tiny(tmp_path, name="local"), dse_fakes.FakeEvaluate(tmp_path / "c1"))
    fake = dse_fakes.FakeEvaluate(tmp_path / "c2")
    cfg = tiny(tmp_path, "seeds=0", name="dask")
    go(cfg, fake)  # half the runs locally, into the cache the Dask run then uses
    res = go(tiny(tmp_path, name="dask"), fake, executor=DaskExecutor(workers=2))
    assert (res.computed, res.cached) == (7, 7) and fake.calls() == 14
    pd.testing.assert_frame_equal(comparable(ref.table), comparable(res.table))


def test_nsga2_search_is_tiny_persistent_and_resumes(tmp_path):
    fake = dse_fakes.FakeEvaluate(tmp_path / "calls")
    cfg = tiny(tmp_path, "search=nsga2", "trials=5", "weights=int4,posit8_0,fp8_e4m3,int8")
    res = go(cfg, fake)
    out = tmp_path / "out"
    assert (out / "nsga2.journal").exists()
    assert 1 <= len(res.table) <= 5 and (res.table["status"] == "ok").all()
    assert res.computed == 2 * len(res.table)  # each distinct point once per seed
    assert (out / "report" / "summary.md").exists()
    again = go(cfg, fake)
    assert again.computed == 0 and len(again.table) == len(res.table)
    more = go(tiny(tmp_path, "search=nsga2", "trials=8", "weights=int4,posit8_0,fp8_e4m3,int8"), fake)
    import optuna

    from dse.search import _storage

    (study,) = optuna.get_all_study_summaries(storage=_storage(out))
    assert study.n_trials >= 8 and len(more.table) == 8  # 5 kept, 3 more distinct points
    assert fake.calls() == 2 * len(more.table)


def test_report_only_rebuilds_from_the_cache_alone(tmp_path):
    fake = dse_fakes.FakeEvaluate(tmp_path / "calls")
    first = go(tiny(tmp_path), fake)
    os.remove(tmp_path / "out" / "results.parquet")
    res = go(tiny(tmp_path), None, report_only=True)  # no evaluate function at all
    assert res.computed == 0 and (tmp_path / "out" / "results.parquet").exists()
    pd.testing.assert_frame_equal(comparable(first.table), comparable(res.table))

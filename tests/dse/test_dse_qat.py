"""The sweep end to end on the real evaluation (the digits/mlp smoke workload): the CLI's outputs, the
FP32 reference row, the paired differences, and the sanity the report states, asserted here."""
import pandas as pd
import pytest

from dse import sanity, sweep

ARGV = ["--workload", "digits/mlp", "--method", "ptq", "--weights", "int4,int8,fp4_e2m1,fp8_e4m3",
        "--seeds", "0,1,2", "--workers", "1", "--no-progress"]


def test_smoke_sweep_pairs_every_point_with_its_reference_and_passes_the_sanity_checks(tmp_path, capsys):
    out = tmp_path / "out"
    argv = [*ARGV, "--output", str(out)]
    assert sweep.main(argv) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("dse.sweep: 5 design points, 15 runs (15 computed, 0 cached, 0 failed)")
    assert line.endswith(str(out / "report" / "summary.md"))
    df = pd.read_parquet(out / "results.parquet")
    assert (df["status"] == "ok").all() and list(df["weights"]) == ["fp32", "int4", "int8", "fp4_e2m1", "fp8_e4m3"]
    ref = df.iloc[0]
    assert ref["verdict"] == "reference" and ref["metric_mean"] > 0.9  # a converged FP32 reference
    refs = [float(v) for v in ref["metric_per_seed"].split(";")]
    for _, row in df.iloc[1:].iterrows():  # each point is paired with the same seeds' references
        vals = [float(v) for v in row["metric_per_seed"].split(";")]
        assert row["delta_mean"] == pytest.approx(sum(v - r for v, r in zip(vals, refs)) / 3, abs=1e-12)
        assert row["delta_ci_low"] <= row["delta_mean"] <= row["delta_ci_high"]
        assert row["model_bits"] > 0 and row["act_bits"] > 0 and row["metric_name"] == "accuracy"
    eight = sanity.eight_bit(df)
    assert len(eight) == 2 and all(f.ok for f in eight), [f.text for f in eight]  # int8, fp8 within 1 point
    more = sanity.more_bits(df)
    assert len(more) == 2 and all(f.ok for f in more), [f.text for f in more]
    text = (out / "report" / "summary.md").read_text()
    assert "FP32 reference: " in text and "8-bit formats against FP32: **passed**" in text
    assert sweep.main(argv) == 0
    assert "(0 computed, 15 cached, 0 failed)" in capsys.readouterr().out


def test_real_runs_are_bit_identical_in_this_process_and_in_a_worker_pool(tmp_path):
    from dse import config
    from dse.executors import Inline, LocalPool

    def table(name, executor):
        cfg = config.load(overrides=["workload=digits/mlp", "method=ptq,qat", "weights=int4,mxfp4", "qat_weights=int4",
                                     "budget=0.05", "seeds=0,1", f"output={tmp_path / name}"])
        return sweep.run(cfg, executor=executor, progress=False).table

    a, b = table("inline", Inline()), table("pool", LocalPool(2))
    cols = ["point_id", "metric_per_seed", "model_bits", "act_bits"]
    pd.testing.assert_frame_equal(a[cols], b[cols])  # repr of every float: the same bits
    assert (a["status"] == "ok").all() and len(a) == 4

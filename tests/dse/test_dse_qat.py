"""The sweep end to end on the real QAT path (one tiny point): the CLI's outputs and summary line."""
import pandas as pd

from dse import sweep


def test_cli_runs_a_real_qat_point_and_resumes(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--weights", "int4", "--rounding", "rne", "--schedule", "lr-cosine", "--seeds", "0",
            "--epochs", "1", "--workers", "1", "--output", str(out), "--no-progress"]
    assert sweep.main(argv) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("dse.sweep: 1 design points, 1 runs (1 computed, 0 cached, 0 failed)")
    assert line.endswith(str(out / "report" / "summary.md"))
    df = pd.read_parquet(out / "results.parquet")
    assert df.loc[0, "status"] == "ok" and df.loc[0, "accuracy_mean"] > 0.3  # 10 classes: chance is 0.1
    assert df.loc[0, "model_bits"] > 0 and df.loc[0, "act_bits"] > 0
    assert sweep.main(argv) == 0
    assert "(0 computed, 1 cached, 0 failed)" in capsys.readouterr().out

"""The QAT step benchmark runs and writes its table (timings themselves are not checked)."""
from sim.qat import bench


def test_bench_smoke(tmp_path):
    out = tmp_path / "qat_bench.md"
    assert bench.main(["--formats", "int4", "--steps", "1", "--repeats", "1", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| int4 |" in text and "TR overhead" in text and "Command: `python -m sim.qat.bench" in text

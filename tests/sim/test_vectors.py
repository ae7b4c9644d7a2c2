"""The vector exporter: files load back ($readmemh hex and .npy agree) and match the engine."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from sim import mac, vectors


@pytest.mark.parametrize("mode,args", [
    ("posit8_0", ["--random", "5", "--seed", "3", "--length", "37"]),
    ("int4", ["--exhaustive"]),
    ("mxfp4", ["--random", "4", "--length", "70"]),
    ("fp8_e5m2", ["--random", "3", "--accumulator", "fixed:20:20"]),
])
def test_export_round_trip(tmp_path, mode, args):
    assert vectors.main(["--mode", mode, "--out", str(tmp_path)] + args) == 0
    meta = json.loads((tmp_path / "meta.json").read_text())
    e = mac.Engine(mode, accumulator=vectors.parse_accumulator(
        args[args.index("--accumulator") + 1]) if "--accumulator" in args else "exact")
    names = ["a_words", "b_words", "expected"] + (["scale_a", "scale_b"] if e.block else [])
    arrs = {}
    for n in names:
        arr = np.load(tmp_path / f"{n}.npy")
        np.testing.assert_array_equal(vectors.read_hex(tmp_path / f"{n}.hex"), arr.reshape(-1))
        arrs[n] = arr
    K = meta["K"]
    a = e.unpack(arrs["a_words"], K)
    b = e.unpack(arrs["b_words"], K)
    want = e.dot(a, b, arrs.get("scale_a"), arrs.get("scale_b")) if e.block else e.dot(a, b)
    np.testing.assert_array_equal(arrs["expected"], want)
    assert meta["words_per_row"] == arrs["a_words"].shape[1] == -(-K // e.k)
    assert meta["cycles_per_row"] == e.cycles(K)


def test_cli_usage_errors(tmp_path, capsys):
    assert vectors.main(["--mode", "posit16_1", "--exhaustive", "--out", str(tmp_path)]) == 2
    assert "exhaustive" in capsys.readouterr().err
    assert vectors.main(["--mode", "int8", "--random", "0", "--out", str(tmp_path)]) == 2
    with pytest.raises(SystemExit) as exc:
        vectors.main(["--mode", "int8", "--out", str(tmp_path)])  # neither --exhaustive nor --random
    assert exc.value.code == 2


def test_cli_as_module(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sim.vectors", "--mode", "nope", "--random", "2",
                        "--out", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 2 and "allowed" in r.stderr

"""``python -m rtl.run`` on bad input (issue 20, item 6): each case is refused before any
simulation with exit 2 and one sentence; no simulator is needed."""
from __future__ import annotations

import numpy as np
import pytest

from rtl import run as R


@pytest.fixture
def operands(tmp_path):
    def save(name, arr):
        path = tmp_path / name
        np.save(path, np.asarray(arr))
        return str(path)

    return save


def fail(argv, capsys, *words):
    assert R.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rtl.run: error: ")
    for w in words:
        assert w in err[0]


@pytest.fixture
def no_sim(monkeypatch):
    """run_rows replaced by sim.mac's answer: these tests are about the command line only."""
    from sim import mac

    def fake(mode, A, B, SA=None, SB=None, sim="verilator", lanes=1, readout="native", accumulator="exact",
             TA=None, TB=None):
        e = mac.Engine(mode, lanes=lanes, readout=readout, accumulator=accumulator)
        kw = {"scale_a": SA, "scale_b": SB} if e.block else {}
        if e.tensor_scale:
            kw.update(tensor_scale_a=TA, tensor_scale_b=TB)
        return e.dot(A, B, **kw).astype(np.uint32), 0

    monkeypatch.setattr(R, "run_rows", fake)


def test_scales_for_a_mode_without_them(operands, tmp_path, capsys, no_sim):
    a = operands("a.npy", [[1, 2, 3]])
    s = operands("s.npy", [[127]])
    fail(["--mode", "int8", "--a", a, "--b", a, "--scale-a", s, "--scale-b", s, "--out", str(tmp_path / "y.npy")],
         capsys, "int8 takes no scales", "mxfp4")


def test_three_dimensional_operands(operands, tmp_path, capsys, no_sim):
    a = operands("a.npy", np.zeros((2, 3, 4), dtype=np.uint8))
    fail(["--mode", "int8", "--a", a, "--b", a, "--out", str(tmp_path / "y.npy")], capsys,
         "A must be (rows, K) codes", "(2, 3, 4)")


def test_codes_out_of_range_and_mismatched_shapes(operands, tmp_path, capsys, no_sim):
    a = operands("a.npy", [[1, 300]])
    b = operands("b.npy", [[1, 2, 3]])
    fail(["--mode", "int8", "--a", a, "--b", a, "--out", str(tmp_path / "y")], capsys, "does not fit in 8 bits")
    ok = operands("ok.npy", [[1, 2]])
    fail(["--mode", "int8", "--a", ok, "--b", b, "--out", str(tmp_path / "y")], capsys, "same shape")


def test_mx_scales_of_the_wrong_shape(operands, tmp_path, capsys, no_sim):
    a = operands("a.npy", np.zeros((2, 40), dtype=np.uint8))
    s = operands("s.npy", np.full((2, 1), 127, dtype=np.uint8))
    fail(["--mode", "mxfp4", "--a", a, "--b", a, "--scale-a", s, "--scale-b", s, "--out", str(tmp_path / "y")],
         capsys, "shape (2, 2)")
    fail(["--mode", "mxfp4", "--a", a, "--b", a, "--out", str(tmp_path / "y")], capsys, "needs --scale-a")


def test_out_in_a_missing_folder_or_a_folder(operands, tmp_path, capsys, no_sim):
    a = operands("a.npy", [[1, 2, 3]])
    fail(["--mode", "int8", "--a", a, "--b", a, "--out", str(tmp_path / "nope" / "y.npy")], capsys, "does not exist")
    (tmp_path / "dir").mkdir()
    fail(["--mode", "int8", "--a", a, "--b", a, "--out", str(tmp_path / "dir")], capsys, "is a folder")
    assert not (tmp_path / "dir.npy").exists()


def test_out_without_suffix_names_the_file_it_writes(operands, tmp_path, capsys, no_sim):
    a = operands("a.npy", [[1, 2, 3], [4, 5, 6]])
    assert R.main(["--mode", "int8", "--a", a, "--b", a, "--out", str(tmp_path / "Y")]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith(f"wrote {tmp_path / 'Y.npy'}")
    assert np.load(tmp_path / "Y.npy").tolist() == [14, 77]


def test_help_describes_every_option(capsys):
    with pytest.raises(SystemExit) as ex:
        R.main(["--help"])
    assert ex.value.code == 0
    text = capsys.readouterr().out
    assert "simulator that runs the Verilog" in text and "output format: native" in text


def test_nvfp4_needs_tensor_scales_and_rounds_them_to_float32(operands, tmp_path, capsys, no_sim):
    a = operands("a.npy", [[2, 3, 4, 5]])
    s = operands("s.npy", [[0x38]])
    base = ["--mode", "nvfp4", "--a", a, "--b", a, "--scale-a", s, "--scale-b", s, "--out", str(tmp_path / "Y")]
    assert R.main(base) == 2
    assert "needs --tensor-scale-a and --tensor-scale-b" in capsys.readouterr().err
    assert R.main(base + ["--tensor-scale-a", "0", "--tensor-scale-b", "1"]) == 2
    assert "positive finite" in capsys.readouterr().err
    assert R.main(base + ["--tensor-scale-a", "0.1", "--tensor-scale-b", "2"]) == 0   # 0.1 -> float32(0.1)
    y = np.load(tmp_path / "Y.npy")[0]
    # codes 2..5 are 1, 1.5, 2, 3: (1 + 2.25 + 4 + 9) * float32(0.1) * 2, rounded once to FP32
    assert np.array([y], np.uint32).view(np.float32)[0] == np.float32(16.25 * float(np.float32(0.1)) * 2)
    assert R.main(["--mode", "int8", "--a", a, "--b", a, "--tensor-scale-a", "1", "--tensor-scale-b", "1",
                   "--out", str(tmp_path / "Z")]) == 2
    assert "no tensor scales" in capsys.readouterr().err

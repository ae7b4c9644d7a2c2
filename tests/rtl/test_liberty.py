"""rtl.liberty: NLDM internal-power lookup and the wire-load model, checked against numbers
computed by hand from the sky130 Liberty file's own tables."""
import gzip
import re

import pytest

from dse import costgen
from rtl import liberty

LIB = costgen.LIBERTY
pytestmark = pytest.mark.skipif(not LIB.exists(), reason="needs the sky130 Liberty file")


@pytest.fixture(scope="module")
def text():
    with gzip.open(LIB, "rt") as fh:
        return fh.read()


def _nums(s):
    return [float(x) for x in s.replace("\\", "").replace('"', "").split(",") if x.strip()]


def test_output_pin_energy_is_bilinear_at_a_non_grid_point(text):
    """nand2_1, pin Y, arc from A, rise_power: interpolated by hand between the four points."""
    i = text.index('cell ("sky130_fd_sc_hd__nand2_1")')
    j = text.index('pin ("Y")', i)
    g = text.index("rise_power", j)
    i1 = _nums(re.search(r'index_1\("([^"]*)"\)', text[g:]).group(1))
    i2 = _nums(re.search(r'index_2\("([^"]*)"\)', text[g:]).group(1))
    rows = [_nums(r) for r in re.findall(r'"([^"]*)"', re.search(r"values\((.*?)\);", text[g:], re.S).group(1))]
    # a point inside the cell [1..2] x [2..3] of the grid
    s = i1[1] + 0.3 * (i1[2] - i1[1])
    c = i2[2] + 0.6 * (i2[3] - i2[2])
    top = rows[1][2] + 0.6 * (rows[1][3] - rows[1][2])
    bot = rows[2][2] + 0.6 * (rows[2][3] - rows[2][2])
    want = top + 0.3 * (bot - top)
    cell = liberty.read_cells(LIB, ["sky130_fd_sc_hd__nand2_1"])["sky130_fd_sc_hd__nand2_1"]
    grp = [p for p in cell.pins["Y"].power if p.related_pin == "A"][0]
    assert grp.rise(s, c) == pytest.approx(want, rel=1e-12)
    # at a grid point, the table's own number; beyond the last load, linear extrapolation
    assert grp.rise(i1[3], i2[4]) == pytest.approx(rows[3][4], rel=1e-12)
    far = i2[-1] + 0.5 * (i2[-1] - i2[-2])
    assert grp.rise(i1[0], far) == pytest.approx(rows[0][-1] + 0.5 * (rows[0][-1] - rows[0][-2]), rel=1e-12)
    # per toggle: the mean of rise and fall
    assert grp.energy(s, c) == pytest.approx((grp.rise(s, c) + grp.fall(s, c)) / 2)


def test_input_pin_energy_is_linear_in_slew(text):
    i = text.index('cell ("sky130_fd_sc_hd__nand2_1")')
    j = text.index('pin ("B")', i)
    g = text.index("fall_power", j)
    i1 = _nums(re.search(r'index_1\("([^"]*)"\)', text[g:]).group(1))
    vals = _nums(re.search(r'values\("([^"]*)"\)', text[g:]).group(1))
    s = i1[4] + 0.25 * (i1[5] - i1[4])
    cell = liberty.read_cells(LIB, ["sky130_fd_sc_hd__nand2_1"])["sky130_fd_sc_hd__nand2_1"]
    (grp,) = cell.pins["B"].power
    assert grp.related_pin is None
    assert grp.fall(s) == pytest.approx(vals[4] + 0.25 * (vals[5] - vals[4]), rel=1e-12)
    assert cell.pins["B"].capacitance == pytest.approx(0.002324)
    assert cell.pins["B"].direction == "input" and cell.pins["Y"].direction == "output"


def test_wire_load_small(text):
    grp = text[text.index('wire_load("Small")'):]
    cap = float(re.search(r"capacitance : ([\d.e+-]+);", grp).group(1))
    slope = float(re.search(r"slope : ([\d.e+-]+);", grp).group(1))
    length = {int(f): float(l) for f, l in re.findall(r"fanout_length\( (\d+), ([\d.]+)\)", grp[:600])}
    assert liberty.wire_cap(LIB, 1) == pytest.approx(length[1] * cap)
    assert liberty.wire_cap(LIB, 6) == pytest.approx(length[6] * cap)
    assert liberty.wire_cap(LIB, 9) == pytest.approx((length[6] + 3 * slope) * cap)   # beyond the table
    assert liberty.wire_cap(LIB, 0) == 0.0
    with pytest.raises(KeyError, match="wire-load model 'Tiny'"):
        liberty.wire_cap(LIB, 2, "Tiny")


def test_unknown_cell():
    with pytest.raises(KeyError, match="sky130_fd_sc_hd__nope"):
        liberty.read_cells(LIB, ["sky130_fd_sc_hd__nope"])

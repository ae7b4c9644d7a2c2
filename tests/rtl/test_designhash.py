"""rtl.designhash: the canonical form ignores what carries no meaning (statement order, private
names, source lines) and keeps what does (logic, public names)."""
import shutil

import pytest

from rtl import designhash as D
from rtl.sources import SRC_DIR

IL = """autoidx 12
attribute \\top 1
module \\m
  wire width 2 input 1 \\a
  wire width 2 output 2 \\y
  wire width 2 $add$x.v:3$7_Y
  cell $add $add$x.v:3$7
    parameter \\Y_WIDTH 2
    connect \\A \\a
    connect \\B 2'01
    connect \\Y $add$x.v:3$7_Y
  end
  connect \\y $add$x.v:3$7_Y
end
"""


def test_canonical_ignores_order_names_and_attributes():
    moved = (IL.replace("autoidx 12", "autoidx 99").replace("$x.v:3$7", "$x.v:40$123")
             .replace("  wire width 2 input 1 \\a\n", "").replace("module \\m\n", "module \\m\n  wire width 2 input 1 \\a\n"))
    moved = moved.replace("    parameter \\Y_WIDTH 2\n    connect \\A \\a\n", "    connect \\A \\a\n    parameter \\Y_WIDTH 2\n")
    assert D.canonical(moved) == D.canonical(IL)
    assert D.canonical(IL.replace("2'01", "2'10")) != D.canonical(IL)        # logic
    assert D.canonical(IL.replace("\\y", "\\z")) != D.canonical(IL)          # a public name
    assert "$add" in D.canonical(IL) and "attribute" not in D.canonical(IL)


@pytest.mark.rtl
def test_hash_sees_a_logic_change_and_not_a_comment(tmp_path):
    if shutil.which("yosys") is None:
        pytest.fail("yosys is not installed: apt-get install yosys (.ci/run installs it)")
    src = tmp_path / "src"
    shutil.copytree(SRC_DIR, src)
    mask = 1 << 0                                    # int4 alone: a few seconds
    h = D.design_hash(src, mask)
    assert D.design_hash(src, mask, pipe=1) != h                    # the deep pipeline is another design
    lane = src / "mac_lane.v"
    text = lane.read_text()
    lane.write_text("// a comment\n\n" + text)
    assert D.design_hash(src, mask) == h
    lane.write_text(text.replace("wire [H:0] lo6_w = {1'b0, rraw[H-1:0]} + {1'b0, rcy[H-1:0]};",
                                 "wire [H:0] lo6_w = {1'b0, rraw[H-1:0]} - {1'b0, rcy[H-1:0]};"))
    assert D.design_hash(src, mask) != h
    assert D.costgen_builds()[0][:4] == ("single", "mac_engine", ("int4",), 1)

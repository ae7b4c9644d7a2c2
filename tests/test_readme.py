"""The README's package examples run as written and print what a newcomer expects."""
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def block(heading: str) -> str:
    """The first ```python block after ``heading`` in README.md."""
    text = (ROOT / "README.md").read_text()
    rest = text[text.index(heading):]
    return re.search(r"```python\n(.*?)```", rest, re.S).group(1)


def test_sim_mac_example_computes_real_dot_products():
    """Encoded real values, not random codes: no NaR in the result, and the dot products are
    those of the values to within posit8's rounding."""
    code = block("### sim.mac") + (
        "\nimport json\nprint('CHECK', json.dumps([(x * y).sum(-1).tolist(), e.output_format.decode(out).tolist()]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    shown, check = out.stdout.split("CHECK ")
    assert "nan" not in shown.lower()
    want, got = json.loads(check)
    assert len(got) == 8 and all(abs(g - w) <= 0.1 * abs(w) + 0.5 for g, w in zip(got, want))

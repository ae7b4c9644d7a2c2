"""Every committed report records the code version it was made from, and it is the current one.

The registry is reports/index.toml (see formats.provenance).  A failure here means code
that a report's numbers depend on changed after the report was made: regenerate the
report with the command the failure names (``python -m formats.provenance --stale``
lists them all).  Reports marked ``pending`` in the registry were made before stamps
existed; they are listed by that command, and once regenerated their ``pending`` line
must go (this test says so), after which they are held to the code like the rest.
"""
from pathlib import Path

import pytest

from formats import provenance as P

ENTRIES = P.entries()


def test_every_report_is_registered():
    reports = P.ROOT / "reports"
    registered = {f for e in ENTRIES.values() for f in e.files}
    found = {p.relative_to(P.ROOT).as_posix() for p in reports.rglob("*.md")}
    assert found - registered == set(), "reports not in reports/index.toml"


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_report_matches_the_code(name):
    e = ENTRIES[name]
    bad = [(f, s) for f, s in P.state(e) if s != "current" and not (e.pending and s.startswith("pending"))]
    assert not bad, f"{name}: {bad}; regenerate it ({e.time}): {e.command}"
    for f in e.files:
        assert Path(P.ROOT / f).is_file()

"""rtl.synth_report's cache (rtl.synth_cache): a row whose sources changed but whose elaborated design did not
(rtl.designhash) takes the earlier measurement and says so; a changed design is synthesized."""
import json

from rtl import synth_cache as C
from rtl import synth_report as S

ROWS = [("int8", ["int8"], "exact"), ("fp4_e2m1", ["fp4_e2m1"], "exact")]


def _fake(monkeypatch, fv, designs, synthesized):
    monkeypatch.setattr(S, "flow_version", lambda: fv)
    monkeypatch.setattr(S, "tools_version", lambda: "tools-A")
    monkeypatch.setattr(C, "design_hash_of", lambda modes, acc, pipe: designs[(modes[0], pipe)])

    def one(modes, acc, liberty, pipe, breakdown):
        synthesized.append((modes[0], pipe))
        return {"modes": list(modes), "accumulator": acc, "total": 1000.0 + len(synthesized), "fmax_mhz": 100.0}

    monkeypatch.setattr(S, "_one", one)


def test_unchanged_design_is_reused_changed_one_resynthesized(tmp_path, monkeypatch):
    done = []
    designs = {("int8", 1): "d-int8", ("fp4_e2m1", 1): "d-fp4"}
    _fake(monkeypatch, "flow-1", designs, done)
    first = dict(S.measure(tmp_path, work=tmp_path, rows=ROWS, pipe=1, log=lambda *a: None))
    assert sorted(done) == [("fp4_e2m1", 1), ("int8", 1)]
    assert first["int8"]["design_hash"] == "d-int8" and first["int8"]["flow_version"] == "flow-1"

    # the sources change (new flow_version); int8's design stays, fp4's changes
    done.clear()
    designs[("fp4_e2m1", 1)] = "d-fp4-new"
    _fake(monkeypatch, "flow-2", designs, done)
    logs = []
    second = dict(S.measure(tmp_path, work=tmp_path, rows=ROWS, pipe=1, log=logs.append))
    assert done == [("fp4_e2m1", 1)]
    assert second["int8"]["total"] == first["int8"]["total"]
    assert second["int8"]["flow_version"] == "flow-1" and second["int8"]["same_design_as"] == "flow-2"
    assert "same_design_as" not in second["fp4_e2m1"] and second["fp4_e2m1"]["flow_version"] == "flow-2"
    assert any("int8: design unchanged since flow-1" in m for m in logs)

    # a PIPE = 0 row never takes a PIPE = 1 result of the same modes, nor another flow's tools
    done.clear()
    designs[("int8", 0)] = "d-int8"
    _fake(monkeypatch, "flow-2", designs, done)
    S.measure(tmp_path, work=tmp_path, rows=ROWS[:1], pipe=0, log=lambda *a: None)
    assert done == [("int8", 0)]
    monkeypatch.setattr(S, "tools_version", lambda: "tools-B")
    monkeypatch.setattr(S, "flow_version", lambda: "flow-3")
    done.clear()
    S.measure(tmp_path, work=tmp_path, rows=ROWS[:1], pipe=1, log=lambda *a: None)
    assert done == [("int8", 1)]


def test_results_from_before_design_hashes_are_backfilled(tmp_path, monkeypatch):
    """A result cached before this cache kept design hashes gets one (from the current sources,
    which it was measured with) the first time it is read."""
    done = []
    _fake(monkeypatch, "flow-1", {("int8", 0): "d-int8"}, done)
    S.measure(tmp_path, work=tmp_path, rows=ROWS[:1], pipe=0, log=lambda *a: None)
    (jf,) = tmp_path.glob("*.json")
    old = json.loads(jf.read_text())
    for k in ("design_hash", "tools_version", "pipe"):
        old.pop(k)
    jf.write_text(json.dumps(old))
    done.clear()
    S.measure(tmp_path, work=tmp_path, rows=ROWS[:1], pipe=0, log=lambda *a: None)
    assert done == [] and json.loads(jf.read_text())["design_hash"] == "d-int8"


def test_reuse_takes_a_pipe0_result_only(tmp_path):
    """dse.costgen's folder holds PIPE = 0 and PIPE = 1 builds of the same modes under one flow
    version; a PIPE = 0 row of this report must never take a PIPE = 1 result."""
    import json

    from rtl import synth_report

    base = {"flow_version": "fv", "lanes": 1, "modes": ["int8"], "target_period_ns": 10.0, "accumulator": "exact",
            "blocks": {"decoders": 1.0}}
    (tmp_path / "a_deep.json").write_text(json.dumps({**base, "pipe": 1, "total": 2.0}))
    assert synth_report._reused(tmp_path, ["int8"], "exact", "fv") is None
    (tmp_path / "b_shallow.json").write_text(json.dumps({**base, "total": 1.0}))      # no key: PIPE = 0
    assert synth_report._reused(tmp_path, ["int8"], "exact", "fv")["total"] == 1.0

"""formats.provenance: the code version of a report, a hash of the sources its numbers depend on."""
import pytest

from formats import provenance as P


def tree(tmp_path, body):
    (tmp_path / "pkg").mkdir(exist_ok=True)
    (tmp_path / "pkg" / "a.py").write_text(body)
    (tmp_path / "pkg" / "t.csv").write_text("x,1\n")
    return tmp_path


def test_hash_follows_code_not_comments_docstrings_or_layout(tmp_path):
    base = P.source_hash(["pkg/*.py", "pkg/*.csv"], tree(tmp_path, 'def f(x):\n    return x + 1\n'))
    same = [
        '"""Module doc."""\ndef f(x):\n    """Doc."""\n    # a comment\n    return x+1  # why\n',
        'def f(x):\n\n    return (x +\n            1)\n',
    ]
    for body in same:
        assert P.source_hash(["pkg/*.py", "pkg/*.csv"], tree(tmp_path, body)) == base
    assert P.source_hash(["pkg/*.py", "pkg/*.csv"], tree(tmp_path, 'def f(x):\n    return x + 2\n')) != base
    tree(tmp_path, 'def f(x):\n    return x + 1\n')
    (tmp_path / "pkg" / "t.csv").write_text("x,2\n")  # data files count by their bytes
    assert P.source_hash(["pkg/*.py", "pkg/*.csv"], tmp_path) != base
    (tmp_path / "pkg" / "t.csv").write_text("x,1\n")
    (tmp_path / "pkg" / "b.py").write_text("y = 1\n")  # a new file under a pattern counts
    assert P.source_hash(["pkg/*.py", "pkg/*.csv"], tmp_path) != base
    with pytest.raises(ValueError, match="'nothing/\\*.py' matches no file"):
        P.source_hash(["nothing/*.py"], tmp_path)


def test_stamp_round_trip_and_states(tmp_path, monkeypatch):
    root = tree(tmp_path, "x = 1\n")
    (root / "reports").mkdir()
    index = root / "reports" / "index.toml"
    index.write_text('[report.demo]\nfiles = ["reports/demo.md"]\nsources = ["pkg/*.py"]\n'
                     'command = "python -m demo"\ntime = "1 s"\n')
    monkeypatch.setattr(P, "ROOT", root)
    monkeypatch.setattr(P, "INDEX", index)
    line = P.stamp("demo")
    assert P.read_stamp(f"# Demo\n\n{line}\n") == ("demo", P.source_hash(["pkg/*.py"]))
    assert "pkg/*.py" in line
    (e,) = P.entries().values()
    assert P.state(e) == [("reports/demo.md", "missing")]
    (root / "reports" / "demo.md").write_text("# Demo\n")
    assert P.state(e) == [("reports/demo.md", "unstamped")]
    (root / "reports" / "demo.md").write_text(f"# Demo\n{line}\n")
    assert P.state(e) == [("reports/demo.md", "current")]
    assert P.main([]) == 0
    (root / "pkg" / "a.py").write_text("x = 2\n")  # the code moves on: the report is stale
    assert P.state(e)[0][1].startswith("stale (made from demo@")
    assert P.main(["--stale"]) == 1
    assert P.stamp("demo", root / "absent.toml").startswith("Code version: not recorded")

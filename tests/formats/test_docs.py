"""The presets table in docs/formats.md is the one the format objects generate."""
import pathlib

from formats import doc

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def test_presets_table_is_current():
    text = DOCS.read_text()
    assert doc.splice(text, doc.table()) == text, "run: python -m formats.doc --write docs/formats.md"


def test_table_has_every_preset():
    import formats

    tbl = doc.table()
    for name in formats.names():
        assert f"| {name} |" in tbl

"""formats.conformance: its comparison finds no UNEXPLAINED difference on a fast subset, it does
report a deliberately wrong encoder as UNEXPLAINED, a rule counts only the inputs its predicate
holds for, and unknown --formats/--tools names are refused with what is allowed (exit 2)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import formats
from formats.conformance import UNEXPLAINED, __main__ as cli, blocks, classify, scalar
from formats.conformance.core import Row, compare_scalar

pytest.importorskip("ml_dtypes")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@pytest.mark.parametrize("fmt,tool", [("fp8_e4m3", "ml_dtypes"), ("fp4_e2m1", "ml_dtypes"), ("bf16", "gfloat"),
                                      ("fp8_e5m2", "torch"), ("posit8_0", "softposit"), ("e8m0", "ml_dtypes"),
                                      ("mxfp4", "torchao"), ("mxfp8_e4m3 (scale_rule=rceil)", "torchao"),
                                      ("nvfp4", "torchao"), ("block_nf4_fp32_g64", "bitsandbytes"),
                                      ("nf4_dq", "bitsandbytes")])
def test_subset_has_no_unexplained_difference(fmt, tool):
    pairs = [p for p in cli.select([fmt], [tool]) if p[0] == fmt]  # "mxfp4" also selects its rceil variant
    assert len(pairs) == 1
    assert cli._installed(tool), f"{tool} is a test dependency (pyproject [test]) and must be installed"
    (row,) = cli.run(pairs, n_random=2000, n_blocks=100)
    assert row.inputs > 0 and row.unexplained == 0, row.classification()
    if fmt == "fp8_e4m3":  # ml_dtypes' float8_e4m3fn does not saturate: the rule must have fired
        assert row.mismatches > 0 and "overflow" in row.classification()


def _flipping(f, code):
    """``f`` whose encoder answers ``code ^ 1`` wherever the right answer is ``code``."""
    class Wrong:
        def __getattr__(self, name):
            return getattr(f, name)

        def encode(self, x, **kw):
            c = f.encode(x, **kw)
            return np.where(c == code, c ^ 1, c).astype(c.dtype)
    return Wrong()


def test_wrong_encoder_is_unexplained():
    import ml_dtypes

    f = formats.get("fp8_e5m2")
    wrong = _flipping(f, 0x3C)  # 1.0 encodes as 1.25
    dt = ml_dtypes.float8_e5m2

    def enc(x):
        return x.astype(dt).view(np.uint8)

    def dec(codes):
        return codes.astype(np.uint8).view(dt).astype(np.float64)

    good = compare_scalar(Row("fp8_e5m2", "ml_dtypes"), f, dec, enc, scalar._rules(f), 2000)
    bad = compare_scalar(Row("fp8_e5m2", "ml_dtypes"), wrong, dec, enc, scalar._rules(f), 2000)
    assert good.unexplained == 0
    assert bad.unexplained > 0 and UNEXPLAINED in bad.classification()
    # every input near 1.0 that should give 0x3C is now a mismatch nobody explains
    assert bad.unexplained == bad.mismatches - good.mismatches


def test_wrong_decoder_is_unexplained():
    f = formats.get("posit8_0")
    row = scalar.check_softposit("posit8_0", 100)
    assert row.mismatches == 0 and row.codes == 256
    conv, _ = scalar._softposit_conv(8, 0)

    def dec(codes):  # one code decodes wrong
        v = f.decode(codes)
        v[codes == 0x40] = 2.0
        return v

    enc = lambda x: np.fromiter((conv(float(v)) for v in x.tolist()), dtype=np.int64, count=x.size)  # noqa: E731
    bad = compare_scalar(Row("posit8_0", "softposit"), f, dec, enc, [], 100)
    assert bad.classes == {UNEXPLAINED: 1}


def test_rule_counts_only_where_its_predicate_holds():
    idx = np.arange(10)
    got = classify(idx, [("even", lambda i: i % 2 == 0), ("never", lambda i: np.zeros(i.size, bool))])
    assert got == {"even": 5, UNEXPLAINED: 5}


def test_overflow_rule_refuses_an_in_range_difference():
    """The overflow rule holds only beyond max: a wrong code for an in-range input stays UNEXPLAINED."""
    from formats.conformance.core import overflow_rule

    f = formats.get("fp8_e4m3")
    x = np.array([1.0, 1000.0], np.float32)
    ours = f.encode(x).astype(np.int64)
    theirs = np.array([0x7F, 0x7F])  # NaN for both: right for 1000 under overflow='nan', wrong for 1.0
    assert overflow_rule("nan")(f, x, ours, theirs, np.arange(2)).tolist() == [False, True]


def test_blocks_have_the_special_cases():
    e = formats.get("mxfp4").element
    x = blocks.blocks(32, float(e.max), e.values(), 10)
    amax = np.abs(x).max(axis=1)
    assert (amax == 0).any() and np.isnan(x).any() and np.isinf(x).any()
    assert (amax == 12.0).any() and (amax == 2.0).any() and (amax == 10.0).any()  # emax·2, 2^1, top tie·2


@pytest.mark.parametrize("argv,word", [(["--formats", "fp8_e4m3,nosuch"], "nosuch"),
                                       (["--tools", "ml_dtypes,numpy"], "numpy")])
def test_unknown_names_exit_2_listing_what_is_allowed(argv, word, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv + ["--out", "-"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert word in err and "allowed:" in err
    assert ("ml_dtypes" in err and "bitsandbytes" in err) if word == "numpy" else ("posit16_1" in err)


def test_cli_runs_a_filtered_subset(tmp_path, capsys):
    out = tmp_path / "c.md"
    rc = cli.main(["--formats", "fp6_e3m2", "--tools", "ml_dtypes,gfloat", "--random", "500", "--out", str(out)])
    assert rc == 0
    text = out.read_text()
    assert "Code version:" in text and "| fp6_e3m2 | ml_dtypes |" in text and "gfloat" in text

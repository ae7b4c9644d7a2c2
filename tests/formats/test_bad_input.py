"""formats under odd input: each case here was accepted silently or failed with the wrong
error before (issue 20, item 7)."""
from __future__ import annotations

import numpy as np
import pytest

import formats


@pytest.mark.parametrize("signed", ["no", "yes", 0, 1, None])
def test_integer_signed_must_be_a_bool(signed):
    with pytest.raises(TypeError, match=f"signed must be True or False, got {signed!r}"):
        formats.integer(8, signed=signed)


def test_integer_signed_bool_like():
    assert formats.integer(8, signed=np.bool_(False)) == formats.get("uint8")
    assert formats.integer(8, signed=False).max == 255.0


@pytest.mark.parametrize("name, inner", [("mxmxfp4", "mxfp4"), ("MXMXINT8", "mxint8"), ("mxnvfp4", "nvfp4")])
def test_mx_of_a_block_format_is_refused(name, inner):
    with pytest.raises(KeyError, match=f"'{inner}' is a block format"):
        formats.get(name)


def test_mx_unknown_element_names_the_whole_name():
    with pytest.raises(KeyError) as err:
        formats.get("mxfp8")
    msg = str(err.value)
    assert "unknown format 'mxfp8'" in msg and "mxfp8_e4m3, mxfp8_e5m2" in msg


def test_mx_of_a_non_element_is_a_key_error():
    with pytest.raises(KeyError, match="mxposit8_0"):
        formats.get("mxposit8_0")


def test_mx_short_element_names_still_work():
    assert formats.get("mxe2m1") == formats.get("mxfp4")
    assert formats.get("mxint8").element == formats.get("mxint8").element


@pytest.mark.parametrize("name", ["int8", "fp8_e4m3", "posit8_0", "posit32_2", "nf4", "fp32"])
@pytest.mark.parametrize("empty", [np.array([]), np.zeros((0, 3)), np.array([], dtype=np.float32), []])
def test_decode_of_an_empty_array(name, empty):
    fmt = formats.get(name)
    out = fmt.decode(empty)
    assert out.dtype == np.float64 and out.shape == np.shape(empty)


def test_decode_of_a_nonempty_float_array_still_refused():
    with pytest.raises(TypeError, match="codes must be integers"):
        formats.get("int8").decode(np.array([1.0]))


def test_negative_bias_is_a_scaled_format():
    """``_b-5`` is meant: the same codes as bias 7, every value times 2**12."""
    neg, std = formats.get("fp8_e4m3fn_b-5"), formats.get("fp8_e4m3")
    assert formats.get("fp8_e4m3_b-5") == formats.get("fp8_e4m3ieee_b-5")
    v, w = neg.values(), std.values()
    assert np.array_equal(np.isnan(v), np.isnan(w))
    fin = ~np.isnan(w)
    assert np.array_equal(v[fin], w[fin] * 2.0**12)
    assert neg.min_normal == 2.0**6 and neg.max == 448.0 * 2**12
    assert neg.decode(neg.encode([1000.0, 64.0])).tolist() == [1024.0, 64.0]


@pytest.mark.parametrize("name, code", [("int8", 0), ("fp4_e2m1", 0), ("posit8_0", 0), ("nf4", None)])
def test_zero_code_is_public_and_encodes_zero(name, code):
    fmt = formats.get(name)
    if code is not None:
        assert fmt.zero_code == code
    # the zero code is the code of the value of smallest magnitude (0.0 where there is one)
    v = fmt.values()
    assert abs(v[fmt.zero_code]) == np.nanmin(np.abs(v))


@pytest.mark.parametrize("name, n, want", [("int4", None, 4.0), ("posit16_1", 10, 16.0), ("mxfp4", None, 4.25),
                                           ("nvfp4", 32, 4.5 + 1.0)])
def test_bits_per_element_is_every_formats(name, n, want):
    assert formats.get(name).bits_per_element(n) == want

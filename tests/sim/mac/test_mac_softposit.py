"""SoftPosit's quire fused dot products agree bit for bit with the exact accumulator (native readout).

posit8_0 uses ``quire8`` and posit16_1 ``quire16`` (SoftPosit's posit16 is es = 1), accumulated
with ``q8_fdp_add``/``q16_fdp_add`` and rounded once with ``q8_to_p8``/``q16_to_p16``.
"""
from __future__ import annotations

import numpy as np
import pytest
from test_mac import random_rows

from sim import mac

import softposit as sp

QUIRE = {
    "posit8_0": (sp.posit8, sp.q8Clr, sp.q8_fdp_add, sp.q8_to_p8),
    "posit16_1": (sp.posit16, sp.q16Clr, sp.q16_fdp_add, sp.q16_to_p16),
}


def softposit_dot(mode, a, b):
    pos, clr, fdp_add, to_p = QUIRE[mode]
    q = clr()
    for x, y in zip(a.tolist(), b.tolist()):
        q = fdp_add(q, pos(bits=x).v, pos(bits=y).v)
    return int(to_p(q).v)


def _check(mode, rows):
    e = mac.Engine(mode)
    got = [int(e.dot(a, b)) for a, b in rows]
    want = [softposit_dot(mode, a, b) for a, b in rows]
    assert got == want


@pytest.mark.parametrize("mode", list(QUIRE))
def test_softposit_quire_random(mode):
    _check(mode, random_rows(mode, np.random.default_rng(11), 24))


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(QUIRE))
def test_softposit_quire_random_long(mode):
    _check(mode, random_rows(mode, np.random.default_rng(12), 300))


def test_softposit_quire_all_pairs_posit8():
    c = np.arange(256, dtype=np.uint8)
    A, B = (x.reshape(-1, 1) for x in np.meshgrid(c, c, indexing="ij"))
    got = mac.Engine("posit8_0").dot(A, B)
    want = [softposit_dot("posit8_0", a, b) for a, b in zip(A, B)]
    np.testing.assert_array_equal(got, want)

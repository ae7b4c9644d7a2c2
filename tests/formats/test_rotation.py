"""Seeded block Hadamard rotations: exact inverse, matmul unchanged, seeds and errors."""
from __future__ import annotations

import numpy as np
import pytest

import formats
from formats.rotation import hadamard


def hadamard_matrix(n):
    h = np.ones((1, 1))
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


@pytest.mark.parametrize("block", [1, 2, 16, 32, 64])
def test_apply_is_the_matrix_and_invert_is_exact(block):
    rng = np.random.default_rng(block)
    x = rng.standard_normal((5, 4 * block)).astype(np.float32)
    R = hadamard(block, seed=7)
    k = block.bit_length() - 1
    want = (x.astype(np.float64).reshape(5, 4, block) * R.signs) @ hadamard_matrix(block).T * 2.0 ** -((k + 1) // 2)
    np.testing.assert_array_equal(R.apply(x), want.reshape(5, -1))
    np.testing.assert_array_equal(R.invert(R.apply(x)), x)  # bit for bit


def test_matmul_is_unchanged_exactly():
    rng = np.random.default_rng(0)
    A = rng.integers(-50, 50, (8, 128)).astype(np.float32) / 8  # dyadic: every sum is exact
    B = rng.integers(-50, 50, (6, 128)).astype(np.float32) / 4
    R = hadamard(32, seed=3)
    np.testing.assert_array_equal(R.apply(A) @ R.invert_t(B).T, A.astype(np.float64) @ B.astype(np.float64).T)


def test_axis_and_seeds():
    x = np.random.default_rng(1).standard_normal((64, 3))
    R0 = hadamard(16, seed=1, axis=0)
    np.testing.assert_array_equal(R0.apply(x), hadamard(16, seed=1).apply(x.T).T)
    assert not np.array_equal(hadamard(16, seed=1).signs, hadamard(16, seed=2).signs)
    np.testing.assert_array_equal(hadamard(16, seed=5).signs, np.where(formats.draw32_array(5, 16) & 1, -1.0, 1.0))


def test_bad_block_and_length():
    with pytest.raises(ValueError, match="power of two"):
        hadamard(24)
    with pytest.raises(ValueError, match="multiple of the block 16"):
        hadamard(16).apply(np.zeros(20))

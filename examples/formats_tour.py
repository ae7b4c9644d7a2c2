"""A tour of formats/: encode, decode, round, block formats and packing.

Run: python examples/formats_tour.py
"""
import numpy as np

import formats

x = np.array([0.1, -1.7, 3.3, 250.0, 1e-4], dtype=np.float32)
for name in ["int4", "fp4_e2m1", "posit8_0", "fp8_e4m3", "nf4"]:
    f = formats.get(name)
    print(f"{name:9s} codes {f.encode(x, overflow='saturate')}  values {f.quantize(x, overflow='saturate')}")

# every rounding mode on one value between two fp4 codes
f = formats.get("fp4_e2m1")
for mode in ["rne", "rna", "rtz", "rup", "rdn"]:
    print(mode, f.quantize(np.array([2.5, -2.5]), rounding=mode))
print("stochastic mean of 2.2:", f.quantize(np.full(100_000, 2.2), rounding="stochastic", seed=7).mean())

# MX: one E8M0 scale per 32 elements along the last axis
mx = formats.get("mxfp4")
w = np.random.default_rng(0).standard_normal((2, 64)).astype(np.float32)
blocks = mx.encode(w)
print("mxfp4 scales", blocks.scales, "max error", np.abs(mx.decode(blocks) - w).max())

# two fp4 codes per byte
packed = formats.pack(blocks.elements, 4)
assert np.array_equal(formats.unpack(packed, 4, blocks.elements.size).reshape(w.shape), blocks.elements)
print(f"{w.size} fp4 codes packed into {packed.size} bytes")

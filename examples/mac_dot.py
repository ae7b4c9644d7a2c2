"""The MAC engine's golden model on quantized data: a posit8 dot product, exact then rounded once.

Run: python examples/mac_dot.py
"""
import numpy as np

import formats
from sim import mac

rng = np.random.default_rng(1)
x, y = rng.standard_normal((2, 4, 256))
p8 = formats.get("posit8_0")
a, b = p8.encode(x), p8.encode(y)

e = mac.Engine(mode="posit8_0", lanes=4, accumulator="exact", readout="native")
out = e.dot(a, b)                                    # 4 dot products, one posit8 code each
exact = (p8.decode(a) * p8.decode(b)).sum(axis=-1)   # float64 of the same quantized operands
print("engine (posit8):", e.output_format.decode(out))
print("float64 of the quantized operands:", exact)
print("as FP32 readout:", mac.Engine(mode="posit8_0", readout="fp32").output_format.decode(
    mac.Engine(mode="posit8_0", readout="fp32").dot(a, b)))
print("cycles for these 4 rows on 4 lanes:", e.cycles(256, rows=4), "packed words per row:", e.pack(a).shape[-1])

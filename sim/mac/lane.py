"""One engine lane, driven cycle by cycle: the API a cocotb testbench follows.

>>> from sim import mac
>>> e = mac.Engine("int8")
>>> lane = e.lane()
>>> lane.clear()
>>> lane.step(0x0302, 0x0505)         # (2, 3) . (5, 5)
>>> lane.readout()                    # int32 code of 25
25

The lane holds the same state as the hardware register: ``clear()`` empties it
(sum 0, no special flags; MX: FP32 sum +0, no open block), ``step`` is one ACC
cycle (one word pair: k products, sub-word 0 first), ``readout()`` returns the
output code of the current state without changing it.  nvfp4: the CLEAR and READ
beats' operand words carry the FP32 tensor scales (low halves on CLEAR, high halves on
READ; ``sim.mac.tensor_scale.words``): ``clear(word_a, word_b)``, ``readout(word_a, word_b)``.  ``Engine.dot`` computes
the same numbers with vectorised kernels; the tests check both agree.
"""
from __future__ import annotations

import numpy as np

from . import kernels as KN
from . import tensor_scale as TS

__all__ = ["Lane"]


class Lane:
    """Cycle-level state of one lane of ``engine`` (see the module docstring)."""

    def __init__(self, engine):
        self.engine = engine
        self.clear()

    def clear(self, word_a=0, word_b=0) -> None:
        """CLEAR: sum to zero, special flags off, MX block counter to 0.  The operand words
        carry nothing, except in nvfp4: the low halves of the tensor scales S_A, S_B."""
        e = self.engine
        self._codes(word_a, "word_a")
        self._codes(word_b, "word_b")
        self.tscale_lo = (int(word_a), int(word_b))
        self.flags = 0
        self.steps = 0
        kind = "mx" if e.spec.mx else e._acc[0]
        self._kind = kind
        self.limbs = np.zeros(e.t.limbs, dtype=np.int64)
        self.acc = 0                      # fixed accumulator
        self.acc32 = np.float32(0.0)      # fp32 / MX accumulator
        self.parts = [np.float32(0.0), np.float32(0.0)]   # fp32, pipe 1: the partial sums
        self._limbs = np.zeros(KN.F32_LIMBS, dtype=np.int64)
        self.block_sum = 0                # MX: exact sum of the open block
        self.block_scales = None          # MX: scales latched at the block's first cycle

    def _codes(self, word, name):
        if isinstance(word, bool) or not isinstance(word, (int, np.integer)) or not 0 <= word <= 0xFFFF:
            raise ValueError(f"{name} must be a 16-bit word (0..0xFFFF), got {word!r}")
        w = self.engine.element_bits
        mask = (1 << w) - 1
        dt = self.engine.element_format.code_dtype
        return np.array([(int(word) >> (j * w)) & mask for j in range(self.engine.k)], dtype=dt)

    def step(self, word_a, word_b, scale_a=None, scale_b=None) -> None:
        """ACC: multiply the k sub-word pairs of one word pair and accumulate them.

        Block modes: ``scale_a``/``scale_b`` (E8M0 codes for MX, UE4M3 for nvfp4) are latched
        on the first cycle of each block (32 elements; nvfp4: 16) and ignored on its other cycles.
        """
        e = self.engine
        t = e.t
        ca = self._codes(word_a, "word_a")
        cb = self._codes(word_b, "word_b")
        kind = self._kind
        if kind == "mx":
            per_block = e.block // e.k
            if self.steps % per_block == 0:
                top = (1 << e.scale_format.bits) - 1
                for name, s in (("scale_a", scale_a), ("scale_b", scale_b)):
                    if s is None or isinstance(s, bool) or not 0 <= int(s) <= top:
                        raise ValueError(f"{name}: a {e.scale_format.name} code (0..{top}) is needed "
                                         f"on the first cycle of a block, got {s!r}")
                self.block_scales = (int(scale_a), int(scale_b))
            self.block_sum += int(KN.lane_small_sum(ca, cb, t.val))
            if (self.steps + 1) % per_block == 0:
                self._close_block()
        elif scale_a is not None or scale_b is not None:
            raise ValueError(f"mode {e.mode} takes no scales")
        elif kind == "exact":
            self.flags = int(KN.lane_exact(self.limbs, ca, cb, t.sig, t.sh, t.cls, t.sgn,
                                           np.int64(self.flags)))
        elif kind == "fixed":
            ib, fb = e._acc[1], e._acc[2]
            acc, fl = KN.lane_fixed(np.int64(self.acc), ca, cb, t.sig, t.sh, t.cls, t.sgn,
                                    2 * t.lsb + fb, ib + fb, np.int64(self.flags))
            self.acc, self.flags = int(acc), int(fl)
        elif e.fp32_partials == 2:
            i = self.steps % 2
            self.parts[i], fl = KN.fp32_word_add(np.float32(self.parts[i]), ca, cb, t.sig, t.sh, t.cls,
                                                  t.sgn, 2 * t.lsb, np.int64(self.flags), self._limbs)
            self.flags = int(fl)
        else:
            self.acc32 = KN.lane_fp32(np.float32(self.acc32), ca, cb, t.values)
        self.steps += 1

    def _close_block(self):
        e = self.engine
        sa, sb = self.block_scales
        self.acc32 = KN.lane_mx_block(np.float32(self.acc32), np.int64(self.block_sum), sa, sb,
                                      e._ssig, e._sexp, e._snan, 2 * e.t.lsb)
        self.block_sum = 0

    def readout(self, word_a=0, word_b=0) -> int:
        """READ: the output code of the current state (the state is not changed).  The
        operand words carry nothing, except in nvfp4: the high halves of S_A, S_B."""
        e = self.engine
        self._codes(word_a, "word_a")
        self._codes(word_b, "word_b")
        t = e.t
        kind = self._kind
        if kind == "fp32" and e.fp32_partials == 2:
            v, cls = KN.fp32_pair_read(np.float32(self.parts[0]), np.float32(self.parts[1]),
                                       np.int64(self.flags), self._limbs)
        elif kind in ("mx", "fp32"):
            acc32 = np.float32(self.acc32)
            per = e.block // e.k if kind == "mx" else 0
            if kind == "mx" and self.steps % per != 0:  # an open block is added at readout
                sa, sb = self.block_scales
                acc32 = KN.lane_mx_block(acc32, np.int64(self.block_sum), sa, sb,
                                         e._ssig, e._sexp, e._snan, 2 * t.lsb)
            if e.tensor_scale:
                ta = TS.from_words(self.tscale_lo[0], word_a, "tensor_scale_a (CLEAR/READ A words)")
                tb = TS.from_words(self.tscale_lo[1], word_b, "tensor_scale_b (CLEAR/READ B words)")
                vals, clss = TS.apply(np.array([acc32]), np.array([ta]), np.array([tb]))
                v, cls = vals[0], int(clss[0])
            else:
                v = np.float64(acc32)
                cls = 1 if np.isnan(v) else 2 if v == np.inf else 3 if v == -np.inf else 0
        elif kind == "exact":
            v = KN.limbs_to_f64(self.limbs.copy(), t.width, 2 * t.lsb)
            cls = int(KN.flags_class(np.int64(self.flags)))
        else:
            v = KN.i64_to_f64(np.int64(self.acc), -e._acc[2])
            cls = int(KN.flags_class(np.int64(self.flags)))
        return int(e.finish(np.array([v]), np.array([cls]))[0])

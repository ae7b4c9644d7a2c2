"""The SIMD MAC engine model: ``Engine`` (vectorised dot products, packing, timing).

See docs/mac.md for the semantics this code implements; the cycle-by-cycle
``Lane`` of ``sim.mac.lane`` follows the same rules one word pair at a time.
"""
from __future__ import annotations

import functools
import math

import numpy as np

import formats

from . import kernels as KN
from . import tensor_scale as TS
from .accumulator import ACCUMULATORS, FIXED_MAX_WIDTH, Accumulator
from .modes import MODES, mode_spec, scale_tables, tables

__all__ = ["Engine", "ACCUMULATORS", "READOUTS", "LATENCY", "LATENCIES", "PIPES", "FIXED_MAX_WIDTH",
           "FP32_PARTIALS"]

READOUTS = ("native", "fp32")
#: cycles from the READ issue to the result on the output, per accumulator kind: the pipelined
#: RTL's depth (docs/mac.md 3), the same in every mode so that back-to-back READs of different
#: modes never meet at the output
LATENCY = {"exact": 14, "fixed": 14, "fp32": 14, "mx": 14}
#: the RTL's pipeline settings (its ``PIPE`` parameter, ``Engine(pipe=...)``): 0 the pipeline
#: above, 1 the deep pipeline (the multiplier over two stages, one more READ stage before the
#: output; docs/mac.md 3)
PIPES = (0, 1)
#: ``LATENCY`` per pipeline setting; the results are the same, except the fp32 accumulator's
#: (``FP32_PARTIALS``)
LATENCIES = {0: LATENCY, 1: {"exact": 16, "fixed": 16, "fp32": 16, "mx": 16}}
#: the fp32 accumulator's rounding points per pipeline setting (docs/mac.md 4.2): 1, one FP32
#: register and one rounding per product (pipe 0); 2, two FP32 partial sums that take the words
#: in turn, one rounding per word, added exactly at READ (pipe 1)
FP32_PARTIALS = {0: 1, 1: 2}


def parse_accumulator(acc):
    """An accumulator spec in any accepted spelling -> ``"exact"``, ``"fp32"`` or
    ``("fixed", int_bits, frac_bits)`` (what ``Engine.accumulator`` holds).

    The parser is :meth:`sim.mac.Accumulator.parse`; this returns its ``engine_value``."""
    return Accumulator.parse(acc).engine_value


class Engine:
    """Bit-exact model of one SIMD MAC engine configuration.

    >>> from sim import mac
    >>> e = mac.Engine("posit8_0", lanes=4)
    >>> a = formats.get("posit8_0").encode([[1.0, 2.0, -0.5]])
    >>> b = formats.get("posit8_0").encode([[3.0, 0.25, 4.0]])
    >>> e.output_format.decode(e.dot(a, b))       # 3 + 0.5 - 2
    array([1.5])
    >>> e.pack(a), e.cycles(3, rows=8)             # 2 passes of (2 words + 2) + latency 14
    (array([[24640,   224]], dtype=uint16), 22)

    ``mode``: one of ``sim.mac.MODES``; ``lanes``: independent dot products per pass
    (timing only); ``accumulator``: ``"exact"`` (default), ``"fp32"`` or
    ``("fixed", int_bits, frac_bits)`` (or ``"fixed:I:F"``; MX modes: ``"exact"`` only,
    the block/FP32 scheme); ``readout``: ``"native"`` or ``"fp32"``; ``pipe``: the RTL's
    pipeline (``PIPES``: 0 default, 1 the deep pipeline), which sets ``latency`` and, with the
    fp32 accumulator, its rounding points (``FP32_PARTIALS``, docs/mac.md 4.2).
    """

    def __init__(self, mode="posit8_0", lanes=1, accumulator="exact", readout="native", pipe=0):
        self.spec = mode_spec(mode)
        if isinstance(pipe, bool) or pipe not in PIPES:
            raise ValueError(f"unknown pipeline setting pipe={pipe!r}; allowed: {', '.join(map(str, PIPES))}")
        #: the RTL pipeline this engine's timing models (``PIPES``)
        self.pipe = int(pipe)
        self.mode = self.spec.name
        if isinstance(lanes, bool) or not isinstance(lanes, (int, np.integer)) or lanes < 1:
            raise ValueError(f"lanes must be a positive integer, got {lanes!r}")
        self.lanes = int(lanes)
        acc = Accumulator.parse(accumulator)
        if self.spec.mx and acc.kind != "exact":
            raise ValueError(f"mode {self.mode} has one accumulator, 'exact' (exact block sums "
                             f"added into FP32); got {accumulator!r}")
        #: the parsed :class:`~sim.mac.Accumulator`
        self.acc = acc
        self.accumulator = acc.engine_value
        self._acc = (acc.kind, acc.int_bits, acc.frac_bits)
        if readout not in READOUTS:
            raise ValueError(f"unknown readout {readout!r}; allowed: {', '.join(READOUTS)}")
        self.readout = readout
        self.t = tables(self.mode)
        if self.t.values[0] != 0.0:
            raise ValueError(f"mode {self.mode}: element code 0 must be zero (it pads words)")
        fam = self.spec.family
        if readout == "fp32" or fam in ("float", "mx"):
            self._out = "fp32"
        else:
            self._out = "posit" if fam == "posit" else "int32"
        self.output_format = formats.get(self.spec.element.name if self._out == "posit" else self._out)
        if self.spec.mx:
            self._ssig, self._sexp, self._snan = scale_tables(self.mode)

    # --- description ---------------------------------------------------------------------
    @property
    def k(self) -> int:
        """Sub-words (elements) per 16-bit word."""
        return self.spec.k

    @property
    def element_bits(self) -> int:
        return self.spec.w

    @property
    def element_format(self):
        return self.spec.element

    @property
    def scale_format(self):
        """The block scale format: E8M0 (MX modes), UE4M3 (nvfp4), or None."""
        return self.spec.scale_format

    @property
    def block(self) -> int:
        """Elements per scale block (0 for modes without block scales)."""
        return self.spec.block

    @property
    def tensor_scale(self) -> bool:
        """Whether the mode takes FP32 per-tensor scales (nvfp4), applied at readout."""
        return self.spec.tensor_scale

    @property
    def latency(self) -> int:
        """Cycles from a READ issue to its result on the output."""
        return LATENCIES[self.pipe]["mx" if self.spec.mx else self._acc[0]]

    @property
    def fp32_partials(self) -> int:
        """fp32 accumulator: 1 (pipe 0: one FP32 register, rounded after every product) or 2
        (pipe 1: two FP32 partial sums taking the words in turn, rounded once per word, added
        exactly at READ); 0 for the other accumulators (docs/mac.md 4.2)."""
        return FP32_PARTIALS[self.pipe] if self._acc[0] == "fp32" and not self.spec.mx else 0

    @property
    def widths(self) -> dict:
        """The accumulator register: total ``width``, ``frac_bits``, ``int_bits`` (sign included).

        For MX modes this is the per-block exact register (32 products); the running
        sum is FP32.
        """
        if self._acc[0] == "fixed":
            return {"width": self._acc[1] + self._acc[2], "int_bits": self._acc[1],
                    "frac_bits": self._acc[2]}
        if self._acc[0] == "fp32":
            return {"width": 32, "int_bits": None, "frac_bits": None}
        return {"width": self.t.width, "int_bits": self.t.width - self.t.frac_bits,
                "frac_bits": self.t.frac_bits}

    def __repr__(self) -> str:
        return (f"Engine(mode={self.mode!r}, lanes={self.lanes}, accumulator={self.accumulator!r}, "
                f"readout={self.readout!r}" + (f", pipe={self.pipe})" if self.pipe else ")"))

    # --- timing ----------------------------------------------------------------------------
    def cycles(self, K: int, rows: int = 1) -> int:
        """Clock cycles for ``rows`` dot products of length ``K`` on this engine's lanes.

        ``ceil(rows / lanes) * (ceil(K / k) + 2) + latency``: per pass one CLEAR, one ACC
        per word pair and one READ issue cycle; passes issue back to back; the count
        ends with the cycle in which the last result is on the output.
        """
        for name, v in (("K", K), ("rows", rows)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"{name} must be a nonnegative integer, got {v!r}")
        if rows == 0:
            return 0
        passes = -(-int(rows) // self.lanes)
        return passes * (-(-int(K) // self.k) + 2) + self.latency

    # --- packing ---------------------------------------------------------------------------
    def pack(self, codes) -> np.ndarray:
        """Element codes (..., K) -> uint16 words (..., ceil(K/k)); sub-word j of a word is
        bits [j*w, (j+1)*w); the last word is padded with code 0 (zero)."""
        c = self.element_format.check_codes(codes)
        if c.ndim == 0:
            raise ValueError("pack needs codes with a last axis (..., K)")
        K = c.shape[-1]
        n = -(-K // self.k)
        pad = n * self.k - K
        c = c.astype(np.uint16)
        if pad:
            c = np.concatenate([c, np.zeros(c.shape[:-1] + (pad,), dtype=np.uint16)], axis=-1)
        c = c.reshape(c.shape[:-1] + (n, self.k))
        words = np.zeros(c.shape[:-1], dtype=np.uint16)
        for j in range(self.k):
            words |= c[..., j] << np.uint16(j * self.element_bits)
        return words

    def unpack(self, words, K: int | None = None) -> np.ndarray:
        """uint16 words (..., n) -> element codes (..., n*k), or (..., K) when K is given."""
        w = np.asarray(words)
        if w.dtype.kind not in "iu" or (w.size and (w.min() < 0 or w.max() > 0xFFFF)):
            raise ValueError("words must be integers in 0..0xFFFF")
        w = w.astype(np.uint16)
        mask = np.uint16((1 << self.element_bits) - 1)
        parts = [(w >> np.uint16(j * self.element_bits)) & mask for j in range(self.k)]
        codes = np.stack(parts, axis=-1).reshape(w.shape[:-1] + (w.shape[-1] * self.k,))
        codes = codes.astype(self.element_format.code_dtype)
        if K is not None:
            if not 0 <= K <= codes.shape[-1]:
                raise ValueError(f"K={K} is outside 0..{codes.shape[-1]} for {w.shape[-1]} words")
            codes = codes[..., :K]
        return codes

    # --- arithmetic ------------------------------------------------------------------------
    def _codes(self, x, name, fmt):
        arr = fmt.check_codes(x)
        if arr.ndim == 0:
            raise ValueError(f"{name} needs a last axis (..., K)")
        return arr

    def dot(self, a, b, scale_a=None, scale_b=None, tensor_scale_a=None,
            tensor_scale_b=None) -> np.ndarray:
        """Dot products over the last axis: (..., K) codes -> (...) output codes.

        Leading axes broadcast.  Block modes need ``scale_a``/``scale_b``: the block scale
        codes (E8M0 for MX, UE4M3 for nvfp4) of shape (..., ceil(K/block)); a last partial
        block is padded with zero elements.  nvfp4 also needs ``tensor_scale_a`` and
        ``tensor_scale_b``: positive finite float32 per-tensor scales (numbers, or arrays
        that broadcast to the leading shape), applied at readout (docs/mac.md 4.5).
        """
        fmt = self.element_format
        a = self._codes(a, "a", fmt)
        b = self._codes(b, "b", fmt)
        if a.shape[-1] != b.shape[-1]:
            raise ValueError(f"a and b need the same K (last axis), got {a.shape[-1]} and {b.shape[-1]}")
        K = a.shape[-1]
        lead = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
        dt = fmt.code_dtype
        R = math.prod(lead)
        A = np.ascontiguousarray(np.broadcast_to(a, lead + (K,)), dtype=dt).reshape(R, K)
        B = np.ascontiguousarray(np.broadcast_to(b, lead + (K,)), dtype=dt).reshape(R, K)
        t = self.t
        if self.tensor_scale:
            if tensor_scale_a is None or tensor_scale_b is None:
                raise ValueError(f"mode {self.mode} needs tensor_scale_a and tensor_scale_b "
                                 f"(positive finite float32 per-tensor scales)")
            TA = TS.check(tensor_scale_a, "tensor_scale_a")
            TB = TS.check(tensor_scale_b, "tensor_scale_b")
            try:
                TA = np.broadcast_to(TA, lead).reshape(R)
                TB = np.broadcast_to(TB, lead).reshape(R)
            except ValueError:
                raise ValueError(f"tensor_scale_a/tensor_scale_b of shapes {np.shape(TA)}, "
                                 f"{np.shape(TB)} do not broadcast to the leading shape {lead}") from None
        elif tensor_scale_a is not None or tensor_scale_b is not None:
            raise ValueError(f"mode {self.mode} takes no tensor scales (only nvfp4 does)")
        if self.spec.mx:
            if scale_a is None or scale_b is None:
                raise ValueError(f"mode {self.mode} needs scale_a and scale_b "
                                 f"({self.scale_format.name} codes, shape (..., ceil(K/{self.block})))")
            nb = -(-K // self.block)
            sf = self.scale_format
            sa = self._codes(scale_a, "scale_a", sf)
            sb = self._codes(scale_b, "scale_b", sf)
            for name, s in (("scale_a", sa), ("scale_b", sb)):
                if s.shape[-1] != nb:
                    raise ValueError(f"{name} needs {nb} scales on its last axis for K={K}, "
                                     f"got shape {s.shape}")
            SA = np.ascontiguousarray(np.broadcast_to(sa, lead + (nb,)), dtype=np.uint8).reshape(R, nb)
            SB = np.ascontiguousarray(np.broadcast_to(sb, lead + (nb,)), dtype=np.uint8).reshape(R, nb)
            out32 = np.empty(R, dtype=np.float32)
            if R:
                KN.dot_mx(A, B, SA, SB, t.val, self.block, self._ssig, self._sexp, self._snan,
                          2 * t.lsb, out32)
            if self.tensor_scale:
                vals, cls = TS.apply(out32, TA, TB)
            else:
                vals, cls = _split_f32(out32)
        else:
            if scale_a is not None or scale_b is not None:
                raise ValueError(f"mode {self.mode} takes no scales (only the block modes do)")
            vals = np.empty(R, dtype=np.float64)
            cls = np.zeros(R, dtype=np.int64)
            kind = self._acc[0]
            if R == 0:
                pass
            elif kind == "exact" and t.small:
                KN.dot_exact_small(A, B, t.val, t.cls, t.sgn, t.has_special, t.width,
                                   2 * t.lsb, vals, cls)
            elif kind == "exact" and self.element_bits <= 8:
                plo, phi = _pair_split(self.mode)
                KN.dot_exact_pairs(A, B, plo, phi, t.cls, t.sgn, t.has_special, self.element_bits,
                                   t.width, t.limbs, 2 * t.lsb, vals, cls)
            elif kind == "exact":
                KN.dot_exact_limbs(A, B, t.sig, t.sh, t.cls, t.sgn, t.width, t.limbs,
                                   2 * t.lsb, vals, cls)
            elif kind == "fixed":
                ib, fb = self._acc[1], self._acc[2]
                if self.element_bits <= 8:
                    KN.dot_fixed_pairs(A, B, self._fixed_table, t.cls, t.sgn, t.has_special,
                                       self.element_bits, self.k, ib + fb, -fb, vals, cls)
                else:
                        KN.dot_fixed(A, B, t.sig, t.sh, t.cls, t.sgn, self.k, 2 * t.lsb + fb, ib + fb,
                                 -fb, vals, cls)
            elif self.fp32_partials == 2:
                KN.dot_fp32_words(A, B, t.sig, t.sh, t.cls, t.sgn, self.k, 2 * t.lsb, vals, cls)
            else:
                out32 = np.empty(R, dtype=np.float32)
                KN.dot_fp32(A, B, t.values, out32)
                vals, cls = _split_f32(out32)
        return self.finish(vals, cls).reshape(lead)

    def finish(self, vals, cls) -> np.ndarray:
        """Readout: round the accumulator values (float64, exact or rounded to odd) once
        to the output format; class 1 (NaN) -> the output's NaN/NaR code, 2/3 -> ±Inf."""
        vals = np.asarray(vals, dtype=np.float64)
        cls = np.asarray(cls)
        fin = np.where(cls == 0, vals, 0.0)
        fmt = self.output_format
        codes = fmt.encode(fin, rounding="rne")
        if (cls != 0).any():
            if self._out == "fp32":
                special = {1: fmt.nan_code, 2: int(fmt.encode(np.inf)), 3: int(fmt.encode(-np.inf))}
            elif self._out == "posit":
                special = {1: fmt.nan_code, 2: fmt.nan_code, 3: fmt.nan_code}
            else:  # int32: unreachable (integer modes have no specials); saturate
                special = {1: 0, 2: int(fmt.encode(np.inf)), 3: int(fmt.encode(-np.inf))}
            for c, code in special.items():
                codes[cls == c] = code
        return codes

    @functools.cached_property
    def _fixed_table(self):
        """Truncated, clamped product of every code pair (fixed accumulator, <= 8-bit elements)."""
        ib, fb = self._acc[1], self._acc[2]
        out = np.empty(1 << (2 * self.element_bits), dtype=np.int64)
        KN.fixed_pair_table(self.t.sig, self.t.sh, 2 * self.t.lsb + fb, ib + fb, out)
        return out

    def lane(self):
        """A cycle-level :class:`~sim.mac.lane.Lane` of this engine (for testbenches)."""
        from .lane import Lane

        return Lane(self)


@functools.lru_cache(maxsize=None)
def _pair_split(mode):
    """Exact product V_a*V_b of every code pair split as hi * 2**32 + lo, lo in [0, 2**32)."""
    val = [int(v) for v in tables(mode).val]
    n = len(val)
    plo = np.empty(n * n, dtype=np.int64)
    phi = np.empty(n * n, dtype=np.int64)
    for a in range(n):
        for b in range(n):
            p = val[a] * val[b]
            plo[a * n + b] = p & 0xFFFFFFFF
            phi[a * n + b] = p >> 32
    return plo, phi


def _split_f32(out32):
    cls = np.zeros(out32.size, dtype=np.int64)
    cls[np.isnan(out32)] = 1
    cls[out32 == np.inf] = 2
    cls[out32 == -np.inf] = 3
    return out32.astype(np.float64), cls


def mode_table() -> list[dict]:
    """One row per mode: sub-words, element bits, exact accumulator widths, latency."""
    rows = []
    for m in MODES:
        e = Engine(m)
        t = e.t
        rows.append({"mode": m, "k": e.k, "w": e.element_bits, "element": e.element_format.name,
                     "lsb": t.lsb, "frac_bits": t.frac_bits, "int_bits": t.width - t.frac_bits,
                     "width": t.width, "output": e.output_format.name, "latency": e.latency})
    return rows


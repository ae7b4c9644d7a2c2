"""Simulation models of the hardware: ``sim.mac`` is the bit-exact golden model of the
SIMD MAC engine (and ``python -m sim.vectors`` exports its test vectors for rtl/ and
outside testbenches); ``sim.qat`` is the quantisation-aware-training path.

This package imports nothing heavy: ``from sim import mac`` needs only numpy and
numba (no torch); ``sim.qat`` is imported only when asked for.
"""

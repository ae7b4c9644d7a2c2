"""Slow, independent pure-Python references (exact arithmetic with fractions.Fraction).

One module per family.  They share nothing with the Numba kernels but the
format description objects, and they are the definition wherever the docs and
the kernels disagree.  Tests compare the kernels against them.
"""

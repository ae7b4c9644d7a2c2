"""Conformance of every format against the outside implementations installed beside it.

``python -m formats.conformance`` compares each format of ``formats`` with each outside
tool that implements the same format (ml_dtypes, torch casts, softposit, gfloat,
torchao MX/NVFP4, bitsandbytes NF4): decode of every code, encode of adversarial inputs
(values, ties and their neighbours, subnormal edges, overflow, specials, random inputs;
random and specially built blocks for block formats).  Each difference is classified by
a named rule whose predicate is checked on every differing input, or ``UNEXPLAINED``.
The report is ``reports/conformance.md``; the rules are in ``core``, ``scalar`` and ``blocks``.
"""
from .core import UNEXPLAINED, Row, classify, same  # noqa: F401

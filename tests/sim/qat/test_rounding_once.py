"""The rounding mode is parsed once, where it enters the QAT path, and passed down as a
formats.rounding.Rounding (issue 20: it was parsed three times per fake-quant call and
passed on as the raw string); the fake quantizer uses formats' public API only."""
from __future__ import annotations

import torch

from formats.rounding import Rounding
from sim.qat import fakequant, quant


def test_a_quantizer_holds_the_parsed_mode(monkeypatch):
    seen = []
    real = fakequant.parse_rounding
    monkeypatch.setattr(fakequant, "parse_rounding", lambda r: seen.append(r) or real(r))
    for fmt in ("int4", "fp4_e2m1", "posit8_0", "mxfp4"):
        q = quant.TensorQuantizer(fmt, rounding=" Stochastic ")
        assert q.rounding is Rounding.STOCHASTIC and "rounding=stochastic" in q.extra_repr()
        x = torch.linspace(-2, 2, 64).reshape(2, 32)
        q.train()
        q(x)
        q.eval()
        q(x)
        q.code_key(x)
    assert seen and all(isinstance(r, Rounding) for r in seen)   # no spelling reaches the kernels


def test_quantize_model_parses_at_the_edge():
    net = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    out = quant.quantize_model(net, "int8", "int8", rounding="RNE")
    rounds = [m.rounding for m in out.modules() if isinstance(m, quant.TensorQuantizer)]
    assert rounds and all(r is Rounding.RNE for r in rounds)

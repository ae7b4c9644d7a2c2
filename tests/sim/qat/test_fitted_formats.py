"""Fitted (weight-only) formats in the QAT/PTQ path: lutB_row (any4-style) and pick_..._gG."""
import numpy as np
import pytest
import torch

from dse.config import ConfigError
from dse.evaluate import check_runs, evaluate
from sim.qat import ptq, reference, workloads
from sim.qat.quant import quant_layers
from sim.qat.finetune import qat
from sim.qat.quantizer import TensorQuantizer

RUN = dict(method="ptq", dataset="digits", model="mlp", weights="lut4_row", acts="int8", rounding="rne",
           granularity="per-channel", quantize_first_last=True, seed=0)


@pytest.fixture(scope="module")
def wl_ref():
    wl = workloads.get("digits", "mlp")
    return wl, reference.get(wl, 0)


def test_ptq_lut_row_has_at_most_16_levels_per_output_channel(wl_ref):
    wl, ref = wl_ref
    p = ptq.prepare(wl, ref, weights="lut4_row", acts="int8")
    for _, m in quant_layers(p.model):
        w = m.quantized_weight().detach()
        assert max(len(torch.unique(row)) for row in w) <= 16
        assert w.dtype == torch.float32
    m = evaluate(RUN)
    assert m["metric"] > m["reference_metric"] - 0.05
    n = [(128, 64), (128, 128), (10, 128)]
    assert m["model_bits"] == sum(a * b * 4 + a * 16 * 32 for a, b in n) + 32 * (128 + 128 + 10)


def test_pick_format_runs_and_counts_its_storage():
    m = evaluate(dict(RUN, weights="pick_fp4_e2m1+fp4_e1m2+fp4_e3m0_g32"))
    n = [(128, 64), (128, 128), (10, 128)]
    assert m["model_bits"] == sum(a * b * 4 + (a * b // 32) * (32 + 2) for a, b in n) + 32 * (128 + 128 + 10)
    assert m["metric"] > 0.5


def test_qat_lr_gradients_reach_the_latent_weights(wl_ref):
    wl, ref = wl_ref
    r = qat(wl, ref, "lut4_row", "int8", schedule="lr-cosine", budget=0.02)
    assert np.isfinite(r["metric"]) and r["steps"] > 0
    moved = [not torch.equal(m.weight, ref_w) for (_, m), ref_w in
             zip(quant_layers(r["model"]), [p for n, p in ref.model(wl).named_parameters() if n.endswith("weight")])]
    assert any(moved)


@pytest.mark.parametrize("change, needle", [
    (dict(acts="lut4_row"), "weight-only"),
    (dict(rounding="stochastic"), "round to nearest only"),
    (dict(method="qat", schedule="tr-cosine", tr0=0.02), "lr-\\* schedule"),
])
def test_refused_before_any_work(change, needle):
    with pytest.raises(ConfigError, match=needle):
        check_runs([dict(RUN, **change)])


def test_quantizer_refuses_tr_codes_and_other_roundings():
    with pytest.raises(ValueError, match="rounds to nearest only"):
        TensorQuantizer("lut4_row", rounding="rtz")
    q = TensorQuantizer("lut4_row")
    with pytest.raises(ValueError, match="no fixed grid"):
        q.code_key(torch.randn(4, 8))

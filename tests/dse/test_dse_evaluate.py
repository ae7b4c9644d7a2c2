"""dse.evaluate's contract with the sweep: the ptq/qat methods, the reference row, check_runs."""
import pytest

from dse.config import ConfigError
from dse.evaluate import check_runs, evaluate

RUN = dict(method="ptq", dataset="digits", model="mlp", weights="int4", acts="int4", rounding="rne",
           granularity="per-channel", schedule="lr-cosine", tr0=0.02, quantize_first_last=True, seed=0,
           epochs=4, batch_size=64, optimizer="sgd", lr=0.05)


def test_ptq_point_and_reference_row_carry_the_contract_keys():
    ref = evaluate(dict(RUN, weights="fp32", acts="fp32"))
    got = evaluate(RUN)
    for m in (ref, got):
        assert m["metric_name"] == "accuracy" and m["higher_is_better"] is True
        assert m["accuracy"] == m["metric"] and m["reference_metric"] == ref["metric"]
        assert m["n_params"] == 64 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10
        assert m["macs_per_inference"] == 64 * 128 + 128 * 128 + 128 * 10
        assert m["act_elements"] == [64, 128, 128] and m["workload"] == "digits/mlp"
    assert ref["model_bits"] == 32 * ref["n_params"] and ref["act_formats"] == {}
    assert got["model_bits"] == 4 * (64 * 128 + 128 * 128 + 1280) + 32 * (128 + 128 + 10) * 2
    assert got["act_formats"] == {"net.1": "uint4", "net.3": "uint4", "net.5": "uint4"}
    assert evaluate(dict(RUN, method="qat", weights="fp32", acts="fp32"))["metric"] == ref["metric"]


def test_qat_point_records_its_learning_curve():
    m = evaluate(dict(RUN, method="qat", schedule="tr-cosine", budget=0.05))
    assert m["steps"] == 60 and len(m["curve"]["calib_metric"]) == 5 and m["loss"] == m["curve"]["train_loss"][-1]


@pytest.mark.parametrize("change,needle", [
    ({"method": "ppq"}, "method"), ({"dataset": "pytext", "model": "mlp"}, "pytext/tinylm"),
    ({"weights": "int4", "granularity": "per-block"}, "per-block"), ({"weights": "mxfp4"}, "per-block"),
    ({"method": "qat", "weights": "fp32", "schedule": "tr-cosine"}, "TR"),
    ({"method": "qat", "budget": 1.5}, "budget"), ({"unsigned_acts": "yes"}, "unsigned_acts"),
    ({"weights": "int99"}, "int99"),
])
def test_check_runs_names_the_bad_value(change, needle):
    with pytest.raises(ConfigError, match=needle):
        check_runs([dict(RUN, **change)])


def test_keys_that_do_not_apply_take_their_defaults():
    """dse.space writes None for keys a point does not use and "recipe" for the workload's values."""
    ref = dict(RUN, weights="fp32", acts="fp32", rounding=None, granularity=None, quantize_first_last=None,
               unsigned_acts=None, schedule=None, tr0=None, budget=None, finetune_lr=None)
    check_runs([ref])
    assert evaluate(ref)["metric"] == evaluate(dict(RUN, weights="fp32", acts="fp32"))["metric"]
    q = dict(RUN, method="qat", schedule="lr-cosine", tr0=None, budget="recipe", finetune_lr="recipe")
    check_runs([q])
    p = dict(RUN, schedule=None, tr0=None, budget=None, finetune_lr=None)
    assert evaluate(p)["metric"] == evaluate(RUN)["metric"]

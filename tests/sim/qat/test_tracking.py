"""The tracking diagnostic of TR runs (issue 16 item 2): the error's definition, the train CLI's
verdict on a short and a long run, and the record finetune.qat keeps."""
import math

import pytest

from sim.qat import reference, workloads
from sim.qat.finetune import qat
from sim.qat.tracking import TRACKING_WINDOW, smoothed_target, tracking_error
from sim.qat.train import TrainConfig, main, train


def test_tracking_error_definition():
    assert TRACKING_WINDOW == (0.10, 0.75)
    m = 0.5
    R = [0.02] * 10 + [0.01] * 10
    rt = smoothed_target(R, m)
    assert rt[0] == pytest.approx(0.01) and rt[1] == pytest.approx(0.015) and rt[10] == pytest.approx(0.5 * rt[9] + 0.005)
    # K equal to the smoothed target: no error, whatever the lag of the running average
    assert tracking_error(rt, R, m) == 0.0
    # steps 2..14 count (10 % .. 75 % of 20); K 10 % above the smoothed target there
    K = [x * 1.1 for x in rt]
    assert tracking_error(K, R, m) == pytest.approx(0.1)
    K2 = list(rt)
    K2[0] = K2[1] = 5.0   # the first 10 % does not count
    K2[15:] = [9.0] * 5   # nor the last 25 %
    assert tracking_error(K2, R, m) == 0.0
    K3 = list(rt)
    K3[7] = rt[7] * 3     # one step of 13 in the window is 200 % off
    assert tracking_error(K3, R, m) == pytest.approx(2.0 / 13)
    assert math.isnan(tracking_error([0.1] * 9, [0.1] * 9, m))       # too short to judge
    assert math.isnan(tracking_error([0.1] * 20, [0.0] * 20, m))     # no target to track


def test_short_tr_run_is_reported_as_not_tracking_and_a_long_one_as_tracking(capsys):
    assert main(["--weights", "int4", "--acts", "int4", "--schedule", "tr-cosine", "--dataset", "digits",
                 "--epochs", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "TR tracking error, mean |K - R~| / R~ over steps 10-75 %" in out and "NOT TRACKED" in out
    res = train(TrainConfig(dataset="digits", weights="int4", acts="int4", schedule="tr-cosine", epochs=20,
                            batch_size=16))
    assert res.tracked is True and max(res.tracking.values()) <= 0.25
    assert set(res.tracking) == set(res.traces["K"])


def test_finetune_records_tracking():
    wl = workloads.get("digits", "mlp")
    r = qat(wl, reference.get(wl, 0), "int4", "int4", schedule="tr-cosine", budget=0.05)
    assert set(r["tr_tracking"]) and isinstance(r["tr_tracked"], bool)
    assert all(e >= 0 for e in r["tr_tracking"].values())
    lr = qat(wl, reference.get(wl, 0), "int4", "int4", schedule="lr-cosine", budget=0.02)
    assert "tr_tracking" not in lr

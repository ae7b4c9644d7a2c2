"""Quantization-aware training on the project's number formats, with transition-rate scheduling.

The QAT path tells the design-space sweep what a number format does to a
network's accuracy.  Every quantizer's forward value comes from
``formats.torch`` (bit-exact with ``formats``); this package adds the scaling,
the straight-through estimator, the quantized layers, TR scheduling (Lee et
al., arXiv 2404.19248), two small models, two locally made datasets and the
training harness.

==================  ===============================================================
:mod:`.quant`       one import for :mod:`.quantizer` (``FakeQuantSTE``, ``TensorQuantizer``)
                    and :mod:`.layers` (``QuantLinear``/``QuantConv2d``, ``quantize_model``)
:mod:`.scaling`     per-tensor / per-channel scales, MSE init, LSQ, fixed, power of two
:mod:`.tr`          TR measurement, running TR, TALR, ``SGDT``/``AdamT``/``AdamWT``; with
                    :mod:`.tr_schedules`:
                    target schedules (``CosineTR``, ``StepTR``, ``LinearTR``, ``ConstantTR``)
:mod:`.export`      ``export_model``: layers as ``formats`` codes + scales (what sim/mac
                    and rtl/ run)
:mod:`.models`      ``MLP``, ``SmallCNN``, MAC counting
:mod:`.tinylm`      ``TinyLM``: byte-level decoder-only pre-LN transformer
:mod:`.data`        scikit-learn digits, MNIST-1D generated locally and cached
:mod:`.corpus`      ``pytext``: the running interpreter's stdlib source, split by path hash
:mod:`.workloads`   ``Workload`` protocol; built-ins digits/mlp, mnist1d/cnn, pytext/tinylm
:mod:`.reference`   converged FP32 references per (workload, seed): shipped, cached or
                    trained; ``python -m sim.qat.reference``
:mod:`.ptq`         post-training quantization (calibrated scales, unsigned activations)
:mod:`.finetune`    QAT from the reference with LR or TR schedules, learning curve
:mod:`.workload_r…` ``python -m sim.qat.workload_report``: FP32/PTQ/QAT table
:mod:`.train`       ``train`` and ``python -m sim.qat.train``; ``TrainConfig`` and
                    ``TrainResult`` from :mod:`.trainconfig`
:mod:`.study`       ``python -m sim.qat.study``: LR vs TR scheduling at 2-4 bits
:mod:`.bench`       ``python -m sim.qat.bench``: step time quantized vs FP32, TR overhead
==================  ===============================================================

Example::

    from sim.qat.train import TrainConfig, train
    res = train(TrainConfig(dataset="digits", weights="int4", acts="int4", schedule="tr-cosine"))
    print(res.test_accuracy, res.weight_bits, res.traces["K"].keys())

Importing this package needs torch; the submodules are imported on use.
"""

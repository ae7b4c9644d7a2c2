"""Design-space exploration: which number format, rounding and schedule pays off.

A sweep is a pure function plus a cache.  A TOML config (:mod:`dse.config`, the
embedded ``dse/default.toml``) names the axes of the design space
(:mod:`dse.space`): workloads, each with its converged FP32 reference per seed,
and methods (PTQ of the reference, or QAT from it).  Every design point is
evaluated over several seeds by :func:`dse.evaluate.evaluate`, a pure function of
the run's config, and read as its paired difference to the same seeds' FP32
reference, with a 95 % interval (:mod:`dse.stats`); results are cached on disk (:mod:`dse.cache`) under a hash of
the config and the code version; executors (:mod:`dse.executors`: this process,
a local process pool, Dask) only decide where ``evaluate`` runs.  The results
table (:mod:`dse.results`), its Pareto fronts (:mod:`dse.pareto`) and the
report (:mod:`dse.report`) are functions of the cache and the measured cost
table (:mod:`dse.costs`) alone.  ``--search nsga2`` (:mod:`dse.search`) replaces
the grid with Optuna's NSGA-II.

Run the default sweep::

    python -m dse.sweep                       # report in out/sweep/report/summary.md

or from Python::

    from dse import config, sweep
    cfg = config.load(overrides=["workload=digits/mlp", "weights=int4,posit4_1", "seeds=0,1,2",
                                 "output=out/quick"])
    outcome = sweep.run(cfg)
    outcome.table[["method", "weights", "metric_mean", "delta_mean", "delta_ci_low", "delta_ci_high", "verdict"]]

The config format is documented in ``docs/sweep.md``.
"""

"""Adaptive search (``--search nsga2``): Optuna's NSGA-II in place of the full grid.

Every axis of ``[space]`` with more than one value becomes a categorical parameter;
each trial is one design point, evaluated over the config's seeds through the same
executors and cache as the grid (a point proposed twice costs nothing the second
time).  The objectives are those of :func:`dse.pareto.objectives`: accuracy up,
energy per inference down, area down once the engine's costs are measured, else
accuracy up, memory energy down, model bits down.  A point whose objectives are
NaN (it failed) is told to Optuna as a failed trial.

The study lives in a journal file in the output folder (``nsga2.journal``), named
by a hash of the space, seeds and objectives, so rerunning the same command
resumes it: finished trials are kept, trials that were in flight when the sweep
was killed are evaluated again (from the cache where their runs finished), and the
search stops when ``trials`` trials are finished.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

__all__ = ["run_search", "study_name"]


def study_name(space: dict, seeds, objs) -> str:
    blob = json.dumps({"space": space, "seeds": list(seeds), "objectives": objs}, sort_keys=True)
    return "nsga2-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def _storage(folder: Path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(folder / "nsga2.journal")))


def run_search(space: dict, seeds, objs, trials: int, folder, evaluate_points, batch: int = 1,
               seed: int = 0) -> list[dict]:
    """Run (or resume) the NSGA-II study; return the design points of all its trials.

    ``evaluate_points(points) -> rows``: evaluates points (through the cache) and
    returns their table rows (dicts holding the objective columns).
    """
    import optuna
    from optuna.distributions import CategoricalDistribution
    from optuna.trial import TrialState

    from .space import resolve

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    axes = {k: v for k, v in space.items() if len(v) > 1}
    fixed = {k: v[0] for k, v in space.items() if len(v) == 1}
    dists = {k: CategoricalDistribution(v) for k, v in axes.items()}
    sampler = optuna.samplers.NSGAIISampler(population_size=max(4, min(50, trials // 3)), seed=seed)
    study = optuna.create_study(
        study_name=study_name(space, seeds, objs), storage=_storage(Path(folder)), sampler=sampler,
        directions=["maximize" if d == "max" else "minimize" for _, d in objs], load_if_exists=True,
    )

    def point_of(params):
        return resolve({**fixed, **{k: params[k] for k in axes}})

    def finished():
        return sum(t.state in (TrialState.COMPLETE, TrialState.FAIL) for t in study.get_trials(deepcopy=False))

    # trials left in flight by a killed sweep are evaluated first
    pending = [t.number for t in study.get_trials(deepcopy=False) if t.state == TrialState.RUNNING]
    while finished() < trials:
        want = min(batch, trials - finished()) - len(pending)
        asked = [study.ask(dists) for _ in range(max(0, want))]
        numbers = pending + [t.number for t in asked]
        pending = []
        by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
        points = [point_of(by_number[n].params) for n in numbers]
        rows = evaluate_points(points)
        for number, row in zip(numbers, rows):
            values = [float(row[col]) for col, _ in objs]
            if any(math.isnan(v) for v in values):
                study.tell(number, state=TrialState.FAIL)
            else:
                study.tell(number, values)
    seen = {}
    for t in study.get_trials(deepcopy=False):
        if t.state in (TrialState.COMPLETE, TrialState.FAIL):
            p = point_of(t.params)
            seen[json.dumps(p, sort_keys=True)] = p
    return list(seen.values())

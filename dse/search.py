"""Adaptive search (``--search nsga2``): Optuna's NSGA-II in place of the full grid.

Every axis of ``[space]`` with more than one value becomes a categorical parameter;
each trial is one design point, evaluated over the config's seeds through the same
executors and cache as the grid.  The objectives are those of
:func:`dse.pareto.objectives`: accuracy up, energy per inference down, area down
once the engine's costs are measured, else accuracy up, memory energy down, model
bits down.  A point whose objectives are NaN (it failed) is told to Optuna as a
failed trial.

``trials`` counts distinct design points.  When NSGA-II proposes a point the study
has already evaluated, the trial is told that point's values (nothing is evaluated
again) and does not count; the search ends when ``trials`` distinct points are
finished, or every point of the grid is, whichever is fewer.  The population size
depends on the space only (a tenth of the grid's points, 4 to 50), never on
``trials``, so a longer search extends a shorter one.

The study lives in a journal file in the output folder (``nsga2.journal``), named
by a hash of the space, seeds and objectives, and everything NSGA-II decides from
is in that journal: its generations and parents are read back from the stored
trials, and the random draws of trial *n* come from a generator seeded by
``(seed, n)``, not from a generator that starts over with each process.  So
rerunning the same command resumes the study where it stopped, and rerunning it
with more ``--trials`` extends it: ``--trials 3`` then ``--trials 6`` proposes the
same six points as one run of ``--trials 6`` (with one point in flight at a time;
with a batch of ``--workers`` points the same holds when both runs use the same
batch).  Trials left in flight by a killed sweep are evaluated first (from the
cache where their runs finished).
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


def population_size(space: dict) -> int:
    """NSGA-II's population for ``space``: a tenth of its grid points, at least 4, at most 50."""
    return max(4, min(50, math.prod(len(v) for v in space.values()) // 10))


def run_search(space: dict, seeds, objs, trials: int, folder, evaluate_points, batch: int = 1,
               seed: int = 0) -> list[dict]:
    """Run, resume or extend the NSGA-II study; return the distinct design points of its trials.

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
    pop = population_size(space)
    study = optuna.create_study(
        study_name=study_name(space, seeds, objs), storage=_storage(Path(folder)),
        sampler=optuna.samplers.NSGAIISampler(population_size=pop, seed=seed),
        directions=["maximize" if d == "max" else "minimize" for _, d in objs], load_if_exists=True,
    )
    goal = min(trials, math.prod(len(v) for v in axes.values()))

    def key(params):
        return json.dumps({k: params[k] for k in axes}, sort_keys=True)

    def done() -> dict:
        """key -> (state, values) of every distinct point the study has finished."""
        out = {}
        for t in study.get_trials(deepcopy=False):
            if t.state in (TrialState.COMPLETE, TrialState.FAIL):
                out.setdefault(key(t.params), (t.state, t.values))
        return out

    def ask():
        # the draws of trial n depend on (seed, n) only: a resumed study continues as one run would
        n = len(study.get_trials(deepcopy=False))
        study.sampler = optuna.samplers.NSGAIISampler(population_size=pop, seed=(seed * 1_000_003 + n) % 2**32)
        return study.ask(dists)

    def tell(number, state, values):
        if state == TrialState.FAIL:
            study.tell(number, state=TrialState.FAIL)
        else:
            study.tell(number, values)

    # trials left in flight by a killed sweep are evaluated first
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    pending = [(n, by_number[n].params) for n, t in by_number.items() if t.state == TrialState.RUNNING]
    while len(finished := done()) < goal:
        batch_points, twins, repeats = {}, [], 0   # key -> (number, params); (number, key) proposed twice
        for number, params in pending:
            k = key(params)
            if k in finished:
                tell(number, *finished[k])
            elif k in batch_points:
                twins.append((number, k))
            else:
                batch_points[k] = (number, params)
        pending = []
        while len(batch_points) < min(batch, goal - len(finished)) and repeats <= 100 * pop:
            trial = ask()
            k = key(trial.params)
            if k in finished:          # a point already evaluated: its values again, no count
                tell(trial.number, *finished[k])
                repeats += 1
            elif k in batch_points:    # proposed twice in one batch: evaluated once, told twice
                twins.append((trial.number, k))
                repeats += 1
            else:
                batch_points[k] = (trial.number, trial.params)
        if not batch_points:
            break                      # NSGA-II keeps proposing evaluated points: stop
        rows = evaluate_points([resolve({**fixed, **{a: p[a] for a in axes}}) for _, p in batch_points.values()])
        told = {}
        for (k, (number, _)), row in zip(batch_points.items(), rows):
            values = [float(row[col]) for col, _ in objs]
            told[k] = (TrialState.FAIL, None) if any(math.isnan(v) for v in values) else (TrialState.COMPLETE, values)
            tell(number, *told[k])
        for number, k in twins:
            tell(number, *told[k])
    seen = {}
    for t in study.get_trials(deepcopy=False):
        if t.state in (TrialState.COMPLETE, TrialState.FAIL):
            p = resolve({**fixed, **{k: t.params[k] for k in axes}})
            seen[json.dumps(p, sort_keys=True)] = p
    return list(seen.values())

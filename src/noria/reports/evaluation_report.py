"""The HTML evaluation report of a model: metrics with intervals beside the baseline, curves,
calibration, slices, weak segments, fairness, importance and partial dependence.

:func:`render_evaluation_report` takes the dict of
:meth:`noria.evaluate.evaluation.Evaluation.to_dict` (or the record) and returns one
self-contained page: no script, nothing from the network, plots drawn by matplotlib as inline
SVG (text kept as text), the confusion matrix as a shaded table. :func:`write_evaluation_report`
writes it atomically.

Not here: computing any figure (:mod:`noria.evaluate`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from noria.reports.data_report import fmt, inline_svg, template, write_page

__all__ = ["render_evaluation_report", "write_evaluation_report"]

_TEMPLATE = "evaluation_report.html.j2"
_MODEL, _BASE, _MARK = "#4a78b5", "#9e9e9e", "#c62828"
_COLORS = ("#4a78b5", "#e07b39", "#2e7d32", "#8e44ad", "#c62828", "#00838f", "#6d4c41")


def _axes(width: float = 3.4, height: float = 2.6) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=72)
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _finish(fig: Any, ax: Any, xlabel: str, ylabel: str, legend: bool = True) -> str:
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6.5, frameon=False)
    return _svg(fig)


def _svg(fig: Any) -> str:
    """The figure as inline SVG without matplotlib's RDF metadata block (bytes, no use)."""
    return re.sub(r"<metadata>.*?</metadata>\s*", "", inline_svg(fig), flags=re.S)


def _nums(values: Sequence[Any]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def _curves_svg(entries: list[dict[str, Any]], x: str, y: str, kind: str) -> str:
    fig, ax = _axes()
    for i, entry in enumerate(entries):
        area = entry.get("auc") if kind == "roc" else entry.get("ap")
        label = f"{entry['class']} ({'AUC' if kind == 'roc' else 'AP'} {fmt(area)})"
        ax.plot(_nums(entry[x]), _nums(entry[y]), color=_COLORS[i % 7], lw=1.4, label=label)
    if kind == "roc":
        ax.plot([0, 1], [0, 1], color=_BASE, lw=0.8, ls="--", label="chance")
        return _finish(fig, ax, "false-positive rate", "true-positive rate")
    if len(entries) == 1:
        ax.axhline(entries[0]["base_rate"], color=_BASE, lw=0.8, ls="--", label="base rate")
    return _finish(fig, ax, "recall", "precision")


def _calibration_svg(cal: Mapping[str, Any]) -> str:
    fig, ax = _axes()
    ax.plot([0, 1], [0, 1], color=_BASE, lw=0.8, ls="--", label="perfect")
    ax.plot(_nums(cal["predicted"]), _nums(cal["observed"]), marker="o", ms=3, color=_MODEL,
            lw=1.2, label=f"model (ECE {fmt(cal['ece'])})")  # fmt: skip
    return _finish(fig, ax, f"predicted {cal['of']}", "observed rate")


def _threshold_svg(th: Mapping[str, Any]) -> str:
    fig, ax = _axes(4.2, 2.6)
    for i, key in enumerate(("precision", "recall", "f1", "accuracy")):
        ax.plot(_nums(th["threshold"]), _nums(th[key]), lw=1.2, color=_COLORS[i], label=key)
    ax.axvline(th["chosen"], color=_MARK, lw=1, ls=":", label=f"threshold {fmt(th['chosen'])}")
    return _finish(fig, ax, "decision threshold", "metric")


def _gain_svg(gain: Mapping[str, Any]) -> str:
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(5.6, 2.4), dpi=72)
    share = _nums(gain["share"])
    left.plot(share, _nums(gain["gain"]), color=_MODEL, lw=1.4, label="model")
    left.plot([0, 1], [0, 1], color=_BASE, lw=0.8, ls="--", label="random")
    left.set_xlabel("share of rows, by score", fontsize=8)
    left.set_ylabel("share of positives found", fontsize=8)
    right.plot(share[1:], _nums(gain["lift"])[1:], color=_MODEL, lw=1.4)
    right.axhline(1.0, color=_BASE, lw=0.8, ls="--")
    right.set_xlabel("share of rows, by score", fontsize=8)
    right.set_ylabel("lift", fontsize=8)
    for ax in (left, right):
        ax.tick_params(labelsize=7)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    left.legend(fontsize=6.5, frameon=False)
    return _svg(fig)


def _scatter_svg(xs: list[float], ys: list[float], xlabel: str, ylabel: str, line: str) -> str:
    fig, ax = _axes()
    ax.scatter(_nums(xs), _nums(ys), s=3, color=_MODEL, alpha=0.5, linewidths=0)
    known = [v for v in _nums(xs) + _nums(ys) if v == v]
    if line == "diagonal" and known:
        lo, hi = min(known), max(known)
        ax.plot([lo, hi], [lo, hi], color=_MARK, lw=0.8, ls="--")
    elif line == "zero":
        ax.axhline(0, color=_MARK, lw=0.8, ls="--")
    return _finish(fig, ax, xlabel, ylabel, legend=False)


def _hist_svg(counts: list[int], edges: list[float]) -> str:
    fig, ax = _axes()
    e = _nums(edges)
    ax.bar(e[:-1], counts, width=[b - a for a, b in itertools.pairwise(e)],
           align="edge", color=_MODEL, edgecolor="white", linewidth=0.3)  # fmt: skip
    ax.axvline(0, color=_MARK, lw=0.8, ls="--")
    return _finish(fig, ax, "residual (predicted − actual)", "rows", legend=False)


def _by_quantile_svg(rows: list[dict[str, Any]]) -> str:
    fig, ax = _axes(4.2, 2.6)
    xs = list(range(1, len(rows) + 1))
    mae = _nums([r["mae"] for r in rows])
    low = [m - lo if lo is not None else 0 for m, lo in zip(mae, (r["mae_low"] for r in rows),
                                                           strict=True)]  # fmt: skip
    high = [hi - m if hi is not None else 0 for m, hi in zip(mae, (r["mae_high"] for r in rows),
                                                            strict=True)]  # fmt: skip
    ax.bar(xs, mae, color=_MODEL, yerr=[low, high], error_kw={"lw": 0.8}, label="MAE")
    ax.plot(xs, _nums([r["mean_residual"] for r in rows]), color=_MARK, marker="o", ms=3,
            lw=1, label="mean residual")  # fmt: skip
    ax.axhline(0, color=_BASE, lw=0.6)
    return _finish(fig, ax, "decile of the target (1 = lowest)", "error")


def _importance_svg(features: list[dict[str, Any]], metric: str) -> str:
    top = features[:15][::-1]
    fig, ax = _axes(4.2, 0.35 + 0.2 * len(top))
    ax.barh([f["feature"][:28] for f in top], [f["importance"] for f in top],
            xerr=[f["std"] for f in top], color=_MODEL, error_kw={"lw": 0.8})  # fmt: skip
    ax.tick_params(labelsize=6.5)
    worse = "rise" if metric == "rmse" else "drop"
    return _finish(fig, ax, f"{worse} of {metric} when shuffled", "", legend=False)


def _pd_svg(entry: Mapping[str, Any]) -> str:
    fig, ax = _axes(3.0, 2.2)
    grid = entry["grid"]
    xs = grid if entry["kind"] == "numeric" else list(range(len(grid)))
    for i, (name, values) in enumerate(entry["curves"].items()):
        ax.plot(xs, _nums(values), marker="o", ms=2.5, lw=1.2, color=_COLORS[i % 7], label=name)
    if entry["kind"] != "numeric":
        ax.set_xticks(xs)
        ax.set_xticklabels([str(g)[:10] for g in grid], rotation=30, fontsize=6)
    ylabel = "mean prediction" if "prediction" in entry["curves"] else "mean probability"
    return _finish(fig, ax, entry["feature"], ylabel, legend=len(entry["curves"]) > 1)


def _charts(ev: Mapping[str, Any]) -> dict[str, str]:
    d = ev["details"]
    charts: dict[str, str] = {}
    if ev["task"] == "classification":
        if d.get("roc"):
            charts["roc"] = _curves_svg(d["roc"], "fpr", "tpr", "roc")
            charts["pr"] = _curves_svg(d["pr"], "recall", "precision", "pr")
        if d.get("calibration"):
            charts["calibration"] = _calibration_svg(d["calibration"])
        if d.get("thresholds"):
            charts["thresholds"] = _threshold_svg(d["thresholds"])
        if d.get("gain"):
            charts["gain"] = _gain_svg(d["gain"])
    else:
        sample = d["sample"]
        charts["actual"] = _scatter_svg(sample["actual"], sample["predicted"], "actual",
                                        "predicted", "diagonal")  # fmt: skip
        residuals = [p - a for a, p in zip(_nums(sample["actual"]), _nums(sample["predicted"]),
                                           strict=True)]  # fmt: skip
        charts["residuals"] = _scatter_svg(sample["predicted"], residuals, "predicted",
                                           "residual", "zero")  # fmt: skip
        charts["histogram"] = _hist_svg(d["residuals"]["counts"], d["residuals"]["edges"])
        charts["by_quantile"] = _by_quantile_svg(d["by_target_quantile"])
    imp = ev.get("importance") or {}
    if imp.get("features"):
        charts["importance"] = _importance_svg(imp["features"], imp["metric"])
    return charts


def _shade(value: float) -> str:
    """A background from white to the model's blue for a share in [0, 1]."""
    v = max(0.0, min(1.0, value))
    r, g, b = (int(255 - (255 - c) * v * 0.85) for c in (0x4A, 0x78, 0xB5))
    return f"#{r:02x}{g:02x}{b:02x}"


def render_evaluation_report(evaluation: Any, *, title: str | None = None) -> str:
    """The report as one HTML string.

    Args:
        evaluation: an :class:`~noria.evaluate.evaluation.Evaluation` or its ``to_dict()``.
        title: the page title (``Evaluation — MODEL`` by default).
    """
    ev = evaluation if isinstance(evaluation, Mapping) else evaluation.to_dict()
    d = ev["details"]
    confusion = None
    if ev["task"] == "classification":
        confusion = [
            [(count, share, _shade(share)) for count, share in zip(row, shares, strict=True)]
            for row, shares in zip(d["confusion"], d["confusion_normalised"], strict=True)
        ]
    slices: dict[str, list[dict[str, Any]]] = {}
    for row in ev["slices"]:
        slices.setdefault(row["column"], []).append(row)
    return template(_TEMPLATE).render(
        title=title or f"Evaluation — {ev['model']}",
        ev=ev,
        d=d,
        confusion=confusion,
        charts=_charts(ev),
        pd_charts=[(p["feature"], _pd_svg(p)) for p in ev.get("partial_dependence") or []],
        slices=slices,
        fmt=fmt,
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
    )


def write_evaluation_report(path: str | Path, evaluation: Any, **kw: Any) -> Path:
    """Write :func:`render_evaluation_report` to ``path`` (atomically); returns the path."""
    return write_page(path, render_evaluation_report(evaluation, **kw))

"""The HTML monitor report: windows, drift per column with plots, data quality, live metrics.

One self-contained file that opens offline: a table of the monitored windows, for the newest
window of the pass the drift of every column (test, statistic, threshold, null rates) with the
reference and current distributions of the drifted columns drawn side by side, its failed data
checks, and the live metrics per window and version with a plot of the main one over time.
Plots are matplotlib SVGs inlined in the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from noria.reports.data_report import inline_svg, template, write_page

__all__ = ["render_monitor_report", "write_monitor_report"]

_TEMPLATE = "monitor_report.html.j2"
_REF, _CUR = "#4a78b5", "#e07b39"


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return dt.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S")


def _distribution_svg(ref: Any, cur: Any) -> str:
    """Reference and current distributions of one column, as shares, side by side."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(4.2, 1.7), dpi=72)
    if ref.hist and cur.hist and ref.hist_edges() == cur.hist_edges():
        labels = ["<", *(f"{e:.3g}" for e in ref.hist_edges()[:-1]), ">"]
        r = [ref.hist.get("below", 0), *ref.hist["counts"], ref.hist.get("above", 0)]
        c = [cur.hist.get("below", 0), *cur.hist["counts"], cur.hist.get("above", 0)]
    else:
        keys = [k for k, _ in ref.top(12)]
        keys += [k for k, _ in cur.top(12) if k not in keys][:6]
        labels = [str(k)[:12] for k in keys]
        r = [ref.values.get(k, 0) for k in keys]
        c = [cur.values.get(k, 0) for k in keys]
    x = np.arange(len(labels))
    r_share = np.asarray(r, float) / max(sum(r), 1)
    c_share = np.asarray(c, float) / max(sum(c), 1)
    ax.bar(x - 0.2, r_share, width=0.4, color=_REF, label="reference")
    ax.bar(x + 0.2, c_share, width=0.4, color=_CUR, label="current")
    step = max(1, len(labels) // 8)
    ax.set_xticks(x[::step])
    ax.set_xticklabels(labels[::step], fontsize=6, rotation=30)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return inline_svg(fig)


def _live_svg(live: Sequence[Mapping[str, Any]], metric: str) -> str:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 1.9), dpi=72)
    versions = sorted({m["version"] for m in live})
    for version in versions:
        points = [
            (m["window"], m["metrics"][metric])
            for m in live
            if m["version"] == version and metric in m["metrics"] and m["window"] is not None
        ]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", markersize=3, label=f"v{version}")
    ax.set_xlabel("window", fontsize=7)
    ax.set_ylabel(metric, fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return inline_svg(fig)


def render_monitor_report(
    model: str,
    windows: Sequence[Mapping[str, Any]],
    latest: Any = None,
    live: Sequence[Mapping[str, Any]] = (),
    metric: str | None = None,
) -> str:
    """The report as one HTML string.

    Args:
        model: The model's name.
        windows: Recorded windows, newest first (:func:`noria.monitor.logs.windows`).
        latest: The newest :class:`~noria.monitor.monitor.WindowReport` of this pass, if any.
        live: Live metrics (``LiveMetrics.to_dict()``), per window and version.
        metric: The live metric to plot (the first one when ``None``).
    """
    columns = []
    if latest is not None:
        for name, col in latest.drift.columns.items():
            plot = ""
            ref, cur = latest.reference, latest.current
            if col.drifted and ref is not None and cur is not None and name in ref.columns:
                plot = _distribution_svg(ref[name], cur[name]) if name in cur.columns else ""
            columns.append({"name": name, "drift": col, "svg": plot})
        columns.sort(key=lambda c: (not c["drift"].drifted, c["name"]))
    metric_names = sorted({k for m in live for k in m["metrics"]})
    metric = metric or (metric_names[0] if metric_names else None)
    return template(_TEMPLATE).render(
        model=model,
        windows=[
            {**w, "from": _when(w.get("first_time")), "to": _when(w.get("last_time"))}
            for w in windows
        ],
        latest=latest,
        columns=columns,
        live=live,
        metric_names=metric_names,
        live_svg=_live_svg(live, metric) if live and metric else "",
        metric=metric,
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
    )


def write_monitor_report(path: str | Path, *args: Any, **kw: Any) -> Path:
    """Write :func:`render_monitor_report` to ``path`` (atomically); returns the path."""
    return write_page(path, render_monitor_report(*args, **kw))

"""The HTML page of ``noria compare A B``: the metric table with the paired intervals of the
differences, the params that differ, and the two models' curves overlaid.

:func:`render_comparison_report` takes the dict of :func:`noria.registry.evidence.compare`
(:func:`noria.evaluate.comparison.compare_predictions` with params) and returns one
self-contained page: no script, nothing from the network, plots as inline SVG (ROC and
precision–recall curves and calibration of a classifier; predicted vs actual of a regressor,
one colour per model).

Not here: computing anything (:mod:`noria.evaluate.comparison`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from noria.reports.data_report import fmt, inline_svg

__all__ = ["render_comparison_report"]

_A, _B, _GREY = "#4a78b5", "#e07b39", "#9e9e9e"


def _axes() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.6, 2.8), dpi=72)
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _finish(fig: Any, ax: Any, xlabel: str, ylabel: str) -> str:
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6.5, frameon=False)
    return re.sub(r"<metadata>.*?</metadata>\s*", "", inline_svg(fig), flags=re.S)


def _nums(values: Sequence[Any]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def _overlay(
    comparison: Mapping[str, Any], key: str, x: str, y: str, area: str, xlabel: str, ylabel: str
) -> list[tuple[str, str]]:
    """One chart per class: both models' curves ``key`` on the same axes."""
    figures = comparison["figures"]
    charts = []
    for i, entry in enumerate(figures["a"].get(key, [])):
        others = [e for e in figures["b"].get(key, []) if e["class"] == entry["class"]]
        fig, ax = _axes()
        for which, e, color in (("a", entry, _A), ("b", others[0] if others else None, _B)):
            if e is None:
                continue
            label = f"{comparison[which]} ({area.upper()} {fmt(e.get(area))})"
            ax.plot(_nums(e[x]), _nums(e[y]), color=color, lw=1.4, label=label)
        if key == "roc":
            ax.plot([0, 1], [0, 1], color=_GREY, lw=0.8, ls="--")
        title = f"{key.upper()} — class {entry['class']}"
        charts.append((title, _finish(fig, ax, xlabel, ylabel)))
        if i >= 5:
            break
    return charts


def _charts(comparison: Mapping[str, Any]) -> list[tuple[str, str]]:
    figures = comparison["figures"]
    if comparison["task"] == "regression":
        fig, ax = _axes()
        low, high = float("inf"), float("-inf")
        for which, color in (("a", _A), ("b", _B)):
            sample = figures[which]["sample"]
            xs, ys = _nums(sample["actual"]), _nums(sample["predicted"])
            ax.scatter(xs, ys, s=5, alpha=0.5, color=color, label=comparison[which])
            low, high = min(low, *xs, *ys), max(high, *xs, *ys)
        ax.plot([low, high], [low, high], color=_GREY, lw=0.8, ls="--")
        return [("predicted vs actual", _finish(fig, ax, "actual", "predicted"))]
    charts = _overlay(
        comparison, "roc", "fpr", "tpr", "auc", "false-positive rate", "true-positive rate"
    )
    charts += _overlay(comparison, "pr", "recall", "precision", "ap", "recall", "precision")
    if "calibration" in figures["a"] and "calibration" in figures["b"]:
        fig, ax = _axes()
        ax.plot([0, 1], [0, 1], color=_GREY, lw=0.8, ls="--")
        for which, color in (("a", _A), ("b", _B)):
            cal = figures[which]["calibration"]
            ax.plot(
                _nums(cal["predicted"]),
                _nums(cal["observed"]),
                marker="o",
                ms=3,
                color=color,
                lw=1.2,
                label=f"{comparison[which]} (ECE {fmt(cal['ece'])})",
            )
        of = figures["a"]["calibration"]["of"]
        charts.append(("calibration", _finish(fig, ax, f"predicted {of}", "observed rate")))
    return charts


def interval(low: Any, high: Any, signed: bool = False) -> str:
    """``[low, high]`` as text (``-`` without an interval)."""
    if low is None or high is None:
        return "-"
    spec = "+.4g" if signed else ".4g"
    return f"[{low:{spec}}, {high:{spec}}]"


_PAGE = """\
<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ c.a }} vs {{ c.b }} — noria compare</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.2rem .6rem}
th{background:#f4f4f4;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.a{color:#4a78b5;font-weight:600}.b{color:#e07b39;font-weight:600}
.better{background:#e8f5e9}.worse{background:#fdecea}.same{color:#777}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts figure{margin:0}
figcaption{font-size:12px;color:#555}.note{background:#fff8e1;padding:.4rem .6rem}
</style></head><body>
<h1><span class="a">{{ c.a }}</span> vs <span class="b">{{ c.b }}</span></h1>
<p>{{ c.task }} of '{{ c.target }}', on {{ "{:,}".format(c.rows) }} rows of {{ c.data }};
differences are A − B with paired-bootstrap 95 % intervals ({{ c.replicates }} resamples of the
same rows). Made {{ made }}.</p>
{% if c.rows_note %}<p class="note">{{ c.rows_note }}</p>{% endif %}
<h2>Metrics</h2>
<table><tr><th>metric</th><th class="a">A</th><th>95 %</th><th class="b">B</th><th>95 %</th>
<th>A − B</th><th>95 % of the difference</th><th>verdict</th></tr>
{% for name, m in c.metrics.items() %}
<tr class="{{ {'A better': 'better', 'B better': 'worse'}.get(m.verdict, '') }}">
<td>{{ name }}{% if not m.greater_is_better %} <small>(lower is better)</small>{% endif %}</td>
<td class="n">{{ fmt(m.a) }}</td><td class="n">{{ interval(m.a_low, m.a_high) }}</td>
<td class="n">{{ fmt(m.b) }}</td><td class="n">{{ interval(m.b_low, m.b_high) }}</td>
<td class="n">{{ "%+.4g" % m.diff if m.diff is not none else "-" }}</td>
<td class="n">{{ interval(m.diff_low, m.diff_high, True) }}</td><td>{{ m.verdict }}</td></tr>
{% endfor %}
</table>
<h2>Params</h2>
<table><tr><th>param</th><th class="a">A</th><th class="b">B</th></tr>
{% for p in c.params %}<tr class="{{ 'same' if p.same else '' }}"><td>{{ p.param }}</td>
<td>{{ p.a if p.a is not none else "-" }}</td><td>{{ p.b if p.b is not none else "-" }}</td></tr>
{% endfor %}</table>
<h2>Curves</h2>
<div class="charts">
{% for title, svg in charts %}<figure>{{ svg | safe }}<figcaption>{{ title }}</figcaption></figure>
{% endfor %}</div>
</body></html>
"""


def render_comparison_report(comparison: Mapping[str, Any]) -> str:
    """The comparison as one self-contained HTML page (see the module docstring)."""
    from jinja2 import Environment

    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    made = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    return env.from_string(_PAGE).render(
        c=comparison, charts=_charts(comparison), fmt=fmt, interval=interval, made=made
    )
